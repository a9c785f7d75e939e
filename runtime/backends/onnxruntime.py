"""ONNX Runtime backend: a CPU InferenceSession with a fixed thread count, spent one of two ways.

`parallel="intra_op"` (ORT's default) splits each operator across a pool of `threads`. `parallel="batch"` splits the
batch instead: `threads` callers each run a slice of it through the whole graph on one thread of a single-threaded
session (what OpenVINO's throughput streams do with a batch), so no work passes between threads inside a call; batch 1
runs on one thread. It holds only where samples do not interact and every output is batch-major, so the first call of
each input shape runs the whole batch first and refuses the split if the two differ: a check on that call's data, not
a proof (`paddle-edge tune` judges a split configuration's outputs on the evaluation set like any other).
"""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Set, Tuple

import numpy as np
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument

from ..errors import BackendError, BundleError, InputError

SPLIT_SQNR_DB = 60.0  # a float output of the split at least this close to the whole batch's: the same up to rounding
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
        self.callers = max(1, threads) if settings.get("parallel") == "batch" else 1
        self._pool: Optional[ThreadPoolExecutor] = None  # the callers' threads, made on the first split (_callers)
        self._pool_pid = 0  # the process that made them: a forked child has the pool object but not its threads
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
        if self.callers == 1:
            return self._run_whole(feeds)
        rows = {len(v) if getattr(v, "ndim", 0) else 0 for v in feeds.values()}
        if len(rows) > 1:
            self._run_whole(feeds)  # ORT's own refusal first: a wrong shape stays the caller's InputError
            raise self._not_splittable(f"its inputs' first dimensions differ ({ {k: v.shape for k, v in feeds.items()} })")
        if min(rows, default=0) < 2:
            return self._run_whole(feeds)
        signature = tuple((k, v.shape) for k, v in feeds.items())
        whole = self._run_whole(feeds) if signature not in self._split_checked else None
        outputs = self._run_split(feeds, rows.pop())
        if whole is not None:
            self._check_split(outputs, whole)
            self._split_checked.add(signature)
        return outputs

    def _run_split(self, feeds: Dict[str, np.ndarray], rows: int) -> List[np.ndarray]:
        """The batch in `callers` near-equal slices, run at once, each output's slices joined along its first axis."""
        pool = self._callers()
        edges = np.linspace(0, rows, min(self.callers, rows) + 1).astype(int)
        bounds = list(zip(edges[:-1], edges[1:]))
        parts = [f.result() for f in [pool.submit(self._run_whole, {k: v[a:b] for k, v in feeds.items()}) for a, b in bounds]]
        for part, (a, b) in zip(parts, bounds):
            if any(out.ndim == 0 or len(out) != b - a for out in part):
                raise self._not_splittable(f"an output's first dimension is not the batch ({[o.shape for o in part]} for {b - a} sample(s))")
        return [np.concatenate(column) for column in zip(*parts)]

    def _callers(self) -> ThreadPoolExecutor:
        """This process's pool of caller threads, made on first use (again in a forked child)."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool, self._pool_pid = ThreadPoolExecutor(self.callers, thread_name_prefix="ort-batch"), os.getpid()
        return self._pool

    def _check_split(self, split: List[np.ndarray], whole: List[np.ndarray]) -> None:
        """Refuse a batch split whose outputs are not the whole batch's: float outputs within SPLIT_SQNR_DB of it (a
        kernel may round a slice differently), others equal."""
        for name, a, b in zip(self.output_names, split, whole):
            if a.shape != b.shape:
                raise self._not_splittable(f"output {name!r} is {a.shape} from the slices, {b.shape} from the whole batch")
            if a.dtype.kind == "f":
                error = float(np.sum(np.square(a.astype(np.float64) - b)))
                agree = error <= float(np.sum(np.square(b.astype(np.float64)))) * 10 ** (-SPLIT_SQNR_DB / 10)
            else:
                agree = bool(np.array_equal(a, b))
            if not agree:
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
