"""Text boxes from a DB (Differentiable Binarization) probability map, found as PaddleOCR's DBPostProcess finds them
(box_type 'quad', score_mode 'fast') but with numpy only, so a board needs neither OpenCV nor pyclipper nor shapely.

The steps: threshold the map; take each 8-connected text region and each hole in one (OpenCV's contours, listed in
the order cv2.findContours lists them); fit the minimum-area rectangle; drop it if thin or if the map's mean inside
it is low; grow it by area * unclip_ratio / perimeter as pyclipper's round offset does (on integer corners, giving
integer points) and fit a new minimum-area rectangle; drop it if still thin; scale to the source image.

The geometry here is exact; OpenCV's minAreaRect works in float32, so where it puts a corner a hair below an integer
(which then cuts down to the integer below), or breaks a tie between two rectangles of equal area the other way,
PaddleOCR's box can differ by a pixel of the map, and its score a little."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class DbParams:
    """DBPostProcess's knobs with PP-OCR's inference defaults: a pixel is text above `thresh`; a box is kept when the
    map's mean inside it is at least `box_thresh` and its short side at least `min_size` pixels of the map (and
    `min_size` + 2 once grown by `unclip_ratio`); only the first `max_candidates` regions are looked at;
    `use_dilation` first grows the text pixels by a 2x2 square."""

    thresh: float = 0.3
    box_thresh: float = 0.6
    unclip_ratio: float = 1.5
    max_candidates: int = 1000
    min_size: float = 3.0
    use_dilation: bool = False

    def __post_init__(self) -> None:
        numbers = {"thresh": self.thresh, "box_thresh": self.box_thresh, "unclip_ratio": self.unclip_ratio,
                   "max_candidates": self.max_candidates, "min_size": self.min_size}
        bad = [f"{name}={value!r}" for name, value in numbers.items() if not (math.isfinite(value) and value >= 0)]
        bad += [f"{name}={value!r} (a probability: at most 1)" for name, value in
                (("thresh", self.thresh), ("box_thresh", self.box_thresh)) if value > 1]
        bad += [f"max_candidates={self.max_candidates!r} (no region would be looked at)"] if self.max_candidates < 1 else []
        if bad:
            raise InputError(f"DB parameters must be finite and not negative, thresholds at most 1, max_candidates at least 1; "
                             f"got {', '.join(bad)}",
                             "use PaddleOCR's values (thresh 0.3, box_thresh 0.6, unclip_ratio 1.5, max_candidates 1000) as a start")


@dataclass(frozen=True, eq=False)
class TextBox:
    """One text region: `points` is 4x2 (x, y) in source-image pixels, clockwise from the top-left corner, rounded and
    clipped to [0, width] x [0, height] as DBPostProcess leaves them; `score` is the map's mean inside the box."""

    points: np.ndarray
    score: float


def boxes_from_probability_map(prob: np.ndarray, source_size: Tuple[int, int],
                               params: DbParams = DbParams()) -> List[TextBox]:
    """The text boxes of one H x W probability map (the DB model's output [0, 0]), in the pixels of the source image
    whose (height, width) is `source_size`, in cv2.findContours' order (bottom of the map first)."""
    prob = np.asarray(prob)
    if prob.ndim != 2 or 0 in prob.shape or prob.dtype.kind not in "biuf":
        raise InputError(f"a DB probability map must be one real H x W array; got {prob.dtype} of shape {prob.shape}",
                         "pass the detection model's output [0, 0] (batch 0, channel 0)")
    if len(source_size) != 2 or min(source_size) <= 0:
        raise InputError(f"source_size must be the source image's (height, width), both positive; got {source_size}",
                         "pass image.shape[:2] of the image the map was computed from")
    height, width = prob.shape
    src_h, src_w = int(source_size[0]), int(source_size[1])
    boxes = []
    for points in _regions(_text_mask(prob, params), int(params.max_candidates)):
        extent = points.max(axis=0) - points.min(axis=0)
        if extent[0] * extent[1] < params.min_size ** 2:
            continue  # the bounding rectangle is a candidate, so the smallest one's short side is below min_size
        rect = _min_area_rect(points)
        if _short_side(rect) < params.min_size:
            continue
        corners = _corners(rect)
        score = _mean_inside(prob, corners)
        if score < params.box_thresh:
            continue
        grown = _unclip(corners, params.unclip_ratio)
        if len(grown) == 0:
            continue
        rect = _min_area_rect(grown)
        if _short_side(rect) < params.min_size + 2:
            continue
        box = _corners(rect)
        box[:, 0] = np.clip(np.round(box[:, 0] / width * src_w), 0, src_w)
        box[:, 1] = np.clip(np.round(box[:, 1] / height * src_h), 0, src_h)
        boxes.append(TextBox(points=box, score=score))
    return boxes


