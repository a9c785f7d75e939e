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
turned by 180 degrees where its label says 180."""
from __future__ import annotations

import functools
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

import PIL
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, features

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir, sha256_file
from .fonts import noto_cjk_files
from .labels import read_labelled

KINDS = ("rec", "cls", "det")
LABEL_FILES = {"rec": "rec_gt.txt", "cls": "cls_gt.txt", "det": "det_gt.txt"}
LABEL_KINDS = {"rec": "recognition", "cls": "classification", "det": "detection"}  # the kind labels.py reads
MANIFEST = "synthetic.json"
GENERATOR = "paddle_edge.source.synthetic_text"
FORMAT = 2  # bump when the same arguments would draw other images

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
# Every character drawn is in PaddleOCR's ppocr_keys_v1.txt (space included: the PP-OCR configs set use_space_char).
ASCII_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-/()%$#@&+'"
_WORDS = ("invoice", "total", "amount", "date", "order", "customer", "address", "street", "city", "phone", "email",
          "price", "quantity", "item", "receipt", "payment", "balance", "account", "number", "store", "coffee", "bread",
          "milk", "apple", "ticket", "station", "platform", "exit", "open", "closed", "hours", "monday", "friday",
          "sale", "discount", "tax", "subtotal", "cash", "card", "change", "thank", "you", "welcome", "paddle", "edge",
          "board", "model", "river", "north", "south", "road", "room", "floor", "page", "section", "report", "net",
          "weight", "batch", "serial", "model", "voltage", "power", "input", "output", "made", "in", "use", "by")
_CJK_WORDS = ("公司", "日期", "金额", "电话", "地址", "银行", "名称", "数量", "总计", "中国", "大学", "发票", "价格",
              "合计", "人民", "时间", "北京", "上海", "号码", "单位", "订单", "编号", "客户", "商品", "单价", "备注",
              "联系人", "手机", "邮箱", "网址", "城市", "街道", "大厦", "广场", "医院", "学校", "超市", "餐厅", "咖啡",
              "面包", "牛奶", "苹果", "车票", "车站", "站台", "出口", "入口", "营业", "星期一", "星期五", "周末", "折扣",
              "税额", "小计", "现金", "刷卡", "找零", "谢谢", "欢迎", "光临", "会员", "积分", "余额", "账户", "收据",
              "付款", "退款", "发货", "配送", "快递", "包装", "重量", "尺寸", "颜色", "型号", "规格", "批次", "生产",
              "保质期", "有效期", "产地", "厂家", "电压", "功率", "输入", "输出", "注意", "安全", "禁止", "吸烟", "请勿",
              "停车", "开放", "关闭", "楼层", "房间", "会议室", "办公室", "部门", "经理", "报告", "第一", "第二", "章节",
              "天气", "温度", "湿度", "南京", "广州", "深圳", "杭州", "成都", "武汉", "西安", "重庆", "天津", "长江",
              "黄河", "东路", "西路", "南路", "北路", "中心", "服务", "科技", "有限", "责任", "股份", "集团", "工业",
              "农业", "交通", "运输", "教育", "文化", "体育", "健康", "环境", "能源", "数据", "网络", "信息", "系统",
              "管理", "设计", "开发", "测试", "版本")
CJK_CHARS = "".join(sorted(set("".join(_CJK_WORDS) + "年月日元第页号件￥，、：")))  # every non-ASCII character drawn
_CJK_PUNCTUATION = "，、："
_CHINESE_SHARE = 0.4  # of the lines, drawn in a Noto CJK face
_REC_LENGTH = (4, 24)  # in widths of a Latin character; a Chinese one counts two
_REC_SIZE = (24, 40)
_PAGE_WIDTH = (640, 960)
_PAGE_HEIGHT = (480, 720)
_PAGE_LINES = (8, 20)
_PAGE_MARGIN = 8  # pixels kept free at the page's edges and around every block of text
_MAX_TILT = 15.0  # degrees
_LOW_CONTRAST = (35, 60)  # grey levels between a low-contrast line and the ground under it
_CONTRAST = (80, 200)

T = TypeVar("T")
Point = Tuple[float, float]
Box = Tuple[float, float, float, float]  # left, top, right, bottom
Quad = List[List[int]]
RGB = Tuple[int, int, int]
Rule = Tuple[Point, Point, int]  # a straight rule: start, end, width


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
    """The faces drawn from: DejaVu (but its maths and extra-light faces), then the Simplified Chinese faces of Noto CJK
    (fetched on first use); raises when DejaVu is missing or Noto CJK cannot be had."""
    latin = [p for p in sorted(DEJAVU_DIR.glob("DejaVu*.ttf")) if not any(n in p.name for n in ("MathTeX", "ExtraLight"))]
    if not latin:
        raise PaddleEdgeError(f"no DejaVu fonts in {DEJAVU_DIR}",
                              "install them: apt-get install fonts-dejavu-core fonts-dejavu-extra")
    faces = [_face(path, 0, cjk=False) for path in latin]
    for path in noto_cjk_files():
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


@functools.lru_cache(maxsize=None)
def _face(path: Path, index: int, cjk: bool) -> FontFace:
    """One face, its file hashed once per process (the Noto CJK collections are 20-27 MB each)."""
    family, style = ImageFont.truetype(str(path), 12, index=index).getname()
    return FontFace(path, index, f"{family} {style}", cjk, sha256_file(path))


@functools.lru_cache(maxsize=None)
def _simplified_chinese_faces(path: Path) -> Tuple[int, ...]:
    """Indices of the Simplified Chinese faces ("... SC") in a Noto CJK collection; else its first face."""
    found = []
    for index in range(32):
        try:
            family, _ = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:
            break
        if family.endswith(" SC"):
            found.append(index)
    return tuple(found) or (0,)


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


def _tinted(rng: random.Random, grey: Tuple[int, int], tint: int) -> RGB:
    """A grey drawn from `grey`, each channel moved by up to `tint`."""
    base = _int(rng, grey)
    red, green, blue = (min(255, max(0, base + _int(rng, (-tint, tint)))) for _ in range(3))
    return red, green, blue


def _light(rng: random.Random) -> RGB:
    return _tinted(rng, (205, 250), 5)


def _dark(rng: random.Random) -> RGB:
    return _tinted(rng, (0, 70), 10)


def _any_colour(rng: random.Random) -> RGB:
    return _int(rng, (0, 255)), _int(rng, (0, 255)), _int(rng, (0, 255))


def _luma(colour: Sequence[int]) -> int:
    """ITU-R 601 luma, as Pillow's convert("L") computes it (to within one level)."""
    red, green, blue = colour[:3]
    return (299 * red + 587 * green + 114 * blue) // 1000


