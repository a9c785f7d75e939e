"""What a run directory holds for a report, and the commands that make each file."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from ...runtime.errors import PaddleEdgeError

PARITY, PREDICTIONS, BENCH = "parity.json", "predictions.npz", "bench.json"
QUANT_DEBUG = "quant-debug.json"  # optional: a section on where int8 loses
TUNE = "tune.json"  # the demo's tuning of the runtime's engine (README figures; not read by the report page)
HTML, DATA = "report.html", "report.json"
MAKES = {
    PARITY: "paddle-edge parity BUNDLE --json {run}/parity.json --predictions {run}/predictions.npz",
    PREDICTIONS: "paddle-edge parity BUNDLE --json {run}/parity.json --predictions {run}/predictions.npz",
    BENCH: "paddle-edge bench BUNDLE --json {run}/bench.json",
    QUANT_DEBUG: "paddle-edge quant-debug BUNDLE --json {run}/quant-debug.json",
}


@dataclasses.dataclass(frozen=True)
class RunDir:
    """The measured files of one run: parity (accuracy, checks, toolchain), predictions (classes per engine), bench."""

    root: Path
    parity: Dict[str, Any]
    bench: Dict[str, Any]
    predictions: Optional[Dict[str, np.ndarray]]  # None for models without classes (regression)
    quant_debug: Optional[Dict[str, Any]] = None  # quant-debug.json, where the run has one


def _need(root: Path, name: str) -> Path:
    path = root / name
    if not path.is_file():
        raise PaddleEdgeError(f"{root} has no {name}", f"make it first: {MAKES[name].format(run=root)} (or run `paddle-edge demo --out {root}`)")
    return path


def _json(path: Path) -> Dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PaddleEdgeError(f"{path} is not valid JSON ({exc})", f"make it again: {MAKES[path.name].format(run=path.parent)}") from None


def read_run_dir(root: Path) -> RunDir:
    """Read a run directory, naming any missing file and the command that makes it."""
    root = Path(root)
    parity, bench = _json(_need(root, PARITY)), _json(_need(root, BENCH))
    predictions = None
    if "top1" in parity.get("engines", {}).get("paddle_fp32", {}).get("scores", {}):
        with np.load(_need(root, PREDICTIONS)) as npz:
            predictions = {k: npz[k] for k in npz.files}
    debug = _json(root / QUANT_DEBUG) if (root / QUANT_DEBUG).is_file() else None
    return RunDir(root, parity, bench, predictions, debug)
