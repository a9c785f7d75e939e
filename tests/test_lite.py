"""Paddle Lite: the sidecar, opt for arm and x86, and an x86 .nb run by Lite against Paddle Inference."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import paddle
import pytest

from paddle_edge.export.check import check_model
from paddle_edge.export.lite import LiteExportError, export_lite
from paddle_edge.export.lite_program import rewrite_for_lite
from paddle_edge.export.debian_rootfs import MARKER
from paddle_edge.export.lite_sidecar import SidecarError, ensure_sidecar
from paddle_edge.source.paddle_program import read_program
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
    (tmp_path / "x86").mkdir()
    changes = Counter(c.rule for c in rewrite_for_lite(lenet_dir / "model.pdmodel", "x86", tmp_path / "x86" / "model.pdmodel"))
    assert changes["matmul_v2_to_matmul"] == 1
    (tmp_path / "x86" / "model.pdiparams").symlink_to(lenet_dir / "model.pdiparams")
    ops = read_program(tmp_path / "x86").ops
    assert "matmul_v2" not in ops and ops.count("matmul") == 1
    arm = rewrite_for_lite(lenet_dir / "model.pdmodel", "arm", tmp_path / "arm.pdmodel")
    assert bool(arm) == clip_extra


def test_sidecar_is_built_once(sidecar):
    assert (sidecar.root / MARKER).is_file() and ensure_sidecar().root == sidecar.root
    proc = sidecar.run(["-c", "import sys, paddlelite.lite; print(sys.version_info[:2])"])
    assert proc.returncode == 0 and proc.stdout.strip() == "(3, 9)", proc.stderr


def test_arm_export_writes_nb(tmp_path, lenet_dir):
    nb = export_lite(lenet_dir, tmp_path / "lenet.arm.nb", "arm")
    assert nb.stat().st_size > 100_000 and nb.read_bytes()[:7] == b"\x02\x00v2.10"
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
    class ErfNet(paddle.nn.Layer):
        """Lite 2.10 has erf for arm only."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = paddle.nn.Conv2D(1, 2, 3)

        def forward(self, image: paddle.Tensor) -> paddle.Tensor:
            return paddle.erf(self.conv(image))

    model_dir = _save(ErfNet(), tmp_path / "erf", clip_extra=True)
    with pytest.raises(LiteExportError, match="no x86 kernels for: erf"):
        export_lite(model_dir, tmp_path / "out" / "erf.nb", "x86")
    assert list((tmp_path / "out").iterdir()) == []
    assert check_model(model_dir, "lite-arm").ok
    report = check_model(model_dir, "lite-x86")
    assert report.unsupported == ("erf",) and report.elsewhere["erf"] == ("onnx", "lite-arm")
    assert "  erf: onnx and lite-arm run it" in report.render().splitlines()


def test_check_counts_rewritten_ops_as_supported(lenet_dir):
    """LeNet's matmul_v2 of 2-D weights become matmul, which Lite 2.10 has on x86 (the recogniser's attention's do not:
    test_real_models.py)."""
    assert "matmul_v2" in check_model(lenet_dir, "lite-x86").ops and check_model(lenet_dir, "lite-x86").ok


def test_nb_from_another_lite_version_is_refused(tmp_path, sidecar, lenet_dir):
    data = bytearray(export_lite(lenet_dir, tmp_path / "lenet.x86.nb", "x86").read_bytes())
    data[2:18] = b"v2.12".ljust(16, b"\0")
    other = tmp_path / "other.nb"
    other.write_bytes(bytes(data))
    with pytest.raises(SidecarError, match="written by Paddle Lite opt v2.12, but Paddle Lite 2.10 is what runs here"):
        sidecar.predict(other, np.zeros((1, 1, 28, 28), np.float32))


def test_truncated_nb_is_refused(tmp_path, sidecar, lenet_dir):
    whole = export_lite(lenet_dir, tmp_path / "lenet.x86.nb", "x86").read_bytes()
    cut = tmp_path / "cut.nb"
    cut.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(SidecarError, match="truncated"):
        sidecar.predict(cut, np.zeros((1, 1, 28, 28), np.float32))
