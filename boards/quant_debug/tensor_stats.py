"""Running statistics of one tensor against its float reference, added group by group so no run holds every sample."""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, Iterator, List, Optional, Tuple, Union
import numpy as np

from ...export.evaluation import IDENTICAL_SQNR_DB


CHUNK = 1 << 14  # values converted to float64 at a time: small enough to stay in cache, which makes it ~3x faster


def _chunks(*arrays: np.ndarray) -> Iterator[Tuple[np.ndarray, ...]]:
    """The arrays' values, flattened, as float64, in aligned chunks of CHUNK."""
    flat = [a.ravel() for a in arrays]
    for start in range(0, flat[0].size, CHUNK):
        yield tuple(a[start:start + CHUNK].astype(np.float64) for a in flat)


@dataclasses.dataclass
class Agreement:
    """Signal and noise power, cosine and largest difference of a tensor against the float model's same tensor."""

    signal: float = 0.0
    noise: float = 0.0
    dot: float = 0.0
    power: float = 0.0
    max_abs_diff: float = 0.0

    def add(self, reference: np.ndarray, value: np.ndarray) -> None:
        if reference.size != value.size:
            raise ValueError(f"tensor shapes differ: {reference.shape} vs {value.shape}")
        for r, v in _chunks(reference, value):
            d = v - r
            signal, noise, power = float(r @ r), float(d @ d), float(v @ v)
            self.signal += signal
            self.noise += noise
            self.power += power
            self.dot += (signal + power - noise) / 2  # r.v, from the three sums already taken
            self.max_abs_diff = max(self.max_abs_diff, float(max(d.max(), -d.min())))

    @property
    def sqnr_db(self) -> float:
        """10 log10(signal / noise); IDENTICAL_SQNR_DB where the two are identical (no noise: infinite), as parity says."""
        if self.noise == 0:
            return IDENTICAL_SQNR_DB
        return 10 * math.log10(self.signal / self.noise) if self.signal > 0 else -IDENTICAL_SQNR_DB

    @property
    def cosine(self) -> float:
        norm = math.sqrt(self.signal * self.power)
        return self.dot / norm if norm else (1.0 if self.signal == self.power else 0.0)


@dataclasses.dataclass
class Coverage:
    """Observed range of a float tensor and how much of it falls outside what its quantizer can represent."""

    low: float
    high: float
    seen_min: float = math.inf
    seen_max: float = -math.inf
    clipped: int = 0
    count: int = 0

    def add(self, value: np.ndarray) -> None:
        self.seen_min = min(self.seen_min, float(value.min()))
        self.seen_max = max(self.seen_max, float(value.max()))
        self.clipped += int(np.count_nonzero((value < self.low) | (value > self.high)))
        self.count += value.size

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.count if self.count else 0.0


@dataclasses.dataclass
class CodeAgreement:
    """How an engine's int8 result differs from the exact QDQ run's, in quantization steps (output codes, or `step`-sized
    units of a float output): the share of values half a step or more away, the largest distance, rounded to steps."""

    differing: int = 0
    count: int = 0
    max_steps: int = 0

    def add(self, exact: np.ndarray, engine: np.ndarray, step: Union[float, np.ndarray] = 1.0) -> None:
        steps = np.rint(np.abs(exact.astype(np.float64) - engine.astype(np.float64)) / step).astype(np.int64)
        self.differing += int(np.count_nonzero(steps))
        self.count += steps.size
        self.max_steps = max(self.max_steps, int(steps.max()) if steps.size else 0)

    @property
    def differing_fraction(self) -> float:
        return self.differing / self.count if self.count else 0.0


@dataclasses.dataclass
class Histogram:
    """Float and int8 values of one tensor counted on shared bins: the range of the first float values seen, widened by a
    tenth each way; values beyond it count in the edge bins."""

    bins: int = 48
    edges: Optional[np.ndarray] = None
    float_counts: Optional[np.ndarray] = None
    int8_counts: Optional[np.ndarray] = None

    def add(self, reference: np.ndarray, value: np.ndarray) -> None:
        if self.edges is None:
            low, high = float(reference.min()), float(reference.max())
            pad = (high - low) / 10 or 1.0
            self.edges = np.linspace(low - pad, high + pad, self.bins + 1)
            self.float_counts = np.zeros(self.bins, np.int64)
            self.int8_counts = np.zeros(self.bins, np.int64)
        low, width = float(self.edges[0]), float(self.edges[-1] - self.edges[0]) / self.bins
        for counts, x in ((self.float_counts, reference), (self.int8_counts, value)):
            for (chunk,) in _chunks(x):
                chunk = chunk[~np.isnan(chunk)]  # as np.histogram, a NaN counts nowhere (an infinity: in an edge bin)
                index = np.floor((chunk - low) / width)  # equal bins: each value's bin by arithmetic
                counts += np.bincount(np.clip(index, 0, self.bins - 1).astype(np.intp), minlength=self.bins)

    def to_json(self) -> Optional[Dict[str, List[float]]]:
        if self.edges is None:
            return None
        return {"edges": [float(e) for e in self.edges], "float": [int(c) for c in self.float_counts],
                "int8": [int(c) for c in self.int8_counts]}
