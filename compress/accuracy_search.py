"""How many of the most harmful layers to keep in float so that int8 loses at most `max_drop` points: measured, not
assumed. The layers come ranked worst first (by the quantization debugger); the search keeps the top k in float for
k = 0, 1, 2, 4, ... until the drop is met, then bisects between the last k that missed and the first that met it, so
a model needs about 2 log2(k) measurements instead of one per layer. It assumes keeping more of the ranked layers in
float does not lose accuracy (true of the measurements it makes, which it records; bisection trusts it in between)."""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, List, Optional, Sequence, Tuple

from ..runtime.errors import PaddleEdgeError


@dataclasses.dataclass(frozen=True)
class Trial:
    """One measured candidate: the layers it kept in float, its score on the validation data, its drop in points."""

    keep_float: Tuple[str, ...]
    score: float
    drop_points: float
    seconds: float


class DropNotMet(PaddleEdgeError):
    """Even with every ranked layer in float the int8 model loses more than allowed."""


def search_keep_float(ranked: Sequence[str], measure: Callable[[Tuple[str, ...]], float], float_score: float,
                      max_drop: float) -> Tuple[Trial, List[Trial]]:
    """The smallest top-k of `ranked` kept in float whose measured drop is <= `max_drop` points, and every trial."""
    trials: List[Trial] = []

    def trial(k: int) -> Trial:
        start = time.perf_counter()
        keep = tuple(ranked[:k])
        score = measure(keep)
        found = Trial(keep, score, round((float_score - score) * 100, 9), round(time.perf_counter() - start, 1))
        trials.append(found)
        print(f"  {k:3d} kept in float: {100 * score:.2f} % (drop {found.drop_points:.2f} points, limit {max_drop})", flush=True)
        return found

    best: Optional[Trial] = None
    missed, k = 0, 0
    while best is None:
        t = trial(k)
        if t.drop_points <= max_drop:
            best = t
        elif k >= len(ranked):
            raise DropNotMet(f"int8 loses {t.drop_points:.2f} points even with all {len(ranked)} ranked layers in float "
                             f"(limit {max_drop})", "allow a larger --max-drop, or calibrate on more or better images")
        else:
            missed, k = k, min(max(1, 2 * k), len(ranked))
    low, high = missed, len(best.keep_float)
    while high - low > 1:
        middle = (low + high) // 2
        t = trial(middle)
        if t.drop_points <= max_drop:
            best, high = t, middle
        else:
            low = middle
    return best, trials
