"""Which calibration, and how many of the most harmful layers in float, so that int8 loses at most `max_drop` points:
measured, not assumed. The limit is held to the measured drop, or (`within_interval`) to the upper end of its 95 %
interval over the validation samples: a more cautious rule, since a drop measured on a few dozen samples could be a
point higher on others like them (each trial's interval is taken alone, and the kept one is chosen on the same
samples, so it is no 95 % guarantee). The interval is recorded either way (`sure` says whether a trial is within the
limit across it).

Calibration comes first, since it changes no layer's precision: each candidate algorithm is measured in turn and the
first within the limit wins; if none is, the best-scoring one goes on. Then layers ranked worst first (by the
quantization debugger) are kept in float, the top k for k = 1, 2, 4, ... until the drop is met, then bisecting
between the last k that missed and the first that met it: about 2 log2(k) measurements instead of one per layer. The
bisection assumes keeping more of the ranked layers in float does not lose accuracy; that is not checked (PaddleSlim
calibrates the layers left in int8 again with each choice, and the tour's recogniser scored worse with 2 ops in float
than with 1), so the k it returns met the drop as measured, and is the smallest that does only where the assumption
holds. When two doublings in a row score no better than the best so far, the
ranking is not what limits the score (on a small validation set a few characters or images move it by more than the
limit, and PaddleSlim calibrates the layers left in int8 again with each choice): the next trial keeps every ranked
layer in float at once, and if that meets the drop the search bisects below it, else it says the limit cannot be met.

Float layers cost speed. Where int8 with none in float is surely faster than fp32 on this CPU (its time ratio's 95 %
interval below 1), each float-layer candidate is timed too, and the search ends with an error once a doubling is surely
slower than fp32 (interval above 1): an int8 file slower than the float one is not what int8 is for. While bisecting,
and at the all-layers trial, a surely slower one that meets the drop is no answer: the search looks below it (fewer
layers in float) for one that is not slower, and ends with that error only if none is. Where int8 is not surely faster to
begin with (an AVX2 CPU without int8 dot products, say), the rule cannot apply; the search says so and goes on."""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, List, Optional, Sequence, Tuple

from ..runtime.cpu import cpu_info
from ..runtime.errors import PaddleEdgeError

PATIENCE = 2  # doublings in a row that score no better than the best so far, before every ranked layer goes to float
# (algorithm, kept in float) -> (float score, int8 score, the drop's 95 % interval in points)
Measure = Callable[[str, Tuple[str, ...]], Tuple[float, float, Tuple[float, float]]]
# (algorithm, kept in float) -> the int8 file's time over fp32's on this CPU: (median ratio, 95 % interval low, high)
Speed = Callable[[str, Tuple[str, ...]], Tuple[float, float, float]]


@dataclasses.dataclass(frozen=True)
class Trial:
    """One measured candidate: its calibration algorithm, the layers it kept in float, its score on the validation
    data and its drop in points against the float model's."""

    algo: str
    keep_float: Tuple[str, ...]
    score: float
    drop_points: float
    seconds: float
    drop_interval: Tuple[float, float]  # 95 % paired bootstrap interval of drop_points over the validation samples
    time_vs_fp32: Optional[Tuple[float, float, float]] = None  # (ratio, low, high) where the speed rule timed it


class DropNotMet(PaddleEdgeError):
    """Even with every ranked layer in float the int8 model loses more than allowed."""


class SlowerThanFloat(PaddleEdgeError):
    """Keeping layers in float made the int8 file slower than fp32 on this CPU."""


