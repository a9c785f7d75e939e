"""Whole arrays through any engine in bounded slices: what parity, board evaluation and large predict() calls share."""
from __future__ import annotations

from typing import Callable, Dict, List

import numpy as np

CHUNK = 500


def predict_all(run: Callable[[Dict[str, np.ndarray]], List[np.ndarray]], feeds: Dict[str, np.ndarray],
                chunk: int = CHUNK) -> List[np.ndarray]:
    """Every output of `run` (a predictor's predict, or any engine's run) over whole arrays, fed `chunk` rows at a time."""
    n = len(next(iter(feeds.values())))
    parts = [run({k: v[i:i + chunk] for k, v in feeds.items()}) for i in range(0, n, chunk)]
    return [np.concatenate(p) for p in zip(*parts)]


def batch_of(feeds: Dict[str, np.ndarray], batch: int) -> Dict[str, np.ndarray]:
    """The first `batch` samples, repeated if the data has fewer, contiguous."""
    out = {}
    for name, x in feeds.items():
        reps = -(-batch // len(x))
        out[name] = np.ascontiguousarray(np.concatenate([x] * reps)[:batch] if reps > 1 else x[:batch])
    return out
