"""Paddle Lite on ARM: Lite 2.13-rc's light library built from its source (`paddle-edge lite-build`), run on the emulated
Raspberry Pi 4 through paddle-edge's C shim, judged by board parity against this host's ONNX Runtime."""
from __future__ import annotations

import subprocess

import pytest

from paddle_edge.boards.board_parity import board_parity
from paddle_edge.boards.board_run import board_for, describe
from paddle_edge.boards.lite_arm_build import COMMIT, LiteBuildError, _check_source, runtime_dir, shim_path
from paddle_edge.boards.profile import get_profile
from paddle_edge.export.bundle import build_bundle
from paddle_edge.export.debian_rootfs import is_built
from paddle_edge import runtime
from paddle_edge.runtime import backends
from paddle_edge.runtime.backends.lite_light_library import ENV, SHIM_LIBRARY, LightPredictor
from paddle_edge.runtime.backends.paddlelite import _check_version
from paddle_edge.runtime.errors import BackendError, BundleError, PaddleEdgeError


def test_the_source_must_be_a_checkout_of_the_lite_tag(tmp_path):
    with pytest.raises(LiteBuildError, match="is not a git checkout of Paddle Lite") as caught:
        _check_source(tmp_path)
    assert "git clone --depth 1 --branch v2.13-rc" in caught.value.fix
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "not Lite"], check=True)
    with pytest.raises(LiteBuildError, match=f"not Paddle Lite v2.13-rc \\({COMMIT[:10]}\\)"):
        _check_source(tmp_path)


def test_an_unbuilt_runtime_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(tmp_path))
    with pytest.raises(LiteBuildError, match="has not been built here") as caught:
        shim_path()
    assert "paddle-edge lite-build --source" in caught.value.fix
    monkeypatch.delenv(ENV, raising=False)
    assert not backends.available("paddlelite")  # no Lite wheel for this Python, no library named
    with pytest.raises(BackendError, match=f"\\${ENV} is not set"):
        LightPredictor(tmp_path / "model.nb", 1)
    monkeypatch.setenv(ENV, str(tmp_path / SHIM_LIBRARY))
    assert backends.available("paddlelite")  # named: the library's own error says what is wrong with it
    with pytest.raises(BackendError, match="cannot be loaded") as caught:
        LightPredictor(tmp_path / "model.nb", 1)
    assert "paddle-edge lite-build" in caught.value.fix


def test_a_nb_and_the_lite_running_it_name_one_version_in_their_own_spellings(tmp_path):
    """A .nb's header and Lite's library say "v2.13-rc", its wheel "2.13rc0" (PEP 440): the same release; others are refused."""
    for opt, installed in (("v2.13-rc", "2.13rc0"), ("v2.13-rc", "2.13-rc"), ("v2.10", "2.10")):
        _check_version(tmp_path / "model.nb", opt, installed, "install that one")
    with pytest.raises(BundleError, match="written by Paddle Lite opt v2.13-rc, but Paddle Lite 2.13rc1 is what runs here"):
        _check_version(tmp_path / "model.nb", "v2.13-rc", "2.13rc1", "install that one")


def test_paddlelite_runs_only_on_an_emulated_arm_board():
    with pytest.raises(PaddleEdgeError, match="x86-64 is not one") as caught:
        board_for(get_profile("x86-64"), "paddlelite")
    assert "`paddle-edge parity` runs the x86 .nb" in caught.value.fix


built = pytest.mark.skipif(not is_built(runtime_dir()), reason="Paddle Lite's ARM runtime is not built here: "
                                                               "`paddle-edge lite-build --source <Paddle-Lite v2.13-rc checkout>`")


@pytest.mark.board
@built
def test_lite_arm_nb_runs_on_the_emulated_pi_and_matches_this_host(lenet, lenet_ptq, tmp_path):
    bundle = build_bundle(lenet.model_dir, tmp_path / "lenet", int8_dir=lenet_ptq.model_dir, targets=("onnx", "lite-arm"))
    board = board_for(get_profile("rpi4"), "paddlelite")
    assert describe(board, "paddlelite").endswith("paddlelite light library")
    report = board_parity(board, bundle.directory, limit=300, calls=3, backend="paddlelite")
    print(report.render())
    d = report.data
    assert report.ok, report.render()
    # fp32 against this host's fp32 ONNX; int8 (Lite's own int8 kernels, from the same PaddleSlim program as the int8 ONNX)
    # against the float model, as parity judges OpenVINO's, with the exact int8 ONNX reported beside it
    assert d["artifacts"] == {"fp32": {"board": "lite-arm-fp32", "x86_64": "onnx-fp32"},  # int8: the file made for this CPU
                              "int8": {"board": "lite-arm-int8", "x86_64": runtime.artifact_for(bundle.manifest, "onnxruntime", "int8")}}
    assert d["board_info"]["machine"] == "aarch64" and d["board_info"]["versions"]["paddlelite"] == "absent"
    assert d["engines"] == {p: "Paddle Lite 2.13-rc C++ light library (paddle-edge's shim)" for p in ("fp32", "int8")}
    assert set(d["checks"]) == {"fp32_sqnr_db", "fp32_argmax_agreement", "int8_argmax_agreement",
                                "int8_top1_drop_points"}  # what is gated: fp32 against this host's, int8 against the float model
    assert d["top1"]["fp32"]["board"] == d["top1"]["fp32"]["x86_64"]
    assert d["values"]["int8_vs_exact_argmax_agreement"] >= 0.99  # reported: Lite's int8 arithmetic is its own
