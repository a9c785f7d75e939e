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
