"""Seeded OCR test data drawn with Pillow and the machine's fonts, never checked-in images: text lines for the
recogniser (rec) and the 0/180-degree direction classifier (cls), pages of text lines for the detector (det), each
written with its label file in PaddleOCR's format, which `labels.read_labelled` reads back.

Layout of `out_dir`: images/000000.png ..., the label file (rec_gt.txt `path<TAB>text`, cls_gt.txt `path<TAB>0|180`,
det_gt.txt `path<TAB>[{"transcription": ..., "points": [[x, y] x 4]}]`), and synthetic.json: the arguments, the Pillow
and FreeType versions and the fonts drawn from.

Determinism: the same arguments give byte-identical files on machines with the same fonts, Pillow and FreeType, and only
there: DejaVu (fonts-dejavu-core/-extra) is required, Noto CJK adds Chinese lines where installed, and another FreeType
rasterises glyphs differently. Text layout uses Pillow's basic engine (libraqm may or may not be present), and random
numbers come only from `random.Random(str).random()`, whose sequence Python keeps the same across versions. Sample i
has its own generator, so rec and cls of one seed draw the same lines: a cls image is the rec image, turned by 180
degrees where its label says 180."""
from __future__ import annotations

import functools
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

import PIL
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir, sha256_file
from .labels import read_labelled

KINDS = ("rec", "cls", "det")
LABEL_FILES = {"rec": "rec_gt.txt", "cls": "cls_gt.txt", "det": "det_gt.txt"}
LABEL_KINDS = {"rec": "recognition", "cls": "classification", "det": "detection"}  # the kind labels.py reads
MANIFEST = "synthetic.json"
GENERATOR = "paddle_edge.source.synthetic_text"
FORMAT = 1  # bump when the same arguments would draw other images

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
NOTO_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/opentype/noto"))
# Every character drawn is in PaddleOCR's ppocr_keys_v1.txt (space included: the PP-OCR configs set use_space_char).
ASCII_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-/()%$#@&+'"
_WORDS = ("invoice", "total", "amount", "date", "order", "customer", "address", "street", "city", "phone", "email",
          "price", "quantity", "item", "receipt", "payment", "balance", "account", "number", "store", "coffee", "bread",
          "milk", "apple", "ticket", "station", "platform", "exit", "open", "closed", "hours", "monday", "friday",
          "sale", "discount", "tax", "subtotal", "cash", "card", "change", "thank", "you", "welcome", "paddle", "edge",
          "board", "model", "river", "north", "south", "road", "room", "floor", "page", "section", "report", "net",
          "weight", "batch", "serial", "model", "voltage", "power", "input", "output", "made", "in", "use", "by")
_CJK_WORDS = ("公司", "日期", "金额", "电话", "地址", "银行", "名称", "数量", "总计", "中国", "大学", "发票", "价格",
              "合计", "人民", "时间", "北京", "上海", "号码", "单位")
_REC_LENGTH = (4, 24)
_DET_LENGTH = (4, 20)
_REC_SIZE = (24, 40)
_DET_SIZE = (20, 36)
_PAGE_WIDTH = (640, 960)
_PAGE_HEIGHT = (480, 720)
_PAGE_LINES = (3, 8)
_PAGE_MARGIN = 8  # pixels kept free at the page's edges and between lines
_MAX_TILT = 10.0  # degrees

T = TypeVar("T")
Point = Tuple[float, float]
Box = Tuple[float, float, float, float]  # left, top, right, bottom
Quad = List[List[int]]


@dataclass(frozen=True)
class FontFace:
    """One font face: its file, the face's index in a collection, its name, whether it draws Chinese, its sha256."""

    path: Path
    index: int
    name: str
    cjk: bool
    sha256: str


Loader = Callable[[FontFace, int], ImageFont.FreeTypeFont]


def available_fonts() -> Tuple[FontFace, ...]:
    """The faces drawn from: DejaVu (but its maths and extra-light faces), then the Simplified Chinese faces of any
    Noto CJK fonts; raises when DejaVu is missing."""
    latin = [p for p in sorted(DEJAVU_DIR.glob("DejaVu*.ttf")) if not any(n in p.name for n in ("MathTeX", "ExtraLight"))]
    if not latin:
        raise PaddleEdgeError(f"no DejaVu fonts in {DEJAVU_DIR}",
                              "install them: apt-get install fonts-dejavu-core fonts-dejavu-extra")
    faces = [_face(path, 0, cjk=False) for path in latin]
    for folder in NOTO_DIRS:
        for path in sorted(folder.glob("*CJK*")) if folder.is_dir() else ():
            faces += [_face(path, index, cjk=True) for index in _simplified_chinese_faces(path)]
    return tuple(faces)


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


def _face(path: Path, index: int, cjk: bool) -> FontFace:
    family, style = ImageFont.truetype(str(path), 12, index=index).getname()
    return FontFace(path, index, f"{family} {style}", cjk, sha256_file(path))


