"""Inference backends, by name. Each is imported only when asked for, so a board needs only the one it uses."""
from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Protocol, Tuple

import numpy as np

from ..cpu import lite_target
from ..errors import BackendError
from . import lite_light_library


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
EXTRAS = {"openvino": "'paddle-edge[openvino]' (its tested version)"}  # packages paddle-edge pins in an extra of its own

# The manifest target of the int8 ONNX made for OpenVINO (export/onnx_openvino_layout.py): on a CPU that has no file
# made for its kind, a backend named here opens the file made for it where the bundle has one and the CPU suits it
# (runtime.artifact_for: OpenVINO's only where its plugin takes int8 activations), else the one for any CPU.
OPENVINO_TARGET = "openvino"
FILE_TARGETS: Dict[str, str] = {"openvino": OPENVINO_TARGET, "openvino-throughput": OPENVINO_TARGET}


# backend name -> the settings it takes beyond threads: setting -> its values, the backend's default first. What
# `paddle-edge tune` varies; a choice in a tuning file passes them back to the backend.
SETTINGS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "onnxruntime": {"graph_optimization_level": ("all", "extended", "basic"), "allow_spinning": ("1", "0"),
                    "parallel": ("intra_op", "batch")},
    "onnxruntime-unfused": {},
    "paddlelite": {},
    "openvino": {},
    "openvino-throughput": {},
}


def combinations(name: str, threads: int, largest_batch: int) -> List[Dict[str, str]]:
    """Every combination of backend `name`'s SETTINGS that can run differently at `threads` up to `largest_batch`
    (what tune tries): ONNX Runtime's batch split only at more than one thread where the largest batch is above 1, and
    without the spinning setting, which has no pool to act on there."""
    found = [dict(zip(SETTINGS[name], values)) for values in itertools.product(*SETTINGS[name].values())]
    if name != "onnxruntime":
        return found
    split = threads > 1 and largest_batch > 1
    return [{k: v for k, v in c.items() if k != "allow_spinning"} if c["parallel"] == "batch" else c
            for c in found if c["parallel"] != "batch" or split and c["allow_spinning"] == SETTINGS[name]["allow_spinning"][0]]


def available(name: str) -> bool:
    """Whether the engine behind backend `name` can be imported here (Paddle Lite: its wheel, or its C++ light library
    through paddle-edge's shim, named by $PADDLE_EDGE_LITE_LIBRARY)."""
    if importlib.util.find_spec(BACKENDS[name][3]) is not None:
        return True
    return BACKENDS[name][3] == "paddlelite" and lite_light_library.ENV in os.environ  # its own errors say what is wrong


def require_known(name: str) -> None:
    """Raise unless `name` is a backend this runtime has."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}", f"use one of: auto, {', '.join(BACKENDS)}")


def check_settings(name: str, settings: Mapping[str, str]) -> None:
    """Raise naming the setting and the values backend `name` takes unless every one of `settings` is among them."""
    for key, value in settings.items():
        allowed = SETTINGS[name].get(key)
        if allowed is None:
            raise BackendError(f"backend {name!r} has no setting {key!r}",
                               f"use one of: {', '.join(SETTINGS[name])}" if SETTINGS[name] else f"{name} takes no settings beyond threads")
        if value not in allowed:
            raise BackendError(f"setting {key}={value!r} is not one backend {name!r} takes", f"use one of: {', '.join(allowed)}")


def create(name: str, model_path: Path, threads: int, settings: Optional[Mapping[str, str]] = None) -> Backend:
    """Instantiate backend `name` on a model file, with `settings` (see SETTINGS) where it takes any."""
    require_known(name)
    check_settings(name, settings or {})
    module, cls, _, package = BACKENDS[name]
    if not available(name):
        fix = (lite_light_library.FIX if package == "paddlelite" and lite_target() == "arm"
               else f"pip install {EXTRAS.get(package, package)}, or choose another backend")
        raise BackendError(f"backend {name!r} needs the {package} package, which is not installed here", fix)
    engine = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return engine(model_path, threads, **({"settings": dict(settings)} if settings else {}))
