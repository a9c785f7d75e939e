"""Seeded OCR test data drawn with Pillow and Debian's fonts, never checked-in images: text lines for the recogniser
(rec) and the 0/180-degree direction classifier (cls), pages of text for the detector (det), each written with its label
file in PaddleOCR's format, which `labels.read_labelled` reads back.

Layout of `out_dir`: images/000000.png ..., the label file (rec_gt.txt `path<TAB>text`, cls_gt.txt `path<TAB>0|180`,
det_gt.txt `path<TAB>[{"transcription": ..., "points": [[x, y] x 4]}]`), and synthetic.json: the arguments, the Pillow
and FreeType versions and the fonts drawn from, with their sha256.

Text: Latin lines (words, numbers, dates, prices, codes) in DejaVu, and Chinese lines in Noto CJK SC (Sans, Sans Mono,
Serif; regular and bold), common words mixed with numbers, dates, prices and Latin tokens; every character drawn is in
PaddleOCR's ppocr_keys_v1.txt, and a space is drawn only between two Latin tokens. Noto CJK comes from Debian's
fonts-noto-cjk, installed or fetched once into the cache (source/fonts.py); without it nothing is rendered.

Lines (rec, cls) are cropped text on a light ground, as a detector's crop reaches the recogniser. Pages (det) are meant
to be hard for a real detector yet labelled truthfully: a paper, gradient, photo-like or dark ground with blotches,
sometimes a fine texture and panels; paragraphs, tables and single lines in 10 to 44 px fonts, some tilted by up to 15
degrees, in dark, light, coloured and low-contrast inks (35 to 60 grey levels, for fonts of 14 px and up), each chosen
against the ground under its line; clutter that is not text (rules, frames, bar codes, hatching, leaders, scribbles,
dots, shapes) kept 3 or more pixels away from every line; then some pages are shaded, blurred, resampled or grained.
Each region is the tight quad (clockwise from top-left) around one line's ink, measured on the text alone before any
degradation; no other text is drawn, a line whose ground leaves no room for 35 grey levels of contrast is not drawn,
and regions do not overlap. They are hard enough that PP-OCRv4's float detector misses some lines and finds some
boxes that are not lines (`paddle-edge parity` on them says how many), where it found every line of the earlier plain
pages.

Determinism: the same arguments give byte-identical files on machines with the same fonts, Pillow and FreeType, and only
there (another FreeType rasterises glyphs differently). Text layout uses Pillow's basic engine (libraqm may or may not
be present), random numbers come only from `random.Random(str).random()`, whose sequence Python keeps the same across
versions, and pixels are computed by Pillow's own operations (no floating-point maths that a CPU's vector width could
change). Sample i has its own generator, so rec and cls of one seed draw the same lines: a cls image is the rec image,
turned by 180 degrees where its label says 180.

Modules: this one is the entry (arguments, manifest, files, rec and cls lines); text_fonts.py finds the faces,
text_draws.py makes the seeded draws and colours, text_words.py the text, text_layout.py places a page's lines and
text_pages.py draws the page around them."""
from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import PIL
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir
from .labels import read_labelled
from .text_draws import dark, integer, light, uniform
from .text_fonts import FontFace, Loader, available_fonts
from .text_pages import draw_page
from .text_words import ASCII_CHARS, CJK_CHARS, line_text

__all__ = ["ASCII_CHARS", "CJK_CHARS", "FORMAT", "GENERATOR", "KINDS", "LABEL_FILES", "LABEL_KINDS", "MANIFEST",
           "FontFace", "available_fonts", "render"]

KINDS = ("rec", "cls", "det")
LABEL_FILES = {"rec": "rec_gt.txt", "cls": "cls_gt.txt", "det": "det_gt.txt"}
LABEL_KINDS = {"rec": "recognition", "cls": "classification", "det": "detection"}  # the kind labels.py reads
MANIFEST = "synthetic.json"
GENERATOR = "paddle_edge.source.synthetic_text"
FORMAT = 2  # bump when the same arguments would draw other images

_REC_LENGTH = (4, 24)  # in widths of a Latin character; a Chinese one counts two
_REC_SIZE = (24, 40)


