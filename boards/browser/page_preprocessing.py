"""The page's own preprocessing (page/preprocess.js, driven by the manifest) against the runtime's, on the same image
files: measured apart from the model's parity, which feeds the page tensors preprocessed in Python, so that a
difference is pinned to one of the two.

Where board parity runs on a dataset's arrays (a model trained here), the first test samples are written back as the
8-bit images they were normalised from, where that round trip is exact (a fixed-size image the preprocessing only
normalises, such as an MNIST digit), so the page's preprocessing is measured for those bundles too."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np

from ...runtime.manifest import Preprocess
from ...runtime.preprocess import images_to_batch, normalize
from .board import BrowserBoard

MAX_ABS_DIFF = 1e-5  # the page's float32 arithmetic against numpy's; both are exact on every image the tests render
FROM_TENSORS = 1000  # test samples written back as images for a dataset's arrays
IMAGE_FILES, WRITTEN_BACK = "image files", "test samples written back as the 8-bit PNGs they were normalised from"


@dataclasses.dataclass(frozen=True)
class PagePreprocessing:
    """Of `images` images (`source`): how many the page gave the runtime's tensor shape, how many within MAX_ABS_DIFF
    of the runtime's tensor everywhere (a NaN is not), how many identical, and the largest finite difference."""

    images: int
    same_shape: int
    within: int
    identical: int
    max_abs_diff: float
    source: str

    def values(self) -> Dict[str, float]:
        """What board parity gates: every image's tensor of the runtime's shape and within MAX_ABS_DIFF of it."""
        return {"preprocess_agreement": self.within / self.images}

    def describe(self) -> str:
        """One line for a report."""
        return (f"{self.images:,} {self.source} through the page's JavaScript (page/preprocess.js, from the manifest): "
                f"{self.same_shape:,} of the runtime's shape, {self.within:,} within {MAX_ABS_DIFF:g} of its tensors, "
                f"{self.identical:,} identical; largest difference {self.max_abs_diff:.3g}")


def page_preprocessing(board: BrowserBoard, images: Sequence[Path], preprocess: Preprocess, source: str = IMAGE_FILES) -> PagePreprocessing:
    """Each image preprocessed by the page and by the runtime, one image a call (`images_to_batch([image])`: a text
    line padded to at least the model's width, a page limited and rounded to a multiple of 32)."""
    same_shape = within = identical = 0
    largest = 0.0
    for image, got in zip(images, board.prepare_images(images, preprocess)):
        want = images_to_batch([image], preprocess)
        if got.shape != want.shape:
            continue
        diff = float(np.max(np.abs(got - want)))
        same_shape += 1
        if np.isfinite(diff):  # a NaN or an infinity in the page's tensor is a difference no limit holds
            within, identical, largest = within + (diff <= MAX_ABS_DIFF), identical + (diff == 0.0), max(largest, diff)
    return PagePreprocessing(len(images), same_shape, within, identical, largest, source)


def written_back(x: np.ndarray, preprocess: Preprocess, folder: Path, count: int = FROM_TENSORS) -> Tuple[Path, ...]:
    """The first `count` samples of a dataset's normalised N x C x H x W images as the 8-bit PNGs they came from, in
    `folder`; none where the round trip is not exact (values that were not 8-bit pixels, or a preprocessing that
    resizes or pads rather than only normalising an image of the model's size)."""
    from PIL import Image

    image = preprocess.image
    if image is None or image.resize.mode != "stretch" or x.ndim != 4 or x.shape[1] not in (1, 3) or \
            x.shape[2:] != (image.resize.height, image.resize.width) or (x.shape[1] == 1) != (image.color == "L"):
        return ()
    x = x[:count]
    scale, offset = (np.asarray(v, np.float32).reshape(-1, 1, 1) for v in (preprocess.scale, preprocess.offset))
    raw = np.rint((x - offset) / scale)
    if raw.min() < 0 or raw.max() > 255 or not np.allclose(normalize(raw, preprocess), x, rtol=0, atol=MAX_ABS_DIFF):
        return ()
    pixels = raw.astype(np.uint8)
    if image.color == "BGR":
        pixels = pixels[:, ::-1]
    paths = []
    for i, chw in enumerate(pixels):
        path = Path(folder) / f"{i:05d}.png"
        Image.fromarray(chw[0] if len(chw) == 1 else chw.transpose(1, 2, 0)).save(path)
        paths.append(path)
    return tuple(paths)
