"""The board's half of `paddle-edge tune`: time every candidate engine configuration, drop the slow ones in rungs, and run
the survivors on the evaluation inputs, with only the runtime installed.

    python -m paddle_edge.runtime.tune_run BUNDLE WORKDIR

reads WORKDIR/tune-plan.json ({"candidates": [{"tag", "backend", "precision", "threads", "settings", "race"}], "calls":
{batch: calls}, "rounds": N, "keep": K or null, "fixed": [tags], "evaluate": true|false}) and WORKDIR/inputs.npz
(groups of model inputs, as evaluate.save_groups writes them). Every candidate is opened once and timed with the others
in N rounds per batch size on the first group's samples. With "keep", that is successive halving: the early rungs time
all candidates briefly (BRIEF_ROUNDS), and each drops the slower half of every race (the host names them: a precision on
one backend, whose configurations tend to pass or fail parity together), ranked at the batch size where each ranks best,
so the fastest at every batch size stays (faster_half); never fewer than K; the "fixed" ones always stay. The calls double at each
rung until K per race are left, which are timed with the full calls in N rounds. Only the survivors run all the inputs
with "evaluate" (WORKDIR/outputs-<tag>.npz, which the host judges for parity), so the evaluation, the slow part on a
heavy model, costs K per race, not every candidate. Times: WORKDIR/seconds-tune.npz, array "<tag>.b<batch>", from the
last rung each candidate was timed in. A candidate that fails to open, run or take a batch size is left out from there
on; WORKDIR/board-tune.json says why, which rung dropped which candidate, and what ran where.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from . import open as open_bundle
from .batching import batch_of, predict_all
from .errors import PaddleEdgeError
from .evaluate import load_groups, save_groups, where_it_ran
from .predictor import Predictor
from .timing import time_in_rounds

PLAN, TIMES, INFO = "tune-plan.json", "seconds-tune.npz", "board-tune.json"
BRIEF_ROUNDS = 3  # rounds of a rung that only drops candidates: each round ends in a pause (timing.PAUSE_S)


def _said(exc: Exception) -> str:
    """An error's first line, for the host's table."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def halvings(sizes: Sequence[int], keep: Optional[int]) -> int:
    """How many rungs of halving bring every group of `sizes` candidates down to `keep` (none without `keep`)."""
    if not keep:
        return 0
    return max([math.ceil(math.log2(n / keep)) for n in sizes if n > keep], default=0)


def faster_half(medians: Mapping[str, Sequence[float]], keep: int) -> List[str]:
    """Half of the candidates (tag -> median call per batch size), never fewer than `keep` nor than the batch sizes:
    those ranked best at the batch size where they rank best (the fastest at each batch size first), ties broken by how
    close each came to the fastest at that batch size (its time over the fastest's): a candidate second by 4 % at one
    batch size outranks one second by 70 % at another."""
    tags = list(medians)
    width = len(next(iter(medians.values()), ()))  # batch sizes
    ranks: Dict[str, List[int]] = {t: [] for t in tags}
    for i in range(width):
        for rank, tag in enumerate(sorted(tags, key=lambda t: medians[t][i])):
            ranks[tag].append(rank)
    fastest = [min(medians[t][i] for t in tags) for i in range(width)]
    best = sorted(tags, key=lambda t: min((ranks[t][i], medians[t][i] / fastest[i]) for i in range(width)))
    return best[:max(keep, math.ceil(len(tags) / 2), width)]


def _contests(alive: Mapping[str, object], race: Mapping[str, str]) -> Dict[str, List[str]]:
    """The candidates still in each race (`race` holds only those that can be dropped)."""
    contests: Dict[str, List[str]] = {}
    for tag in alive:
        if tag in race:
            contests.setdefault(race[tag], []).append(tag)
    return contests


def tune_run(bundle: Path, workdir: Path) -> Dict[str, Any]:
    """Open and time every candidate of the plan in rungs, evaluate the survivors; write outputs, times and what
    happened into `workdir`."""
    plan = json.loads((workdir / PLAN).read_text())
    groups = load_groups(workdir / "inputs.npz")
    batches = {int(b): int(calls) for b, calls in plan["calls"].items()}
    predictors: Dict[str, Predictor] = {}
    ran: Dict[str, Dict[str, Any]] = {}
    for c in plan["candidates"]:
        try:
            predictors[c["tag"]] = open_bundle(bundle, backend=c["backend"], precision=c["precision"], threads=c["threads"], settings=c["settings"])
        except Exception as exc:  # any engine's failure on this board is a finding for the host's table, not the end of the run
            ran[c["tag"]] = {"error": _said(exc)}
            continue
        ran[c["tag"]] = {"artifact": predictors[c["tag"]].artifact, "error": None, "dropped_at_rung": None}
    feeds = {b: batch_of(groups[0], b) for b in batches}
    for b in batches:
        for tag, predictor in list(predictors.items()):
            try:
                predictor.predict(feeds[b])
            except Exception as exc:  # this batch size is too much for it (memory, a fixed batch): it is out of the timing
                ran[tag].update(error=f"at batch {b}: {_said(exc)}")
                del predictors[tag]
    race = {c["tag"]: c["race"] for c in plan["candidates"] if c["tag"] not in plan.get("fixed", ())}
    last = halvings([len(tags) for tags in _contests(predictors, race).values()], plan.get("keep"))
    times: Dict[str, np.ndarray] = {}
    rungs = []
    for rung in range(last + 1):
        rounds, warmup = (int(plan["rounds"]), 3) if rung == last else (BRIEF_ROUNDS, 1)
        calls = {}
        for b, n in batches.items():
            runners = {tag: (lambda p=p, x=feeds[b]: p.predict(x)) for tag, p in predictors.items()}
            timed = time_in_rounds(runners, b, max(rounds, n >> (last - rung)), rounds=rounds, warmup=warmup)
            for tag, timing in timed.items():
                times[f"{tag}.b{b}"] = timing.seconds
            calls[str(b)] = min((len(t.seconds) for t in timed.values()), default=0)
        rungs.append({"calls": calls, "rounds": rounds, "candidates": len(predictors)})
        if rung == last:
            break
        for tags in _contests(predictors, race).values():
            stay = faster_half({t: [float(np.median(times[f"{t}.b{b}"])) for b in batches] for t in tags}, int(plan["keep"]))
            for tag in set(tags) - set(stay):
                ran[tag].update(dropped_at_rung=rung)
                del predictors[tag]  # its session's memory goes back before the next rung
    if plan["evaluate"]:
        for tag, predictor in predictors.items():
            try:
                outputs = [predict_all(predictor.predict, group) for group in groups]
            except Exception as exc:  # it ran the timing batch but not every input: a finding, like failing to open
                ran[tag].update(error=_said(exc))
                continue
            save_groups(workdir / f"outputs-{tag}.npz", [{str(j): x for j, x in enumerate(group)} for group in outputs])
    np.savez(workdir / TIMES, **{k: v for k, v in times.items() if not ran[k.rsplit(".b", 1)[0]]["error"]})
    info = {**where_it_ran(), "candidates": ran, "rungs": rungs}
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
    survivors = [c for c in info["candidates"].values() if not c["error"] and c["dropped_at_rung"] is None]
    print(f"{len(survivors)} of {len(info['candidates'])} candidates ran to the end, in {len(info['rungs'])} rung(s)")


if __name__ == "__main__":
    main()
