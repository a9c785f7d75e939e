"""`paddle-edge quant-debug`: where an int8 model loses accuracy, op by op, measured on the user's data against the float
model (see debugger.py for what is run, report.py for what is reported)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence

from ... import runtime
from ...export.bundle import build_bundle
from ...export.evaluation import evaluation_set
from ...source.model import resolve_model
from .debugger import debug_bundle
from .report import QuantDebugReport

DEFAULT_SAMPLES = 64


def run_quant_debug(bundle_path: Path, data: Optional[Path] = None, limit: Optional[int] = DEFAULT_SAMPLES, threads: int = 2,
                    shapes: Optional[Dict[str, Sequence[int]]] = None, int8_model: Optional[Path] = None) -> QuantDebugReport:
    """Debug the bundle's int8 ONNX against its fp32 ONNX on `limit` samples of `data` (the test split for a model
    trained here, the user's images for one brought from elsewhere, else random inputs of `shapes`); with `int8_model`
    (the directory `paddle-edge compress` wrote) also PaddleSlim's program in Paddle, tensor by tensor."""
    bundle = runtime.load_bundle(Path(bundle_path))
    return debug_bundle(bundle, evaluation_set(bundle.manifest, data, limit, shapes), threads, int8_model=int8_model)


def run_quant_debug_models(float_model: Path, int8_model: Path, data: Optional[Path] = None, limit: Optional[int] = DEFAULT_SAMPLES,
                           threads: int = 2, shapes: Optional[Dict[str, Sequence[int]]] = None,
                           preprocess: Optional[Path] = None) -> QuantDebugReport:
    """The float Paddle model and the int8 model `compress` made of it, without a bundle: both exported to ONNX as
    `export` would (into a temporary bundle), then debugged with PaddleSlim's program compared in Paddle too."""
    with tempfile.TemporaryDirectory(prefix="quant-debug-") as tmp:
        bundle = build_bundle(resolve_model(float_model, preprocess), Path(tmp) / "bundle", int8_dir=int8_model).directory
        return run_quant_debug(bundle, data, limit, threads, shapes, int8_model)
