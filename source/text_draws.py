"""Seeded random draws and colours for synthetic text: integers, floats, picks, digits, and colours light, dark, tinted
grey or any, with luma (as Pillow computes it) read and set. Only Random.random() is kept stable across Python
versions, so every draw is built on it."""
from __future__ import annotations

import random
from typing import Sequence, Tuple, TypeVar

T = TypeVar("T")
RGB = Tuple[int, int, int]


def integer(rng: random.Random, bounds: Tuple[int, int]) -> int:
    low, high = bounds
    return low + int(rng.random() * (high - low + 1))


def uniform(rng: random.Random, low: float, high: float) -> float:
    return low + (high - low) * rng.random()


def pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def digits(rng: random.Random, n: int) -> str:
    return "".join(str(integer(rng, (0, 9))) for _ in range(n))


def tinted(rng: random.Random, grey: Tuple[int, int], tint: int) -> RGB:
    """A grey drawn from `grey`, each channel moved by up to `tint`."""
    base = integer(rng, grey)
    red, green, blue = (min(255, max(0, base + integer(rng, (-tint, tint)))) for _ in range(3))
    return red, green, blue


def light(rng: random.Random) -> RGB:
    return tinted(rng, (205, 250), 5)


def dark(rng: random.Random) -> RGB:
    return tinted(rng, (0, 70), 10)


def any_colour(rng: random.Random) -> RGB:
    return integer(rng, (0, 255)), integer(rng, (0, 255)), integer(rng, (0, 255))


def luma(colour: Sequence[int]) -> int:
    """ITU-R 601 luma, as Pillow's convert("L") computes it (to within one level)."""
    red, green, blue = colour[:3]
    return (299 * red + 587 * green + 114 * blue) // 1000


def with_luma(colour: RGB, target: int) -> RGB:
    """`colour` darkened towards black or lightened towards white until its luma is `target` (to within a level)."""
    now = luma(colour)
    if target <= now:
        return tuple(c * target // max(now, 1) for c in colour)  # type: ignore[return-value]
    return tuple(c + (255 - c) * (target - now) // max(255 - now, 1) for c in colour)  # type: ignore[return-value]
