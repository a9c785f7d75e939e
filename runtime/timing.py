"""Per-call wall times, numpy only, so a board can time itself."""
from __future__ import annotations

import time
from typing import Callable

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
