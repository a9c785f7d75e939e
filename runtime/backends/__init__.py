"""Inference backends, by name. Each is imported only when asked for, so a board needs only the one it uses."""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Dict, List, Protocol, Tuple

import numpy as np

from ..errors import BackendError


class Backend(Protocol):
    """What the predictor needs from an inference engine."""

    input_names: List[str]
    output_names: List[str]

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]: ...


# backend name -> (module, class, artifact format it runs, the pip package that provides it)
BACKENDS: Dict[str, Tuple[str, str, str, str]] = {
    "onnxruntime": ("onnxruntime", "OnnxRuntimeBackend", "onnx", "onnxruntime"),
    "onnxruntime-unfused": ("onnxruntime", "UnfusedOnnxRuntimeBackend", "onnx", "onnxruntime"),  # exact int8 reference
    "paddlelite": ("paddlelite", "PaddleLiteBackend", "nb", "paddlelite"),
    "openvino": ("openvino", "OpenVinoBackend", "onnx", "openvino"),  # optional extra: paddle-edge[openvino]
    "openvino-throughput": ("openvino", "OpenVinoThroughputBackend", "onnx", "openvino"),
}


def available(name: str) -> bool:
    """Whether the engine behind backend `name` can be imported here."""
    return importlib.util.find_spec(BACKENDS[name][3]) is not None


def require_known(name: str) -> None:
    """Raise unless `name` is a backend this runtime has."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}", f"use one of: auto, {', '.join(BACKENDS)}")


def create(name: str, model_path: Path, threads: int) -> Backend:
    """Instantiate backend `name` on a model file."""
    require_known(name)
    module, cls, _, package = BACKENDS[name]
    if not available(name):
        raise BackendError(f"backend {name!r} needs the {package} package, which is not installed here",
                           f"pip install {package}, or choose another backend")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)(model_path, threads)