def _text_mask(prob: np.ndarray, params: DbParams) -> np.ndarray:
    """prob > thresh, dilated when asked as cv2.dilate with a 2x2 kernel does it: each pixel also marks the pixels to
    its right, below and below-right."""
    mask = prob > params.thresh
    if params.use_dilation:
        grown = mask.copy()
        grown[:, 1:] |= mask[:, :-1]
        grown[1:, :] |= mask[:-1, :]
        grown[1:, 1:] |= mask[:-1, :-1]
        mask = grown
    return mask


def _row_runs(mask: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, first column, last column) of every horizontal run of True, in raster order."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    ends = np.nonzero(step == -1)[1] - 1
    return rows, starts, ends


def _label_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int, diagonal: bool) -> np.ndarray:
    """Component label of each run, 0.. in raster order of the components' first runs. Runs of consecutive rows touch
    when their columns overlap (or meet diagonally, with `diagonal`); the components are found by hooking roots to the
    smaller root across each touching pair and jumping pointers, all vectorised."""
    count = len(rows)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    reach = 1 if diagonal else 0
    stride = width + 2
    start_key, end_key = rows * stride + starts, rows * stride + ends
    first = np.searchsorted(end_key, (rows - 1) * stride + starts - reach, side="left")
    stop = np.searchsorted(start_key, (rows - 1) * stride + ends + reach, side="right")
    touching = np.clip(stop - first, 0, None)
    below = np.repeat(np.arange(count), touching)
    offsets = np.arange(len(below)) - np.repeat(np.cumsum(touching) - touching, touching)
    above = np.repeat(first, touching) + offsets
    parent = np.arange(count)
    while True:
        root_a, root_b = parent[above], parent[below]
        differ = root_a != root_b
        if not differ.any():
            break
        np.minimum.at(parent, np.maximum(root_a, root_b)[differ], np.minimum(root_a, root_b)[differ])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    return np.unique(parent, return_inverse=True)[1].reshape(-1)


def _regions(mask: np.ndarray, limit: int) -> List[np.ndarray]:
    """For the first `limit` contours cv2.findContours(RETR_LIST) would list, in its order (the reverse of the raster
    order of the contours' first pixels), points with the same convex hull. A text region's contour runs through its
    border pixels' centres; a hole's (a 4-connected background region not reaching the map's edge) through the text
    pixels 4-adjacent to it, and starts at the pixel left of the hole's first. Each row gives only its extreme
    points."""
    height, width = mask.shape
    rows, starts, ends = _row_runs(mask)
    texts = _rows_of_regions(_label_runs(rows, starts, ends, width, diagonal=True), rows, starts, ends)
    rows, starts, ends = _row_runs(~mask)
    labels = _label_runs(rows, starts, ends, width, diagonal=False)
    hole = ~np.isin(labels, labels[(rows == 0) | (rows == height - 1) | (starts == 0) | (ends == width - 1)])
    holes = _rows_of_regions(labels[hole], rows[hole], starts[hole], ends[hole])
    kinds = [texts, holes]
    first_pixel, kind, index = [], [], []
    for is_hole, (ys, lefts, _, bounds) in enumerate(kinds):
        first_pixel.append(ys[bounds[:-1]] * (width + 2) + lefts[bounds[:-1]] - is_hole)
        kind.append(np.full(len(bounds) - 1, is_hole))
        index.append(np.arange(len(bounds) - 1))
    first_pixel, kind, index = np.concatenate(first_pixel), np.concatenate(kind), np.concatenate(index)
    found = []
    for at in np.argsort(-first_pixel, kind="stable")[:limit]:
        ys, lefts, rights, bounds = kinds[kind[at]]
        span = slice(bounds[index[at]], bounds[index[at] + 1])
        ys, lefts, rights = ys[span], lefts[span], rights[span]
        if kind[at]:
            xs = np.concatenate([lefts - 1, rights + 1, lefts, rights, lefts, rights])
            ys = np.concatenate([ys, ys, ys - 1, ys - 1, ys + 1, ys + 1])
        else:
            left, right = _bends(lefts), _bends(rights)
            xs, ys = np.concatenate([lefts[left], rights[right]]), np.concatenate([ys[left], ys[right]])
        found.append(np.stack([xs, ys], axis=1))
    return found


