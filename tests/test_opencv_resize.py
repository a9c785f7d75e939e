"""The runtime's OpenCV bilinear resize (runtime/opencv_resize.py) against cv2.resize itself, which PaddleOCR and
PaddleClas preprocess with (opencv-python is installed here as PaddleSlim's dependency; a board has none)."""
from __future__ import annotations

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from paddle_edge.runtime.opencv_resize import resize_linear

sizes = st.integers(min_value=1, max_value=160)


@settings(max_examples=150, deadline=None)
@given(sizes, sizes, sizes, sizes, st.sampled_from([0, 1, 3]), st.integers(0, 2**32 - 1))
def test_it_is_cv2_s_inter_linear_pixel_for_pixel(h, w, out_h, out_w, channels, seed):
    """Any size to any size, grey or colour: OpenCV 4.6's result, the same shape and every pixel."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (h, w, channels) if channels else (h, w), dtype=np.uint8)
    want = cv2.resize(pixels, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    got = resize_linear(pixels, out_h, out_w)
    want = want.reshape(got.shape)  # cv2 drops a single channel's axis
    assert got.dtype == np.uint8 and np.array_equal(got, want)


def test_a_text_line_shrunk_is_opencv_s_not_pillow_s():
    """What the runtime's resize is for: a line taller than the recogniser's 48 pixels, shrunk; an exact halving is
    OpenCV's 2 x 2 mean; Pillow's bilinear averages otherwise."""
    rng = np.random.default_rng(0)
    line = rng.integers(0, 256, (96, 410, 3), dtype=np.uint8)
    for height, width in ((48, 205), (48, 176), (31, 133)):
        want = cv2.resize(line, (width, height)).astype(int)
        assert np.array_equal(resize_linear(line, height, width), want)
        pillow = np.asarray(Image.fromarray(line).resize((width, height), Image.BILINEAR)).astype(int)
        assert np.abs(pillow - want).max() > 20
