"""The debugger's running statistics sum in float32 chunks for speed: held here to float64 arithmetic on whole arrays."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from paddle_edge.boards.quant_debug.tensor_stats import CHUNK, Agreement, CodeAgreement, Histogram


def _pairs(seed: int, size: int, noise: float, scale: float):
    rng = np.random.default_rng(seed)
    reference = (rng.standard_normal(size) * scale).astype(np.float32)
    return reference, (reference + rng.standard_normal(size) * noise * scale).astype(np.float32)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 31), size=st.integers(1, 3 * CHUNK + 7), noise=st.sampled_from([1e-4, 1e-2, 1.0]),
       scale=st.sampled_from([1e-3, 1.0, 1e4]), groups=st.integers(1, 3))
def test_agreement_matches_float64_on_whole_arrays(seed: int, size: int, noise: float, scale: float, groups: int) -> None:
    pairs = [_pairs(seed + g, size, noise, scale) for g in range(groups)]
    agreement = Agreement()
    for reference, value in pairs:
        agreement.add(reference, value)
    r = np.concatenate([p[0] for p in pairs]).astype(np.float64)
    v = np.concatenate([p[1] for p in pairs]).astype(np.float64)
    assert abs(agreement.sqnr_db - 10 * math.log10((r @ r) / ((v - r) @ (v - r)))) < 1e-3
    assert abs(agreement.cosine - (r @ v) / math.sqrt((r @ r) * (v @ v))) < 1e-6
    assert abs(agreement.max_abs_diff - np.abs(v - r).max()) <= 1e-6 * np.abs(v - r).max()  # float32's difference


def test_agreement_sums_values_float32_squares_overflow_in_float64() -> None:
    reference = np.full(10, 1e30, np.float32)
    agreement = Agreement()
    agreement.add(reference, reference * np.float32(1.001))
    assert abs(agreement.sqnr_db - 60.0) < 0.01 and abs(agreement.cosine - 1.0) < 1e-9


def _numpy_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram's counts, with what lies beyond the edges counted in the edge bins (as the debugger's are)."""
    values = values[~np.isnan(values)].astype(np.float64)
    return np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)[0]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 31), size=st.integers(1, 2 * CHUNK + 3), nans=st.integers(0, 5),
       offset=st.sampled_from([0.0, 1e2, 1e4, 1e6, -1e5]), spread=st.sampled_from([0.0, 1e-3, 1.0]),
       on_edges=st.booleans())
def test_histogram_counts_as_numpy_does(seed: int, size: int, nans: int, offset: float, spread: float, on_edges: bool) -> None:
    """Values near zero or far from it against their spread, a constant tensor, NaN and infinities."""
    rng = np.random.default_rng(seed)
    reference = (offset + spread * rng.standard_normal(size)).astype(np.float32)
    histogram = Histogram()
    histogram.add(reference, reference)
    assert (np.diff(histogram.edges) > 0).all()
    value = (offset + spread * 1.5 * rng.standard_normal(size)).astype(np.float32)
    if on_edges:  # values exactly on the edges, which arithmetic alone can put a bin off
        value = histogram.edges[np.arange(size) % len(histogram.edges)].astype(np.float32)
    value[:nans] = np.nan
    value[nans:2 * nans] = np.inf
    value[2 * nans:3 * nans] = -np.inf
    histogram.add(reference, value)
    assert histogram.float_counts.tolist() == (2 * _numpy_counts(reference, histogram.edges)).tolist()
    assert histogram.int8_counts.tolist() == (_numpy_counts(reference, histogram.edges)
                                              + _numpy_counts(value, histogram.edges)).tolist()
    assert histogram.int8_counts.sum() == 2 * size - min(nans, size)


def test_code_agreement_counts_steps_of_codes_and_of_per_channel_float_units() -> None:
    codes = CodeAgreement()
    codes.add(np.array([0, 5, 255], np.uint8), np.array([1, 5, 250], np.uint8))
    assert (codes.max_steps, codes.differing, codes.count) == (5, 2, 3)
    units = CodeAgreement()
    step = np.array([[0.5], [2.0]])
    units.add(np.zeros((2, 3), np.float32), np.array([[0.2, 0.3, 1.0], [2.9, 0.0, 6.0]], np.float32), step)
    assert (units.max_steps, units.differing) == (3, 4)
    wide = CodeAgreement()
    wide.add(np.array([0, 250], np.uint8), np.array([10, 0], np.uint8), 5.0)  # codes in 5-code steps: no wrap-around
    assert (wide.max_steps, wide.differing) == (50, 2)
