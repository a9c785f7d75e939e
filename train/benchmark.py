"""`paddle-edge zoo`: train every zoo model with its defaults and print what it reached against its target."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, List, Sequence

from .trainer import train_model
from .zoo import ZOO, zoo_entry


def train_zoo(out: Path, names: Sequence[str] = tuple(ZOO)) -> List[Dict[str, object]]:
    """Train (or resume) each named model under `out`; one row per model with its metric, target and verdict."""
    rows = []
    for name in names:
        entry = zoo_entry(name)
        start = time.perf_counter()
        result = train_model(name, Path(out) / name, resume=True, verbose=0)
        value = result.card.metrics[entry.metric]
        rows.append({"model": name, "dataset": entry.dataset, "epochs": entry.epochs, "metric": entry.metric, "value": value,
                     "target": entry.target, "passed": None if entry.target is None else value >= entry.target,
                     "seconds": time.perf_counter() - start})
        print(render_rows(rows[-1:], header=len(rows) == 1), flush=True)
    return rows


def render_rows(rows: List[Dict[str, object]], header: bool = True) -> str:
    """A fixed-width table of zoo results."""
    lines = [f"{'model':8} {'dataset':8} {'epochs':>6} {'metric':>6} {'value':>9} {'target':>8} {'verdict':>8} {'train s':>8}"] if header else []
    for r in rows:
        pct = r["metric"] == "top1"
        value = f"{r['value'] * 100:.2f} %" if pct else f"{r['value']:.3f}"
        target = "-" if r["target"] is None else f">= {r['target'] * 100:.1f}"
        verdict = "report" if r["passed"] is None else ("PASS" if r["passed"] else "FAIL")
        lines.append(f"{r['model']:8} {r['dataset']:8} {r['epochs']:>6} {r['metric']:>6} {value:>9} {target:>8} {verdict:>8} {r['seconds']:>8.1f}")
    return "\n".join(lines)
