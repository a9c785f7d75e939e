"""Paddle.js, the browser engine of Paddle's own family: paddlejsconverter's model of each image model of the zoo and of
PaddleOCR's direction classifier, run by paddlejs-core and its WebGL backend in headless Chromium, judged against Paddle
Inference on the program it came from; the zoo's housing regression, which takes no image, refused by name."""
from __future__ import annotations

import json

import numpy as np
import paddle
import pytest
from paddle import nn

from paddle_edge.boards.board_parity import board_parity
from paddle_edge.boards.browser.board import BrowserBoard
from paddle_edge.boards.profile import get_profile
from paddle_edge.cli import main
from paddle_edge.export.bundle import build_bundle
from paddle_edge.export.paddlejs import export_paddlejs
from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.source.model import as_source

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    return BrowserBoard(get_profile("browser"))


@pytest.fixture(scope="module")
def paddlejs_bundle(tmp_path_factory, lenet):
    return build_bundle(lenet.model_dir, tmp_path_factory.mktemp("pjs") / "lenet", targets=("onnx", "paddlejs"))


def test_the_converter_runs_on_paddle_3_and_its_model_gets_the_changes_paddlejs_core_needs(lenet, tmp_path):
    model_json, params, changes = export_paddlejs(as_source(lenet.model_dir), tmp_path / "pjs")
    assert sorted(p.name for p in (tmp_path / "pjs").iterdir()) == ["chunk_1.dat", "model.json"]
    assert params.stat().st_size == 4 * sum(n for n in _param_sizes(json.loads(model_json.read_text())))
    kinds = {"shape [] -> [1]", "fuse_relu = false", "reshape2("}
    assert all(any(kind in change for change in changes) for kind in kinds), changes
    ops = json.loads(model_json.read_text())["ops"]
    assert "reshape2" not in {op["type"] for op in ops} and all(op["attrs"]["fuse_relu"] is False for op in ops if op["type"] == "conv2d")


def _param_sizes(model):
    for var in model["vars"].values():
        if var.get("persistable") and var["name"] not in ("feed", "fetch"):
            size = 1
            for d in var["shape"]:
                size *= d
            yield size


def test_paddlejs_in_the_browser_gives_paddle_inference_s_answers(browser, paddlejs_bundle):
    manifest = paddlejs_bundle.manifest
    assert manifest.artifacts["paddlejs-fp32"].format == "paddlejs-model"
    assert manifest.artifacts["paddlejs-fp32-params"].format == "paddlejs-params"
    report = board_parity(browser, paddlejs_bundle.directory, limit=300, calls=5, gpu=())
    print(report.render())
    assert report.ok, report.render()
    d = report.data
    assert {"paddlejs_fp32_sqnr_db", "paddlejs_fp32_argmax_agreement"} <= set(d["checks"])
    assert d["values"]["paddlejs_fp32_allclose_ratio"] <= 1.0  # within 1e-5 (+1e-6 relative) of Paddle Inference
    assert d["top1"]["paddlejs-fp32"]["board"] == d["top1"]["paddlejs-fp32"]["x86_64"] >= 0.9
    assert d["artifacts"]["paddlejs-fp32"] == {"board": "paddlejs-fp32", "x86_64": "paddle-fp32-program"}
    assert "paddlejs-core 2.2.0" in d["engines"]["paddlejs-fp32"] and "WebGL2" in d["engines"]["paddlejs-fp32"]
    assert d["latency_us"]["paddlejs-fp32"]["board"] > 0


@pytest.mark.parametrize("name", ["softmax", "mlp", "resnet"])  # lenet: above, on the session's bundle
def test_paddlejs_runs_each_image_model_of_the_zoo_as_paddle_inference_does(browser, mnist_dir, name, tmp_path):
    from paddle_edge.train.trainer import train_model

    trained = train_model(name, tmp_path / name, epochs=1, train_limit=2000, verbose=0)
    bundle = build_bundle(trained.model_dir, tmp_path / "bundle", targets=("onnx", "paddlejs"))
    report = board_parity(browser, bundle.directory, limit=200, calls=3, gpu=())
    print(report.render())
    assert report.ok, report.render()
    d = report.data
    assert {"paddlejs_fp32_sqnr_db", "paddlejs_fp32_argmax_agreement", "fp32_allclose_ratio"} <= set(d["checks"])
    assert d["top1"]["paddlejs-fp32"]["board"] == d["top1"]["paddlejs-fp32"]["x86_64"] > 0.3  # one brief epoch on 2,000 digits: far above chance
    assert d["latency_us"]["paddlejs-fp32"]["board"] > 0


def test_the_zoo_s_housing_regression_is_refused_by_paddlejs_naming_its_input(tmp_path):
    from paddle_edge.train.trainer import train_model

    trained = train_model("linear", tmp_path / "linear", epochs=1, verbose=0)
    with pytest.raises(PaddleEdgeError, match=r"Paddle.js runs one float32 image \[N, C, H, W\]; \S+ takes \w+ float32 \[-1, 13\]"
                                              r"(.|\n)*fix: export without the paddlejs target"):
        build_bundle(trained.model_dir, tmp_path / "bundle", targets=("onnx", "paddlejs"))
    assert not (tmp_path / "bundle").exists()