class AccuracySearch:
    """One search: every candidate measured by `measure` and recorded, in order, in `trials`; with `speed`, float-layer
    candidates are held to being faster than fp32 where int8 is (`speed_rule` says whether it applied and why); with
    `within_interval` the limit holds for the upper end of each drop's 95 % interval."""

    def __init__(self, measure: Measure, max_drop: float, speed: Optional[Speed] = None, within_interval: bool = False) -> None:
        self.measure, self.max_drop, self.speed, self.within_interval = measure, max_drop, speed, within_interval
        self.trials: List[Trial] = []
        self.float_score: Optional[float] = None
        self.speed_rule = "off" if speed is None else "not needed: no layer went to float"

    def trial(self, algo: str, keep: Tuple[str, ...]) -> Trial:
        """Measure one candidate and record it."""
        start = time.perf_counter()
        self.float_score, score, interval = self.measure(algo, keep)
        found = Trial(algo, keep, score, round((self.float_score - score) * 100, 9), round(time.perf_counter() - start, 1),
                      tuple(interval))
        self.trials.append(found)
        print(f"  {algo} calibration, {len(keep):3d} kept in float: {100 * score:.2f} % (drop {found.drop_points:.2f} points, "
              f"95 % interval [{interval[0]:.2f}, {interval[1]:.2f}], limit {self.max_drop:g})", flush=True)
        return found

    def met(self, trial: Trial) -> bool:
        """Whether `trial` loses at most the allowed points: its measured drop, or with `within_interval` the upper end
        of the drop's 95 % interval."""
        return self.sure(trial) if self.within_interval else trial.drop_points <= self.max_drop

    def sure(self, trial: Trial) -> bool:
        """Whether `trial` is within the limit on its drop's whole 95 % interval, not only on the measured drop: where it
        is not, the validation set is too small to tell whether the int8 file keeps to the limit."""
        return trial.drop_interval[1] <= self.max_drop

    def calibration(self, algos: Sequence[str]) -> Trial:
        """The first of `algos` whose drop is within the limit, else the best-scoring one (the earlier on a tie)."""
        tried: List[Trial] = []
        for algo in algos:
            tried.append(self.trial(algo, ()))
            if self.met(tried[-1]):
                return tried[-1]
        return max(tried, key=lambda t: t.score)

    def keep_float(self, start: Trial, ranked: Sequence[str]) -> Trial:
        """A top-k of `ranked` kept in float, on `start`'s calibration, that meets the limit (`met`; the smallest
        such k where keeping more in float never loses accuracy; see the module's docstring)."""
        if self.met(start):
            return start
        timed = self._speed_applies(start)
        best: Optional[Trial] = None
        last, top, missed, k, idle = start, start, 0, 0, 0
        while best is None:
            if k >= len(ranked):
                raise DropNotMet(f"int8 loses {last.drop_points:.2f} points with {start.algo} calibration and all "
                                 f"{len(ranked)} ranked layers in float (limit {self.max_drop:g}"
                                 f"{', held to the upper end of its 95 % interval' if self.within_interval else ''}; at best "
                                 f"{top.drop_points:.2f}"
                                 f"{f', up to {top.drop_interval[1]:.2f} in its interval' if self.within_interval else ''}, "
                                 f"with {len(top.keep_float)} kept in float)",
                                 "allow a larger --max-drop, validate on more images (on a small set a few characters or "
                                 "images move the score by more than the limit), or calibrate on more or better images")
            jump = idle == PATIENCE  # every ranked layer at once: if it meets though slower, a smaller k may be neither
            k = len(ranked) if jump else min(max(1, 2 * k), len(ranked))
            last = self._float_trial(start.algo, tuple(ranked[:k]), timed, stop=not jump)
            if self.met(last):
                best = last
            else:
                missed, idle = k, 0 if last.score > top.score else idle + 1
                top = last if last.score > top.score else top
        low, high = missed, len(best.keep_float)
        while high - low > 1:
            middle = (low + high) // 2
            t = self._float_trial(start.algo, tuple(ranked[:middle]), timed, stop=False)
            if self.met(t):  # met: look below it; it replaces the best only if not surely slower than fp32
                best, high = (best if self._slower(t) else t), middle
            else:
                low = middle
        if self._slower(best):  # only the all-layers trial can be: no smaller k below it met the drop in time
            raise self._slower_error(best)
        return best

    def _timed(self, trial: Trial) -> Tuple[float, float, float]:
        """`trial`'s time over fp32's, recorded with it."""
        assert self.speed is not None
        ratio = self.speed(trial.algo, trial.keep_float)
        at = next(i for i, t in enumerate(self.trials) if t is trial)
        self.trials[at] = dataclasses.replace(trial, time_vs_fp32=tuple(ratio))
        return ratio

    @staticmethod
    def _slower(trial: Trial) -> bool:
        """Whether `trial` was timed and is surely slower than fp32 (its interval above 1)."""
        return trial.time_vs_fp32 is not None and trial.time_vs_fp32[1] > 1

    def _speed_applies(self, start: Trial) -> bool:
        """Whether float-layer candidates are held to being faster than fp32: only where `start` (none in float) is."""
        if self.speed is None:
            return False
        ratio = self._timed(start)
        applies = ratio[2] < 1
        self.speed_rule = (f"applied: with no layer in float int8 takes {ratio_text(ratio)} fp32's time on this CPU" if applies else
                           f"not applied: with no layer in float int8 already takes {ratio_text(ratio)} fp32's time on this "
                           "CPU, not surely faster")
        print(f"  speed rule {self.speed_rule}", flush=True)
        return applies

    def _float_trial(self, algo: str, keep: Tuple[str, ...], timed: bool, stop: bool) -> Trial:
        """Measure a float-layer candidate; where the speed rule applies, time it too, and with `stop` (while doubling)
        end the search if it is surely slower than fp32 (bisecting, or at the all-layers trial, such a candidate that
        meets the drop is no answer, and the search looks below it for one that is not slower)."""
        found = self.trial(algo, keep)
        if not timed:
            return found
        self._timed(found)
        if stop and self._slower(self.trials[-1]):
            raise self._slower_error(self.trials[-1])
        return self.trials[-1]

    def _slower_error(self, trial: Trial) -> SlowerThanFloat:
        assert trial.time_vs_fp32 is not None
        return SlowerThanFloat(f"with {len(trial.keep_float)} layers in float ({trial.algo} calibration) the int8 file takes "
                               f"{ratio_text(trial.time_vs_fp32)} fp32's time on {cpu_info()['label']}, "
                               f"{'though it meets' if self.met(trial) else 'before it meets'} the drop ({trial.drop_points:.2f} "
                               f"points, limit {self.max_drop:g}): float layers would make int8 slower than fp32",
                               "ship fp32 on this CPU, allow a larger --max-drop, or pass --allow-slower to keep layers "
                               "in float even so (int8 then buys size, not speed)")


def ratio_text(ratio: Tuple[float, float, float]) -> str:
    """A time ratio over fp32's with its 95 % interval: "1.19x [0.84, 1.33]"."""
    return "{:.2f}x [{:.2f}, {:.2f}]".format(*ratio)
