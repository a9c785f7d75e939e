"""Paddle Lite: the sidecar, opt for arm and x86, and an x86 .nb run by Lite against Paddle Inference."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import paddle
import pytest

from paddle_edge.export.check import check_model
from paddle_edge.export.lite import UNSOUND_INT8, LiteExportError, export_lite
from paddle_edge.export.lite_program import RULES, rewrite_for_lite
from paddle_edge.export.debian_rootfs import MARKER
from paddle_edge.runtime.backends.paddlelite import read_nb_header
from paddle_edge.export.lite_sidecar import LITE_TAG, LITE_VERSION, SidecarError, ensure_sidecar
from paddle_edge.source.paddle_program import program_desc, read_program
from paddle_edge.source.paddle_predictor import PaddlePredictor
from paddle_edge.train.zoo import lenet

pytestmark = pytest.mark.lite
SPEC = [paddle.static.InputSpec([None, 1, 28, 28], "float32", "image")]


def _save(net: paddle.nn.Layer, folder: Path, clip_extra: bool) -> Path:
    net.eval()
    paddle.jit.save(net, str(folder / "model"), input_spec=SPEC, clip_extra=clip_extra)
    return folder


@pytest.fixture(scope="module")
def sidecar():
    return ensure_sidecar()


@pytest.fixture(scope="module", params=[False, True], ids=["clip_extra=False", "clip_extra=True"])
def clip_extra(request) -> bool:
    """Whether Paddle strips extra attributes and outputs when saving (its default: True)."""
    return request.param


@pytest.fixture(scope="module")
def lenet_dir(clip_extra, tmp_path_factory) -> Path:
    """An untrained LeNet saved as an inference model."""
    paddle.seed(0)
    return _save(lenet(), tmp_path_factory.mktemp("lenet"), clip_extra)


def test_rewrite_changes_only_what_lite_lacks(tmp_path, lenet_dir, clip_extra):
    for target in ("arm", "x86"):
        changes = Counter(c.rule for c in rewrite_for_lite(lenet_dir / "model.pdmodel", target, tmp_path / f"{target}.pdmodel"))
        assert set(changes) == ({"restore_extra_attrs", "add_xshape"} if clip_extra else set()), changes
    (tmp_path / "x86").mkdir()
    (tmp_path / "x86.pdmodel").rename(tmp_path / "x86" / "model.pdmodel")
    (tmp_path / "x86" / "model.pdiparams").symlink_to(lenet_dir / "model.pdiparams")
    assert read_program(tmp_path / "x86").ops == read_program(lenet_dir).ops  # no op is replaced


def test_clipped_extra_attributes_are_what_opt_lacks(tmp_path, monkeypatch):
    """Paddle 3 saves swish without its extra attribute beta, which Lite's opt reads unconditionally: with the rule the
    model converts, without it opt aborts on that attribute."""
    class SwishNet(paddle.nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.act = paddle.nn.Conv2D(1, 2, 3), paddle.nn.Swish()

        def forward(self, image: paddle.Tensor) -> paddle.Tensor:
            return self.act(self.conv(image))

    model_dir = _save(SwishNet(), tmp_path / "swish", clip_extra=True)
    assert not [a for op in program_desc(model_dir / "model.pdmodel").blocks[0].ops if op.type == "swish"
                for a in op.attrs if a.name == "beta"]
    assert export_lite(model_dir, tmp_path / "swish.arm.nb", "arm").is_file()
    monkeypatch.setitem(RULES, "arm", tuple(r for r in RULES["arm"] if r.__name__ != "restore_extra_attrs"))
    with pytest.raises(LiteExportError, match="No attributes called beta found for swish"):
        export_lite(model_dir, tmp_path / "unrestored.arm.nb", "arm")


def test_sidecar_is_built_once(sidecar):
    assert (sidecar.root / MARKER).is_file() and ensure_sidecar().root == sidecar.root
    proc = sidecar.run(["-c", "import sys, paddlelite.lite; print(sys.version_info[:2])"])
    assert proc.returncode == 0 and proc.stdout.strip() == "(3, 9)", proc.stderr
    proc = sidecar.run(["-c", "import importlib.metadata, paddlelite.lite as lite; "
                              "print(importlib.metadata.version('paddlelite'), lite.Opt().version())"])
    assert proc.stdout.split() == [LITE_VERSION, LITE_TAG], proc.stderr  # the wheel, and what its opt writes in a .nb


def test_arm_export_writes_nb(tmp_path, lenet_dir):
    nb = export_lite(lenet_dir, tmp_path / "lenet.arm.nb", "arm")
    assert nb.stat().st_size > 100_000 and read_nb_header(nb)[:2] == (2, LITE_TAG)
    assert [p.name for p in tmp_path.iterdir()] == ["lenet.arm.nb"]


def test_x86_nb_runs_and_matches_paddle_inference(tmp_path, sidecar, lenet_dir):
    nb = export_lite(lenet_dir, tmp_path / "lenet.x86.nb", "x86")
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    expected = PaddlePredictor(lenet_dir, threads=1, mkldnn=False).run({"image": x})[0]
    (got,) = sidecar.predict(nb, x)
    assert got.shape == (8, 10)
    assert float(np.abs(got - expected).max()) <= 1e-4
    assert (got.argmax(1) == expected.argmax(1)).all()
    seconds = sidecar.latency(nb, x, calls=10)
    assert seconds.shape == (10,) and (seconds > 0).all()


def test_unsupported_op_is_named_and_no_file_is_left(tmp_path):
    class SumNet(paddle.nn.Layer):
        """Lite has `sum` (paddle.add_n) for arm only."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = paddle.nn.Conv2D(1, 2, 3)

        def forward(self, image: paddle.Tensor) -> paddle.Tensor:
            return paddle.add_n([self.conv(image), self.conv(image)])

    model_dir = _save(SumNet(), tmp_path / "sum", clip_extra=True)
    with pytest.raises(LiteExportError, match="no x86 kernels for: sum"):
        export_lite(model_dir, tmp_path / "out" / "sum.nb", "x86")
    assert list((tmp_path / "out").iterdir()) == []
    assert check_model(model_dir, "lite-arm").ok
    report = check_model(model_dir, "lite-x86")
    assert report.unsupported == ("sum",) and report.elsewhere["sum"] == ("onnx", "lite-arm")
    assert "  sum: onnx and lite-arm run it" in report.render().splitlines()