def test_an_op_paddlejs_lacks_is_named_before_the_model_loads(browser, tmp_path):
    paddle.seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.LogSoftmax())  # log_softmax: no WebGL kernel in Paddle.js
    net.eval()
    paddle.jit.save(net, str(tmp_path / "net" / "model"), input_spec=[paddle.static.InputSpec([None, 1, 28, 28], "float32", "image")])
    bundle = build_bundle(tmp_path / "net", tmp_path / "bundle", targets=("onnx", "paddlejs"))
    with pytest.raises(PaddleEdgeError, match=r"webgl backend has no kernel for these ops of paddlejs-fp32: log_softmax(.|\n)*fix: "):
        browser.run_paddlejs(bundle.directory, [{"image": np.zeros((1, 1, 28, 28), np.float32)}])


def test_a_model_paddlejs_cannot_take_is_refused_at_export_and_nothing_is_written(tmp_path):
    from user_models import save_two_input_net

    with pytest.raises(PaddleEdgeError, match=r"Paddle.js runs one float32 image \[N, C, H, W\]; two takes image .*, extra(.|\n)*fix: export without the paddlejs target"):
        build_bundle(save_two_input_net(tmp_path / "two"), tmp_path / "bundle", targets=("onnx", "paddlejs"))
    assert not (tmp_path / "bundle").exists() and not (tmp_path / "bundle.tar.gz").exists()


class FiveD(nn.Layer):
    """A LeNet-sized net passing through a 5-D tensor: the converter would drop its leading dimension."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return self.fc(paddle.reshape(paddle.reshape(x, [-1, 1, 2, 14, 28]) * 2.0, [-1, 784]))


@pytest.mark.parametrize("net, said", [
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.Softmax(axis=0)), r"softmax -> .*: axis 0 of a 2-D tensor"),
    (FiveD, r"has 5 dimensions .*; Paddle.js keeps at most 4"),
], ids=["softmax-axis-0", "5-D-tensor"])
def test_what_paddlejs_would_run_wrong_is_refused_at_export(net, said, tmp_path):
    paddle.seed(0)
    layer = net()
    layer.eval()
    paddle.jit.save(layer, str(tmp_path / "net" / "model"), input_spec=[paddle.static.InputSpec([None, 1, 28, 28], "float32", "image")])
    with pytest.raises(PaddleEdgeError, match=said + r"(.|\n)*fix: export without the paddlejs target"):
        export_paddlejs(as_source(tmp_path / "net"), tmp_path / "pjs")
    assert not (tmp_path / "pjs").exists()


def test_paddleocr_s_text_direction_classifier_runs_in_paddlejs_as_in_paddle_inference(browser, tmp_path, capsys):
    from paddle_edge.source.fetch import fetch_published
    from paddle_edge.source.model import resolve_model
    from paddle_edge.source.synthetic_text import render

    model = resolve_model(fetch_published("ppocr-cls"))  # its program takes [-1, 3, -1, -1]; its preprocessing 48 x 192
    _, _, changes = export_paddlejs(model, tmp_path / "pjs")
    assert any(change.startswith("softmax") and change.endswith("axis 1 of 2-D -> -1") for change in changes), changes
    labels = render("cls", tmp_path / "cls-test", 16, seed=0)
    bundle = build_bundle(model, tmp_path / "bundle", targets=("onnx", "paddlejs"))
    report = board_parity(browser, bundle.directory, data=labels, calls=3, gpu=())
    print(report.render())
    assert report.ok, report.render()
    d = report.data
    assert d["samples"] == 16 and d["values"]["paddlejs_fp32_sqnr_db"] >= 80
    # the page's own preprocessing of the 16 image files (resize to 48 high, pad right to 192, BGR, x / 127.5 - 1),
    # measured apart from the model, which ran on the runtime's tensors
    assert d["page_preprocessing"] == {"images": 16, "same_shape": 16, "within": 16, "identical": 16, "max_abs_diff": 0.0,
                                       "source": "image files"}
    assert d["checks"]["preprocess_agreement"]["passed"]
    assert main(["board", "run", "browser", str(bundle.directory), "--data", str(labels)]) in (0, None)
    said = capsys.readouterr().out
    assert "browser preprocessing (reported): 16 image files through the page's JavaScript" in said and "16 identical" in said, said


def test_a_page_whose_tensors_differ_from_the_runtime_s_fails_board_parity():
    from paddle_edge.boards.board_parity import tolerances
    from paddle_edge.boards.browser.page_preprocessing import PagePreprocessing
    from paddle_edge.boards.checks import judge

    for found, failed in ((PagePreprocessing(10, 9, 9, 9, 0.0, "image files"), True),  # one of another shape
                          (PagePreprocessing(10, 10, 9, 3, 2e-5, "image files"), True),  # one beyond 1e-5, or not finite
                          (PagePreprocessing(10, 10, 10, 3, 1e-6, "image files"), False)):
        checks = judge(found.values(), tolerances("onnxruntime", "classification"))
        assert [check.name for check in checks if not check.passed] == (["preprocess_agreement"] if failed else [])
