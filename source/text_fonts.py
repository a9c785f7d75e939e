"""The font faces synthetic text is drawn in: DejaVu's from Debian's fonts-dejavu, and the Simplified Chinese faces of
the Noto CJK collections that fonts.py finds or fetches, each named and hashed."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Tuple

from PIL import ImageFont

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import sha256_file
from .fonts import noto_cjk_files

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")


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
