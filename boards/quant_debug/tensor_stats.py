"""Running statistics of one tensor against its float reference, added group by group so no run holds every sample."""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Optional, Tuple, Union
import numpy as np

from ...export.evaluation import IDENTICAL_SQNR_DB


ROW = 64  # values per float32 dot product; their sum is taken in float64 (within ~1e-8 of float64 throughout)
CHUNK = 1 << 16  # values binned at a time, in cache


def _flat(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float32).ravel()


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """a.b of two flat arrays: float32 dot products of ROW values each, summed in float64. A float32 sum over thousands of
    values drifts by ~1e-5 (enough to show in a cosine's fifth decimal); whole float64 is 5x slower."""
    n = a.size - a.size % ROW
    rows = np.einsum("ij,ij->i", a[:n].reshape(-1, ROW), b[:n].reshape(-1, ROW))
    return float(rows.sum(dtype=np.float64) + a[n:].astype(np.float64) @ b[n:].astype(np.float64))


def _sums(r: np.ndarray, v: np.ndarray) -> Tuple[float, float, float, float, float]:
    """r.r, d.d, v.v, r.v and max |d| of two flat arrays (d = v - r); in float64 where float32 overflowed (values beyond
    ~1e18)."""
    with np.errstate(over="ignore", invalid="ignore"):
        d = v - r
        sums = _dot(r, r), _dot(d, d), _dot(v, v), _dot(r, v)
    if not all(map(math.isfinite, sums)) and r.dtype == np.float32 and np.isfinite(r).all() and np.isfinite(v).all():
        return _sums(r.astype(np.float64), v.astype(np.float64))
    return (*sums, float(max(d.max(), -d.min())) if d.size else 0.0)


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
        signal, noise, power, dot, max_abs_diff = _sums(_flat(reference), _flat(value))
        self.signal += signal
        self.noise += noise
        self.power += power
        self.dot += dot
        self.max_abs_diff = max(self.max_abs_diff, max_abs_diff)

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
        if exact.dtype.kind in "iu" and np.isscalar(step) and step == 1:  # codes: their difference is the steps
            steps = np.abs(exact.astype(np.int16) - engine.astype(np.int16))
        elif exact.dtype.kind in "iu":
            steps = np.rint(np.abs(exact.astype(np.float64) - engine.astype(np.float64)) / step)
        else:
            steps = np.rint(np.abs(exact - engine) / np.asarray(step, exact.dtype))
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
            self._start(_flat(reference))
        edges = self.edges.astype(np.float32)
        low, per_bin = edges[0], np.float32(self.bins / (self.edges[-1] - self.edges[0]))
        # how far (in bins) float32 arithmetic, and the edges' float32 rounding, can put a value from its bin
        slack = 1e-3 + 4 * float(np.spacing(np.abs(edges).max())) * float(per_bin)
        for counts, x in ((self.float_counts, _flat(reference)), (self.int8_counts, _flat(value))):
            for start in range(0, x.size, CHUNK):
                chunk = x[start:start + CHUNK]
                with np.errstate(invalid="ignore"):  # a sum of both infinities is NaN too: then the filter finds none
                    chunk = chunk[~np.isnan(chunk)] if np.isnan(chunk.sum()) else chunk  # as np.histogram, a NaN counts nowhere
                position = (chunk - low) * per_bin  # equal bins: each value's bin by arithmetic,
                np.clip(position, 0, self.bins - 1, out=position)
                index = position.astype(np.intp)
                near = np.flatnonzero(np.abs(position - np.rint(position)) < slack)  # then by comparison near an edge
                if near.size:
                    values, i = chunk[near], index[near]
                    i -= (values < edges[i]) & (i > 0)
                    i += (values >= edges[i + 1]) & (i < self.bins - 1)
                    index[near] = i
                counts += np.bincount(index, minlength=self.bins)

    def _start(self, reference: np.ndarray) -> None:
        """Edges from the first float values: their finite range, widened by a tenth each way, and at least to bins 32
        float32 steps wide (so a near-constant tensor still has distinct edges and the bins stay within ~0.1 of even);
        float32 values, which float32 data compares with exactly."""
        finite = reference[np.isfinite(reference)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        pad = max((high - low) / 10, self.bins * 16 * float(np.spacing(np.float32(max(abs(low), abs(high))))))
        pad = pad if pad > 1e-30 else 1.0  # all zeros (or float32's subnormals): bins around them of a unit
        self.edges = np.linspace(low - pad, high + pad, self.bins + 1).astype(np.float32).astype(np.float64)
        self.float_counts = np.zeros(self.bins, np.int64)
        self.int8_counts = np.zeros(self.bins, np.int64)

    def to_json(self) -> Optional[Dict[str, List[float]]]:
        if self.edges is None:
            return None
        return {"edges": [float(e) for e in self.edges], "float": [int(c) for c in self.float_counts],
                "int8": [int(c) for c in self.int8_counts]}
