"""The engines a bundle is benchmarked on, each loaded the way a user would load it, behind one call signature.

Paddle Inference is imported only for the reference engine, so a process timing an ONNX Runtime engine holds no Paddle
(what a board holds), and its memory is the runtime's own.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ... import runtime
from ...runtime.errors import PaddleEdgeError

Feeds = Dict[str, np.ndarray]
Run = Callable[[Feeds], List[np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Engine:
    """One way to run the bundle: a backend, a precision and the artifacts it reads."""

    name: str
    label: str
    precision: str
    artifacts: Tuple[str, ...]
    parity_key: str  # where `paddle-edge parity` reports this engine's accuracy
    in_process: bool = True  # False: runs in the Paddle Lite sidecar, timed there


REFERENCE = "paddle_inference_fp32"
BARE = "bare_onnxruntime_fp32"
ENGINES: Dict[str, Engine] = {e.name: e for e in (
    Engine(REFERENCE, "Paddle Inference fp32 (reference)", "fp32", ("paddle-fp32-program", "paddle-fp32-params"), "paddle_fp32"),
    Engine("onnxruntime_fp32", "ONNX Runtime fp32 (thin runtime)", "fp32", ("onnx-fp32",), "onnx_fp32"),
    Engine("onnxruntime_int8", "ONNX Runtime int8 (thin runtime)", "int8", ("onnx-int8",), "onnx_int8"),
    Engine(BARE, "bare onnxruntime.InferenceSession fp32", "fp32", ("onnx-fp32",), "onnx_fp32"),
    Engine("paddlelite_x86_fp32", "Paddle Lite x86 fp32 (sidecar)", "fp32", ("lite-x86-fp32",), "lite_x86_fp32", in_process=False),
    Engine("paddlelite_x86_int8", "Paddle Lite x86 int8 (sidecar)", "int8", ("lite-x86-int8",), "lite_x86_int8", in_process=False),
)}


def engines_for(manifest: runtime.Manifest, wanted: Optional[List[str]] = None) -> List[Engine]:
    """The engines whose artifacts the bundle carries, in table order; unknown or impossible names raise."""
    unknown = sorted(set(wanted or ()) - set(ENGINES))
    if unknown:
        raise PaddleEdgeError(f"unknown engine(s) {unknown}", f"choose from {', '.join(ENGINES)}")
    chosen = [e for e in ENGINES.values() if (wanted is None or e.name in wanted) and all(a in manifest.artifacts for a in e.artifacts)]
    missing = sorted(set(wanted or ()) - {e.name for e in chosen})
    if missing:
        raise PaddleEdgeError(f"this bundle has no artifacts for {missing} (it has {sorted(manifest.artifacts)})",
                              "export the bundle with those targets and precisions, or leave them out of --backends")
    return chosen


def load(engine: Engine, bundle: runtime.Bundle, threads: int) -> Run:
    """Load an in-process engine; return its run(feeds) -> outputs."""
    if engine.name == REFERENCE:
        from ...train.paddle_predictor import PaddlePredictor

        return PaddlePredictor(bundle.root / "reference", threads).run
    if engine.name == BARE:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(str(bundle.path_of("onnx-fp32")), options, providers=["CPUExecutionProvider"])
        return lambda feeds: session.run(None, feeds)
    if engine.in_process:
        return runtime.open(bundle, backend="onnxruntime", precision=engine.precision, threads=threads).predict
    raise PaddleEdgeError(f"{engine.name} runs in the Paddle Lite sidecar, not in this process", "time it with the sidecar")
