"""A user's own images: DIR/train/<class>/*.png and DIR/test/<class>/*.png, converted as the runtime converts them."""
from __future__ import annotations

from pathlib import Path
from typing import Tuple

import numpy as np
from paddle.vision.datasets import DatasetFolder

from ...runtime.errors import PaddleEdgeError
from ...runtime.manifest import ImageSpec
from ...runtime.preprocess import load_image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


def load_folder(split: str, root: Path, spec: ImageSpec) -> Tuple[np.ndarray, np.ndarray, Tuple[str, ...]]:
    """(raw pixels N x C x H x W, labels, class names) of DIR/<split>/<class>/..."""
    folder = Path(root) / split
    if not folder.is_dir():
        raise PaddleEdgeError(f"no {split}/ folder in {root}", "lay images out as DIR/train/<class>/*.png and DIR/test/<class>/*.png")
    listing = DatasetFolder(str(folder), extensions=IMAGE_EXTENSIONS, loader=lambda p: p)
    images = np.stack([load_image(path, spec) for path, _ in listing.samples])
    labels = np.array([label for _, label in listing.samples], dtype=np.int64)
    return images, labels, tuple(listing.classes)