def render(kind: str, out_dir: Path, count: int, seed: int = 0) -> Path:
    """Draw `count` samples of `kind` (rec, cls or det) into `out_dir`, atomically, and return the label file.

    An `out_dir` already holding this very render (same arguments, fonts and Pillow) is returned as it is; one holding
    a render of other arguments, or anything else, is refused: nothing is overwritten that this call did not make."""
    if kind not in KINDS:
        raise PaddleEdgeError(f"unknown synthetic kind {kind!r}", f"use one of {', '.join(KINDS)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise PaddleEdgeError(f"count must be a positive integer, got {count!r}", "ask for 1 or more samples")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise PaddleEdgeError(f"seed must be an integer, got {seed!r}", "pass an integer seed, e.g. 0")
    out_dir = Path(out_dir)
    fonts = available_fonts()
    manifest = _manifest(kind, count, seed, fonts)
    done = _earlier_render(out_dir, manifest)
    if done is not None:
        return done
    with atomic_dir(out_dir) as tmp:
        (tmp / "images").mkdir()
        rows = _RENDERERS[kind](tmp, count, seed, fonts)
        _write_text(tmp / LABEL_FILES[kind], "".join(rows))
        _write_text(tmp / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return out_dir / LABEL_FILES[kind]


def _manifest(kind: str, count: int, seed: int, fonts: Sequence[FontFace]) -> Dict[str, object]:
    return {"generator": GENERATOR, "format": FORMAT, "kind": kind, "count": count, "seed": seed,
            "label_file": LABEL_FILES[kind], "pillow": PIL.__version__, "freetype": features.version("freetype2"),
            "fonts": [{"file": str(f.path), "index": f.index, "name": f.name, "sha256": f.sha256} for f in fonts]}


def _earlier_render(out_dir: Path, manifest: Dict[str, object]) -> Optional[Path]:
    """The label file of this very render already in `out_dir`; None where `out_dir` is free or holds a render of the
    same arguments that must be drawn anew (other fonts or Pillow, or files gone); raises for anything else."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PaddleEdgeError(f"{out_dir} is a file", "pass a directory for the synthetic data")
    if not out_dir.exists() or not any(out_dir.iterdir()):
        return None
    try:
        recorded = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    if not isinstance(recorded, dict) or recorded.get("generator") != GENERATOR:
        raise PaddleEdgeError(f"{out_dir} is not empty and holds no synthetic data ({MANIFEST} missing)",
                              "pass a new or empty directory")
    changed = [f"{key} {recorded.get(key)!r} (asked: {manifest[key]!r})" for key in ("kind", "count", "seed")
               if recorded.get(key) != manifest[key]]
    if changed:
        raise PaddleEdgeError(f"{out_dir} holds synthetic data of other arguments: {', '.join(changed)}",
                              "pass another directory, or delete this one to draw anew")
    if recorded != manifest:
        return None
    label_file = out_dir / str(manifest["label_file"])
    try:
        intact = len(read_labelled(label_file, LABEL_KINDS[str(manifest["kind"])])) == manifest["count"]
    except PaddleEdgeError:  # a damaged earlier render of the same arguments is drawn anew
        intact = False
    return label_file if intact else None


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _save(image: Image.Image, out: Path, index: int) -> str:
    """Save one PNG (no timestamp chunk: same pixels, same bytes) and return its path relative to `out`."""
    name = f"images/{index:06d}.png"
    image.save(out / name, format="PNG")
    return name


def _loader() -> Loader:
    """Fonts by face and size, each file opened once per render, laid out by Pillow's basic engine (libraqm's
    presence would change the pixels)."""
    @functools.lru_cache(maxsize=None)
    def load(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(face.path), size, index=face.index, layout_engine=ImageFont.Layout.BASIC)
    return load


def _line_span(font: ImageFont.FreeTypeFont, face: FontFace, text: str) -> Tuple[int, int]:
    """The rows a line image spans, relative to where Pillow draws the text: DejaVu's ascent and descent; for Noto CJK,
    whose ascent and descent leave half an em of air, the ink of the text and of "国Ag"."""
    if not face.cjk:
        ascent, descent = font.getmetrics()
        return 0, ascent + descent
    _, top, _, bottom = font.getbbox("国Ag" + text)
    return top, bottom


def _line_image(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> Tuple[Image.Image, str]:
    """A cropped text line as a recogniser sees one: dark text, light background, a few pixels of padding, sometimes
    a slight blur."""
    text, face = line_text(rng, fonts, _REC_LENGTH)
    font = load(face, integer(rng, _REC_SIZE))
    top, bottom = _line_span(font, face, text)
    left, _, right, _ = font.getbbox(text)
    pad_x, pad_y = integer(rng, (2, 10)), integer(rng, (2, 8))
    image = Image.new("RGB", (right - left + 2 * pad_x, bottom - top + 2 * pad_y), light(rng))
    ImageDraw.Draw(image).text((pad_x - left, pad_y - top), text, font=font, fill=dark(rng))
    if rng.random() < 0.2:
        image = image.filter(ImageFilter.GaussianBlur(uniform(rng, 0.3, 0.9)))
    return image, text


def _render_rec(out: Path, count: int, seed: int, fonts: Sequence[FontFace]) -> List[str]:
    load = _loader()
    rows = []
    for i in range(count):
        image, text = _line_image(random.Random(f"{seed}:line:{i}"), fonts, load)
        rows.append(f"{_save(image, out, i)}\t{text}\n")
    return rows


def _render_cls(out: Path, count: int, seed: int, fonts: Sequence[FontFace]) -> List[str]:
    """The rec lines of the same seed, exactly half of them (a seeded choice) turned by 180 degrees."""
    rng = random.Random(f"{seed}:turned:{count}")
    order = list(range(count))
    for i in range(count - 1, 0, -1):  # Fisher-Yates on random(): shuffle() may change between Python versions
        j = int(rng.random() * (i + 1))
        order[i], order[j] = order[j], order[i]
    turned = set(order[:count // 2])
    load = _loader()
    rows = []
    for i in range(count):
        image, _ = _line_image(random.Random(f"{seed}:line:{i}"), fonts, load)
        image = image.transpose(Image.Transpose.ROTATE_180) if i in turned else image
        rows.append(f"{_save(image, out, i)}\t{180 if i in turned else 0}\n")
    return rows


def _render_det(out: Path, count: int, seed: int, fonts: Sequence[FontFace]) -> List[str]:
    load = _loader()
    rows = []
    for i in range(count):
        page = draw_page(random.Random(f"{seed}:page:{i}"), fonts, load)
        label = [{"transcription": line.text, "points": line.quad} for line in page.lines]
        rows.append(f"{_save(page.image, out, i)}\t{json.dumps(label, ensure_ascii=False)}\n")
    return rows


_RENDERERS = {"rec": _render_rec, "cls": _render_cls, "det": _render_det}
