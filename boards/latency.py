"""Latency measurement that is fair to several engines on a small machine.

Runners of several engines are timed in rounds (runtime/timing.py: `time_in_rounds`, which a board runs too); this
module adds the ratios (per round, paired by the round both were timed in), their intervals and the paired timing of
two callers of one engine.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np


@dataclasses.dataclass(frozen=True)
class Ratio:
    """A median ratio and its 95 % confidence interval (distribution-free: order statistics of the pair ratios)."""

    median: float
    low: float
    high: float
    pairs: int

    @classmethod
    def of(cls, ratios: np.ndarray) -> "Ratio":
        """The median of `ratios` with the k-th smallest and k-th largest as its interval, k = n/2 - 1.96 sqrt(n)/2 rounded
        down (the binomial bound on a median; the same rank from each end, so one stray value moves neither bound)."""
        ordered = np.sort(ratios)
        n = len(ordered)
        low = int(max(0, np.floor(n / 2 - 1.96 * np.sqrt(n) / 2)))
        high = n - 1 - low
        return cls(float(np.median(ordered)), float(ordered[low]), float(ordered[high]), n)

    @classmethod
    def of_medians(cls, slow: np.ndarray, fast: np.ndarray, resamples: int = 1000) -> "Ratio":
        """median(slow) / median(fast) of two independent samples of call times, with a seeded bootstrap interval."""
        rng = np.random.default_rng(0)
        ratios = (np.median(rng.choice(slow, (resamples, len(slow))), axis=1)
                  / np.median(rng.choice(fast, (resamples, len(fast))), axis=1))
        low, high = np.percentile(ratios, [2.5, 97.5])
        return cls(float(np.median(slow) / np.median(fast)), float(low), float(high), min(len(slow), len(fast)))

    def to_dict(self) -> Dict[str, float]:
        return {"value": self.median, "interval": [self.low, self.high], "pairs": self.pairs}

    def triple(self) -> Tuple[float, float, float]:
        """(value, low, high), as checks.judge_goals takes it."""
        return self.median, self.low, self.high


def round_ratios(slow: Sequence[np.ndarray], fast: Sequence[np.ndarray]) -> np.ndarray:
    """Per round, the ratio of the two runners' median calls: paired by round, so what the machine did in that round
    falls on both."""
    if len(slow) != len(fast):
        raise ValueError(f"{len(slow)} rounds against {len(fast)}: rounds pair only within the runs that timed both")
    return np.array([np.median(s) / np.median(f) for s, f in zip(slow, fast)])


def paired_ratio(wrapped: Callable[[], object], bare: Callable[[], object], calls: int = 2000, warmup: int = 50,
                 max_calls: int = 16000, tight: float = 0.01) -> Ratio:
    """How much slower `wrapped` is than `bare`: the median, over adjacent pairs of calls, of their time ratio, with its
    95 % interval; more pairs are taken (up to `max_calls`) until the interval is narrower than `tight`.

    Calls alternate one by one (for two callers of one engine) and the order flips every pair (ABBA), so whatever the
    first or second call of a pair pays falls on both alike; each pair shares the machine's state of that moment, so
    drift and bursts of noise cancel in its ratio."""
    ratios = np.empty(0)
    while True:
        ratios = np.concatenate([ratios, _pair_ratios(wrapped, bare, calls, warmup if not len(ratios) else 0)])
        ratio = Ratio.of(ratios)
        if ratio.high - ratio.low <= tight or len(ratios) >= max_calls:
            return ratio


def _pair_ratios(wrapped: Callable[[], object], bare: Callable[[], object], calls: int, warmup: int) -> np.ndarray:
    """Time ratio wrapped/bare of `calls` adjacent pairs, order flipped every pair (ABBA)."""
    for _ in range(warmup):
        wrapped()
        bare()
    times = np.empty((2, calls))
    for i in range(calls):
        for j, run in ((0, wrapped), (1, bare)) if i % 2 == 0 else ((1, bare), (0, wrapped)):
            start = time.perf_counter()
            run()
            times[j, i] = time.perf_counter() - start
    return times[0] / times[1]


def latency_against(run: Callable[[Dict[str, np.ndarray]], Any], fp32: Callable[[Dict[str, np.ndarray]], Any],
                    feeds: Dict[str, np.ndarray], calls: int, warmup: int) -> Dict[str, Any]:
    """`run` against `fp32` on the same feeds: the median ratio of `calls` adjacent pairs of calls with its 95 %
    interval, and each one's median call time (a report, never a check's verdict; accuracy control's speed rule reads
    it to end a search)."""
    times: Tuple[List[float], List[float]] = ([], [])

    def timed(fn: Callable[[Dict[str, np.ndarray]], Any], into: List[float]) -> Callable[[], None]:
        def call() -> None:
            begin = time.perf_counter()
            fn(feeds)
            into.append(time.perf_counter() - begin)
        return call

    ratio = paired_ratio(timed(run, times[0]), timed(fp32, times[1]), calls=calls, warmup=warmup, max_calls=calls)
    return {"vs_fp32": ratio.to_dict(), "median_ms": float(np.median(times[0][warmup:]) * 1e3),
            "fp32_median_ms": float(np.median(times[1][warmup:]) * 1e3)}
