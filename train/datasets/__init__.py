"""Datasets by name, loaded as normalised float32 arrays plus the preprocessing that the runtime will repeat.

Each has train, validation and test splits; validation is carved from the training rows (never the test rows), so choosing
an epoch or a recipe on it leaves the test figure untouched.

Normalisation is the runtime's own `normalize` (numpy), not a paddle transform, so training and the board apply
bit-for-bit the same arithmetic to raw pixels and features.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from ...runtime.errors import PaddleEdgeError
from ...runtime.manifest import ImageSpec, Preprocess, Resize, TensorSpec
from ...runtime.preprocess import normalize
from .housing import load_housing
from .mnist import load_mnist


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Normalised splits of one dataset and how raw inputs become model inputs."""

    name: str
    task: str
    input: TensorSpec
    preprocess: Preprocess
    labels: Optional[Tuple[str, ...]]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray  # carved from the training rows, never the test set: it chooses epochs and recipes
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


MNIST_IMAGE = ImageSpec(color="L", resize=Resize("stretch", 28, 28), invert_light_background=True)
MNIST_PREPROCESS = Preprocess(scale=1 / 127.5, offset=-1.0, image=MNIST_IMAGE)  # x / 127.5 - 1, as in the course
DIGITS = tuple(str(d) for d in range(10))
MNIST_VAL = 5000  # the last 5,000 training images, the classic 55,000 / 5,000 split
VAL_FRACTION = 0.1  # of the training rows, for housing and image folders
Split = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def split_last(x: np.ndarray, y: np.ndarray, n_val: int) -> Split:
    """(x_train, y_train, x_val, y_val): the last `n_val` rows validate, the rest train."""
    _check_split(len(x), n_val)
    cut = len(x) - n_val
    return x[:cut], y[:cut], x[cut:], y[cut:]


def split_seeded(x: np.ndarray, y: np.ndarray, fraction: float, seed: int = 0) -> Split:
    """(x_train, y_train, x_val, y_val): a seeded random `fraction` of the rows validates; both keep the original order."""
    n_val = max(1, int(len(x) * fraction))
    _check_split(len(x), n_val)
    val = np.zeros(len(x), dtype=bool)
    val[np.random.default_rng(seed).permutation(len(x))[:n_val]] = True
    return x[~val], y[~val], x[val], y[val]


def _check_split(rows: int, n_val: int) -> None:
    if not 0 < n_val < rows:
        raise PaddleEdgeError(f"{rows} training samples cannot give {n_val} for validation and the rest for training",
                              "give the training split more samples")


def _mnist(data: Optional[Path]) -> Dataset:
    (xtr, ytr), (xte, yte) = load_mnist("train", data), load_mnist("test", data)
    xtr, ytr, xval, yval = split_last(xtr, ytr, MNIST_VAL)
    prep = lambda x: normalize(x[:, None], MNIST_PREPROCESS)  # noqa: E731
    return Dataset("mnist", "classification", TensorSpec("image", (-1, 1, 28, 28), "float32", "NCHW"),
                   MNIST_PREPROCESS, DIGITS, prep(xtr), ytr, prep(xval), yval, prep(xte), yte)


def _folder(data: Optional[Path]) -> Dataset:
    if data is None:
        raise PaddleEdgeError("the image-folder dataset needs --data DIR", "pass DIR with train/<class>/ and test/<class>/ folders")
    from .folder import load_folder

    xtr, ytr, classes = load_folder("train", data, MNIST_IMAGE)
    xte, yte, _ = load_folder("test", data, MNIST_IMAGE)
    xtr, ytr, xval, yval = split_seeded(xtr, ytr, VAL_FRACTION)
    prep = lambda x: normalize(x, MNIST_PREPROCESS)  # noqa: E731
    return Dataset("folder", "classification", TensorSpec("image", (-1, 1, 28, 28), "float32", "NCHW"),
                   MNIST_PREPROCESS, classes, prep(xtr), ytr, prep(xval), yval, prep(xte), yte)


def _housing(data: Optional[Path]) -> Dataset:
    (xtr, ytr), (xte, yte) = load_housing("train", data), load_housing("test", data)
    xtr, ytr, xval, yval = split_seeded(xtr, ytr, VAL_FRACTION)  # the table is ordered by area: a tail would be one district
    low, high = xtr.min(axis=0), xtr.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    prep = Preprocess(scale=(1.0 / span).tolist(), offset=(-low / span).tolist())  # min-max on the training rows only
    return Dataset("housing", "regression", TensorSpec("x", (-1, 13), "float32", "NC"), prep, None,
                   normalize(xtr, prep), ytr, normalize(xval, prep), yval, normalize(xte, prep), yte)


DATASETS: Dict[str, Callable[[Optional[Path]], Dataset]] = {"mnist": _mnist, "housing": _housing, "folder": _folder}


def load_dataset(name: str, data: Optional[Path] = None) -> Dataset:
    """Load dataset `name` (optionally from the user's own files at `data`)."""
    if name not in DATASETS:
        raise PaddleEdgeError(f"unknown dataset {name!r}", f"use one of: {', '.join(DATASETS)}")
    return DATASETS[name](Path(data) if data else None)
