"""ONNX Runtime backend: a CPU InferenceSession with a fixed thread count, spent one of two ways.

`parallel="intra_op"` (ORT's default) splits each operator across a pool of `threads`. `parallel="batch"` splits the
batch instead: `threads` callers each run a slice of it through the whole graph on one thread of a single-threaded
session (what OpenVINO's throughput streams do with a batch). A batch split has no hand-off between threads inside a
call, which is what a model of many small operators waits on at batch 6 on two vCPUs; it cannot speed up batch 1. It
holds only where samples do not interact and every output is batch-major: the first call of each input shape runs the
whole batch too and refuses the split if the two differ.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Set, Tuple

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
        self.callers = threads if settings.get("parallel") == "batch" else 1
        self._pool: Optional[ThreadPoolExecutor] = None
        self._split_checked: Set[Tuple[Tuple[str, Tuple[int, ...]], ...]] = set()  # input shapes whose split matched the whole
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads // self.callers
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
        """The outputs for `feeds` (split over the callers under parallel="batch"); ORT's refusal of an input's name,
        type or shape is an InputError, any other failure a BackendError carrying ORT's own message."""
        rows = len(next(iter(feeds.values())))
        if self.callers == 1 or rows < 2:
            return self._run_whole(feeds)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.callers, thread_name_prefix="ort-batch")
        edges = np.linspace(0, rows, min(self.callers, rows) + 1).astype(int)
        slices = [{k: v[a:b] for k, v in feeds.items()} for a, b in zip(edges[:-1], edges[1:])]
        parts = [f.result() for f in [self._pool.submit(self._run_whole, part) for part in slices]]
        for part, (a, b) in zip(parts, zip(edges[:-1], edges[1:])):
            if any(out.ndim == 0 or len(out) != b - a for out in part):
                raise self._not_splittable(f"an output's first dimension is not the batch ({[o.shape for o in part]} for {b - a} sample(s))")
        outputs = [np.concatenate(column) for column in zip(*parts)]
        signature = tuple((k, v.shape) for k, v in feeds.items())
        if signature not in self._split_checked:
            self._check_split(outputs, self._run_whole(feeds))
            self._split_checked.add(signature)
        return outputs

    def _check_split(self, split: List[np.ndarray], whole: List[np.ndarray]) -> None:
        """Refuse a batch split whose outputs are not the whole batch's (up to float rounding)."""
        for name, a, b in zip(self.output_names, split, whole):
            if a.shape != b.shape:
                raise self._not_splittable(f"output {name!r} is {a.shape} from the slices, {b.shape} from the whole batch")
            if a.dtype.kind == "f" and not np.allclose(a, b, rtol=1e-4, atol=1e-5 * float(np.max(np.abs(b), initial=1.0))) \
                    or a.dtype.kind != "f" and not np.array_equal(a, b):
                raise self._not_splittable(f"output {name!r} differs between the slices and the whole batch (samples interact)")

    @staticmethod
    def _not_splittable(why: str) -> BackendError:
        return BackendError(f"this model cannot run with its batch split over threads: {why}",
                            "use the setting parallel=intra_op (ONNX Runtime's default), which splits each operator instead")

    def _run_whole(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
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
