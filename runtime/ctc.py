"""Greedy CTC decoding of a text recogniser's output, as PaddleOCR's CTCLabelDecode does it, numpy only."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from .errors import InputError


def decode_ctc(probs: np.ndarray, symbols: Sequence[str]) -> List[Tuple[str, float]]:
    """(text, confidence) per row of `probs` [N, T, C], softmaxed as PP-OCR recognisers output it; `symbols[i]` is class
    i and `symbols[0]` the CTC blank. The best class of each step is taken, repeats collapsed, blanks dropped; the
    confidence is the mean probability of the kept steps, and 0.0 for an empty text (PaddleOCR's convention)."""
    probs = np.asarray(probs)
    if probs.ndim != 3:
        raise InputError(f"CTC probabilities must be [N, T, C] (batch, time steps, classes); got shape {probs.shape}",
                         "pass the recognition model's output as it is, with its batch axis")
    if probs.shape[2] != len(symbols):
        raise InputError(f"the model outputs {probs.shape[2]} classes per time step but the dictionary has "
                         f"{len(symbols)} symbols: the dictionary does not match the model's output width",
                         "use the dictionary the model was trained with, blank first (PaddleOCR adds a space last "
                         "when the model was trained with use_space_char)")
    best = probs.argmax(axis=2)
    best_prob = np.take_along_axis(probs, best[:, :, None], axis=2)[:, :, 0]
    keep = best != 0
    keep[:, 1:] &= best[:, 1:] != best[:, :-1]
    results = []
    for classes, prob, kept in zip(best, best_prob, keep):
        text = "".join(symbols[i] for i in classes[kept])
        results.append((text, float(prob[kept].mean()) if kept.any() else 0.0))
    return results