def test_check_takes_matmul_v2_on_x86(lenet_dir):
    """Lite 2.13-rc has x86 kernels for matmul_v2 (LeNet's Linear layers; the recogniser's attention: test_real_models.py)."""
    assert "matmul_v2" in check_model(lenet_dir, "lite-x86").ops and check_model(lenet_dir, "lite-x86").ok


def test_x86_int8_kernels_are_why_bundles_get_no_x86_int8_nb(tmp_path, sidecar, lenet_ptq):
    """opt writes an x86 int8 .nb of a PaddleSlim QDQ program, but Lite's x86 int8 kernels compute other outputs than
    the program's in Paddle Inference, and other ones for the same image at another batch size (export.lite.UNSOUND_INT8):
    if this fails, Lite fixed them and bundles can have one."""
    nb = export_lite(lenet_ptq.model_dir, tmp_path / "lenet.int8.x86.nb", "x86")
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    paddle_int8 = PaddlePredictor(lenet_ptq.model_dir, threads=1, mkldnn=False).run({"image": x})[0]
    (alone,), (batched,) = sidecar.predict(nb, x[:1]), sidecar.predict(nb, x)
    assert not np.allclose(batched, paddle_int8, atol=0.1)  # off by more than 0.1, or not finite
    assert not np.allclose(alone[0], batched[0], atol=0.1)
    assert "lite-x86" in UNSOUND_INT8 and "lite-arm" not in UNSOUND_INT8


def test_ptq_and_qat_programs_become_int8_arm_nbs(tmp_path, lenet, lenet_ptq):
    """Both of PaddleSlim's int8 programs (what the demo ships either way) convert for arm into Lite's int8 kernels:
    opt fuses their quantize_linear/dequantize_linear pairs and feeds the int8 kernels through calib ops."""
    from paddle_edge.compress.qat import quantize_qat
    from paddle_edge.compress.recipe import QatRecipe

    qat = quantize_qat(lenet.model_dir, tmp_path / "qat", QatRecipe(epochs=1), train_limit=2000, verbose=0)
    for name, program in (("ptq", lenet_ptq.model_dir), ("qat", qat.model_dir)):
        nb = export_lite(program, tmp_path / f"{name}.int8.arm.nb", "arm")
        assert b"calib/fp32_to_int8" in nb.read_bytes() and b"quantize_linear" not in nb.read_bytes(), name


def test_nb_from_another_lite_version_is_refused(tmp_path, sidecar, lenet_dir):
    data = bytearray(export_lite(lenet_dir, tmp_path / "lenet.x86.nb", "x86").read_bytes())
    data[2:18] = b"v2.10".ljust(16, b"\0")
    other = tmp_path / "other.nb"
    other.write_bytes(bytes(data))
    with pytest.raises(SidecarError, match="written by Paddle Lite opt v2.10, but Paddle Lite 2.13rc0 is what runs here"):
        sidecar.predict(other, np.zeros((1, 1, 28, 28), np.float32))


def test_truncated_nb_is_refused(tmp_path, sidecar, lenet_dir):
    whole = export_lite(lenet_dir, tmp_path / "lenet.x86.nb", "x86").read_bytes()
    cut = tmp_path / "cut.nb"
    cut.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(SidecarError, match="truncated"):
        sidecar.predict(cut, np.zeros((1, 1, 28, 28), np.float32))