def _bends(xs: np.ndarray) -> np.ndarray:
    """Which of a region's row ends (one per row, rows consecutive) can be hull corners: not those in line with the
    ends of the rows above and below."""
    keep = np.ones(len(xs), dtype=bool)
    keep[1:-1] = (xs[1:-1] != xs[:-2]) | (xs[1:-1] != xs[2:])
    return keep


def _rows_of_regions(labels: np.ndarray, rows: np.ndarray, starts: np.ndarray,
                     ends: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, leftmost starts, rightmost ends, bounds): one entry per row of each region, regions in label order and
    rows ascending; region k's entries are [bounds[k], bounds[k + 1])."""
    order = np.lexsort((rows, labels))
    labels, rows, starts, ends = labels[order], rows[order], starts[order], ends[order]
    new_row = np.ones(len(rows), dtype=bool)
    new_row[1:] = (labels[1:] != labels[:-1]) | (rows[1:] != rows[:-1])
    at = np.flatnonzero(new_row)
    if len(at):
        labels, rows = labels[at], rows[at]
        starts, ends = np.minimum.reduceat(starts, at), np.maximum.reduceat(ends, at)
    new_region = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    bounds = np.concatenate([[0], new_region, [len(labels)]]) if len(labels) else np.zeros(1, dtype=np.int64)
    return rows, starts, ends, bounds


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Convex hull of integer points, counter-clockwise in (x, y) axes, without collinear points (monotone chain)."""
    pts = sorted(set(map(tuple, points.tolist())))
    if len(pts) < 3:
        return np.array(pts, dtype=np.float64)

    def half(chain: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
        kept: List[Tuple[int, int]] = []
        for p in chain:
            px, py = p
            while len(kept) >= 2:
                (ax, ay), (bx, by) = kept[-2], kept[-1]
                if (bx - ax) * (py - ay) - (by - ay) * (px - ax) > 0:
                    break
                kept.pop()
            kept.append(p)
        return kept

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)


Rect = Tuple[np.ndarray, np.ndarray, np.ndarray]  # axes (2 unit rows u, v), low and high extents along them


def _min_area_rect(points: np.ndarray) -> Rect:
    """The smallest-area rectangle around `points`, as cv2.minAreaRect finds it: one side lies on an edge of the convex
    hull (rotating calipers, every edge tried at once)."""
    hull = _convex_hull(points)
    if len(hull) < 2:
        return np.eye(2), hull[0].copy(), hull[0].copy()
    edges = np.diff(hull, axis=0, append=hull[:1])
    u = edges / np.hypot(edges[:, 0], edges[:, 1])[:, None]
    along = u @ hull.T
    across = u[:, :1] * hull[:, 1] - u[:, 1:] * hull[:, 0]
    low = np.stack([along.min(1), across.min(1)], axis=1)
    high = np.stack([along.max(1), across.max(1)], axis=1)
    best = int(np.argmin((high[:, 0] - low[:, 0]) * (high[:, 1] - low[:, 1])))
    return np.array([u[best], [-u[best, 1], u[best, 0]]]), low[best], high[best]


def _short_side(rect: Rect) -> float:
    return float(np.min(rect[2] - rect[1]))


def _corners(rect: Rect) -> np.ndarray:
    """The rectangle's 4 corners ordered as PaddleOCR's get_mini_boxes orders them: of the two leftmost, the upper one
    first, then the upper and the lower of the two rightmost, then the lower leftmost (clockwise on the screen). A
    coordinate within rounding error of an integer is made that integer, so that cutting it to an integer (the score
    mask does) gives the integer."""
    axes, low, high = rect
    along, across = np.array([low[0], high[0], high[0], low[0]]), np.array([low[1], low[1], high[1], high[1]])
    points = along[:, None] * axes[0] + across[:, None] * axes[1]
    whole = np.round(points)
    points = np.where(np.abs(points - whole) < 1e-9, whole, points)
    points = points[np.argsort(points[:, 0], kind="stable")]
    left = (0, 1) if points[1, 1] > points[0, 1] else (1, 0)
    right = (2, 3) if points[3, 1] > points[2, 1] else (3, 2)
    return points[[left[0], right[0], right[1], left[1]]]


def _unclip(box: np.ndarray, ratio: float) -> np.ndarray:
    """Integer points of the box grown by area * ratio / perimeter, as pyclipper's PyclipperOffset (JT_ROUND,
    ET_CLOSEDPOLYGON, arc tolerance 0.25) builds them: the corners cut to integers toward zero, each edge moved out
    along its normal, each convex corner joined by an arc of points on the circle around it; every point rounded half
    away from zero. Empty when fewer than 3 distinct corners are left, where pyclipper drops the path."""
    x, y = box[:, 0], box[:, 1]
    area = abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2
    perimeter = float(np.hypot(*(np.roll(box, -1, axis=0) - box).T).sum())
    delta = area * ratio / perimeter if perimeter > 0 else 0.0
    path: List[Tuple[int, int]] = []
    for point in np.trunc(box).astype(np.int64).tolist():
        if not path or tuple(point) != path[-1]:
            path.append(tuple(point))
    while len(path) > 1 and path[0] == path[-1]:
        path.pop()
    if len(path) < 3:
        return np.zeros((0, 2))
    if sum(xa * yb - xb * ya for (xa, ya), (xb, yb) in zip(path, path[1:] + path[:1])) < 0:
        path.reverse()
    if abs(delta) < 1e-20:
        return np.array(path, dtype=np.float64)
    tolerance = min(0.25, delta * 0.25)
    steps_per_turn = min(math.pi / math.acos(1 - tolerance / delta), delta * math.pi)
    sin_step, cos_step = math.sin(2 * math.pi / steps_per_turn), math.cos(2 * math.pi / steps_per_turn)
    normals = []
    for (xa, ya), (xb, yb) in zip(path, path[1:] + path[:1]):
        dx, dy = float(xb - xa), float(yb - ya)
        scale = 1.0 / math.sqrt(dx * dx + dy * dy)
        normals.append((dy * scale, -dx * scale))
    out: List[Tuple[float, float]] = []
    for j, (px, py) in enumerate(path):
        (kx, ky), (jx, jy) = normals[j - 1], normals[j]
        sin_a = kx * jy - jx * ky
        if abs(sin_a * delta) < 1.0 and kx * jx + jy * ky > 0:
            out.append((px + kx * delta, py + ky * delta))
            continue
        sin_a = max(-1.0, min(1.0, sin_a))
        if sin_a * delta < 0:
            out += [(px + kx * delta, py + ky * delta), (px, py), (px + jx * delta, py + jy * delta)]
            continue
        steps = max(int(steps_per_turn / (2 * math.pi) * abs(math.atan2(sin_a, kx * jx + ky * jy)) + 0.5), 1)
        nx, ny = kx, ky
        for _ in range(steps):
            out.append((px + nx * delta, py + ny * delta))
            nx, ny = nx * cos_step - sin_step * ny, nx * sin_step + ny * cos_step
        out.append((px + jx * delta, py + jy * delta))
    return _round_half_away(np.array(out))


def _round_half_away(values: np.ndarray) -> np.ndarray:
    """Clipper's Round: halves away from zero."""
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


