"""Training: the zoo, paddle.Model, checkpoints and --resume, the saved inference model and its card."""
from __future__ import annotations

import numpy as np
import pytest

from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.train.card import ModelCard
from paddle_edge.train.inference_model import find_model_files, read_program
from paddle_edge.train.trainer import latest_checkpoint, train_model
from paddle_edge.train.zoo import ZOO, zoo_entry


def test_lenet_learns_and_saves_a_legacy_inference_model(lenet):
    files = find_model_files(lenet.model_dir)
    assert files.program.name == "model.pdmodel"
    assert lenet.card.metrics["top1"] > 0.85  # 5k images, one epoch
    info = read_program(lenet.model_dir)
    assert [i.name for i in info.inputs] == ["image"] and info.inputs[0].shape == (-1, 1, 28, 28)
    assert info.outputs[0].shape == (-1, 10)
    assert "conv2d" in info.ops and "flatten_contiguous_range" in info.ops
    assert ModelCard.load(lenet.model_dir) == lenet.card


def test_resume_continues_from_the_last_checkpoint(tmp_path, mnist_dir):
    first = train_model("softmax", tmp_path, epochs=1, train_limit=2000, verbose=0)
    assert latest_checkpoint(tmp_path / "checkpoints") == 1 and first.epochs_run == 1
    resumed = train_model("softmax", tmp_path, epochs=2, train_limit=2000, verbose=0, resume=True)
    assert resumed.epochs_run == 1 and latest_checkpoint(tmp_path / "checkpoints") == 2
    assert resumed.card.metrics["top1"] >= first.card.metrics["top1"] - 0.01


@pytest.mark.parametrize("name", ["mlp", "resnet", "linear"])
def test_other_zoo_models_train(tmp_path, name, mnist_dir):
    result = train_model(name, tmp_path, epochs=20 if name == "linear" else 1, train_limit=10000 if name == "resnet" else 5000, verbose=0)
    metric = result.card.metrics
    print(name, metric)
    assert (np.isfinite(metric["mse"]) and metric["mse"] < 200) if name == "linear" else metric["top1"] > 0.8


def test_every_zoo_model_is_tested():
    tested = {"lenet", "softmax", "mlp", "resnet", "linear"}
    assert set(ZOO) == tested


def test_unknown_model_lists_the_zoo():
    with pytest.raises(PaddleEdgeError, match="lenet"):
        zoo_entry("resnet9000")


def test_model_dir_errors(tmp_path, lenet):
    with pytest.raises(PaddleEdgeError, match="not a directory"):
        find_model_files(tmp_path / "missing")
    with pytest.raises(PaddleEdgeError, match="no .pdmodel"):
        find_model_files(tmp_path)
    (tmp_path / "model.pdmodel").write_bytes((lenet.model_dir / "model.pdmodel").read_bytes())
    with pytest.raises(PaddleEdgeError, match="pdiparams"):
        find_model_files(tmp_path)
    (tmp_path / "model.pdiparams").write_bytes(b"")
    (tmp_path / "model.pdmodel").write_bytes(b"\xff\x00garbage" * 10)
    with pytest.raises(PaddleEdgeError, match="not a Paddle program"):
        read_program(tmp_path)
