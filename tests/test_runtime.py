"""The thin runtime: no paddle, hashes verified, inputs checked, images classified, bad bundles refused."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from paddle_edge import runtime
from paddle_edge.runtime.errors import BackendError, BundleError, InputError
from paddle_edge.runtime.preprocess import images_to_batch
from readme_snippets import readme_python



def test_runtime_runs_without_paddle(lenet_bundle, digit_png, tmp_path):
    """Block paddle, paddleslim and paddle2onnx from being imported at all, then load and run the bundle."""
    code = (
        "import sys\n"
        "blocked = ('paddle', 'paddleslim', 'paddle2onnx', 'onnx')\n"
        "for name in blocked: sys.modules[name] = None\n"
        "from paddle_edge import runtime\n"
        f"p = runtime.open({str(lenet_bundle.archive)!r}, precision='int8', threads=1)\n"
        f"print(p.classify([{str(digit_png)!r}])[0][0])\n"
        "assert all(sys.modules[m] is None for m in list(sys.modules) if m.split('.')[0] in blocked)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PADDLE_EDGE_CACHE": str(tmp_path)})
    assert out.stdout.strip() == "3"


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_classify_a_png_of_a_three(lenet_bundle, digit_png, precision):
    """The right class, with the softmax probability of the model's own logits for the image."""
    predictor = runtime.open(lenet_bundle.directory, precision=precision)
    label, prob = predictor.classify([digit_png])[0]
    logits = predictor.predict(images_to_batch([digit_png], predictor.manifest.preprocess))[0][0].astype(np.float64)
    softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert label == "3" and softmax.argmax() == 3 and prob == pytest.approx(softmax[3], rel=1e-5)


def test_dark_ink_on_paper_is_inverted(lenet_bundle, digit_png, tmp_path):
    from PIL import Image

    paper = tmp_path / "paper.png"
    Image.eval(Image.open(digit_png), lambda v: 255 - v).save(paper)
    assert runtime.open(lenet_bundle.directory).classify([paper])[0][0] == "3"


def test_predict_matches_manifest_and_fp32_agrees_with_int8(lenet_bundle, batch):
    fp32 = runtime.open(lenet_bundle.directory, precision="fp32").predict(batch)[0]
    int8 = runtime.open(lenet_bundle.directory, precision="int8").predict(batch)[0]
    assert fp32.shape == (8, 10) and (fp32.argmax(1) == int8.argmax(1)).mean() >= 0.75


@pytest.mark.parametrize("bad, message", [
    (lambda b: b.astype(np.float64), "dtype float64"),
    (lambda b: b[:, 0], "rank 3"),
    (lambda b: np.repeat(b, 3, axis=1), "channel count 3"),
    (lambda b: b[:, :, :20], "dim 2 20"),
    (lambda b: b[:0], "empty batch"),
    (lambda b: b.tolist(), "not a numpy array"),
])
def test_bad_inputs_name_the_problem(lenet_bundle, batch, bad, message):
    predictor = runtime.open(lenet_bundle.directory, precision="fp32")
    with pytest.raises(InputError, match=message):
        predictor.predict(bad(batch))


def test_raw_pixels_are_told_to_normalise_not_to_cast(lenet_bundle):
    """A cast of raw pixels would run unnormalised input and give wrong classes: the error says how to normalise."""
    from paddle_edge.train.datasets.mnist import load_mnist

    predictor = runtime.open(lenet_bundle.directory, precision="fp32")
    with pytest.raises(InputError, match=r"(?s)dtype uint8 \(raw pixels\?\).*predictor\.preprocess\(raw\).*classify\(\)") as caught:
        predictor.predict(load_mnist("test")[0][:4, None])
    assert "astype" not in str(caught.value)


def test_channels_last_input_is_told_to_transpose(lenet_bundle, batch):
    predictor = runtime.open(lenet_bundle.directory, precision="fp32")
    nhwc = np.ascontiguousarray(batch.transpose(0, 2, 3, 1))
    with pytest.raises(InputError, match=r"(?s)channels last \(NHWC\).*fix: pass batch\.transpose\(0, 3, 1, 2\)") as caught:
        predictor.predict(nhwc)
    assert "channel count" not in str(caught.value)
    np.testing.assert_array_equal(predictor.predict(nhwc.transpose(0, 3, 1, 2))[0], predictor.predict(batch)[0])


def test_preprocess_returns_what_predict_takes(lenet_bundle, mnist_test):
    """Raw uint8 pixels (N x H x W, or N x H x W x 1) -> preprocess -> predict is classify's own path, and the very
    normalisation the model was trained with."""
    from paddle_edge.train.datasets.mnist import load_mnist

    predictor = runtime.open(lenet_bundle.directory, precision="fp32")
    pixels = load_mnist("test")[0][:16]
    batch = predictor.preprocess(pixels)
    assert batch.shape == (16, 1, 28, 28) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch, mnist_test[0][:16])
    np.testing.assert_array_equal(predictor.preprocess(pixels[..., None]), batch)
    logits = predictor.predict(batch)[0]
    np.testing.assert_array_equal(logits, predictor.predict(images_to_batch(list(pixels), predictor.manifest.preprocess))[0])
    assert [label for label, _ in predictor.classify(list(pixels))] == [str(i) for i in logits.argmax(axis=1)]


