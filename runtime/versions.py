"""Installed package versions, read without importing the packages (a board asks for ones it may not have)."""
from __future__ import annotations

import importlib.metadata
from typing import Dict, Sequence


def package_versions(packages: Sequence[str]) -> Dict[str, str]:
    """Each package's installed version, or "absent"."""
    found = {}
    for package in packages:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "absent"
    return found