def _mean_inside(prob: np.ndarray, box: np.ndarray) -> float:
    """The map's mean over the box polygon's pixels, as box_score_fast takes it: the corners, relative to the box's
    bounding rectangle (clipped to the map), cut to integers toward zero and filled there as cv2.fillPoly fills."""
    height, width = prob.shape
    x0 = int(np.clip(np.floor(box[:, 0].min()), 0, width - 1))
    x1 = int(np.clip(np.ceil(box[:, 0].max()), 0, width - 1))
    y0 = int(np.clip(np.floor(box[:, 1].min()), 0, height - 1))
    y1 = int(np.clip(np.ceil(box[:, 1].max()), 0, height - 1))
    inside = _fill_polygon(np.trunc(box - [x0, y0]).astype(np.int64).tolist(), (y1 - y0 + 1, x1 - x0 + 1))
    return float(prob[y0:y1 + 1, x0:x1 + 1][inside].mean(dtype=np.float64)) if inside.any() else 0.0


_FIXED = 16  # cv2's fixed-point fraction bits for polygon edges


def _fill_polygon(corners: List[List[int]], shape: Tuple[int, int]) -> np.ndarray:
    """Mask of an integer polygon as cv2.fillPoly (8-connected lines, no shift) draws it: each edge's line, plus on
    every row crossed by edges the pixels from one crossing to the next (crossings in 16-bit fixed point, the left
    one rounded up and the right one down, alternate pairs when sorted)."""
    height, width = shape
    mask = np.zeros(shape, dtype=bool)
    rows, crossings = [], []
    for (xa, ya), (xb, yb) in zip(corners[-1:] + corners[:-1], corners):
        line = _clip_line((xa, ya), (xb, yb), width, height)
        if line is not None:
            xs, ys = _line_pixels(*line)
            mask[ys, xs] = True
        if ya == yb:
            continue
        numerator, denominator = (xb - xa) << _FIXED, yb - ya
        slope = abs(numerator) // abs(denominator) * (1 if (numerator >= 0) == (denominator > 0) else -1)
        x_top, y_top, y_bottom = (xa, ya, yb) if ya < yb else (xb, yb, ya)
        ys = np.arange(y_top, y_bottom)
        rows.append(ys)
        crossings.append((x_top << _FIXED) + (ys - y_top) * slope)
    if rows:
        ys, xs = np.concatenate(rows), np.concatenate(crossings)
        order = np.lexsort((xs, ys))
        ys, xs = ys[order], xs[order]
        ys, left, right = ys[0::2], (xs[0::2] + (1 << _FIXED) - 1) >> _FIXED, xs[1::2] >> _FIXED
        left, right = np.maximum(left, 0), np.minimum(right, width - 1)
        keep = (ys >= 0) & (ys < height) & (left <= right)
        edges = np.zeros((height, width + 1), dtype=np.int32)
        np.add.at(edges, (ys[keep], left[keep]), 1)
        np.add.at(edges, (ys[keep], right[keep] + 1), -1)
        mask |= np.cumsum(edges, axis=1)[:, :width] > 0
    return mask