def test_readme_python_snippet_runs_as_written(lenet_bundle, digit_png, tmp_path, monkeypatch, capsys):
    """The README's snippet, run in a directory holding the files it names; any error in it fails this test."""
    shutil.copy(lenet_bundle.archive, tmp_path / "lenet.tar.gz")
    shutil.copy(digit_png, tmp_path / "digit.png")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(tmp_path / "cache"))
    exec(compile(readme_python("lenet.tar.gz"), "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert "('3'," in printed and "[3]" in printed, printed


def test_wrong_input_names(lenet_bundle, batch):
    with pytest.raises(InputError, match="image"):
        runtime.open(lenet_bundle.directory).predict({"pixels": batch})


def test_not_an_image(lenet_bundle, tmp_path):
    fake = tmp_path / "digit.png"
    fake.write_text("this is not a PNG")
    with pytest.raises(InputError, match="not a readable image"):
        runtime.open(lenet_bundle.directory).classify([fake])
    with pytest.raises(InputError, match="not found"):
        runtime.open(lenet_bundle.directory).classify([tmp_path / "missing.png"])


def _copy(bundle, tmp_path):
    return shutil.copytree(bundle.directory, tmp_path / "copy")


def test_tampered_artifact_is_refused(lenet_bundle, tmp_path):
    copy = _copy(lenet_bundle, tmp_path)
    with open(copy / "model.int8.onnx", "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02")
    with pytest.raises(BundleError, match="model.int8.onnx.*sha256"):
        runtime.open(copy)


def test_unknown_schema_version_names_the_readable_ones(lenet_bundle, tmp_path):
    copy = _copy(lenet_bundle, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"99.*reads \(1, 2, 3, 4\)"):
        runtime.open(copy)


def test_truncated_archive_is_refused(lenet_bundle, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(lenet_bundle.archive.read_bytes()[:20000])
    with pytest.raises(BundleError, match="truncated or damaged"):
        runtime.open(cut)


def test_archive_with_a_link_is_refused(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("bundle/manifest.json")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(BundleError, match="unsafe entry"):
        runtime.open(evil)


def test_auto_precision_opens_int8_unless_the_bundles_own_scores_show_it_losing_more_than_parity_allows(lenet_bundle, tmp_path):
    bundle = tmp_path / "lenet"
    shutil.copytree(lenet_bundle.directory, bundle)
    for backend in ("auto", "onnxruntime"):  # untuned, and with the engine named
        predictor = runtime.open(bundle, backend=backend)
        assert predictor.precision == "int8" and "int8: the bundle's onnx-int8" in predictor.chosen_by, predictor.chosen_by
        assert "points of top-1 (limit 0.5) against float on" in predictor.chosen_by
    # export --data recorded the int8 file's score beside fp32's; a score 0.6 points of top-1 below fp32's (limit 0.5)
    manifest = json.loads((bundle / "manifest.json").read_text())
    int8 = runtime.artifact_for(lenet_bundle.manifest, "onnxruntime", "int8")
    for loss, expected in ((0.005, "int8"), (0.006, "fp32")):  # at the limit it stays int8; past it, fp32
        manifest["accuracy"][int8]["top1"] = manifest["accuracy"]["paddle-fp32-program"]["top1"] - loss  # the float model's
        (bundle / "manifest.json").write_text(json.dumps(manifest))
        predictor = runtime.open(bundle)
        assert predictor.precision == expected, predictor.chosen_by
    assert predictor.artifact == "onnx-fp32" and f"fp32, because the bundle's {int8} lost 0.60 points of top-1 (limit 0.5)" in predictor.chosen_by
    assert runtime.open(bundle, precision="int8").precision == "int8"  # asked for by name, it opens
    for entry in manifest["accuracy"].values():  # a manifest of schema 1 or 2 scored without naming the data
        entry.pop("data", None)
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 2}))
    assert "lost 0.60 points of top-1 (limit 0.5) against float on the data export scored" in runtime.open(bundle).chosen_by


def test_backend_and_precision_errors(lenet_bundle):
    with pytest.raises(BackendError, match="precision"):
        runtime.open(lenet_bundle.directory, precision="int4")
    with pytest.raises(BackendError, match="unknown backend"):
        runtime.open(lenet_bundle.directory, backend="tensorrt")
    with pytest.raises(BundleError, match="no nb int8 artifact.*onnx/int8"):
        lenet_bundle.manifest.pick("nb", "int8")
