"""OpenCV's bilinear resize of 8-bit images (`cv2.resize`, INTER_LINEAR), in numpy, for models whose preprocessing
resizes with OpenCV (PaddleOCR's, PaddleClas's cv2 backend), so a board feeds them what they were trained on without
OpenCV.

Pillow's bilinear filter averages every source pixel under an output pixel when it shrinks; OpenCV interpolates between
the two nearest pixels on each axis, in fixed point: 11-bit weights, the horizontal pass in int32, the vertical one as
its SIMD kernels round it. An exact halving of both sides is OpenCV's INTER_AREA (the mean of each 2 x 2 block), as
cv2.resize switches to. The result is OpenCV 4.6's, pixel for pixel, on every size tested (tests/test_opencv_resize.py), and the same on every
machine; boards/browser/page/preprocess.js repeats it.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

COEF_BITS = 11
ONE = 1 << COEF_BITS


def _taps(src: int, dst: int, clamp_fraction: bool) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each output index: the two source indices and their 11-bit weights, as cv::resize computes them (the
    position in float32). Beyond the edges the indices are clamped; along a row (`clamp_fraction`) OpenCV also sets the
    weight of the edge pixel to one, down a column it keeps the fraction, so both weights fall on the edge row."""
    scale = 1.0 / (dst / src)
    position = ((np.arange(dst) + 0.5) * scale - 0.5).astype(np.float32)
    first = np.floor(position).astype(np.int64)
    fraction = (position - first.astype(np.float32)).astype(np.float32)
    if clamp_fraction:
        fraction[(first < 0) | (first >= src - 1)] = 0.0
    w0 = np.rint((np.float32(1.0) - fraction) * np.float32(ONE)).astype(np.int32)
    w1 = np.rint(fraction * np.float32(ONE)).astype(np.int32)
    return np.clip(first, 0, src - 1), np.clip(first + 1, 0, src - 1), w0, w1


def resize_linear(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """An H x W or H x W x C uint8 image resized to `height` x `width` as cv2.resize(pixels, (width, height)) does. The
    horizontal pass runs only on the source rows the output reads, in int32 (a 12-megapixel photo shrunk for a detector
    does not hold a wide copy of itself)."""
    src_h, src_w = pixels.shape[:2]
    if (src_h, src_w) == (height, width):
        return pixels.copy()
    if (src_h, src_w) == (2 * height, 2 * width):  # OpenCV's INTER_AREA for an exact halving
        blocks = (pixels[0::2, 0::2].astype(np.int32) + pixels[0::2, 1::2] + pixels[1::2, 0::2] + pixels[1::2, 1::2])
        return ((blocks + 2) >> 2).astype(np.uint8)
    x0, x1, a0, a1 = _taps(src_w, width, clamp_fraction=True)
    y0, y1, b0, b1 = _taps(src_h, height, clamp_fraction=False)
    used = np.unique(np.concatenate([y0, y1]))
    rows_of = pixels[used]
    shape = (1, -1) + (1,) * (pixels.ndim - 2)
    rows = rows_of[:, x0].astype(np.int32) * a0.reshape(shape) + rows_of[:, x1].astype(np.int32) * a1.reshape(shape)
    shape = (-1,) + (1,) * (pixels.ndim - 1)
    top = ((rows[np.searchsorted(used, y0)] >> 4) * b0.reshape(shape)) >> 16
    bottom = ((rows[np.searchsorted(used, y1)] >> 4) * b1.reshape(shape)) >> 16
    return np.clip((top + bottom + 2) >> 2, 0, 255).astype(np.uint8)
