"""The JSON behind the HTML report: per-class accuracy, confusion matrices and latency beside accuracy, per engine."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from ... import __version__
from ..bench.engines import ENGINES
from .run_dir import RunDir

SCHEMA = "paddle-edge.report/1"
SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
CONFUSION_OF = ("paddle_fp32", "onnx_int8")  # the two engines whose errors a reader compares


def confusion(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """counts[true, predicted]."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def _classes(run: RunDir) -> Optional[Dict[str, Any]]:
    if run.predictions is None or "labels" not in run.predictions:
        return None
    labels = run.predictions["labels"].astype(np.int64)
    engines = {k: v.astype(np.int64) for k, v in run.predictions.items() if k != "labels"}
    classes = int(max(labels.max(), *(v.max() for v in engines.values()))) + 1
    support = np.bincount(labels, minlength=classes)
    per_class = {k: (confusion(labels, v, classes).diagonal() / np.maximum(support, 1)).tolist() for k, v in engines.items()}
    return {"classes": classes, "support": support.tolist(), "per_class_top1": per_class,
            "confusion": {k: confusion(labels, engines[k], classes).tolist() for k in CONFUSION_OF if k in engines}}


def _accuracy(parity: Dict[str, Any]) -> Dict[str, float]:
    """top-1 (or the regression metric) of each engine, keyed like the bench's engines."""
    found = {}
    for name, engine in ENGINES.items():
        scores = parity["engines"].get(engine.parity_key, {}).get("scores", {})
        metric = next((k for k in ("top1", "mse") if k in scores), None)
        if metric:
            found[name] = float(scores[metric])
    return found


def _latency_rows(bench: Dict[str, Any], accuracy: Dict[str, float]) -> List[Dict[str, Any]]:
    keep = ("engine", "threads", "batch", "p50_us", "p90_us", "p99_us", "throughput", "gflops", "speedup_vs_reference", "ratio_vs_bare")
    return [{**{k: c[k] for k in keep if k in c}, "label": bench["engines"][c["engine"]]["label"],
             "precision": bench["engines"][c["engine"]]["precision"], "accuracy": accuracy.get(c["engine"])} for c in bench["cells"]]


def summarize(run: RunDir) -> Dict[str, Any]:
    """Everything the page shows, as data; the page is drawn from this alone (plus the bench's raw samples)."""
    accuracy = _accuracy(run.parity)
    return {
        "schema": SCHEMA, "paddle_edge": __version__, "run_dir": str(run.root), "model": run.parity.get("model", run.bench["model"]),
        "task": "classification" if run.predictions is not None else "regression",
        "metric": "top1" if run.predictions is not None else "mse", "samples": run.parity.get("samples"),
        "accuracy": accuracy, "classes": _classes(run), "latency": _latency_rows(run.bench, accuracy),
        "goal_threads": run.bench["goal_threads"], "flops_per_sample": run.bench["flops_per_sample"],
        "engines": run.bench["engines"],
        "checks": {"parity": run.parity.get("checks", {}), "bench": run.bench.get("checks", {})},
        "goals": {"parity": run.parity.get("goals", {}), "bench": run.bench.get("goals", {})}, "cpu": run.bench["host"].get("cpu"),
        "toolchain": {**run.parity.get("toolchain", {}), **run.bench.get("toolchain", {})}, "host": run.bench["host"],
        "quantization": run.bench.get("quantization"), "skipped": {**run.parity.get("skipped", {}), **run.bench.get("skipped", {})},
    }