def _with_luma(colour: RGB, target: int) -> RGB:
    """`colour` darkened towards black or lightened towards white until its luma is `target` (to within a level)."""
    now = _luma(colour)
    if target <= now:
        return tuple(c * target // max(now, 1) for c in colour)  # type: ignore[return-value]
    return tuple(c + (255 - c) * (target - now) // max(255 - now, 1) for c in colour)  # type: ignore[return-value]


# --- text ----------------------------------------------------------------------------------------------------------

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
    """One token of a Chinese line: a word, a date, an amount, an ordinal, a punctuation mark or a Latin token."""
    kind = rng.random()
    if kind < 0.55:
        return _pick(rng, _CJK_WORDS)
    if kind < 0.63:
        date = f"{_int(rng, (1990, 2030))}年{_int(rng, (1, 12))}月"
        return date + (f"{_int(rng, (1, 28))}日" if rng.random() < 0.5 else "")
    if kind < 0.7:
        return f"{_int(rng, (1, 9999))}元" if rng.random() < 0.5 else f"￥{_int(rng, (0, 999))}.{_digits(rng, 2)}"
    if kind < 0.75:
        return f"第{_int(rng, (1, 99))}{_pick(rng, '页号件')}"
    if kind < 0.85:
        return _pick(rng, _CJK_PUNCTUATION)
    return _token(rng)


def _wide(char: str) -> bool:
    return ord(char) > 0x2E7F


def _width(text: str) -> int:
    """The width of `text` in Latin characters: a Chinese character counts two."""
    return sum(2 if _wide(c) else 1 for c in text)


def _joined(left: str, right: str) -> str:
    """Two pieces of a line: a space between Latin ones only; no punctuation mark at a line's start or after another."""
    if right in _CJK_PUNCTUATION and (not left or left[-1] in _CJK_PUNCTUATION):
        return left
    if left and not _wide(left[-1]) and not _wide(right[0]):
        return f"{left} {right}"
    return left + right


def _text(rng: random.Random, fonts: Sequence[FontFace], lengths: Tuple[int, int],
          face: Optional[FontFace] = None) -> Tuple[str, FontFace]:
    """A line of text and the face to draw it with (`face` where given): Chinese in a Noto CJK face for 40 % of the
    lines, else Latin in DejaVu; its width in Latin characters is drawn from `lengths`."""
    chinese = face.cjk if face is not None else rng.random() < _CHINESE_SHARE
    target, longest = _int(rng, lengths), lengths[1]
    token = _chinese_token if chinese else _token
    line = ""
    while _width(line) < target:
        line = _joined(line, token(rng))
    while _width(line) > longest:
        line = line[:-1]
    line = line.rstrip().rstrip(_CJK_PUNCTUATION).rstrip()
    if face is None:
        face = _pick(rng, [f for f in fonts if f.cjk == chinese])
    return line, face


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
    text, face = _text(rng, fonts, _REC_LENGTH)
    font = load(face, _int(rng, _REC_SIZE))
    top, bottom = _line_span(font, face, text)
    left, _, right, _ = font.getbbox(text)
    pad_x, pad_y = _int(rng, (2, 10)), _int(rng, (2, 8))
    image = Image.new("RGB", (right - left + 2 * pad_x, bottom - top + 2 * pad_y), _light(rng))
    ImageDraw.Draw(image).text((pad_x - left, pad_y - top), text, font=font, fill=_dark(rng))
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


# --- pages ---------------------------------------------------------------------------------------------------------

def _render_det(out: Path, count: int, seed: int, fonts: Sequence[FontFace]) -> List[str]:
    load = _loader()
    rows = []
    for i in range(count):
        page = _page(random.Random(f"{seed}:page:{i}"), fonts, load)
        label = [{"transcription": line.text, "points": line.quad} for line in page.lines]
        rows.append(f"{_save(page.image, out, i)}\t{json.dumps(label, ensure_ascii=False)}\n")
    return rows


@dataclass
class _Line:
    """One line of a page: its text and mask (the text white on black, see _ink_mask), turned by `tilt` degrees about
    the mask's centre, which goes to `centre` on the page; `corners` is its ink quad there."""

    text: str
    mask: Image.Image
    size: int
    tilt: float
    centre: Point
    corners: List[Point]
    badge: bool = False

    @property
    def quad(self) -> Quad:
        return [[round(x), round(y)] for x, y in self.corners]


@dataclass
class _Page:
    """A drawn page: the image, its lines (the labels), `text`, the page-sized alpha of the text alone before any
    degradation, which the labels enclose, and `clutter`, the alpha of what was drawn that is not text."""

    image: Image.Image
    lines: List[_Line]
    text: Image.Image
    clutter: Image.Image


def _page(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> _Page:
    """A page: its ground, the lines laid out at free spots, badges under some, an ink for each line chosen against
    the ground under it (a line whose ground leaves no room for 35 levels of contrast either way is not drawn), clutter
    around the lines, the lines, then the page's degradations."""
    size = _int(rng, _PAGE_WIDTH), _int(rng, _PAGE_HEIGHT)
    page = _ground(rng, size)
    laid_out, rules = _layout(rng, fonts, load, size)
    draw = ImageDraw.Draw(page)
    for line in laid_out:
        if line.badge:
            left, top, right, bottom = _bounds(line.corners, _int(rng, (3, 8)))
            draw.rounded_rectangle((left, top, right, bottom), radius=_int(rng, (0, 6)), fill=_any_colour(rng))
    ground = page.convert("L")
    inks = [(line, _ink(rng, ground, line)) for line in laid_out]
    lines = [line for line, ink in inks if ink is not None]
    clutter = _clutter(rng, page, lines, rules)
    text = Image.new("L", size, 0)
    for line, ink in inks:
        if ink is not None:
            placed = _place(line.mask, line.centre, line.tilt, size)
            page.paste(ink, (0, 0, *size), placed)
            text = ImageChops.lighter(text, placed)
    return _Page(_degraded(rng, page), lines, text, clutter)


def _ground(rng: random.Random, size: Tuple[int, int]) -> Image.Image:
    """The page's ground: paper (light, with blotches), a two-colour gradient, a photo-like blur of shapes, or a dark
    ground; for 30 % of the pages a fine texture over it; sometimes panels of another colour on it."""
    width, height = size
    style = rng.random()
    if style < 0.4:
        page = _blotched(rng, Image.new("RGB", size, _light(rng)), (8, 30))
    elif style < 0.65:
        first, second = _any_colour(rng), _any_colour(rng)
        ramp = Image.linear_gradient("L").rotate(_uniform(rng, 0, 360), resample=Image.Resampling.BICUBIC,
                                                 expand=True, fillcolor=128)
        page = Image.composite(Image.new("RGB", size, first), Image.new("RGB", size, second),
                               ramp.resize(size, Image.Resampling.BILINEAR))
        page = _blotched(rng, page, (0, 20))
    elif style < 0.85:
        small = (max(1, width // 8), max(1, height // 8))
        photo = Image.new("RGB", small, _any_colour(rng))
        draw = ImageDraw.Draw(photo)
        for _ in range(_int(rng, (4, 12))):
            x, y = _uniform(rng, -20, small[0]), _uniform(rng, -20, small[1])
            w, h = _uniform(rng, 10, small[0] / 2), _uniform(rng, 10, small[1] / 2)
            shape = draw.ellipse if rng.random() < 0.6 else draw.rectangle
            shape((x, y, x + w, y + h), fill=_any_colour(rng))
        photo = photo.filter(ImageFilter.GaussianBlur(_uniform(rng, 2, 6)))
        page = photo.resize(size, Image.Resampling.BICUBIC)
    else:
        page = _blotched(rng, Image.new("RGB", size, _tinted(rng, (15, 80), 25)), (5, 20))
    if rng.random() < 0.3:
        page = _blotched(rng, page, (15, 40), (3, 10))
    draw = ImageDraw.Draw(page)
    for _ in range(_int(rng, (0, 3)) if rng.random() < 0.5 else 0):  # panels: a header band, a sticker, a logo
        x, y = _uniform(rng, -50, width - 50), _uniform(rng, -50, height - 50)
        w, h = _uniform(rng, 60, width * 0.7), _uniform(rng, 30, height * 0.4)
        if rng.random() < 0.7:
            draw.rounded_rectangle((x, y, x + w, y + h), radius=_int(rng, (0, 20)), fill=_any_colour(rng))
        else:
            draw.ellipse((x, y, x + w, y + h), fill=_any_colour(rng))
    return page


def _blotched(rng: random.Random, page: Image.Image, strength: Tuple[int, int],
              cells: Tuple[int, int] = (40, 160)) -> Image.Image:
    """`page` mixed, by a smooth random field of up to `strength` percent varying over `cells` pixels, with a colour
    near its own (stains, uneven paper, a wall; with small cells, a grainy or woven texture)."""
    width, height = page.size
    grid = (max(2, width // _int(rng, cells)), max(2, height // _int(rng, cells)))
    limit = _int(rng, strength) * 255 // 100
    field = Image.new("L", grid)
    field.putdata([int(rng.random() * (limit + 1)) for _ in range(grid[0] * grid[1])])
    field = field.resize(page.size, Image.Resampling.BICUBIC)
    base = page.getpixel((0, 0))
    stain = tuple(min(255, max(0, c + _int(rng, (-120, 60)))) for c in base)
    return Image.composite(Image.new("RGB", page.size, stain), page, field)


def _det_size(rng: random.Random) -> int:
    """A font size in pixels: small (10-14) for 35 % of the blocks, large (29-44) for a tenth."""
    kind = rng.random()
    return _int(rng, (10, 14) if kind < 0.35 else (29, 44) if kind > 0.9 else (15, 28))


def _layout(rng: random.Random, fonts: Sequence[FontFace], load: Loader,
            size: Tuple[int, int]) -> Tuple[List[_Line], List[Rule]]:
    """The page's lines, placed as paragraphs, tables and single lines at free spots (a block that finds none is left
    out), and the rules (start, end, width) of its tables and underlines."""
    target = _int(rng, _PAGE_LINES)
    taken: List[Box] = []
    lines: List[_Line] = []
    rules: List[Rule] = []
    for _ in range(3 * target):
        if len(lines) >= target:
            break
        kind = rng.random()
        if kind < 0.3:
            block, block_rules = _paragraph(rng, fonts, load), []
        elif kind < 0.42:
            block, block_rules = _table(rng, fonts, load)
        else:
            block, block_rules = _single(rng, fonts, load)
        tilt = _uniform(rng, -_MAX_TILT, _MAX_TILT) if not block_rules and rng.random() < 0.35 else 0.0
        if kind < 0.3 and tilt:
            tilt /= 3  # a whole paragraph turned: a page photographed a little askew
        placed = _put(rng, block, block_rules, tilt, size, taken)
        if placed is not None:
            lines += placed[0]
            rules += placed[1]
    return lines, rules


# A block: lines as (text, mask, font size, mask centre) in the block's own upright coordinates, placed together.
_Block = List[Tuple[str, Image.Image, int, Point]]


def _paragraph(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> _Block:
    """2 to 5 lines of one face and size, left-aligned, at a line pitch of 1.0 to 1.5 times the face's height."""
    size, face = _det_size(rng), _pick(rng, fonts)
    font = load(face, size)
    pitch = sum(font.getmetrics()) * _uniform(rng, 1.0, 1.5)
    block = []
    for k in range(_int(rng, (2, 5))):
        text, _ = _text(rng, fonts, (12, 44), face)
        mask = _ink_mask(text, font)
        block.append((text, mask, size, (mask.size[0] / 2, k * pitch + mask.size[1] / 2)))
    return block


def _table(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> Tuple[_Block, List[Rule]]:
    """A ruled table of 2 to 5 rows and 2 or 3 columns of short texts (a few cells left empty), its rules kept at
    least 6 pixels from the ink."""
    size, face = _det_size(rng), _pick(rng, fonts)
    font = load(face, size)
    rows, cols = _int(rng, (2, 5)), _int(rng, (2, 3))
    pad = _int(rng, (6, 12))
    cells = [[None if rng.random() < 0.15 else _text(rng, fonts, (3, 14), face)[0] for _ in range(cols)]
             for _ in range(rows)]
    masks = [[_ink_mask(text, font) if text else None for text in row] for row in cells]
    widths = [max([m.size[0] for m in (row[c] for row in masks) if m is not None] or [size]) for c in range(cols)]
    height = sum(font.getmetrics()) + 8  # a mask's height: the face's and its margin
    xs = [0.0]
    for w in widths:
        xs.append(xs[-1] + w + 2 * pad)
    ys = [k * (height + 2 * pad) for k in range(rows + 1)]
    block = [(cells[r][c], masks[r][c], size, (xs[c] + pad + masks[r][c].size[0] / 2, ys[r] + pad + height / 2))
             for r in range(rows) for c in range(cols) if masks[r][c] is not None]
    width = _int(rng, (1, 2))
    rules = [((xs[0], y), (xs[-1], y), width) for y in ys] + [((x, ys[0]), (x, ys[-1]), width) for x in xs]
    if rng.random() < 0.5:  # only the rows' rules
        rules = rules[:rows + 1]
    return block, rules


def _single(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> Tuple[_Block, List[Rule]]:
    """One line, sometimes underlined (a rule 1 to 3 pixels beyond the line's keep-out zone, see _keep_out)."""
    size = _det_size(rng)
    text, face = _text(rng, fonts, (4, 28))
    mask = _ink_mask(text, load(face, size))
    block = [(text, mask, size, (mask.size[0] / 2, mask.size[1] / 2))]
    if rng.random() > 0.12:
        return block, []
    left, _, right, bottom = mask.getbbox()
    y = bottom + 4 + size // 8 + _int(rng, (1, 3))
    return block, [((left, y), (right, y), _int(rng, (1, 2)))]


def _ink_mask(text: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    """The text drawn white on black with a 4-pixel margin, the face's full height tall (so lines of one face share a
    baseline), as wide as its ink."""
    left, _, right, _ = font.getbbox(text)
    margin = 4
    mask = Image.new("L", (right - left + 2 * margin, sum(font.getmetrics()) + 2 * margin), 0)
    ImageDraw.Draw(mask).text((margin - left, margin), text, font=font, fill=255)
    return mask


def _put(rng: random.Random, block: _Block, rules: List[Rule], tilt: float, page: Tuple[int, int],
         taken: List[Box]) -> Optional[Tuple[List[_Line], List[Rule]]]:
    """The block turned by `tilt` about its centre and moved to a free spot: its lines and rules in page pixels; None
    where no spot is free. The spot's bounds join `taken`."""
    if not block:
        return None
    corners = [(x, y) for _, mask, _, (cx, cy) in block
               for x, y in _ink_corners(mask.getbbox(), (cx - mask.size[0] / 2, cy - mask.size[1] / 2))]
    corners += [end for start_end in ((s, e) for s, e, _ in rules) for end in start_end]
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    mid = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)

    def turned(point: Point) -> Point:
        return _rotate(point[0] - mid[0], point[1] - mid[1], tilt)

    spot = _free_spot(rng, [turned(p) for p in corners], page, taken)
    if spot is None:
        return None
    (x0, y0), _ = spot
    taken.append(_bounds([(x0 + x, y0 + y) for x, y in map(turned, corners)], _PAGE_MARGIN))
    lines = []
    for text, mask, size, centre in block:
        cx, cy = turned(centre)
        ink = mask.getbbox()
        own = _ink_corners(ink, (-mask.size[0] / 2, -mask.size[1] / 2))
        line_corners = [(x0 + cx + x, y0 + cy + y) for x, y in (_rotate(px, py, tilt) for px, py in own)]
        lines.append(_Line(text, mask, size, tilt, (x0 + cx, y0 + cy), line_corners,
                           badge=len(block) == 1 and not rules and not tilt and rng.random() < 0.15))
    moved = []
    for start, end, width in rules:
        (sx, sy), (ex, ey) = turned(start), turned(end)
        moved.append(((x0 + sx, y0 + sy), (x0 + ex, y0 + ey), width))
    return lines, moved


def _ink_corners(ink: Tuple[int, int, int, int], offset: Point) -> List[Point]:
    """The ink box's corners, clockwise from top-left, moved by `offset`."""
    left, top, right, bottom = ink
    dx, dy = offset
    return [(left + dx, top + dy), (right + dx, top + dy), (right + dx, bottom + dy), (left + dx, bottom + dy)]


def _rotate(x: float, y: float, tilt: float) -> Point:
    """(x, y) turned by `tilt` degrees anticlockwise on the page (y points down)."""
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    return c * x + s * y, -s * x + c * y


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


def _keep_out(lines: Sequence[_Line], size: Tuple[int, int]) -> Image.Image:
    """A page mask of every line's quad grown by 3 pixels plus an eighth of its font size: where clutter stays out."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for line in lines:
        grow = 3 + line.size // 8
        corners = list(line.corners)
        draw.polygon(corners, fill=255)
        draw.line(corners + corners[:1], fill=255, width=2 * grow + 1)
        for x, y in corners:
            draw.ellipse((x - grow, y - grow, x + grow, y + grow), fill=255)
    return mask


def _clutter(rng: random.Random, page: Image.Image, lines: Sequence[_Line],
             rules: Sequence[Rule]) -> Image.Image:
    """Draw what is not text on `page`, off every line's keep-out zone: the layout's rules, then 3 to 12 of: long
    rules, frames, bar codes, hatching, dotted leaders, scribbles, dots and shapes; return its alpha."""
    width, height = page.size
    layer = Image.new("RGBA", page.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    stroke = _dark(rng) if _luma(page.getpixel((0, 0))) > 100 else _light(rng)
    for start, end, rule_width in rules:
        draw.line((start, end), fill=stroke + (255,), width=rule_width)
    for _ in range(_int(rng, (3, 12))):
        colour = (stroke if rng.random() < 0.5 else _any_colour(rng)) + (255,)
        x, y = _int(rng, (0, width)), _int(rng, (0, height))
        w, h = _int(rng, (20, width // 2)), _int(rng, (15, height // 3))
        kind = rng.random()
        if kind < 0.2:  # a rule across much of the page
            if rng.random() < 0.6:
                draw.line(((x - w, y), (x + w, y)), fill=colour, width=_int(rng, (1, 3)))
            else:
                draw.line(((x, y - h), (x, y + h)), fill=colour, width=_int(rng, (1, 3)))
        elif kind < 0.35:  # a frame
            draw.rounded_rectangle((x, y, x + w, y + h), radius=_int(rng, (0, 10)), outline=colour,
                                   width=_int(rng, (1, 3)))
        elif kind < 0.47:  # a bar code
            bar_x, bar_h, end = x, _int(rng, (20, 60)), x + _int(rng, (60, 160))
            while bar_x < end:
                bar_w = _int(rng, (1, 4))
                draw.rectangle((bar_x, y, bar_x + bar_w - 1, y + bar_h), fill=colour)
                bar_x += bar_w + _int(rng, (1, 4))
        elif kind < 0.57:  # hatching
            step, slant = _int(rng, (4, 10)), _uniform(rng, -1.5, 1.5) * h
            for k in range(w // step):
                draw.line(((x + k * step, y), (x + k * step + slant, y + h)), fill=colour, width=1)
        elif kind < 0.67:  # a dotted or dashed leader
            dot, gap = _int(rng, (1, 4)), _int(rng, (3, 8))
            for k in range(w // (dot + gap)):
                draw.rectangle((x + k * (dot + gap), y, x + k * (dot + gap) + dot - 1, y + dot - 1), fill=colour)
        elif kind < 0.79:  # a scribble: a signature, a doodle
            points = [(x, y)]
            for _ in range(_int(rng, (5, 14))):
                points.append((points[-1][0] + _uniform(rng, -10, 25), y + _uniform(rng, -h / 4, h / 4)))
            draw.line(points, fill=colour, width=_int(rng, (1, 3)), joint="curve")
        elif kind < 0.9:  # dots and small shapes: bullets, icons
            for _ in range(_int(rng, (1, 6))):
                r = _uniform(rng, 2, 12)
                cx, cy = x + _uniform(rng, 0, w), y + _uniform(rng, 0, h)
                if rng.random() < 0.5:
                    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
                else:
                    draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
        else:  # a filled block: a photo, a stamp
            draw.rectangle((x, y, x + w // 2, y + h // 2), fill=colour)
    alpha = ImageChops.multiply(layer.getchannel("A"), ImageChops.invert(_keep_out(lines, page.size)))
    page.paste(layer.convert("RGB"), (0, 0), alpha)
    return alpha


def _ink(rng: random.Random, ground: Image.Image, line: _Line) -> Optional[RGB]:
    """A colour for a line, against the ground's grey levels under its quad (2nd to 98th percentile): darker or
    lighter than all of them by 80 to 200 levels, or by 35 to 60 for a low-contrast quarter of the lines (14 px fonts
    and up), as far as the ground leaves room, and never by less than 35 (None where the ground leaves no such room: a line across a dark
    panel on light paper); a hue for a third of the lines, else near grey."""
    left, top, right, bottom = (int(v) for v in _bounds(line.corners, 1))
    area = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(area).polygon([(x - left, y - top) for x, y in line.corners], fill=255)
    counts = ground.crop((left, top, right, bottom)).histogram(area)
    low, high = _percentile(counts, 0.02), _percentile(counts, 0.98)
    faint = rng.random() < 0.25 and line.size >= 14
    contrast = _int(rng, _LOW_CONTRAST if faint else _CONTRAST)
    room_dark, room_light = low, 255 - high
    darker = room_dark >= contrast or (room_dark >= room_light and room_light < contrast)
    if darker and room_light >= contrast and rng.random() < 0.25:
        darker = False  # light ink where both would do, now and then
    room = room_dark if darker else room_light
    colour = _any_colour(rng) if rng.random() < 0.35 else _tinted(rng, (0, 255), 12)
    if room < _LOW_CONTRAST[0]:
        return None
    contrast = min(contrast, room)
    return _with_luma(colour, low - contrast if darker else high + contrast)


def _percentile(counts: Sequence[int], share: float) -> int:
    """The grey level below which `share` of a histogram's pixels lie."""
    total, seen = sum(counts), 0
    for level, n in enumerate(counts):
        seen += n
        if seen > share * total:
            return level
    return 255


def _degraded(rng: random.Random, page: Image.Image) -> Image.Image:
    """Some of: shading (uneven light), a blur, a resample through a lower resolution, grain."""
    width, height = page.size
    if rng.random() < 0.35:
        shade = _blotched(rng, Image.new("RGB", page.size, (255, 255, 255)), (15, 35))
        page = ImageChops.multiply(page, shade.convert("L").convert("RGB"))
    if rng.random() < 0.5:
        page = page.filter(ImageFilter.GaussianBlur(_uniform(rng, 0.5, 1.5)))
    if rng.random() < 0.3:
        scale = _uniform(rng, 0.55, 0.85)
        small = page.resize((round(width * scale), round(height * scale)), Image.Resampling.BILINEAR)
        page = small.resize((width, height), Image.Resampling.BILINEAR)
    if rng.random() < 0.6:
        tile = Image.new("L", (128, 128))
        spread = _int(rng, (3, 14))
        tile.putdata([128 + int((rng.random() + rng.random() - 1) * spread) for _ in range(128 * 128)])
        grain = Image.new("L", page.size)
        dx, dy = _int(rng, (0, 127)), _int(rng, (0, 127))
        for x in range(-dx, width, 128):
            for y in range(-dy, height, 128):
                grain.paste(tile, (x, y))
        grain = grain.convert("RGB")
        page = ImageChops.add(page, grain, offset=-128)  # page + grain - 128, clipped to 0..255
    return page


_RENDERERS = {"rec": _render_rec, "cls": _render_cls, "det": _render_det}