def _simplified_chinese_faces(path: Path) -> List[int]:
    """Indices of the Simplified Chinese faces ("... SC") in a Noto CJK file or collection; else its first face."""
    found = []
    for index in range(32):
        try:
            family, _ = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:
            break
        if family.endswith(" SC"):
            found.append(index)
    return found or [0]


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


# Random draws: only Random.random() is kept stable across Python versions, so every draw is built on it.
def _int(rng: random.Random, bounds: Tuple[int, int]) -> int:
    low, high = bounds
    return low + int(rng.random() * (high - low + 1))


def _uniform(rng: random.Random, low: float, high: float) -> float:
    return low + (high - low) * rng.random()


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(_int(rng, (0, 9))) for _ in range(n))


def _tinted(rng: random.Random, grey: Tuple[int, int], tint: int) -> Tuple[int, int, int]:
    """A grey drawn from `grey`, each channel moved by up to `tint`."""
    base = _int(rng, grey)
    red, green, blue = (min(255, max(0, base + _int(rng, (-tint, tint)))) for _ in range(3))
    return red, green, blue


def _light(rng: random.Random) -> Tuple[int, int, int]:
    return _tinted(rng, (205, 250), 5)


def _dark(rng: random.Random) -> Tuple[int, int, int]:
    return _tinted(rng, (0, 70), 10)


def _token(rng: random.Random) -> str:
    """One token of a Latin line: a word (lower, Title or UPPER case), a number, date, price, percentage, time, code or
    e-mail address."""
    kind = rng.random()
    if kind < 0.55:
        word, case = _pick(rng, _WORDS), rng.random()
        word = word if case < 0.5 else word.title() if case < 0.8 else word.upper()
        return word + (_pick(rng, ",.:;") if rng.random() < 0.1 else "")
    if kind < 0.65:
        return str(_int(rng, (0, 99999)))
    if kind < 0.72:
        year, month, day = _int(rng, (1990, 2030)), _int(rng, (1, 12)), _int(rng, (1, 28))
        return f"{year}-{month:02d}-{day:02d}" if rng.random() < 0.5 else f"{day:02d}/{month:02d}/{year}"
    if kind < 0.79:
        return _pick(rng, ("$", "", "+")) + f"{_int(rng, (0, 999))}.{_digits(rng, 2)}"
    if kind < 0.84:
        return _pick(rng, ("{}%", "({}%)", "-{}%")).format(_int(rng, (1, 99)))
    if kind < 0.89:
        return f"{_int(rng, (0, 23)):02d}:{_int(rng, (0, 59)):02d}"
    if kind < 0.93:
        return _pick(rng, ("#", "No.", "A-", "B/")) + _digits(rng, _int(rng, (2, 5)))
    if kind < 0.96:
        return f"{_pick(rng, _WORDS)}@{_pick(rng, _WORDS)}.com"
    return _pick(rng, ("it's", "R&D", "A&B", "Q&A", "don't", "+86", "(c)"))


