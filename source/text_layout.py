"""The layout of a synthetic page's text: blocks of lines (paragraphs, ruled tables, single lines, some underlined),
each line drawn as a white-on-black ink mask, the block turned by a tilt and placed at a free spot of the page, and
every line's ink quad on the page (the label) with the rules of its block."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from PIL import Image, ImageDraw, ImageFont

from .text_draws import integer, pick, uniform
from .text_fonts import FontFace, Loader
from .text_words import line_text

_PAGE_LINES = (8, 20)
_PAGE_MARGIN = 8  # pixels kept free at the page's edges and around every block of text
_MAX_TILT = 15.0  # degrees

Point = Tuple[float, float]
Box = Tuple[float, float, float, float]  # left, top, right, bottom
Quad = List[List[int]]
Rule = Tuple[Point, Point, int]  # a straight rule: start, end, width


@dataclass
class Line:
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


def _det_size(rng: random.Random) -> int:
    """A font size in pixels: small (10-14) for 35 % of the blocks, large (29-44) for a tenth."""
    kind = rng.random()
    return integer(rng, (10, 14) if kind < 0.35 else (29, 44) if kind > 0.9 else (15, 28))


def layout(rng: random.Random, fonts: Sequence[FontFace], load: Loader,
           size: Tuple[int, int]) -> Tuple[List[Line], List[Rule]]:
    """The page's lines, placed as paragraphs, tables and single lines at free spots (a block that finds none is left
    out), and the rules (start, end, width) of its tables and underlines."""
    target = integer(rng, _PAGE_LINES)
    taken: List[Box] = []
    lines: List[Line] = []
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
        tilt = uniform(rng, -_MAX_TILT, _MAX_TILT) if not block_rules and rng.random() < 0.35 else 0.0
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
    size, face = _det_size(rng), pick(rng, fonts)
    font = load(face, size)
    pitch = sum(font.getmetrics()) * uniform(rng, 1.0, 1.5)
    block = []
    for k in range(integer(rng, (2, 5))):
        text, _ = line_text(rng, fonts, (12, 44), face)
        mask = _ink_mask(text, font)
        block.append((text, mask, size, (mask.size[0] / 2, k * pitch + mask.size[1] / 2)))
    return block


def _table(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> Tuple[_Block, List[Rule]]:
    """A ruled table of 2 to 5 rows and 2 or 3 columns of short texts (a few cells left empty), its rules kept at
    least 6 pixels from the ink."""
    size, face = _det_size(rng), pick(rng, fonts)
    font = load(face, size)
    rows, cols = integer(rng, (2, 5)), integer(rng, (2, 3))
    pad = integer(rng, (6, 12))
    cells = [[None if rng.random() < 0.15 else line_text(rng, fonts, (3, 14), face)[0] for _ in range(cols)]
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
    width = integer(rng, (1, 2))
    rules = [((xs[0], y), (xs[-1], y), width) for y in ys] + [((x, ys[0]), (x, ys[-1]), width) for x in xs]
    if rng.random() < 0.5:  # only the rows' rules
        rules = rules[:rows + 1]
    return block, rules


def _single(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> Tuple[_Block, List[Rule]]:
    """One line, sometimes underlined (a rule 1 to 3 pixels beyond the line's keep-out zone, see
    text_pages._keep_out)."""
    size = _det_size(rng)
    text, face = line_text(rng, fonts, (4, 28))
    mask = _ink_mask(text, load(face, size))
    block = [(text, mask, size, (mask.size[0] / 2, mask.size[1] / 2))]
    if rng.random() > 0.12:
        return block, []
    left, _, right, bottom = mask.getbbox()
    y = bottom + 4 + size // 8 + integer(rng, (1, 3))
    return block, [((left, y), (right, y), integer(rng, (1, 2)))]


def _ink_mask(text: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    """The text drawn white on black with a 4-pixel margin, the face's full height tall (so lines of one face share a
    baseline), as wide as its ink."""
    left, _, right, _ = font.getbbox(text)
    margin = 4
    mask = Image.new("L", (right - left + 2 * margin, sum(font.getmetrics()) + 2 * margin), 0)
    ImageDraw.Draw(mask).text((margin - left, margin), text, font=font, fill=255)
    return mask


def _put(rng: random.Random, block: _Block, rules: List[Rule], tilt: float, page: Tuple[int, int],
         taken: List[Box]) -> Optional[Tuple[List[Line], List[Rule]]]:
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
    taken.append(bounds([(x0 + x, y0 + y) for x, y in map(turned, corners)], _PAGE_MARGIN))
    lines = []
    for text, mask, size, centre in block:
        cx, cy = turned(centre)
        ink = mask.getbbox()
        own = _ink_corners(ink, (-mask.size[0] / 2, -mask.size[1] / 2))
        line_corners = [(x0 + cx + x, y0 + cy + y) for x, y in (_rotate(px, py, tilt) for px, py in own)]
        lines.append(Line(text, mask, size, tilt, (x0 + cx, y0 + cy), line_corners,
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


def bounds(corners: Sequence[Point], grow: float) -> Box:
    """The box around `corners`, grown by `grow` on every side."""
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return min(xs) - grow, min(ys) - grow, max(xs) + grow, max(ys) + grow


def _free_spot(rng: random.Random, corners: List[Point], page: Tuple[int, int],
               taken: List[Box]) -> Optional[Tuple[Point, List[Point]]]:
    """A centre where the corners stay inside the page's margin and off every taken box, and the corners there."""
    left, top, right, bottom = bounds(corners, _PAGE_MARGIN)
    if right - left > page[0] or bottom - top > page[1]:
        return None
    for _ in range(30):
        cx, cy = uniform(rng, -left, page[0] - right), uniform(rng, -top, page[1] - bottom)
        box = (cx + left, cy + top, cx + right, cy + bottom)
        if all(box[2] <= t[0] or t[2] <= box[0] or box[3] <= t[1] or t[3] <= box[1] for t in taken):
            return (cx, cy), [(cx + x, cy + y) for x, y in corners]
    return None
