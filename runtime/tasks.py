"""A model's outputs as the answers of its task (the manifest's `task` and `postprocess`): the one place the runtime,
parity and the boards turn raw outputs into labels, texts or text boxes."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from .ctc import decode_ctc
from .db_boxes import DbParams, TextBox, boxes_from_probability_map
from .manifest import Manifest


def probabilities(outputs: Sequence[np.ndarray], manifest: Manifest) -> np.ndarray:
    """Class probabilities per row: the first output as it is where the model ends in a softmax, else its softmax."""
    scores = np.asarray(outputs[0], dtype=np.float64)
    if manifest.postprocess.get("probabilities", False):
        return scores
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def labels_of(outputs: Sequence[np.ndarray], manifest: Manifest) -> List[Tuple[str, float]]:
    """(label, probability) of the best class of each row."""
    probs = probabilities(outputs, manifest)
    names = manifest.labels or tuple(str(i) for i in range(probs.shape[1]))
    return [(names[i], float(p[i])) for i, p in zip(probs.argmax(axis=1), probs)]


def texts_of(outputs: Sequence[np.ndarray], manifest: Manifest) -> List[Tuple[str, float]]:
    """(text, confidence) of each text line, greedy CTC with the bundle's dictionary."""
    return decode_ctc(outputs[0], manifest.labels or ())


def boxes_of(outputs: Sequence[np.ndarray], manifest: Manifest, source_size: Tuple[int, int]) -> List[TextBox]:
    """Text boxes of one image (batch of one) in the pixels of the image it came from, (height, width) `source_size`."""
    prob = np.asarray(outputs[0])
    return boxes_from_probability_map(prob.reshape(prob.shape[-2:]), source_size, DbParams(**manifest.postprocess.get("db", {})))