def _chinese_token(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.7:
        return _pick(rng, _CJK_WORDS)
    if kind < 0.85:
        return f"{_int(rng, (1990, 2030))}年{_int(rng, (1, 12))}月"
    return f"{_int(rng, (1, 9999))}元"


def _text(rng: random.Random, fonts: Sequence[FontFace], lengths: Tuple[int, int]) -> Tuple[str, FontFace]:
    """A line of text and the face to draw it with: Chinese for a quarter of the lines where a CJK face exists."""
    cjk = [f for f in fonts if f.cjk]
    chinese = bool(cjk) and rng.random() < 0.25
    token, joiner = (_chinese_token, "") if chinese else (_token, " ")
    if chinese:  # a Chinese character is about as wide as two Latin ones
        lengths = (2, lengths[1] // 2)
    target = _int(rng, lengths)
    line = token(rng)
    while len(line) < target:
        line += joiner + token(rng)
    return line[:lengths[1]].rstrip(), _pick(rng, cjk if chinese else [f for f in fonts if not f.cjk])


def _loader() -> Loader:
    """Fonts by face and size, each file opened once per render, laid out by Pillow's basic engine (libraqm's
    presence would change the pixels)."""
    @functools.lru_cache(maxsize=None)
    def load(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(face.path), size, index=face.index, layout_engine=ImageFont.Layout.BASIC)
    return load


def _line_image(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> Tuple[Image.Image, str]:
    """A cropped text line as a recogniser sees one: dark text, light background, a few pixels of padding, sometimes
    a slight blur."""
    text, face = _text(rng, fonts, _REC_LENGTH)
    font = load(face, _int(rng, _REC_SIZE))
    ascent, descent = font.getmetrics()
    left, _, right, _ = font.getbbox(text)
    pad_x, pad_y = _int(rng, (2, 10)), _int(rng, (2, 8))
    image = Image.new("RGB", (right - left + 2 * pad_x, ascent + descent + 2 * pad_y), _light(rng))
    ImageDraw.Draw(image).text((pad_x - left, pad_y), text, font=font, fill=_dark(rng))
    if rng.random() < 0.2:
        image = image.filter(ImageFilter.GaussianBlur(_uniform(rng, 0.3, 0.9)))
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
        page, regions = _page(random.Random(f"{seed}:page:{i}"), fonts, load)
        label = [{"transcription": text, "points": quad} for text, quad in regions]
        rows.append(f"{_save(page, out, i)}\t{json.dumps(label, ensure_ascii=False)}\n")
    return rows


def _page(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> Tuple[Image.Image, List[Tuple[str, Quad]]]:
    """A light page with 3 to 8 dark text lines at free spots, some tilted by up to 10 degrees; each line's region is
    the tight quad (top-left, top-right, bottom-right, bottom-left) around its ink, in page pixels. A line that finds
    no free spot in a few tries is left out."""
    width, height = _int(rng, _PAGE_WIDTH), _int(rng, _PAGE_HEIGHT)
    page = Image.new("RGB", (width, height), _light(rng))
    taken: List[Box] = []
    regions = []
    for _ in range(_int(rng, _PAGE_LINES)):
        text, face = _text(rng, fonts, _DET_LENGTH)
        mask, ink = _ink_mask(text, load(face, _int(rng, _DET_SIZE)))
        tilt = _uniform(rng, -_MAX_TILT, _MAX_TILT) if rng.random() < 0.4 else 0.0
        spot = _free_spot(rng, _tilted_corners(ink, mask.size, tilt), (width, height), taken)
        if spot is None:
            continue
        centre, corners = spot
        taken.append(_bounds(corners, _PAGE_MARGIN))
        page.paste(_dark(rng), (0, 0, width, height), _place(mask, centre, tilt, (width, height)))
        regions.append((text, [[round(x), round(y)] for x, y in corners]))
    return page, regions


def _ink_mask(text: str, font: ImageFont.FreeTypeFont) -> Tuple[Image.Image, Tuple[int, int, int, int]]:
    """The text drawn white on black with a small margin, and the bounding box of its ink."""
    left, top, right, bottom = font.getbbox(text)
    margin = 4
    mask = Image.new("L", (right - left + 2 * margin, bottom - top + 2 * margin), 0)
    ImageDraw.Draw(mask).text((margin - left, margin - top), text, font=font, fill=255)
    return mask, mask.getbbox()


def _rotate(x: float, y: float, tilt: float) -> Point:
    """(x, y) turned by `tilt` degrees anticlockwise on the page (y points down)."""
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    return c * x + s * y, -s * x + c * y


def _tilted_corners(ink: Tuple[int, int, int, int], size: Tuple[int, int], tilt: float) -> List[Point]:
    """The ink box's corners, clockwise from top-left, turned by `tilt` about the mask's centre, relative to it."""
    left, top, right, bottom = ink
    cx, cy = size[0] / 2, size[1] / 2
    return [_rotate(x - cx, y - cy, tilt) for x, y in ((left, top), (right, top), (right, bottom), (left, bottom))]


def _bounds(corners: Sequence[Point], grow: float) -> Box:
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return min(xs) - grow, min(ys) - grow, max(xs) + grow, max(ys) + grow


def _free_spot(rng: random.Random, corners: List[Point], page: Tuple[int, int],
               taken: List[Box]) -> Optional[Tuple[Point, List[Point]]]:
    """A centre where the corners stay inside the page's margin and off every taken box, and the corners there."""
    left, top, right, bottom = _bounds(corners, _PAGE_MARGIN)
    if right - left > page[0] or bottom - top > page[1]:
        return None
    for _ in range(30):
        cx, cy = _uniform(rng, -left, page[0] - right), _uniform(rng, -top, page[1] - bottom)
        box = (cx + left, cy + top, cx + right, cy + bottom)
        if all(box[2] <= t[0] or t[2] <= box[0] or box[3] <= t[1] or t[3] <= box[1] for t in taken):
            return (cx, cy), [(cx + x, cy + y) for x, y in corners]
    return None


def _place(mask: Image.Image, centre: Point, tilt: float, page: Tuple[int, int]) -> Image.Image:
    """A page-sized mask holding `mask` turned by `tilt` about its centre, that centre put at `centre`."""
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    mx, my = mask.size[0] / 2, mask.size[1] / 2
    # The inverse of page = centre + R (p - m): p = m + R^T (page - centre), as Image.transform wants it.
    inverse = (c, -s, mx - c * centre[0] + s * centre[1], s, c, my - s * centre[0] - c * centre[1])
    return mask.transform(page, Image.Transform.AFFINE, inverse, resample=Image.Resampling.BICUBIC)


_RENDERERS = {"rec": _render_rec, "cls": _render_cls, "det": _render_det}