def _clip_line(p: Tuple[int, int], q: Tuple[int, int], width: int,
               height: int) -> Optional[Tuple[Tuple[int, int], Tuple[int, int]]]:
    """The segment p-q cut to the image's pixels as cv2.clipLine cuts it (integer ends), or None if it misses."""
    (x1, y1), (x2, y2) = p, q
    right, bottom = width - 1, height - 1

    def code(x: int, y: int) -> int:
        return (x < 0) + (x > right) * 2 + (y < 0) * 4 + (y > bottom) * 8

    c1, c2 = code(x1, y1), code(x2, y2)
    if (c1 & c2) == 0 and (c1 | c2) != 0:
        if c1 & 12:
            edge = 0 if c1 < 8 else bottom
            x1, y1 = x1 + int((edge - y1) * (x2 - x1) / (y2 - y1)), edge
            c1 = (x1 < 0) + (x1 > right) * 2
        if c2 & 12:
            edge = 0 if c2 < 8 else bottom
            x2, y2 = x2 + int((edge - y2) * (x2 - x1) / (y2 - y1)), edge
            c2 = (x2 < 0) + (x2 > right) * 2
        if (c1 & c2) == 0 and (c1 | c2) != 0:
            if c1:
                edge = 0 if c1 == 1 else right
                x1, y1, c1 = edge, y1 + int((edge - x1) * (y2 - y1) / (x2 - x1)), 0
            if c2:
                edge = 0 if c2 == 1 else right
                x2, y2, c2 = edge, y2 + int((edge - x2) * (y2 - y1) / (x2 - x1)), 0
    return None if c1 | c2 else ((x1, y1), (x2, y2))


def _line_pixels(p: Tuple[int, int], q: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """(xs, ys) of cv2's 8-connected line from p to q: drawn from the left end, one pixel per step of the longer axis,
    the other axis rounded to nearest with halves toward the left end's side."""
    (x1, y1), (x2, y2) = (p, q) if p[0] <= q[0] else (q, p)
    dx, dy, sign = x2 - x1, abs(y2 - y1), 1 if y2 >= y1 else -1
    if dx == 0 and dy == 0:
        return np.array([x1]), np.array([y1])
    if dx >= dy:
        steps = np.arange(dx + 1)
        return x1 + steps, y1 - sign * ((dx - 2 * dy * steps) // (2 * dx))
    steps = np.arange(dy + 1)
    return x1 - ((dy - 2 * dx * steps) // (2 * dy)), y1 + sign * steps
