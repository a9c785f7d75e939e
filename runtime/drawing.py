"""Text boxes drawn on a copy of the image they were found in, for a person to look at."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .db_boxes import TextBox
from .files import atomic_file
from .preprocess import ImageLike, open_image


def draw_boxes(image: ImageLike, boxes: Sequence[TextBox], out_dir: Path) -> Path:
    """Write the image with each box outlined (and its score) into `out_dir`, named after the image; return the path."""
    from PIL import ImageDraw

    pil = open_image(image).convert("RGB")
    draw = ImageDraw.Draw(pil)
    for box in boxes:
        corners = [(float(x), float(y)) for x, y in box.points]
        draw.polygon(corners, outline=(220, 30, 30), width=2)
        draw.text((corners[0][0], max(0.0, corners[0][1] - 12)), f"{box.score:.2f}", fill=(220, 30, 30))
    name = Path(str(image)).stem if isinstance(image, (str, Path)) else "image"
    out = Path(out_dir) / f"{name}.boxes.png"
    with atomic_file(out) as tmp:
        pil.save(tmp, format="PNG")
    return out
