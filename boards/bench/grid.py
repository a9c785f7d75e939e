"""The threads x batch grid: every in-process engine timed in turn within each cell, Paddle Lite in its sidecar beside them."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ... import runtime
from ...runtime.batching import batch_of
from ...runtime.timing import Timing, time_in_rounds
from ..latency import Ratio, paired_ratio
from .engines import Engine, Feeds, Run, is_peer, load


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


def _failed(name: str, exc: Exception, where: str, from_batch: int, failing: Dict[str, int], skipped: Dict[str, str]) -> None:
    """A peer that failed in the grid `where` (at load: `from_batch` 0) is left out from that batch size up, and said
    so; any other engine is a broken bundle, and the error goes on."""
    if not is_peer(name):
        raise exc
    failing[name] = min(from_batch, failing.get(name, from_batch))
    lines = (getattr(exc, "problem", None) or f"{type(exc).__name__}: {exc}").strip().splitlines()
    said = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"  # a sidecar's error ends with what Lite said
    skipped[f"{name} {where}"] = f"not runnable here {where}: {said[:400]}"


def _lite_cells(bundle: runtime.Bundle, engines: Sequence[Engine], feeds: Feeds, threads: int, batch: int,
                calls: int, skipped: Dict[str, str], failing: Dict[str, int]) -> List[Cell]:
    lite = [e for e in engines if not e.in_process and batch < failing.get(e.name, batch + 1)]
    if not lite or "paddlelite" in skipped:
        return []
    from ...export.lite_sidecar import SidecarError, ensure_sidecar

    try:
        sidecar = ensure_sidecar()
    except SidecarError as exc:
        skipped["paddlelite"] = exc.problem
        return []
    inputs = [feeds[s.name] for s in bundle.manifest.inputs]
    cells = []
    for e in lite:
        try:
            cells.append(Cell(e.name, threads, batch, Timing(batch, sidecar.latency(bundle.path_of(e.artifacts[0]), inputs, threads, calls, batch)),
                              False))
        except SidecarError as exc:  # it crashed or hung in its own process: the bench goes on without it
            _failed(e.name, exc, f"at {threads} thread(s), batch {batch}", batch, failing, skipped)
    return cells


def _runnable(engines: Sequence[Engine], bundle: runtime.Bundle, threads: int, smallest: int, paddle_int8: Optional[Path],
              tuned_at: int, failing: Dict[str, int], skipped: Dict[str, str], settings: Mapping[str, str]) -> Dict[str, Run]:
    """The in-process engines loaded at `threads` (the tuned runtime only at `tuned_at`; none that failed at the
    `smallest` batch size or below), a peer that fails to load left out."""
    loaded = {}
    for e in engines:
        if e.in_process and (not e.tuned or threads == tuned_at) and failing.get(e.name, smallest + 1) > smallest:
            try:
                loaded[e.name] = load(e, bundle, threads, paddle_int8, settings)
            except Exception as exc:  # noqa: BLE001 - a peer's own error, whatever its type, is a finding, not the bench's end
                _failed(e.name, exc, f"loaded at {threads} thread(s)", 0, failing, skipped)
    return loaded


def _guarded(name: str, run: Run, chunk: Feeds, raised: Dict[str, Exception]) -> Callable[[], object]:
    """run(chunk), except that a peer's error is kept in `raised` and its later calls return at once: its cell is then
    dropped, and the others' rounds go on (any other engine's error ends the bench)."""
    def call() -> object:
        if name in raised:
            return None
        try:
            return run(chunk)
        except Exception as exc:  # noqa: BLE001 - as in _runnable
            if not is_peer(name):
                raise
            raised[name] = exc
            return None
    return call


def run_grid(bundle: runtime.Bundle, engines: Sequence[Engine], feeds: Feeds, threads: Sequence[int], batches: Sequence[int],
             calls: int, skipped: Dict[str, str], progress: Optional[object] = None,
             paddle_int8: Optional[Path] = None, tuned_at: int = 0,
             first_failing: Optional[Dict[str, int]] = None, settings: Optional[Mapping[str, str]] = None,
             probes: Optional[Mapping[Tuple[int, int], Mapping[str, Callable[[], object]]]] = None
             ) -> Tuple[List[Cell], Dict[int, Ratio], Dict[Tuple[int, int], Dict[str, Timing]]]:
    """Time every engine in every (threads, batch) cell, in ROUNDS rounds of at least MIN_CALLS_PER_ROUND calls; also the
    thin runtime's overhead over its own session per thread count. The tuned runtime, which runs at its tuning's thread
    count, is timed in the `tuned_at` cells only; an engine in `first_failing` (its first failing batch size) only below
    it. `settings`: the thin runtime's ONNX Runtime settings (engines.load). A peer that fails in the grid (to load, on
    any call, in its sidecar) is left out from there on and named in `skipped`. `probes`, per (threads, batch) cell:
    callables timed in its rounds beside its engines (peak.probes), their timings returned apart from the cells."""
    cells: List[Cell] = []
    overhead: Dict[int, Ratio] = {}
    probed: Dict[Tuple[int, int], Dict[str, Timing]] = {}
    failing = dict(first_failing or {})
    for n in threads:
        loaded = _runnable(engines, bundle, n, min(batches), paddle_int8, tuned_at, failing, skipped, settings or {})
        for batch in batches:
            chunk = batch_of(feeds, batch)
            raised: Dict[str, Exception] = {}
            runners = {name: _guarded(name, run, chunk, raised) for name, run in loaded.items() if batch < failing.get(name, batch + 1)}
            extra = dict((probes or {}).get((n, batch), {}))
            timed = max(calls_for(batch, calls), ROUNDS * MIN_CALLS_PER_ROUND)
            for name, timing in time_in_rounds({**runners, **extra}, batch, timed, rounds=ROUNDS).items():
                if name in extra:
                    probed.setdefault((n, batch), {})[name] = timing
                elif name in raised:
                    _failed(name, raised[name], f"at {n} thread(s), batch {batch}", batch, failing, skipped)
                else:
                    cells.append(Cell(name, n, batch, timing, True))
            cells += _lite_cells(bundle, engines, chunk, n, batch, timed, skipped, failing)
            if progress is not None:
                progress.update(1)
        if "onnxruntime_fp32" in loaded:
            thin = runtime.open(bundle, backend="onnxruntime", precision="fp32", threads=n, settings=settings)
            one = batch_of(feeds, 1)
            overhead[n] = paired_ratio(lambda t=thin, x=one: t.predict(x), lambda t=thin, x=one: t.backend.session.run(None, x), calls=4 * calls)
    return cells, overhead, probed
