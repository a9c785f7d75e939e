"""Turn raw inputs (image files, pixel arrays, table rows) into model inputs as the manifest describes."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence, Union

import numpy as np

from .errors import InputError
from .manifest import ImageSpec, Preprocess

ImageLike = Union[str, Path, np.ndarray, "PIL.Image.Image"]  # noqa: F821


def normalize(raw: np.ndarray, pre: Preprocess, channel_axis: int = 1) -> np.ndarray:
    """x * scale + offset, broadcasting a per-channel (or per-feature) list along `channel_axis`."""
    x = np.asarray(raw, dtype=np.float32)
    scale = np.asarray(pre.scale, dtype=np.float32)
    offset = np.asarray(pre.offset, dtype=np.float32)
    if scale.ndim or offset.ndim:
        shape = [1] * x.ndim
        shape[channel_axis] = -1
        scale, offset = scale.reshape(shape) if scale.ndim else scale, offset.reshape(shape) if offset.ndim else offset
    return x * scale + offset


def load_image(image: ImageLike, spec: ImageSpec) -> np.ndarray:
    """One image to a CHW float array of raw pixel values (0..255), resized and colour-converted per `spec`."""
    from PIL import Image, UnidentifiedImageError

    try:
        if isinstance(image, (str, Path)):
            with Image.open(image) as im:
                im.load()
                pil = im.copy()
        elif isinstance(image, np.ndarray):
            pil = Image.fromarray(np.asarray(image, dtype=np.uint8))
        else:
            pil = image
        pil = pil.convert(spec.color).resize((spec.size[1], spec.size[0]), Image.BILINEAR)
    except FileNotFoundError as exc:
        raise InputError(f"image not found: {image}", "check the path") from exc
    except (UnidentifiedImageError, OSError, ValueError, TypeError) as exc:
        raise InputError(f"{image if isinstance(image, (str, Path)) else 'input'} is not a readable image ({exc})",
                         "pass a PNG, JPEG or BMP file, a PIL image or a HxW(xC) uint8 array") from exc
    pixels = np.asarray(pil, dtype=np.float32)
    pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
    if spec.invert_light_background and _border_mean(pixels) > 127.5:
        pixels = 255.0 - pixels
    return pixels


def _border_mean(chw: np.ndarray) -> float:
    """Mean of the outermost pixels: a light border means dark ink on paper, the opposite of MNIST."""
    return float(np.concatenate([chw[:, 0], chw[:, -1], chw[:, :, 0], chw[:, :, -1]], axis=None).mean())


def images_to_batch(images: Sequence[ImageLike], pre: Preprocess) -> np.ndarray:
    """Load, convert and normalise images into one NCHW float32 batch."""
    if pre.image is None:
        raise InputError("this bundle's model does not take images", "call predict() with an array of model inputs")
    return normalize(np.stack([load_image(im, pre.image) for im in images]), pre)
