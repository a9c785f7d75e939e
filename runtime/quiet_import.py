"""Import a package of Intel's toolchain (openvino, nncf) with its usage telemetry off and the environment kept.

openvino-telemetry sends usage events where no consent file says otherwise, from the moment the package is imported;
it stays silent for CI jobs, which it recognises by the `CI` variable. Setting it around the import, and restoring it
after, keeps a user's program quiet without changing their environment.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType


def import_quietly(name: str) -> ModuleType:
    """`importlib.import_module(name)` with openvino-telemetry's CI switch set during the import only."""
    before = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        return importlib.import_module(name)
    finally:
        if before is None:
            del os.environ["CI"]
        else:
            os.environ["CI"] = before
