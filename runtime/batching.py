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
