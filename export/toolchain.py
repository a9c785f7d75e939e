"""The versions of the tools that produced a bundle, recorded in its manifest."""
from __future__ import annotations

import platform
from typing import Dict

from ..runtime.versions import package_versions

TOOLS = ("paddlepaddle", "paddleslim", "paddle2onnx", "onnx", "onnxruntime", "numpy")


def toolchain_versions() -> Dict[str, str]:
    """Installed version of each tool (or "absent"), plus Python and the machine."""
    return {"python": platform.python_version(), "machine": platform.machine(), **package_versions(TOOLS)}
