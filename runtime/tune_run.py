"""The board's half of `paddle-edge tune`: run and time every candidate engine configuration, with only the runtime installed.

    python -m paddle_edge.runtime.tune_run BUNDLE WORKDIR

reads WORKDIR/tune-plan.json ({"candidates": [{"tag", "backend", "precision", "threads", "settings"}], "calls": {batch:
calls}, "rounds": N, "evaluate": true|false}) and WORKDIR/inputs.npz (groups of model inputs, as evaluate.save_groups
writes them). Every candidate is opened once; with "evaluate" each runs all the inputs (its outputs to
WORKDIR/outputs-<tag>.npz, which the host judges for parity); then every candidate that runs each batch size is timed with
the others in N rounds on the first group's samples (WORKDIR/seconds-tune.npz, array "<tag>.b<batch>"). A candidate that
fails to open, run or take a batch size is left out from there on, and WORKDIR/board-tune.json says why, and what ran where.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np

from . import open as open_bundle
from .batching import batch_of, predict_all
from .errors import PaddleEdgeError
from .evaluate import load_groups, save_groups, where_it_ran
from .predictor import Predictor
from .timing import time_in_rounds

PLAN, TIMES, INFO = "tune-plan.json", "seconds-tune.npz", "board-tune.json"


def _said(exc: Exception) -> str:
    """An error's first line, for the host's table."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def tune_run(bundle: Path, workdir: Path) -> Dict[str, Any]:
    """Open, run and time every candidate of the plan; write outputs, times and what happened into `workdir`."""
    plan = json.loads((workdir / PLAN).read_text())
    groups = load_groups(workdir / "inputs.npz")
    predictors: Dict[str, Predictor] = {}
    ran: Dict[str, Dict[str, Any]] = {}
    for c in plan["candidates"]:
        try:
            predictor = open_bundle(bundle, backend=c["backend"], precision=c["precision"], threads=c["threads"], settings=c["settings"])
            if plan["evaluate"]:
                outputs = [predict_all(predictor.predict, feeds) for feeds in groups]
                save_groups(workdir / f"outputs-{c['tag']}.npz", [{str(j): x for j, x in enumerate(group)} for group in outputs])
        except Exception as exc:  # any engine's failure on this board is a finding for the host's table, not the end of the run
            ran[c["tag"]] = {"error": _said(exc)}
            continue
        ran[c["tag"]] = {"artifact": predictor.artifact, "error": None}
        predictors[c["tag"]] = predictor
    times = {}
    for batch, calls in plan["calls"].items():
        feeds = batch_of(groups[0], int(batch))
        for tag, predictor in list(predictors.items()):
            try:
                predictor.predict(feeds)
            except Exception as exc:  # this batch size is too much for it (memory, a fixed batch): it is out of the timing
                ran[tag] = {**ran[tag], "error": f"at batch {batch}: {_said(exc)}"}
                del predictors[tag]
        runners = {tag: (lambda p=p: p.predict(feeds)) for tag, p in predictors.items()}
        for tag, timing in time_in_rounds(runners, int(batch), int(calls), rounds=int(plan["rounds"])).items():
            times[f"{tag}.b{batch}"] = timing.seconds
    np.savez(workdir / TIMES, **times)
    info = {**where_it_ran(), "candidates": ran}
    (workdir / INFO).write_text(json.dumps(info, indent=2))
    return info


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("workdir", type=Path)
    args = parser.parse_args(argv)
    try:
        info = tune_run(args.bundle, args.workdir)
    except PaddleEdgeError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    print(f"{sum(1 for c in info['candidates'].values() if not c['error'])} of {len(info['candidates'])} candidates ran")


if __name__ == "__main__":
    main()
