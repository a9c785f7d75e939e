"""`paddle-edge zoo`: train every zoo model with its defaults and print what it reached against its target."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np

from ..runtime.files import atomic_file
from .datasets import Dataset, load_dataset
from .trainer import CHECKPOINTS, latest_checkpoint, train_model
from .zoo import ZOO, zoo_entry

Row = Dict[str, Any]


def least_squares_mse(dataset: Dataset) -> float:
    """Test MSE of the closed-form least-squares fit (with a bias column) to the training rows: what a linear model can reach."""
    design = lambda x: np.hstack([x, np.ones((len(x), 1))]).astype(np.float64)  # noqa: E731
    coef, *_ = np.linalg.lstsq(design(dataset.x_train), dataset.y_train.astype(np.float64), rcond=None)
    return float(np.mean((design(dataset.x_test) @ coef - dataset.y_test) ** 2))


def train_zoo(out: Path, names: Sequence[str] = tuple(ZOO)) -> List[Row]:
    """Train (or resume) each named model under `out`; one row per model with its test and validation metric, target and verdict."""
    rows = []
    for name in names:
        entry = zoo_entry(name)
        start = time.perf_counter()
        run_dir = Path(out) / name
        result = train_model(name, run_dir, resume=latest_checkpoint(run_dir / CHECKPOINTS) > 0, verbose=0)
        metrics = result.card.metrics
        value = metrics[entry.metric]
        passed = value >= entry.target if entry.target is not None else None
        row = {"model": name, "dataset": entry.dataset, "epochs": entry.epochs, "metric": entry.metric, "value": value,
               "val_value": metrics[f"val_{entry.metric}"], "epoch_kept": metrics["epoch"], "target": entry.target,
               "verdict": "report" if passed is None else ("PASS" if passed else "FAIL"), "seconds": time.perf_counter() - start}
        if entry.metric == "mse":
            row["least_squares_mse"] = least_squares_mse(load_dataset(entry.dataset))
        rows.append(row)
        print(render_rows(rows[-1:], header=len(rows) == 1), flush=True)
    return rows


def _figure(metric: str, value: float) -> str:
    return f"{value * 100:.2f} %" if metric == "top1" else f"{value:.3f}"


def render_rows(rows: List[Row], header: bool = True) -> str:
    """A fixed-width table of zoo results (test value, validation value, and the least-squares MSE where there is one)."""
    lines = [f"{'model':8} {'dataset':8} {'epochs':>6} {'metric':>6} {'test':>9} {'val':>9} {'target':>8} {'verdict':>8} "
             f"{'train s':>8}  least squares"] if header else []
    for r in rows:
        target = "-" if r["target"] is None else f">= {r['target'] * 100:.1f}"
        lstsq = _figure(r["metric"], r["least_squares_mse"]) if "least_squares_mse" in r else "-"
        lines.append(f"{r['model']:8} {r['dataset']:8} {r['epochs']:>6} {r['metric']:>6} {_figure(r['metric'], r['value']):>9} "
                     f"{_figure(r['metric'], r['val_value']):>9} {target:>8} {r['verdict']:>8} {r['seconds']:>8.1f}  {lstsq}")
    return "\n".join(lines)


def save_rows(rows: List[Row], path: Path, provenance: Dict[str, Any]) -> Path:
    """Write the rows and how they were made as JSON (atomically), for the README's zoo table."""
    with atomic_file(Path(path)) as tmp:
        tmp.write_text(json.dumps({"provenance": provenance, "rows": rows}, indent=2))
    return Path(path)
