"""Scores of OCR outputs against labels, numpy only, so a board can score its own text recognition and detection."""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from .errors import InputError


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest single-character insertions, deletions and substitutions turning a into b.
    One row of the dynamic programme per character of the shorter string, each row vectorised over the longer one
    (insertions by a running minimum)."""
    if len(a) > len(b):
        a, b = b, a
    if not a:
        return len(b)
    codes = np.array([ord(char) for char in b], dtype=np.int64)
    offsets = np.arange(len(b) + 1)
    row = offsets.copy()
    for i, char in enumerate(a, start=1):
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, row[:-1] + (codes != ord(char)))
        row = np.minimum.accumulate(best - offsets) + offsets
    return int(row[-1])


def recognition_scores(predicted: Sequence[str], truth: Sequence[str]) -> Dict[str, float]:
    """{"char_acc", "line_acc", "norm_edit_dis"} of predicted text lines against the true ones, line by line.

    char_acc is 1 - (sum of edit distances) / (sum of true lengths), floored at 0: the character accuracy over the
    whole set, so long lines weigh more. PaddleOCR's RecMetric reports norm_edit_dis instead: 1 - the mean over lines
    of edit distance / max(predicted length, true length), each line weighing the same; it is given too, to compare
    with PaddleOCR's published numbers (RecMetric also removes spaces first by default; this does not). line_acc is
    the fraction of lines predicted exactly (RecMetric's acc)."""
    if len(predicted) != len(truth):
        raise InputError(f"got {len(predicted)} predicted lines for {len(truth)} true lines",
                         "pass one prediction per labelled line, in the labels' order")
    if not truth:
        raise InputError("no text lines to score", "pass at least one labelled line")
    distances = [edit_distance(p, t) for p, t in zip(predicted, truth)]
    true_chars = sum(len(t) for t in truth)
    char_acc = max(0.0, 1.0 - sum(distances) / true_chars) if true_chars else float(sum(distances) == 0)
    normalised = [d / max(len(p), len(t)) if d else 0.0 for d, p, t in zip(distances, predicted, truth)]
    return {"char_acc": char_acc,
            "line_acc": sum(p == t for p, t in zip(predicted, truth)) / len(truth),
            "norm_edit_dis": 1.0 - sum(normalised) / len(truth)}


def polygon_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex polygons given as K x 2 (x, y) corners in order (either direction):
    a clipped by each edge of b (Sutherland-Hodgman), areas by the shoelace formula. 0.0 when the union is empty."""
    a, b = _polygon(a, "a"), _polygon(b, "b")
    area_a, area_b = abs(_signed_area(a)), abs(_signed_area(b))
    if _signed_area(b) < 0:
        b = b[::-1]
    clipped = a
    for start, end in zip(b, np.roll(b, -1, axis=0)):
        if len(clipped) == 0:
            break
        clipped = _clip_by_edge(clipped, start, end)
    inter = abs(_signed_area(clipped)) if len(clipped) >= 3 else 0.0
    union = area_a + area_b - inter
    return float(min(1.0, max(0.0, inter / union))) if union > 0 else 0.0


def detection_scores(predicted: Sequence[Sequence[np.ndarray]], truth: Sequence[Sequence[np.ndarray]],
                     iou: float = 0.5) -> Dict[str, float]:
    """{"precision", "recall", "f1", "tp", "predicted", "truth"} of predicted text boxes against the true ones,
    over a set of images: `predicted[i]` and `truth[i]` are image i's polygons (K x 2 corners each); for one image
    pass `[boxes]`. As PaddleOCR's DetectionIoUEvaluator: within an image, each true box in order takes the first
    unmatched prediction whose IoU with it is above `iou`, so a prediction matches at most one true box; the counts
    add up over images and the ratios are taken on the sums (0.0 when a denominator is 0); f1 is PaddleOCR's hmean.
    Unlike PaddleOCR, no true box is "don't care": drop those from `truth` and their predictions from `predicted`."""
    if len(predicted) != len(truth):
        raise InputError(f"got predicted boxes for {len(predicted)} images but true boxes for {len(truth)}",
                         "pass one list of boxes per image to both, in the same image order")
    tp = n_pred = n_true = 0
    for image, (pred_boxes, true_boxes) in enumerate(zip(predicted, truth)):
        preds = [_polygon(p, f"predicted[{image}][{k}]") for k, p in enumerate(pred_boxes)]
        trues = [_polygon(t, f"truth[{image}][{k}]") for k, t in enumerate(true_boxes)]
        tp += _matches(preds, trues, iou)
        n_pred, n_true = n_pred + len(preds), n_true + len(trues)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "predicted": n_pred, "truth": n_true}


def _matches(preds: List[np.ndarray], trues: List[np.ndarray], iou: float) -> int:
    """How many true boxes get a prediction, each true box in order taking the first free one with IoU above `iou`."""
    free = [True] * len(preds)
    matched = 0
    for true_box in trues:
        for k, pred_box in enumerate(preds):
            if free[k] and polygon_iou(pred_box, true_box) > iou:
                free[k] = False
                matched += 1
                break
    return matched


def _polygon(points: np.ndarray, name: str) -> np.ndarray:
    """`points` as a float K x 2 array with K >= 3, or an InputError naming it."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 3 or array.shape[1] != 2 or not np.isfinite(array).all():
        raise InputError(f"polygon {name} must be K x 2 finite (x, y) corners with K >= 3; got shape {array.shape}",
                         "pass each box as its corners, e.g. TextBox.points; for one image's boxes pass [boxes]")
    return array


def _signed_area(poly: np.ndarray) -> float:
    """Shoelace area, positive when the corners turn counter-clockwise in (x, y) axes."""
    x, y = poly[:, 0], poly[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2


def _clip_by_edge(poly: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The part of `poly` on the left of the directed line start -> end (one Sutherland-Hodgman step)."""
    edge = end - start
    side = edge[0] * (poly[:, 1] - start[1]) - edge[1] * (poly[:, 0] - start[0])
    kept = []
    for k in range(len(poly)):
        j = k - 1
        if side[k] >= 0:
            if side[j] < 0:
                kept.append(poly[j] + (poly[k] - poly[j]) * (side[j] / (side[j] - side[k])))
            kept.append(poly[k])
        elif side[j] >= 0:
            kept.append(poly[j] + (poly[k] - poly[j]) * (side[j] / (side[j] - side[k])))
    return np.array(kept).reshape(-1, 2)
