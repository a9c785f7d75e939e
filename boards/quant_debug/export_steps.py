"""The export's share of an int8 loss, rewrite by rewrite: PaddleSlim's int8 program through paddle2onnx and each of
export's rewrites in turn (export/onnx.py `rewritten`), the model output's SQNR against the float ONNX's after each, in
onnxruntime without graph optimizations (each file's exact QDQ semantics). A loss that appears only in the shipped
file is pinned to the step that brings it; the last step must give the bundle's int8 ONNX, output for output."""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import onnx

from ...export.onnx import paddle2onnx_graph, rewritten
from ...export.onnx_qdq_layout import FOLD_REWRITES
from ...source.model import SourceModel
from .report import step_changes
from .sessions import Feeds, Session
from .tensor_stats import Agreement

PADDLE2ONNX = "paddle2onnx"  # the first step: the graph as paddle2onnx writes it


@dataclasses.dataclass(frozen=True)
class ExportStep:
    """One step of the export: what it applied, and the model output's SQNR against float after it."""

    step: str
    applied: Dict[str, int]
    output_sqnr_db: float


@dataclasses.dataclass(frozen=True)
class ExportSteps:
    """Every step, and whether the last one is the bundle's int8 ONNX (same outputs on the samples)."""

    steps: List[ExportStep]
    reproduces_bundle: bool
    samples: int


def _outputs(model: onnx.ModelProto, output: str, groups: Sequence[Feeds], threads: int) -> List[np.ndarray]:
    session = Session(model, [output], fused=False, threads=threads)
    return [session.run(feeds)[output] for feeds in groups]


def export_steps(int8: SourceModel, bundle_int8: onnx.ModelProto, float_model: onnx.ModelProto, rewrites: Dict[str, int],
                 groups: Sequence[Feeds], threads: int = 2) -> ExportSteps:
    """Export `int8` (PaddleSlim's program) again step by step as the bundle's file was (`rewrites`: what its manifest
    records), measuring each step's output on `groups` against `float_model`'s."""
    output = bundle_int8.graph.output[0].name
    reference = _outputs(float_model, output, groups, threads)

    def measured(step: str, applied: Dict[str, int], model: onnx.ModelProto) -> ExportStep:
        if step != PADDLE2ONNX and not step_changes(step, applied):  # nothing changed: the step before's figure
            return ExportStep(step, applied, steps[-1].output_sqnr_db)
        agreement = Agreement()
        for want, got in zip(reference, _outputs(model, output, groups, threads)):
            agreement.add(want, got)
        return ExportStep(step, applied, agreement.sqnr_db)

    with tempfile.TemporaryDirectory(prefix="paddle-edge-export-steps-") as tmp:
        model = paddle2onnx_graph(int8, Path(tmp) / "paddle2onnx.onnx")
    steps: List[ExportStep] = []
    steps.append(measured(PADDLE2ONNX, {}, model))
    layout = "uint8_activations" in rewrites
    for step, applied, model in rewritten(model, int8, fold_weights="weights_folded" in rewrites, ort_layout=layout,
                                           fold_quantizers=any(k in rewrites for k in FOLD_REWRITES), recorded=rewrites):
        steps.append(measured(step, applied, model))
    last, shipped = _outputs(model, output, groups, threads), _outputs(bundle_int8, output, groups, threads)
    return ExportSteps(steps, all(np.array_equal(a, b) for a, b in zip(last, shipped)), sum(len(r) for r in reference))
