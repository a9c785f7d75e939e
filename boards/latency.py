"""Latency measurement that is fair to several engines on a small machine.

Engines' thread pools spin after each call (ONNX Runtime's intra-op spin, Intel OpenMP's blocktime), so calls of two
engines interleaved one by one slow each other down. Each runner is timed in short blocks instead, all runners in turn
over several rounds with a pause between blocks: machine noise still hits every runner alike, spinning does not.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Dict, Mapping

import numpy as np

PAUSE_S = 0.25  # longer than OpenMP's default 200 ms blocktime


@dataclasses.dataclass(frozen=True)
class Timing:
    """Per-call wall times of one runner at one batch size."""

    batch: int
    seconds: np.ndarray

    @property
    def p50_us(self) -> float:
        return self.percentile_us(50)

    @property
    def p90_us(self) -> float:
        return self.percentile_us(90)

    def percentile_us(self, q: float) -> float:
        return float(np.percentile(self.seconds, q) * 1e6)

    @property
    def throughput(self) -> float:
        """Samples per second at the median call time."""
        return self.batch / float(np.percentile(self.seconds, 50))


def time_in_rounds(runners: Mapping[str, Callable[[], object]], batch: int, calls: int, rounds: int = 5, warmup: int = 3) -> Dict[str, Timing]:
    """Time each runner `calls` times in all, as `rounds` blocks taken in turn, each after `warmup` untimed calls."""
    per_block = max(1, calls // rounds)
    samples: Dict[str, list] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            for _ in range(warmup):
                run()
            for _ in range(per_block):
                start = time.perf_counter()
                run()
                samples[name].append(time.perf_counter() - start)
            time.sleep(PAUSE_S)
    return {name: Timing(batch, np.array(s)) for name, s in samples.items()}


def paired_ratio(wrapped: Callable[[], object], bare: Callable[[], object], calls: int = 2000, warmup: int = 50) -> float:
    """How much slower `wrapped` is than `bare`: the median, over adjacent pairs of calls, of their time ratio.

    Calls alternate one by one (for two callers of one engine) and the order flips every pair (ABBA), so whatever the
    first or second call of a pair pays falls on both alike; each pair shares the machine's state of that moment, so
    drift and bursts of noise cancel in its ratio."""
    for _ in range(warmup):
        wrapped()
        bare()
    times = np.empty((2, calls))
    for i in range(calls):
        for j, run in ((0, wrapped), (1, bare)) if i % 2 == 0 else ((1, bare), (0, wrapped)):
            start = time.perf_counter()
            run()
            times[j, i] = time.perf_counter() - start
    return float(np.median(times[0] / times[1]))
