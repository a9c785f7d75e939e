"""Scores of model outputs against labels, numpy only, so a board can score itself."""
from __future__ import annotations

from typing import Dict

import numpy as np


def top1(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose argmax is the label."""
    return float((logits.argmax(axis=1) == labels.reshape(-1)).mean())


def score(outputs: np.ndarray, labels: np.ndarray, task: str) -> Dict[str, float]:
    """{"top1"} for classification, {"mse"} for regression."""
    if task == "classification":
        return {"top1": top1(outputs, labels)}
    return {"mse": float(np.mean((outputs.reshape(-1) - labels.reshape(-1).astype(np.float32)) ** 2))}


def format_scores(scores: Dict[str, float]) -> str:
    """Scores as people read them, in the order given: fractions (top-1, character accuracy, box F1 ...) as percentages
    ("top-1 99.34 %"), an MSE as a number, a validation score (`val_` prefix) labelled so, anything else (the chosen
    `epoch`, counts) as is."""
    parts = []
    for key, value in scores.items():
        base = key[4:] if key.startswith("val_") else key
        label = ("validation " if base != key else "") + LABELS.get(base, base)
        parts.append(f"{label} {value * 100:.2f} %" if base in FRACTIONS else f"{label} {value:.4g}")
    return ", ".join(parts)


LABELS = {"top1": "top-1", "mse": "MSE", "char_acc": "character accuracy", "line_acc": "exact lines", "f1": "box F1",
          "precision": "box precision", "recall": "box recall", "norm_edit_dis": "PaddleOCR norm_edit_dis"}
FRACTIONS = ("top1", "char_acc", "line_acc", "f1", "precision", "recall", "norm_edit_dis")  # shown as percentages
# Points of each task metric an int8 model may lose against float: parity and board parity gate them, and the runtime
# opens no int8 model by default that its bundle's own scores show losing more.
INT8_DROP_LIMITS = {"top1": 0.5, "char_acc": 1.0, "f1": 1.0}
INT8_MSE_RATIO_LIMIT = 1.1  # a regression model's: int8's MSE against the labels over float's


def drops(scores: Dict[str, float], float_scores: Dict[str, float]) -> Dict[str, float]:
    """The accuracy lost against float: points of top-1, character accuracy or box F1; or the ratio of MSEs."""
    # rounded to 1e-9 points: one image of 200 is 0.5 points, not the 0.5000000000000004 that 0.975 - 0.97 gives in binary
    found = {f"{m}_drop_points": round((float_scores[m] - scores[m]) * 100, 9) for m in INT8_DROP_LIMITS if m in scores and m in float_scores}
    if "mse" in scores and "mse" in float_scores:
        found["mse_ratio"] = scores["mse"] / max(float_scores["mse"], 1e-12)
    return found
