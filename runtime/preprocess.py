"""Turn raw inputs (image files, pixel arrays, table rows) into model inputs as the manifest describes."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence, Tuple, Union

import numpy as np

from .errors import InputError
from .manifest import ImageSpec, Preprocess, Resize, TensorSpec
from .opencv_resize import resize_linear

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


def shape_fits(want: Sequence[int], got: Sequence[int]) -> bool:
    """True if `got` has the rank of `want` and every dim of `want` (-1 is any)."""
    return len(want) == len(got) and all(w in (-1, g) for w, g in zip(want, got))


def is_nhwc_of(spec: TensorSpec, shape: Sequence[int]) -> bool:
    """True if `shape` is channels-last (N, H, W, C) where `spec` takes channels-first (N, C, H, W)."""
    return (spec.layout == "NCHW" and len(shape) == 4 and not shape_fits(spec.shape, shape)
            and shape_fits(spec.shape, (shape[0], shape[3], shape[1], shape[2])))


def to_layout(raw: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """A pixel batch N x H x W (grey) or N x H x W x C (as PIL and cv2 give pixels) in the NCHW layout `spec` takes;
    anything else unchanged, for predict() to name what does not fit."""
    x = np.asarray(raw)
    if spec.layout == "NCHW" and len(spec.shape) == 4 and x.ndim == 3 and spec.shape[1] in (-1, 1):
        return x[:, None]
    return x.transpose(0, 3, 1, 2) if is_nhwc_of(spec, x.shape) else x


MAX_PIXELS = 50_000_000  # larger images are refused before decoding (a small PNG can decode to gigabytes)


def _array_to_pil(array: np.ndarray) -> "PIL.Image.Image":  # noqa: F821
    """A HxW or HxWxC array of pixel values 0..255 (any real dtype) to a PIL image; anything else is refused."""
    from PIL import Image

    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)) or 0 in array.shape:
        raise InputError(f"an image array must be HxW or HxWxC with C in 1, 3, 4 and no empty side; got shape {array.shape}",
                         "pass one image, e.g. np.asarray(PIL.Image.open(path))")
    if array.dtype != np.uint8:
        if array.dtype.kind not in "biuf" or not np.isfinite(array).all() or array.min() < 0 or array.max() > 255:
            raise InputError(f"image array values must be finite pixel values in 0..255; got dtype {array.dtype}",
                             "scale it to 0..255 first (16-bit: array // 257)")
        array = np.rint(array).astype(np.uint8)
    return Image.fromarray(array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array)


def _flatten_modes(pil: "PIL.Image.Image") -> "PIL.Image.Image":  # noqa: F821
    """16-bit and 32-bit grey to 8-bit by their full range; palette and alpha onto white, as a viewer shows them."""
    from PIL import Image

    if pil.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(pil, dtype=np.float64)
        top = 65535.0 if pil.mode.startswith("I;16") or values.max() > 255 else 255.0
        return Image.fromarray(np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8))
    if pil.mode == "P":
        pil = pil.convert("RGBA")
    if pil.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", pil.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, pil.convert("RGBA")).convert("RGB")
    return pil


def open_image(image: ImageLike) -> "PIL.Image.Image":  # noqa: F821
    """A file, PIL image or HxW(xC) array as an 8-bit PIL image (L or RGB), its modes flattened as a viewer shows them.

    Truncated, empty, oversized or unreadable files raise InputError, never anything else."""
    from PIL import Image, UnidentifiedImageError

    what = str(image) if isinstance(image, (str, Path)) else "input image"
    try:
        if isinstance(image, (str, Path)):
            with Image.open(image) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise InputError(f"{what} is {im.width}x{im.height} pixels, more than {MAX_PIXELS:,}", "resize it first")
                im.load()
                pil = im.copy()
        elif isinstance(image, np.ndarray):
            pil = _array_to_pil(image)
        else:
            pil = image
        if pil.width == 0 or pil.height == 0:
            raise InputError(f"{what} has no pixels ({pil.width}x{pil.height})", "pass a non-empty image")
        return _flatten_modes(pil)
    except FileNotFoundError as exc:
        raise InputError(f"image not found: {image}", "check the path") from exc
    except (UnidentifiedImageError, OSError, ValueError, TypeError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InputError(f"{what} is not a readable image ({exc})",
                         "pass a PNG, JPEG or BMP file, a PIL image or a HxW(xC) uint8 array") from exc


def target_size(height: int, width: int, resize: Resize) -> Tuple[int, int]:
    """The (height, width) an image of this size is resized to (before any padding or cropping)."""
    if resize.mode == "stretch":
        return resize.height, resize.width
    if resize.mode == "short_crop":  # as PaddleClas's ResizeImage: Python's round of each side times side / short side
        percent = resize.side / min(height, width)
        return int(round(height * percent)), int(round(width * percent))
    if resize.mode == "pad_right":
        wide = int(math.ceil(resize.height * width / height))
        return resize.height, max(1, wide if resize.grow else min(wide, resize.width))
    short, long = min(height, width), max(height, width)
    ratio = (resize.side / short if short < resize.side else 1.0) if resize.limit == "min" else \
        (resize.side / long if long > resize.side else 1.0)
    return tuple(max(resize.multiple, int(round(int(side * ratio) / resize.multiple)) * resize.multiple)  # type: ignore[return-value]
                 for side in (height, width))


def load_image(image: ImageLike, spec: ImageSpec) -> np.ndarray:
    """One image to a CHW float array of raw pixel values (0..255), colour-converted and resized per `spec` (not padded).

    Any PIL mode is accepted: 16-bit grey is scaled by its full range, palette and transparent images are composited
    onto white."""
    return pixels_of(open_image(image), spec)


def pixels_of(pil: "PIL.Image.Image", spec: ImageSpec) -> np.ndarray:  # noqa: F821
    """An opened image (open_image) to the CHW float array of raw pixel values `spec` asks for."""
    from PIL import Image

    pil = pil.convert("L" if spec.color == "L" else "RGB")
    height, width = target_size(pil.height, pil.width, spec.resize)
    if spec.resize.interpolation == "opencv":
        pixels = resize_linear(np.asarray(pil), height, width).astype(np.float32)
    else:
        pixels = np.asarray(pil.resize((width, height), Image.BILINEAR), dtype=np.float32)
    pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
    if spec.resize.mode == "short_crop":  # the centre, as PaddleClas's CropImage cuts it
        top, left = (height - spec.resize.height) // 2, (width - spec.resize.width) // 2
        pixels = pixels[:, top:top + spec.resize.height, left:left + spec.resize.width]
    if spec.color == "BGR":
        pixels = pixels[::-1].copy()
    if spec.invert_light_background and _border_mean(pixels) > 127.5:
        pixels = 255.0 - pixels
    return pixels


def image_to_input(image: ImageLike, pre: Preprocess) -> Tuple[np.ndarray, Tuple[int, int]]:
    """One image as a normalised 1 x C x H x W batch, and the (height, width) it had: what maps outputs back onto it."""
    if pre.image is None:
        raise InputError("this bundle's model does not take images", "call predict() with an array of model inputs")
    pil = open_image(image)
    return normalize(pixels_of(pil, pre.image)[None], pre), (pil.height, pil.width)


def _border_mean(chw: np.ndarray) -> float:
    """Mean of the outermost pixels: a light border means dark ink on paper, the opposite of MNIST."""
    return float(np.concatenate([chw[:, 0], chw[:, -1], chw[:, :, 0], chw[:, :, -1]], axis=None).mean())


def images_to_batch(images: Sequence[ImageLike], pre: Preprocess) -> np.ndarray:
    """Load, convert, normalise (and, for `pad_right`, pad with zeros) images into one NCHW float32 batch."""
    if pre.image is None:
        raise InputError("this bundle's model does not take images", "call predict() with an array of model inputs")
    if not len(images):
        raise InputError("no images given", "pass at least one image")
    chws = [normalize(load_image(im, pre.image), pre, channel_axis=0) for im in images]
    resize = pre.image.resize
    if resize.mode == "pad_right":
        width = max([resize.width] + [c.shape[2] for c in chws])
        batch = np.zeros((len(chws), chws[0].shape[0], resize.height, width), np.float32)
        for row, chw in zip(batch, chws):
            row[:, :, :chw.shape[2]] = chw
        return batch
    shapes = {c.shape for c in chws}
    if len(shapes) > 1:
        raise InputError(f"these images resize to different sizes {sorted(shapes)} (resize mode {resize.mode})",
                         "pass one image per call (e.g. predictor.detect(image))")
    return np.stack(chws)
