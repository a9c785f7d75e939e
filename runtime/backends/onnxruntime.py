"""ONNX Runtime backend: a CPU InferenceSession with a fixed thread count."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import numpy as np
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument

from ..errors import BackendError, BundleError, InputError

# What ORT 1.31 says when an input's name, type, rank or dims do not fit the graph or a kernel (a dynamic dim too
# small for a Conv, a flattened size a MatMul cannot take); an index out of range inside the model is not among them.
INPUT_PROBLEM = re.compile(r"input data type|rank for input|dimensions for input|input name|input feed|input shape|"
                           r"dimension mismatch|broadcast an axis|cannot be reshaped|incompatible dimensions", re.IGNORECASE)

OPTIMIZATION_LEVELS = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL, "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                       "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}


class OnnxRuntimeBackend:
    """Runs an .onnx file on ONNX Runtime's CPU provider."""

    fused = True  # onnxruntime's graph optimizations: Q/DQ pairs around ops become its int8 kernels (QLinearConv ...)

    def __init__(self, model_path: Path, threads: int, settings: Optional[Mapping[str, str]] = None) -> None:
        settings = settings or {}
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        level = settings.get("graph_optimization_level", "all") if self.fused else "disable"
        options.graph_optimization_level = OPTIMIZATION_LEVELS[level]
        options.add_session_config_entry("session.intra_op.allow_spinning", settings.get("allow_spinning", "1"))
        try:
            self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises several private exception types for unreadable models
            raise BundleError(f"ONNX Runtime cannot load {model_path} ({str(exc).splitlines()[0]})",
                              "the file is truncated or not an ONNX model; copy or export it again") from exc
        self.input_names: List[str] = [i.name for i in self.session.get_inputs()]
        self.output_names: List[str] = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """The outputs for `feeds`; ORT's refusal of an input's name, type or shape is an InputError, any other failure
        a BackendError carrying ORT's own message."""
        try:
            return self.session.run(self.output_names, feeds)
        except Exception as exc:  # ORT raises private pybind types (InvalidArgument, Fail, ...) and ValueError
            message = " ".join(str(exc).split())[:500]
            if isinstance(exc, (InvalidArgument, Fail, ValueError)) and INPUT_PROBLEM.search(message):
                raise InputError(f"ONNX Runtime refused the inputs ({message})",
                                 "give every input the shape the model was exported for (see the manifest's inputs)") from exc
            raise BackendError(f"ONNX Runtime failed while running the model ({message})",
                               "this is not a problem of the inputs' shape or type: check the bundle with "
                               "`paddle-edge parity`, or report it with the model and this message") from exc


class UnfusedOnnxRuntimeBackend(OnnxRuntimeBackend):
    """The model's exact int8 semantics: every QuantizeLinear/DequantizeLinear runs as written, the ops between them in
    float, no fused int8 kernel. The reference any int8 engine (x86 with or without VNNI, ARM, the browser) is held to."""

    fused = False
