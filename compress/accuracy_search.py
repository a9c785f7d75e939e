"""Which calibration, and how many of the most harmful layers in float, so that int8 loses at most `max_drop` points:
measured, not assumed.

Calibration comes first, since it changes no layer's precision: each candidate algorithm is measured in turn and the
first within the limit wins; if none is, the best-scoring one goes on. Then layers ranked worst first (by the
quantization debugger) are kept in float, the top k for k = 1, 2, 4, ... until the drop is met, then bisecting
between the last k that missed and the first that met it: about 2 log2(k) measurements instead of one per layer. The
bisection assumes keeping more of the ranked layers in float does not lose accuracy (true of the measurements it makes,
which it records; it trusts it in between). When two doublings in a row score no better than the best so far, the
search stops and says so: on a small validation set a few characters or images move the score by more than the
limit, and keeping more layers in float is then measuring noise, not repairing a layer."""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, List, Optional, Sequence, Tuple

from ..runtime.errors import PaddleEdgeError

PATIENCE = 2  # doublings in a row that score no better than the best so far, before the float-layer search stops
Measure = Callable[[str, Tuple[str, ...]], Tuple[float, float]]  # (algorithm, kept in float) -> (float score, int8 score)


@dataclasses.dataclass(frozen=True)
class Trial:
    """One measured candidate: its calibration algorithm, the layers it kept in float, its score on the validation
    data and its drop in points against the float model's."""

    algo: str
    keep_float: Tuple[str, ...]
    score: float
    drop_points: float
    seconds: float


class DropNotMet(PaddleEdgeError):
    """Even with every ranked layer in float the int8 model loses more than allowed."""


class AccuracySearch:
    """One search: every candidate measured by `measure` and recorded, in order, in `trials`."""

    def __init__(self, measure: Measure, max_drop: float) -> None:
        self.measure, self.max_drop = measure, max_drop
        self.trials: List[Trial] = []
        self.float_score: Optional[float] = None

    def trial(self, algo: str, keep: Tuple[str, ...]) -> Trial:
        """Measure one candidate and record it."""
        start = time.perf_counter()
        self.float_score, score = self.measure(algo, keep)
        found = Trial(algo, keep, score, round((self.float_score - score) * 100, 9), round(time.perf_counter() - start, 1))
        self.trials.append(found)
        print(f"  {algo} calibration, {len(keep):3d} kept in float: {100 * score:.2f} % (drop {found.drop_points:.2f} points, "
              f"limit {self.max_drop:g})", flush=True)
        return found

    def met(self, trial: Trial) -> bool:
        """Whether `trial` loses at most the allowed points."""
        return trial.drop_points <= self.max_drop

    def calibration(self, algos: Sequence[str]) -> Trial:
        """The first of `algos` whose drop is within the limit, else the best-scoring one (the earlier on a tie)."""
        tried: List[Trial] = []
        for algo in algos:
            tried.append(self.trial(algo, ()))
            if self.met(tried[-1]):
                return tried[-1]
        return max(tried, key=lambda t: t.score)

    def keep_float(self, start: Trial, ranked: Sequence[str]) -> Trial:
        """The smallest top-k of `ranked` kept in float, on `start`'s calibration, whose drop is within the limit."""
        if self.met(start):
            return start
        best: Optional[Trial] = None
        last, top, missed, k, idle = start, start, 0, 0, 0
        while best is None:
            if idle == PATIENCE:
                raise DropNotMet(f"int8 loses {top.drop_points:.2f} points at best ({start.algo} calibration, "
                                 f"{len(top.keep_float)} kept in float; limit {self.max_drop:g}): keeping up to {k} of the "
                                 f"ranked layers in float stopped helping ({PATIENCE} doublings scored no better)",
                                 "allow a larger --max-drop, validate on more images (on a small set a few characters or "
                                 "images move the score by more than the limit), or calibrate on more or better images")
            if k >= len(ranked):
                raise DropNotMet(f"int8 loses {last.drop_points:.2f} points with {start.algo} calibration and all "
                                 f"{len(ranked)} ranked layers in float (limit {self.max_drop:g})",
                                 "allow a larger --max-drop, or calibrate on more or better images")
            k = min(max(1, 2 * k), len(ranked))
            last = self.trial(start.algo, tuple(ranked[:k]))
            if self.met(last):
                best = last
            else:
                missed, idle = k, 0 if last.score > top.score else idle + 1
                top = last if last.score > top.score else top
        low, high = missed, len(best.keep_float)
        while high - low > 1:
            middle = (low + high) // 2
            t = self.trial(start.algo, tuple(ranked[:middle]))
            if self.met(t):
                best, high = t, middle
            else:
                low = middle
        return best
