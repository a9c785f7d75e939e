"""How parity compares an engine's outputs with the reference's, and what it calls a loss."""
from __future__ import annotations

import math

import numpy as np

from paddle_edge.export.evaluation import EvaluationSet, compare
from paddle_edge.runtime.manifest import Manifest, Preprocess, TensorSpec
from paddle_edge.runtime.metrics import drops


def _manifest(task: str) -> Manifest:
    return Manifest(model="m", task=task, inputs=(), outputs=(), preprocess=Preprocess(), artifacts={}, labels=("a", "b"))


def test_one_sample_in_two_hundred_is_half_a_point_exactly():
    assert drops({"top1": 0.97}, {"top1": 0.975}) == {"top1_drop_points": 0.5}  # 0.975 - 0.97 is 0.5000000000000004 in binary
    assert drops({"char_acc": 0.99, "f1": 1.0}, {"char_acc": 1.0, "f1": 1.0}) == {"char_acc_drop_points": 1.0, "f1_drop_points": 0.0}
    assert drops({"mse": 2.0}, {"mse": 1.0}) == {"mse_ratio": 2.0}


def test_compare_measures_noise_against_the_reference_over_every_group():
    rng = np.random.default_rng(0)
    reference = [[rng.standard_normal((4, 2))], [rng.standard_normal((3, 2))]]  # two groups of different sizes
    noise = [[x + 1e-3 * rng.standard_normal(x.shape) for x in group] for group in reference]
    evaluation = EvaluationSet(groups=({}, {}), truth=None, sizes=(), samples=7, description="")
    same = compare(reference, reference, _manifest("classification"), evaluation)
    assert same["sqnr_db"] is None and same["max_abs_diff"] == 0.0 and same["argmax_agreement"] == 1.0
    found = compare(noise, reference, _manifest("classification"), evaluation)
    signal = sum(float(np.sum(x ** 2)) for g in reference for x in g)
    error = sum(float(np.sum((a - b) ** 2)) for ga, gb in zip(noise, reference) for a, b in zip(ga, gb))
    assert math.isclose(found["sqnr_db"], 10 * math.log10(signal / error)) and 0.999 < found["cosine"] < 1.0


def test_a_model_with_several_outputs_is_compared_output_by_output_too():
    """Issue 10: per-output figures. A loss in one output is named with it; the others stay exact (one of them empty for
    every image, as a detector's kept boxes can be)."""
    rng = np.random.default_rng(1)
    reference = [[rng.standard_normal((4, 2)), rng.standard_normal((4, 8)), np.zeros((0, 4))] for _ in range(2)]
    noisy = [[logits, boxes + 0.01 * rng.standard_normal(boxes.shape), none] for logits, boxes, none in reference]
    manifest = Manifest(model="m", task="generic", inputs=(), outputs=(TensorSpec("logits", (-1, 2)), TensorSpec("boxes", (-1, 8)),
                                                                        TensorSpec("kept", (-1, 4))), preprocess=Preprocess(), artifacts={})
    found = compare(noisy, reference, manifest, EvaluationSet(groups=({}, {}), truth=None, sizes=(), samples=8, description=""))
    assert set(found["per_output"]) == {"logits", "boxes", "kept"}
    assert found["per_output"]["kept"]["sqnr_db"] is None  # no image gave a value in it: nothing differs
    assert found["per_output"]["logits"] == {"max_abs_diff": 0.0, "cosine": 1.0, "sqnr_db": None}
    boxes = found["per_output"]["boxes"]
    assert boxes["max_abs_diff"] == found["max_abs_diff"] > 0 and boxes["sqnr_db"] < found["sqnr_db"]  # pooled, the exact output dilutes it
    single = compare(reference, reference, _manifest("classification"), EvaluationSet(groups=({}, {}), truth=None, sizes=(), samples=8,
                                                                                      description=""))
    assert "per_output" not in single
