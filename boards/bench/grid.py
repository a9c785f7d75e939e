"""The threads x batch grid: every in-process engine timed in turn within each cell, Paddle Lite in its sidecar beside them."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ... import runtime
from ...runtime.batching import batch_of
from ...runtime.timing import Timing, time_in_rounds
from ..latency import Ratio, paired_ratio
from .engines import Engine, Feeds, load


@dataclasses.dataclass(frozen=True)
class Cell:
    """One engine at one thread count and batch size."""

    engine: str
    threads: int
    batch: int
    timing: Timing
    interleaved: bool  # timed in turn with the other engines of its cell (False: alone, in the sidecar)


ROUNDS = 12  # each cell's calls, timed in turn with its cell's other engines; ratios pair cells round by round
PICK_ROUNDS = 2  # of them, those that pick the fastest pairs (runner.fastest, best_by_precision); the rest measure them
MIN_CALLS_PER_ROUND = 4  # a round's median is of at least this many calls


def calls_for(batch: int, calls: int) -> int:
    """Fewer calls for larger batches, so every cell takes a similar time; never fewer than 50 unless `calls` is."""
    return min(calls, max(50, calls * 4 // batch))


def _lite_cells(bundle: runtime.Bundle, engines: Sequence[Engine], feeds: Feeds, threads: int, batch: int,
                calls: int, skipped: Dict[str, str]) -> List[Cell]:
    lite = [e for e in engines if not e.in_process]
    if not lite or "paddlelite" in skipped:
        return []
    from ...export.lite_sidecar import SidecarError, ensure_sidecar

    try:
        sidecar = ensure_sidecar()
    except SidecarError as exc:
        skipped["paddlelite"] = exc.problem
        return []
    inputs = [feeds[s.name] for s in bundle.manifest.inputs]
    return [Cell(e.name, threads, batch, Timing(batch, sidecar.latency(bundle.path_of(e.artifacts[0]), inputs, threads, calls, batch)), False)
            for e in lite]


def run_grid(bundle: runtime.Bundle, engines: Sequence[Engine], feeds: Feeds, threads: Sequence[int], batches: Sequence[int],
             calls: int, skipped: Dict[str, str], progress: Optional[object] = None,
             paddle_int8: Optional[Path] = None, tuned_at: int = 0) -> Tuple[List[Cell], Dict[int, Ratio]]:
    """Time every engine in every (threads, batch) cell, in ROUNDS rounds of at least MIN_CALLS_PER_ROUND calls; also the
    thin runtime's overhead over its own session per thread count. The tuned runtime, which runs at its tuning's thread
    count, is timed in the `tuned_at` cells only."""
    cells: List[Cell] = []
    overhead: Dict[int, Ratio] = {}
    for n in threads:
        loaded = {e.name: load(e, bundle, n, paddle_int8) for e in engines if e.in_process and (not e.tuned or n == tuned_at)}
        for batch in batches:
            chunk = batch_of(feeds, batch)
            runners = {name: (lambda r=run, c=chunk: r(c)) for name, run in loaded.items()}
            timed = max(calls_for(batch, calls), ROUNDS * MIN_CALLS_PER_ROUND)
            for name, timing in time_in_rounds(runners, batch, timed, rounds=ROUNDS).items():
                cells.append(Cell(name, n, batch, timing, True))
            cells += _lite_cells(bundle, engines, chunk, n, batch, timed, skipped)
            if progress is not None:
                progress.update(1)
        if "onnxruntime_fp32" in loaded:
            thin = runtime.open(bundle, backend="onnxruntime", precision="fp32", threads=n)
            one = batch_of(feeds, 1)
            overhead[n] = paired_ratio(lambda t=thin, x=one: t.predict(x), lambda t=thin, x=one: t.backend.session.run(None, x), calls=4 * calls)
    return cells, overhead
