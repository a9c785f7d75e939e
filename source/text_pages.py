"""Synthetic pages for the detector, drawn around the lines text_layout.py places: a ground (paper, gradient, photo-like
or dark, with blotches, texture and panels), badges under some lines, an ink for each line chosen against the ground
under it, clutter that is not text kept off the lines, the lines themselves, then shading, blur, resampling or grain."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from .text_draws import RGB, any_colour, dark, integer, light, luma, tinted, uniform, with_luma
from .text_fonts import FontFace, Loader
from .text_layout import Line, Point, Rule, bounds, layout

_PAGE_WIDTH = (640, 960)
_PAGE_HEIGHT = (480, 720)
_LOW_CONTRAST = (35, 60)  # grey levels between a low-contrast line and the ground under it
_CONTRAST = (80, 200)


@dataclass
class _Page:
    """A drawn page: the image, its lines (the labels), `text`, the page-sized alpha of the text alone before any
    degradation, which the labels enclose, and `clutter`, the alpha of what was drawn that is not text."""

    image: Image.Image
    lines: List[Line]
    text: Image.Image
    clutter: Image.Image


def draw_page(rng: random.Random, fonts: Sequence[FontFace], load: Loader) -> _Page:
    """A page: its ground, the lines laid out at free spots, badges under some, an ink for each line chosen against
    the ground under it (a line whose ground leaves no room for 35 levels of contrast either way is not drawn), clutter
    around the lines, the lines, then the page's degradations."""
    size = integer(rng, _PAGE_WIDTH), integer(rng, _PAGE_HEIGHT)
    page = _ground(rng, size)
    laid_out, rules = layout(rng, fonts, load, size)
    draw = ImageDraw.Draw(page)
    for line in laid_out:
        if line.badge:
            left, top, right, bottom = bounds(line.corners, integer(rng, (3, 8)))
            draw.rounded_rectangle((left, top, right, bottom), radius=integer(rng, (0, 6)), fill=any_colour(rng))
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
        page = _blotched(rng, Image.new("RGB", size, light(rng)), (8, 30))
    elif style < 0.65:
        first, second = any_colour(rng), any_colour(rng)
        ramp = Image.linear_gradient("L").rotate(uniform(rng, 0, 360), resample=Image.Resampling.BICUBIC,
                                                 expand=True, fillcolor=128)
        page = Image.composite(Image.new("RGB", size, first), Image.new("RGB", size, second),
                               ramp.resize(size, Image.Resampling.BILINEAR))
        page = _blotched(rng, page, (0, 20))
    elif style < 0.85:
        small = (max(1, width // 8), max(1, height // 8))
        photo = Image.new("RGB", small, any_colour(rng))
        draw = ImageDraw.Draw(photo)
        for _ in range(integer(rng, (4, 12))):
            x, y = uniform(rng, -20, small[0]), uniform(rng, -20, small[1])
            w, h = uniform(rng, 10, small[0] / 2), uniform(rng, 10, small[1] / 2)
            shape = draw.ellipse if rng.random() < 0.6 else draw.rectangle
            shape((x, y, x + w, y + h), fill=any_colour(rng))
        photo = photo.filter(ImageFilter.GaussianBlur(uniform(rng, 2, 6)))
        page = photo.resize(size, Image.Resampling.BICUBIC)
    else:
        page = _blotched(rng, Image.new("RGB", size, tinted(rng, (15, 80), 25)), (5, 20))
    if rng.random() < 0.3:
        page = _blotched(rng, page, (15, 40), (3, 10))
    draw = ImageDraw.Draw(page)
    for _ in range(integer(rng, (0, 3)) if rng.random() < 0.5 else 0):  # panels: a header band, a sticker, a logo
        x, y = uniform(rng, -50, width - 50), uniform(rng, -50, height - 50)
        w, h = uniform(rng, 60, width * 0.7), uniform(rng, 30, height * 0.4)
        if rng.random() < 0.7:
            draw.rounded_rectangle((x, y, x + w, y + h), radius=integer(rng, (0, 20)), fill=any_colour(rng))
        else:
            draw.ellipse((x, y, x + w, y + h), fill=any_colour(rng))
    return page


def _blotched(rng: random.Random, page: Image.Image, strength: Tuple[int, int],
              cells: Tuple[int, int] = (40, 160)) -> Image.Image:
    """`page` mixed, by a smooth random field of up to `strength` percent varying over `cells` pixels, with a colour
    near its own (stains, uneven paper, a wall; with small cells, a grainy or woven texture)."""
    width, height = page.size
    grid = (max(2, width // integer(rng, cells)), max(2, height // integer(rng, cells)))
    limit = integer(rng, strength) * 255 // 100
    field = Image.new("L", grid)
    field.putdata([int(rng.random() * (limit + 1)) for _ in range(grid[0] * grid[1])])
    field = field.resize(page.size, Image.Resampling.BICUBIC)
    base = page.getpixel((0, 0))
    stain = tuple(min(255, max(0, c + integer(rng, (-120, 60)))) for c in base)
    return Image.composite(Image.new("RGB", page.size, stain), page, field)


def _place(mask: Image.Image, centre: Point, tilt: float, page: Tuple[int, int]) -> Image.Image:
    """A page-sized mask holding `mask` turned by `tilt` about its centre, that centre put at `centre`."""
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    mx, my = mask.size[0] / 2, mask.size[1] / 2
    # The inverse of page = centre + R (p - m): p = m + R^T (page - centre), as Image.transform wants it.
    inverse = (c, -s, mx - c * centre[0] + s * centre[1], s, c, my - s * centre[0] - c * centre[1])
    return mask.transform(page, Image.Transform.AFFINE, inverse, resample=Image.Resampling.BICUBIC)


def _keep_out(lines: Sequence[Line], size: Tuple[int, int]) -> Image.Image:
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


def _clutter(rng: random.Random, page: Image.Image, lines: Sequence[Line],
             rules: Sequence[Rule]) -> Image.Image:
    """Draw what is not text on `page`, off every line's keep-out zone: the layout's rules, then 3 to 12 of: long
    rules, frames, bar codes, hatching, dotted leaders, scribbles, dots and shapes; return its alpha."""
    width, height = page.size
    layer = Image.new("RGBA", page.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    stroke = dark(rng) if luma(page.getpixel((0, 0))) > 100 else light(rng)
    for start, end, rule_width in rules:
        draw.line((start, end), fill=stroke + (255,), width=rule_width)
    for _ in range(integer(rng, (3, 12))):
        colour = (stroke if rng.random() < 0.5 else any_colour(rng)) + (255,)
        x, y = integer(rng, (0, width)), integer(rng, (0, height))
        w, h = integer(rng, (20, width // 2)), integer(rng, (15, height // 3))
        kind = rng.random()
        if kind < 0.2:  # a rule across much of the page
            if rng.random() < 0.6:
                draw.line(((x - w, y), (x + w, y)), fill=colour, width=integer(rng, (1, 3)))
            else:
                draw.line(((x, y - h), (x, y + h)), fill=colour, width=integer(rng, (1, 3)))
        elif kind < 0.35:  # a frame
            draw.rounded_rectangle((x, y, x + w, y + h), radius=integer(rng, (0, 10)), outline=colour,
                                   width=integer(rng, (1, 3)))
        elif kind < 0.47:  # a bar code
            bar_x, bar_h, end = x, integer(rng, (20, 60)), x + integer(rng, (60, 160))
            while bar_x < end:
                bar_w = integer(rng, (1, 4))
                draw.rectangle((bar_x, y, bar_x + bar_w - 1, y + bar_h), fill=colour)
                bar_x += bar_w + integer(rng, (1, 4))
        elif kind < 0.57:  # hatching
            step, slant = integer(rng, (4, 10)), uniform(rng, -1.5, 1.5) * h
            for k in range(w // step):
                draw.line(((x + k * step, y), (x + k * step + slant, y + h)), fill=colour, width=1)
        elif kind < 0.67:  # a dotted or dashed leader
            dot, gap = integer(rng, (1, 4)), integer(rng, (3, 8))
            for k in range(w // (dot + gap)):
                draw.rectangle((x + k * (dot + gap), y, x + k * (dot + gap) + dot - 1, y + dot - 1), fill=colour)
        elif kind < 0.79:  # a scribble: a signature, a doodle
            points = [(x, y)]
            for _ in range(integer(rng, (5, 14))):
                points.append((points[-1][0] + uniform(rng, -10, 25), y + uniform(rng, -h / 4, h / 4)))
            draw.line(points, fill=colour, width=integer(rng, (1, 3)), joint="curve")
        elif kind < 0.9:  # dots and small shapes: bullets, icons
            for _ in range(integer(rng, (1, 6))):
                r = uniform(rng, 2, 12)
                cx, cy = x + uniform(rng, 0, w), y + uniform(rng, 0, h)
                if rng.random() < 0.5:
                    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
                else:
                    draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
        else:  # a filled block: a photo, a stamp
            draw.rectangle((x, y, x + w // 2, y + h // 2), fill=colour)
    alpha = ImageChops.multiply(layer.getchannel("A"), ImageChops.invert(_keep_out(lines, page.size)))
    page.paste(layer.convert("RGB"), (0, 0), alpha)
    return alpha


def _ink(rng: random.Random, ground: Image.Image, line: Line) -> Optional[RGB]:
    """A colour for a line, against the ground's grey levels under its quad (2nd to 98th percentile): darker or
    lighter than all of them by 80 to 200 levels, or by 35 to 60 for a low-contrast quarter of the lines (14 px fonts
    and up), as far as the ground leaves room, and never by less than 35 (None where the ground leaves no such room: a line across a dark
    panel on light paper); a hue for a third of the lines, else near grey."""
    left, top, right, bottom = (int(v) for v in bounds(line.corners, 1))
    area = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(area).polygon([(x - left, y - top) for x, y in line.corners], fill=255)
    counts = ground.crop((left, top, right, bottom)).histogram(area)
    low, high = _percentile(counts, 0.02), _percentile(counts, 0.98)
    faint = rng.random() < 0.25 and line.size >= 14
    contrast = integer(rng, _LOW_CONTRAST if faint else _CONTRAST)
    room_dark, room_light = low, 255 - high
    darker = room_dark >= contrast or (room_dark >= room_light and room_light < contrast)
    if darker and room_light >= contrast and rng.random() < 0.25:
        darker = False  # light ink where both would do, now and then
    room = room_dark if darker else room_light
    colour = any_colour(rng) if rng.random() < 0.35 else tinted(rng, (0, 255), 12)
    if room < _LOW_CONTRAST[0]:
        return None
    contrast = min(contrast, room)
    return with_luma(colour, low - contrast if darker else high + contrast)


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
        page = page.filter(ImageFilter.GaussianBlur(uniform(rng, 0.5, 1.5)))
    if rng.random() < 0.3:
        scale = uniform(rng, 0.55, 0.85)
        small = page.resize((round(width * scale), round(height * scale)), Image.Resampling.BILINEAR)
        page = small.resize((width, height), Image.Resampling.BILINEAR)
    if rng.random() < 0.6:
        tile = Image.new("L", (128, 128))
        spread = integer(rng, (3, 14))
        tile.putdata([128 + int((rng.random() + rng.random() - 1) * spread) for _ in range(128 * 128)])
        grain = Image.new("L", page.size)
        dx, dy = integer(rng, (0, 127)), integer(rng, (0, 127))
        for x in range(-dx, width, 128):
            for y in range(-dy, height, 128):
                grain.paste(tile, (x, y))
        grain = grain.convert("RGB")
        page = ImageChops.add(page, grain, offset=-128)  # page + grain - 128, clipped to 0..255
    return page
