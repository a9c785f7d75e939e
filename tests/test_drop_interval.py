"""The drop's interval (export/drop_interval.py): a paired bootstrap over the validation samples that narrows as
they grow, is zero-wide where float and int8 agree on every sample, and scores each resample as the whole set."""
from __future__ import annotations

import numpy as np
import pytest

from paddle_edge.export.drop_interval import cosine_counts, drop_interval, metric_of
from paddle_edge.runtime.ocr_metrics import edit_distance, recognition_scores


def _top1(samples: int, lost: int, gained: int = 0):
    """fp32 right on every sample; int8 wrong on `lost` of them and right on `gained` others fp32 got wrong."""
    fp32 = np.ones((samples, 1))
    int8 = np.ones((samples, 1))
    int8[:lost] = 0
    fp32[lost:lost + gained] = 0
    return fp32, int8


def test_the_interval_holds_the_measured_drop_and_narrows_as_the_samples_grow():
    small, large = (drop_interval(*_top1(n, n // 32), "top1") for n in (64, 1024))  # the same 3.125-point drop
    for low, high in (small, large):
        assert 0 <= low < 3.125 < high
    assert (small[1] - small[0]) / (large[1] - large[0]) == pytest.approx(4, rel=0.35)  # width ~ 1 / sqrt(samples)


def test_the_pairing_is_what_makes_it_narrow():
    """int8 losing 4 samples and winning 4 others has a drop of 0 whose interval spans both ways; losing 8 it is
    above 0 on every resample that holds any of them."""
    low, high = drop_interval(*_top1(64, 4, 4), "top1")
    assert low < 0 < high
    low, high = drop_interval(*_top1(64, 8), "top1")
    assert 0 <= low and high <= 25


def test_models_that_agree_on_every_sample_have_no_spread():
    fp32, _ = _top1(50, 0, 5)
    assert drop_interval(fp32, fp32.copy(), "top1") == (0.0, 0.0)
    assert drop_interval(np.array([[1.0]]), np.array([[0.0]]), "top1") == (100.0, 100.0)  # one sample: no resampling


def test_character_counts_score_as_the_whole_set_does():
    truth = ["paddle edge", "int8", "", "PP-OCRv4 rec"]
    predicted = ["padle edge", "int8", "x", "PP-OCRv4 roc!"]
    counts = np.array([(edit_distance(p, t), len(t)) for p, t in zip(predicted, truth)], dtype=np.float64)
    assert metric_of(counts, "char_acc") == pytest.approx(recognition_scores(predicted, truth)["char_acc"], abs=1e-12)
    assert metric_of(np.array([[30.0, 10.0]]), "char_acc") == 0.0  # floored at 0, as the whole set's score is
    assert metric_of(np.array([[0.0, 0.0, 0.0]]), "f1") == 0.0 and metric_of(np.array([[2.0, 2.0, 4.0]]), "f1") == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="no per-sample counts for metric 'mse'"):
        metric_of(counts, "mse")


def test_cosine_counts_are_per_row_where_every_output_has_a_row_per_input_else_per_group():
    rng = np.random.default_rng(0)
    fp32 = [[rng.normal(size=(2, 3)), rng.normal(size=(2, 5))], [rng.normal(size=(2, 3)), rng.normal(size=(4, 5))]]
    int8 = [[x + rng.normal(scale=0.3, size=x.shape) for x in group] for group in fp32]
    fp32_counts, int8_counts = cosine_counts(int8, fp32)
    assert len(int8_counts) == 3  # the first group's two rows, then the second group whole (its outputs have 2 and 4 rows)
    a, b = (np.concatenate([x.ravel() for group in o for x in group]) for o in (int8, fp32))
    assert metric_of(int8_counts, "cosine") == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b), abs=1e-12)
    assert metric_of(fp32_counts, "cosine") == 1.0
