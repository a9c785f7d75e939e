"""How sure a measured int8 drop is: a paired bootstrap over the validation samples.

A task metric on a few dozen images or lines moves by whole samples: on the tour's 64 validation lines (890 characters)
one character is 0.11 points of character accuracy, and which lines a calibration happens to misread moves the drop by
more than that. Float and int8 are scored on the same samples, so the drop's uncertainty is that of a paired
difference: resample the samples (the same ones for both), score both on each resample, and take the spread of the
difference (scipy.stats.bootstrap, percentile interval). Each metric is a ratio of per-sample counts summed over the
set, so a resample is scored exactly as the whole set is:

- top1: (correct,) over samples;
- char_acc: 1 - sum(edit distance) / sum(true length), floored at 0 (runtime/ocr_metrics.recognition_scores);
- f1: 2 tp / (predicted + true boxes), the harmonic mean of precision and recall on the summed counts;
- cosine: sum(a . b) / sqrt(sum |a|^2 sum |b|^2) of int8's outputs a against fp32's b (fp32 against itself: 1).
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from ..runtime import ocr_metrics
from ..runtime.manifest import Manifest
from ..runtime.tasks import texts_of
from .evaluation import COSINE, EvaluationSet, Outputs, boxes, cared_boxes

RESAMPLES = 2000
BATCH = 200  # resamples drawn at once: a 10,000-image test set then holds 2 million indices, not 20
CONFIDENCE = 0.95


def _one_per_label(answers: list, evaluation: EvaluationSet) -> list:
    """`answers` (a text per line, the boxes of a page), checked to be one per labelled sample."""
    if len(answers) != len(evaluation.truth):
        raise ValueError(f"{len(answers)} answers for {len(evaluation.truth)} labelled samples: the outputs are not of this set")
    return answers


def sample_counts(outputs: Outputs, manifest: Manifest, evaluation: EvaluationSet, metric: str) -> np.ndarray:
    """Each sample's counts for `metric` (not cosine, which is paired by nature: see cosine_counts), one row per
    sample in the evaluation set's order."""
    if metric == "top1":
        logits = np.concatenate([group[0] for group in outputs])
        return (logits.argmax(axis=1) == np.asarray(evaluation.truth).reshape(-1)).astype(np.float64)[:, None]
    if metric == "char_acc":
        texts = _one_per_label([text for group in outputs for text, _ in texts_of(group, manifest)], evaluation)
        return np.array([(ocr_metrics.edit_distance(p, t), len(t)) for p, t in zip(texts, evaluation.truth)], dtype=np.float64)
    if metric == "f1":
        truth = [[r.points for r in regions if not r.ignore] for regions in evaluation.truth]
        found = cared_boxes(_one_per_label(boxes(outputs, manifest, evaluation), evaluation), evaluation)
        per_image = [ocr_metrics.detection_scores([f], [t]) for f, t in zip(found, truth)]
        return np.array([(s["tp"], s["predicted"], s["truth"]) for s in per_image], dtype=np.float64)
    raise ValueError(f"no per-sample counts for metric {metric!r}")


def cosine_counts(int8: Outputs, fp32: Outputs) -> Tuple[np.ndarray, np.ndarray]:
    """(fp32's, int8's) per-sample counts for cosine against fp32, row i of both from sample i (a group whose outputs
    do not all have a row per input is one sample): a.b, |a|^2, |b|^2 of int8's values a and fp32's b, and fp32's own."""
    if len(int8) != len(fp32):
        raise ValueError(f"{len(int8)} groups of int8 outputs against {len(fp32)} of fp32: not the same samples")
    rows: List[Tuple[float, float, float]] = []
    for group_a, group_b in zip(int8, fp32):
        batch = len(group_b[0])
        split = all(len(x) == batch for x in (*group_a, *group_b))  # else the group is one sample: outputs not per row
        for part in (range(batch) if split else (slice(None),)):
            a, b = (np.concatenate([np.asarray(x[part], dtype=np.float64).ravel() for x in group]) for group in (group_a, group_b))
            rows.append((float(a @ b), float(a @ a), float(b @ b)))
    int8_counts = np.array(rows)
    return int8_counts[:, [2, 2, 2]], int8_counts


def metric_of(counts: np.ndarray, metric: str) -> np.ndarray:
    """`metric` of counts summed over the second-to-last axis (samples): a value per leading index."""
    total = counts.sum(axis=-2)
    if metric == "top1":
        return total[..., 0] / counts.shape[-2]
    if metric == "char_acc":
        return np.maximum(0.0, 1.0 - total[..., 0] / np.maximum(total[..., 1], 1))
    if metric == "f1":
        denominator = total[..., 1] + total[..., 2]
        return np.divide(2 * total[..., 0], denominator, out=np.zeros_like(denominator), where=denominator > 0)
    if metric == COSINE:
        norms = np.sqrt(total[..., 1] * total[..., 2])
        return np.divide(total[..., 0], norms, out=np.ones_like(norms), where=norms > 0)
    raise ValueError(f"no per-sample counts for metric {metric!r}")


def drop_interval(fp32: np.ndarray, int8: np.ndarray, metric: str, confidence: float = CONFIDENCE,
                  seed: int = 0) -> Tuple[float, float]:
    """The `confidence` interval of int8's drop in points (100 x (fp32's metric - int8's)) over resamples of the
    samples, the same ones for both models; (d, d) where every resample gives the same drop d."""
    def drop(index: np.ndarray, axis: int = -1) -> np.ndarray:
        chosen = np.asarray(index, dtype=np.int64)
        return 100 * (metric_of(fp32[chosen], metric) - metric_of(int8[chosen], metric))

    samples = np.arange(len(fp32))
    if len(samples) < 2:
        whole = float(drop(samples[None, :])[0])
        return whole, whole
    from scipy import stats  # the build side's (train extra); nothing a board runs imports this module

    found = stats.bootstrap((samples,), drop, n_resamples=RESAMPLES, confidence_level=confidence, method="percentile",
                            vectorized=True, batch=BATCH, rng=np.random.default_rng(seed))
    low, high = found.confidence_interval
    return round(float(low), 9), round(float(high), 9)


def resolution_text(interval: Sequence[float], samples: int) -> str:
    """The interval as reports print it: "[0.41, 1.42] (95 % paired bootstrap over 64 samples)"."""
    return f"[{interval[0]:.2f}, {interval[1]:.2f}] ({round(100 * CONFIDENCE)} % paired bootstrap over {samples} samples)"
