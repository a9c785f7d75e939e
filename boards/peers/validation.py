"""NNCF's validation_fn: paddle-edge's scoring of an ONNX model, over any subset of a labelled evaluation set NNCF picks.

NNCF 3.4.0 passes validation_fn an onnx.ModelProto, not a session. It is scored by parity's scorer (`evaluation_set`,
`task_scores`) on the engine paddle-edge scores its own candidates with: onnxruntime with graph optimizations off for a
QDQ graph (its exact int8 semantics), defaults for a float one.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterable, List, Sequence, Tuple

import numpy as np
import onnx

from ...export.evaluation import EvaluationSet, Feeds, run_groups, task_scores
from ...runtime.backends.onnxruntime import OnnxRuntimeBackend, UnfusedOnnxRuntimeBackend
from ...runtime.errors import PaddleEdgeError
from ...runtime.manifest import Manifest
from .onnx_graphs import is_qdq

EXACT = "onnxruntime, graph optimizations off (exact QDQ semantics)"
FUSED = "onnxruntime, default graph optimizations (fused kernels, as the thin runtime runs it)"


def backend(path: Path, exact: bool, threads: int) -> OnnxRuntimeBackend:
    """An onnxruntime backend for `path`: graph optimizations off where `exact` (labelled EXACT), defaults otherwise (FUSED)."""
    return (UnfusedOnnxRuntimeBackend if exact else OnnxRuntimeBackend)(path, threads)


def _rows(group: Feeds) -> int:
    return len(next(iter(group.values())))


def _pick(truth: Any, indices: Sequence[int]) -> Any:
    return truth[np.asarray(indices, dtype=np.int64)] if isinstance(truth, np.ndarray) else [truth[i] for i in indices]


class Validation:
    """NNCF's validation_fn over an evaluation set: its items are (group, row) pairs, so any subset NNCF picks runs in
    the groups (and the padding) parity feeds, and the whole set scores exactly as `task_scores` scores it. Returns the
    task metric and each item's own (NNCF's "metric mode": it ranks quantizers by the metric, not by output error)."""

    def __init__(self, manifest: Manifest, evaluation: EvaluationSet, metric: str, work: Path, threads: int) -> None:
        if evaluation.truth is None:
            raise PaddleEdgeError(f"{evaluation.description} has no labels to score {metric} on", "give labelled validation images")
        self.manifest, self.evaluation, self.metric, self.threads = manifest, evaluation, metric, threads
        self.model_path = Path(work) / "validated.onnx"
        starts = np.cumsum([0] + [_rows(g) for g in evaluation.groups])
        self.items: List[Tuple[int, int]] = [(g, r) for g, group in enumerate(evaluation.groups) for r in range(_rows(group))]
        self.index = {item: int(starts[item[0]] + item[1]) for item in self.items}
        self.calls = self.seen = 0
        self.seconds = 0.0

    def __call__(self, model: onnx.ModelProto, items: Iterable[Tuple[int, int]]) -> Tuple[float, List[float]]:
        start = time.perf_counter()
        chosen = [tuple(item) for item in items]
        order = list(dict.fromkeys(g for g, _ in chosen))
        rows = {g: [r for h, r in chosen if h == g] for g in order}
        subset = EvaluationSet(tuple({k: x[rows[g]] for k, x in self.evaluation.groups[g].items()} for g in order),
                               _pick(self.evaluation.truth, [self.index[(g, r)] for g in order for r in rows[g]]),
                               tuple(self.evaluation.sizes[g] for g in order) if self.evaluation.sizes else (),
                               len(chosen), f"{len(chosen)} of {self.evaluation.description}")
        onnx.save(model, str(self.model_path))
        outputs = run_groups(backend(self.model_path, is_qdq(model), self.threads).run, subset)
        metric = task_scores(outputs, self.manifest, subset)[self.metric]
        per_item = {}
        for j, g in enumerate(order):
            for k, r in enumerate(rows[g]):
                one = EvaluationSet((), _pick(self.evaluation.truth, [self.index[(g, r)]]),
                                    (self.evaluation.sizes[g],) if self.evaluation.sizes else (), 1, "")
                per_item[(g, r)] = task_scores([[o[k:k + 1] for o in outputs[j]]], self.manifest, one)[self.metric]
        self.calls += 1
        self.seen += len(chosen)
        self.seconds += time.perf_counter() - start
        return metric, [per_item[item] for item in chosen]

    def score(self, model: onnx.ModelProto) -> float:
        """The task metric of `model` on the whole set, not counted among NNCF's calls."""
        calls, seen, seconds = self.calls, self.seen, self.seconds
        metric, _ = self(model, self.items)
        self.calls, self.seen, self.seconds = calls, seen, seconds
        return metric
