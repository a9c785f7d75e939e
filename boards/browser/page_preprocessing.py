"""The page's own preprocessing (page/preprocess.js, driven by the manifest) against the runtime's, on the same image
files: measured apart from the model's parity, which feeds the page tensors preprocessed in Python, so that a
difference is pinned to one of the two."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, Sequence

import numpy as np

from ...runtime.manifest import Preprocess
from ...runtime.preprocess import images_to_batch
from .board import BrowserBoard

MAX_ABS_DIFF = 1e-5  # the page's float32 arithmetic against numpy's; both are exact on every image the tests render


@dataclasses.dataclass(frozen=True)
class PagePreprocessing:
    """Of `images` image files: how many the page gave the runtime's tensor shape, how many it gave identical tensors,
    and the largest difference among those of the same shape."""

    images: int
    same_shape: int
    identical: int
    max_abs_diff: float

    def values(self) -> Dict[str, float]:
        """What board parity gates: every tensor of the runtime's shape, and within MAX_ABS_DIFF of it."""
        return {"preprocess_shape_agreement": self.same_shape / self.images, "preprocess_max_abs_diff": self.max_abs_diff}

    def describe(self) -> str:
        """One line for a report."""
        return (f"{self.images:,} images through the page's JavaScript (page/preprocess.js, from the manifest): {self.same_shape:,} "
                f"of the runtime's shape, {self.identical:,} identical to its tensors, largest difference {self.max_abs_diff:.3g}")


def page_preprocessing(board: BrowserBoard, images: Sequence[Path], preprocess: Preprocess) -> PagePreprocessing:
    """Each image preprocessed by the page and by the runtime, one image a call (`images_to_batch([image])`: a text
    line padded to at least the model's width, a page limited and rounded to a multiple of 32)."""
    same_shape = identical = 0
    largest = 0.0
    for image, got in zip(images, board.prepare_images(images, preprocess)):
        want = images_to_batch([image], preprocess)
        if got.shape != want.shape:
            continue
        diff = float(np.max(np.abs(got - want)))
        same_shape, identical, largest = same_shape + 1, identical + (diff == 0.0), max(largest, diff)
    return PagePreprocessing(len(images), same_shape, identical, largest)
