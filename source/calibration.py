"""The images a user calibrates int8 on: a folder of images (searched recursively) or any label list, labels ignored."""
from __future__ import annotations

from pathlib import Path
from typing import List

from .labels import read_labelled


def calibration_images(path: Path) -> List[Path]:
    """Every image of a folder or label list (PaddleOCR's or PaddleClas's), in a repeatable order."""
    return list(read_labelled(Path(path), "unlabelled").images)
