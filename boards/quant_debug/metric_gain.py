"""What each int8 op costs the task: the int8 file's score on the user's validation data when that op alone reads its
activations unquantized, against the file as it is (exact QDQ semantics: onnxruntime with graph optimizations off).

The debugger ranks by the model output's SQNR, which says where the outputs move most; a task metric can disagree. A CTC
recogniser's characters turn on near-ties that the output's power hardly sees: on PaddleOCR's recogniser calibrated
with abs_max, the op whose float inputs won back the most characters on 64 validation lines (a point of character
accuracy) had lowered the output's SQNR when it read float inputs, and the debugger ranked it 44th of 47. Accuracy
control therefore ranks what it keeps in float by this measurement: the metric gained, then the output SQNR gained."""
from __future__ import annotations

import dataclasses
from typing import Callable, List, Tuple

import numpy as np

import onnx
from tqdm import tqdm

from ... import runtime
from ...export.evaluation import COSINE, IDENTICAL_SQNR_DB, EvaluationSet, Feeds, Outputs, compare, run_groups, task_scores
from .graph import INT8, match_networks
from .sessions import Session, with_float_inputs


@dataclasses.dataclass(frozen=True)
class MetricGain:
    """One int8 op, by the Paddle weight `--keep-float` takes, and what its float inputs gain the whole model: points of
    the metric (of 100 x cosine for `cosine`) and dB of the output's SQNR against fp32."""

    weight: str
    output: str
    metric_points: float
    sqnr_db: float


def _runner(model: onnx.ModelProto, threads: int) -> Callable[[Feeds], List[np.ndarray]]:
    outputs = [o.name for o in model.graph.output]
    session = Session(model, outputs, fused=False, threads=threads)
    return lambda feeds: [session.run(feeds)[name] for name in outputs]


def metric_gains(bundle: runtime.Bundle, evaluation: EvaluationSet, metric: str, threads: int = 2) -> List[MetricGain]:
    """Every int8 op of the bundle's int8 ONNX that has a Paddle weight, worst first: the largest gain of `metric` (a
    task metric, or COSINE: against the fp32 file's outputs) on `evaluation` when it alone reads float inputs, then the
    largest gain of output SQNR."""
    float_onnx = onnx.load(str(bundle.path_of("onnx-fp32")))
    int8_onnx = onnx.load(str(bundle.path_of("onnx-int8")))
    reference = run_groups(_runner(float_onnx, threads), evaluation)

    def measured(outputs: Outputs) -> Tuple[float, float]:
        found = compare(outputs, reference, bundle.manifest, evaluation)
        score = found["cosine"] if metric == COSINE else task_scores(outputs, bundle.manifest, evaluation)[metric]
        return score, IDENTICAL_SQNR_DB if found["sqnr_db"] is None else found["sqnr_db"]

    base_score, base_sqnr = measured(run_groups(_runner(int8_onnx, threads), evaluation))
    gains = []
    ops = [op for op in match_networks(float_onnx, int8_onnx) if op.precision == INT8 and op.weight]
    for op in tqdm(ops, desc="ranking ops by the metric", unit="op", leave=False):
        score, sqnr = measured(run_groups(_runner(with_float_inputs(int8_onnx, op), threads), evaluation))
        gains.append(MetricGain(op.weight, op.output, round((score - base_score) * 100, 9), sqnr - base_sqnr))
    return sorted(gains, key=lambda g: (-g.metric_points, -g.sqnr_db))
