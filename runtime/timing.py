"""Per-call wall times, numpy only, so a board can time itself.

Engines' thread pools spin after each call (ONNX Runtime's intra-op spin, Intel OpenMP's blocktime), so calls of two
engines interleaved one by one slow each other down. Several runners are timed in short blocks instead, all runners in
turn over several rounds with a pause between blocks: machine noise still hits every runner alike, spinning does not.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Dict, Mapping

import numpy as np


def time_calls(run: Callable[[], object], calls: int, warmup: int = 5) -> np.ndarray:
    """Wall time in seconds of each of `calls` calls of `run`, after `warmup` untimed ones."""
    for _ in range(warmup):
        run()
    seconds = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        run()
        seconds[i] = time.perf_counter() - start
    return seconds


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
