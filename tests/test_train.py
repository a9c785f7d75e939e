"""Training: the zoo, paddle.Model, checkpoints and --resume, the saved inference model and its card."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import paddle
import pytest

from paddle_edge.boards.provenance import provenance
from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.train.benchmark import least_squares_mse, save_rows, train_zoo
from paddle_edge.source.card import ModelCard
from paddle_edge.train.datasets import load_dataset
from paddle_edge.source.paddle_program import find_model_files, read_program
from paddle_edge.train.trainer import LAYER_STATE, VALIDATION, ShiftedImages, evaluate, latest_checkpoint, train_model
from paddle_edge.train.zoo import ZOO, zoo_entry


def test_lenet_learns_and_saves_a_legacy_inference_model(lenet):
    files = find_model_files(lenet.model_dir)
    assert files.program.name == "model.pdmodel"
    assert lenet.card.metrics["top1"] > 0.85  # 5k images, one epoch
    assert lenet.card.metrics["val_top1"] > 0.85 and lenet.card.metrics["epoch"] == 1
    info = read_program(lenet.model_dir)
    assert [i.name for i in info.inputs] == ["image"] and info.inputs[0].shape == (-1, 1, 28, 28)
    assert info.outputs[0].shape == (-1, 10)
    assert "conv2d" in info.ops and "flatten_contiguous_range" in info.ops
    assert ModelCard.load(lenet.model_dir) == lenet.card


def test_resume_continues_from_the_last_checkpoint(tmp_path, mnist_dir):
    first = train_model("softmax", tmp_path, epochs=1, train_limit=2000, verbose=0)
    assert latest_checkpoint(tmp_path / "checkpoints") == 1 and first.epochs_run == 1
    resumed = train_model("softmax", tmp_path, epochs=3, train_limit=2000, verbose=0, resume=True)
    assert resumed.epochs_run == 2 and latest_checkpoint(tmp_path / "checkpoints") == 3
    assert resumed.card.metrics["top1"] >= first.card.metrics["top1"] - 0.01


def test_the_saved_model_is_the_epoch_that_validated_best(tmp_path, mnist_dir):
    result = train_model("mlp", tmp_path, epochs=10, train_limit=200, learning_rate=0.05, verbose=0)  # too high a rate: it wanders
    scores = {n: json.loads((tmp_path / "checkpoints" / f"epoch-{n}" / VALIDATION).read_text())["top1"] for n in range(1, 11)}
    best = max(scores, key=lambda n: (scores[n], n))
    print(scores, result.card.metrics)
    assert best < 10, "this run was chosen because its last epoch is not its best; keeping the last epoch must fail here"
    assert result.card.metrics["epoch"] == best and result.card.metrics["val_top1"] == scores[best]
    kept = paddle.load(str(tmp_path / "checkpoints" / f"epoch-{best}" / "state.pdparams"))
    saved = paddle.load(str(result.model_dir / LAYER_STATE))
    assert all(np.array_equal(np.asarray(saved[k]), np.asarray(kept[k])) for k in saved)
    net = zoo_entry("mlp").build()
    net.set_state_dict(saved)
    data = load_dataset("mnist")
    assert evaluate(net, data.x_val, data.y_val, "classification")["top1"] == result.card.metrics["val_top1"]


@pytest.mark.parametrize("name", ["mlp", "resnet", "linear"])
def test_other_zoo_models_train(tmp_path, name, mnist_dir):
    result = train_model(name, tmp_path, epochs=20 if name == "linear" else 1, train_limit=10000 if name == "resnet" else 5000, verbose=0)
    metric = result.card.metrics
    print(name, metric)
    assert (np.isfinite(metric["mse"]) and metric["mse"] < 200) if name == "linear" else metric["top1"] > 0.8


def test_shifted_images_move_each_image_by_at_most_two_pixels(mnist_test):
    x, y = mnist_test[0][:200], mnist_test[1][:200]
    data = ShiftedImages(x, y, 2, seed=0)
    moves = set()
    for i in range(len(y)):
        image, label = data[i]
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(image[:, max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)],
                                   x[i][:, max(-dy, 0):28 + min(-dy, 0), max(-dx, 0):28 + min(-dx, 0)])]
        assert found and label == y[i] and image.shape == (1, 28, 28)
        moves.add(found[0])
    assert len(moves) > 15  # offsets vary over the whole +-2 range
    first = data.offsets.copy()
    data.set_epoch(1)
    assert not np.array_equal(first, data.offsets)
    data.set_epoch(0)
    assert np.array_equal(first, data.offsets)  # a resumed run redraws the same offsets for the same epoch


def test_least_squares_is_exact_on_a_linear_table():
    rng = np.random.default_rng(0)
    x = rng.random((60, 13)).astype(np.float32)
    y = (x @ rng.normal(size=(13, 1)) + 7.5).astype(np.float32)  # a bias the fit must find
    table = dataclasses.replace(load_dataset("housing"), x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:])
    assert least_squares_mse(table) < 1e-8
    assert least_squares_mse(dataclasses.replace(table, y_test=y[40:] + 1)) == pytest.approx(1.0, rel=1e-4)


def test_zoo_rows_as_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(ZOO, "linear", dataclasses.replace(ZOO["linear"], epochs=5))  # the default recipe, fewer epochs
    rows = train_zoo(tmp_path / "zoo", ["linear"])
    again = train_zoo(tmp_path / "zoo", ["linear"])  # resumes from the finished run: nothing to train
    printed = capsys.readouterr().out
    assert "--resume" not in printed and "resuming linear" in printed
    row = rows[0]
    assert row["least_squares_mse"] == least_squares_mse(load_dataset("housing")) and row["verdict"] == "report"
    assert row["value"] == again[0]["value"] and row["val_value"] > 0 and 1 <= row["epoch_kept"] <= 5
    saved = json.loads(save_rows(rows, tmp_path / "zoo.json", provenance("paddle-edge zoo --json zoo.json")).read_text())
    assert saved["rows"] == json.loads(json.dumps(rows))
    assert saved["provenance"]["command"] == "paddle-edge zoo --json zoo.json" and saved["provenance"]["commit"]
    assert saved["provenance"]["date"].endswith("+00:00") and "machine" in saved["provenance"]["cpu"]


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
