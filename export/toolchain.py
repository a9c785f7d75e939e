"""The versions of the tools that produced a bundle, recorded in its manifest."""
from __future__ import annotations

import importlib.metadata
import platform
from typing import Dict

TOOLS = ("paddlepaddle", "paddleslim", "paddle2onnx", "onnx", "onnxruntime", "numpy")


def toolchain_versions() -> Dict[str, str]:
    """Installed version of each tool (or "absent"), plus Python and the machine."""
    versions = {"python": platform.python_version(), "machine": platform.machine()}
    for tool in TOOLS:
        try:
            versions[tool] = importlib.metadata.version(tool)
        except importlib.metadata.PackageNotFoundError:
            versions[tool] = "absent"
    return versions
