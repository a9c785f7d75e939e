"""Boards: profiles as data, the emulated Raspberry Pi 4 (arm64 Debian + qemu), runs and parity on it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from paddle_edge.boards.board_parity import board_parity
from paddle_edge.boards.board_run import HostBoard, board_for, describe, run_bundle
from paddle_edge.boards.profile import BUILTIN_DIR, get_profile, load_profiles
from paddle_edge.export.bundle import build_bundle
from paddle_edge.runtime.errors import PaddleEdgeError

BUILTIN = {"rpi4", "rpi5", "rk3399", "jetson-nano", "x86-64"}


def test_builtin_profiles_describe_their_boards():
    profiles = load_profiles()
    assert BUILTIN <= set(profiles)
    rk = profiles["rk3399"]
    assert [(c.core, c.count) for c in rk.cores] == [("cortex-a72", 2), ("cortex-a53", 4)] and rk.core_count == 6
    assert profiles["rpi4"].emulation.qemu_cpu == "cortex-a72" and "lite-arm" in profiles["rpi4"].export_targets
    assert profiles["x86-64"].emulation is None and "manylinux2014_aarch64" in profiles["rpi5"].wheel_platforms
    # each board's pins exist for its Python: Pillow 13 has no CPython 3.6 wheel, 8.4.0 was the last
    assert profiles["jetson-nano"].runtime.packages == ("onnxruntime==1.10.0", "numpy==1.19.5", "Pillow==8.4.0")
    assert profiles["rpi4"].runtime.packages[2] == "Pillow==13.0.0"


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(PaddleEdgeError, match="known boards: .*rpi4"):
        get_profile("pi9")


def test_a_user_profile_is_added(tmp_path, monkeypatch):
    mine = json.loads((BUILTIN_DIR / "rpi4.json").read_text())
    mine.update(name="orangepi5", title="Orange Pi 5")
    (tmp_path / "orangepi5.json").write_text(json.dumps(mine))
    (tmp_path / "broken.json").write_text('{"name": "broken"}')
    monkeypatch.setenv("PADDLE_EDGE_BOARDS", str(tmp_path))
    with pytest.raises(PaddleEdgeError, match="broken.json is missing"):
        load_profiles()
    (tmp_path / "broken.json").unlink()
    assert get_profile("orangepi5").title == "Orange Pi 5"


def test_boards_says_where_each_profile_has_run(capsys):
    from paddle_edge.cli import main

    main(["boards"])
    blocks, name = {}, None
    for line in capsys.readouterr().out.splitlines():
        name = line.split()[0] if line[:1].strip() and not line.startswith("add your own") else name
        blocks[name] = blocks.get(name, "") + line + "\n"
    assert "has run emulated under qemu" in blocks["rpi4"] and "has run emulated under qemu" in blocks["rpi5-trixie"]
    assert "NEVER RUN anywhere" in blocks["jetson-nano"] and "Python 3.6" in blocks["jetson-nano"]
    assert "has run natively" in blocks["x86-64"]
    assert all("Lite" not in block for block in blocks.values())


def _as_nobody(code: str, folder: Path) -> subprocess.CompletedProcess:
    """Run python `code` as the unprivileged user nobody (file modes bind it, unlike root), profiles read from `folder`."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c", code],
                          capture_output=True, text=True, env={**os.environ, "PADDLE_EDGE_BOARDS": str(folder), "HOME": str(folder)})


def test_unreadable_user_profiles_are_skipped_with_a_warning():
    home = Path(tempfile.mkdtemp(prefix="paddle-edge-nobody-"))
    try:
        home.chmod(0o755)
        mine = json.loads((BUILTIN_DIR / "rpi4.json").read_text())
        for name in ("orangepi5", "secret"):
            (home / f"{name}.json").write_text(json.dumps({**mine, "name": name}))
            (home / f"{name}.json").chmod(0o644)
        (home / "secret.json").chmod(0)
        locked = home / "locked"
        locked.mkdir(mode=0)
        code = "from paddle_edge.boards.profile import load_profiles\nprint(' '.join(load_profiles()))"
        proc = _as_nobody(code, home)
        assert proc.returncode == 0, proc.stderr
        assert {"rpi4", "orangepi5"} <= set(proc.stdout.split()) and "secret" not in proc.stdout.split()
        assert f"skipping board profiles in {home / 'secret.json'}: Permission denied" in proc.stderr
        assert "fix: make it readable by this user" in proc.stderr
        proc = _as_nobody(code, locked)
        assert proc.returncode == 0 and "rpi4" in proc.stdout.split(), proc.stderr
        assert f"skipping board profiles in {locked}: Permission denied" in proc.stderr
    finally:
        shutil.rmtree(home)


def test_a_board_without_emulation_of_another_architecture_is_refused():
    with pytest.raises(PaddleEdgeError, match="'jetson-nano' \\(aarch64\\) has no emulation"):
        board_for(get_profile("jetson-nano"))


def test_building_a_board_without_root_says_what_to_do():
    home = Path(tempfile.mkdtemp(prefix="paddle-edge-nobody-"))
    home.chmod(0o777)
    code = "from paddle_edge.boards.emulator import emulate\nfrom paddle_edge.boards.profile import get_profile\nemulate(get_profile('rpi4'))"
    proc = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c", code],
                          capture_output=True, text=True, env={**os.environ, "PADDLE_EDGE_CACHE": str(home), "HOME": str(home)})
    shutil.rmtree(home)
    assert proc.returncode != 0 and "needs root" in proc.stderr and "sudo" in proc.stderr


@pytest.fixture(scope="session")
def rpi4():
    return board_for(get_profile("rpi4"))


@pytest.mark.board
def test_the_runtime_on_the_board_is_thin(rpi4, lenet_bundle, mnist_test):
    result = run_bundle(rpi4, lenet_bundle.archive, [{"image": mnist_test[0][:200]}], ["fp32", "int8"], threads=4, calls=5)
    for precision in ("fp32", "int8"):
        info = result.info[precision]
        assert info["machine"] == "aarch64" and info["backend"] == "onnxruntime"
        assert info["paddle_importable"] is False and info["versions"]["paddlepaddle"] == "absent"
        assert result.outputs[precision][0][0].shape == (200, 10) and len(result.seconds[precision]) == 5


@pytest.mark.board
def test_board_parity_with_x86(rpi4, lenet_bundle):
    report = board_parity(rpi4, lenet_bundle.directory, limit=2000, calls=5)
    print(report.render())
    assert report.ok, report.render()
    assert report.data["emulated"] and "EMULATED" in report.render()
    assert abs(report.data["top1"]["int8"]["board"] - report.data["top1"]["int8"]["x86_64"]) <= 0.001
    # the board's int8 is held to the task metric's limit against this host's fp32, as parity holds the file here
    assert report.data["checks"]["int8_top1_drop_points"]["limit"] == 0.5 and report.data["checks"]["int8_top1_drop_points"]["passed"]
    kernels = report.data["kernels"]  # the board's own fused int8 kernels, op by op, against the exact result
    assert kernels["checked"] == 2 and report.data["values"]["int8_kernel_max_steps"] == kernels["max_steps"] <= 1  # conv2 and
    # the fc (conv1 runs float)


@pytest.mark.board
def test_openvino_on_the_emulated_board_is_held_to_parity_s_gates_for_it(lenet_bundle, capsys):
    # OpenVINO's aarch64 wheel (manylinux_2_35) in a site of its own; the board runs the file made for OpenVINO
    board = board_for(get_profile("rpi4"), "openvino")
    assert board.site.name.endswith("openvino-2026.4.1") and board.site != board_for(get_profile("rpi4")).site
    assert describe(board, "openvino").endswith("openvino 2026.4.1 devices CPU")  # what `board emulate --backend openvino` says
    report = board_parity(board, lenet_bundle.directory, limit=600, calls=3, backend="openvino")
    print(report.render())
    d = report.data
    # fp32 is this host's function; int8 runs OpenVINO's own aarch64 int8 kernels, judged against the float model as
    # parity judges OpenVINO here (on this briefly trained LeNet they lose more than a point of top-1: the gate says so)
    assert d["checks"]["fp32_sqnr_db"]["passed"] and d["checks"]["fp32_argmax_agreement"]["passed"], report.render()
    assert d["backend"] == "openvino" and d["board_info"]["versions"]["openvino"] == "2026.4.1" and d["kernels"] is None
    assert d["artifacts"]["int8"]["board"] == "onnx-int8-openvino" and d["board_info"]["machine"] == "aarch64"
    assert {"fp32_sqnr_db", "int8_argmax_agreement", "int8_top1_drop_points"} <= set(d["checks"])
    assert "int8_vs_exact_argmax_agreement" not in d["checks"] and "int8_vs_exact_argmax_agreement" in d["values"]  # reported
    with pytest.raises(PaddleEdgeError, match="names no OpenVINO wheel"):
        get_profile("jetson-nano").runtime.packages_for("openvino", "jetson-nano")  # Python 3.6: no wheel


@pytest.mark.board
def test_auto_never_runs_a_lite_file_it_was_not_tuned_to_and_names_the_backend_that_can(rpi4, lenet, mnist_test, tmp_path):
    lite_only = build_bundle(lenet.model_dir, tmp_path / "lite", targets=("lite-arm",))
    with pytest.raises(PaddleEdgeError, match=r"runs a bundle's ONNX with onnxruntime, and this bundle has no fp32 ONNX "
                                              r"\(formats: \['nb'\]\)(.|\n)*backend='paddlelite'"):
        run_bundle(rpi4, lite_only.directory, [{"image": mnist_test[0][:4]}], ["fp32"], threads=1, calls=0, backend="auto")


def test_the_host_is_a_board_too(lenet_bundle):
    report = board_parity(HostBoard(get_profile("x86-64")), lenet_bundle.directory, limit=500, calls=5)
    assert report.ok and report.data["values"]["fp32_max_abs_diff"] == 0.0 and not report.data["emulated"]
    assert report.data["kernels"]["checked"] >= 1 and "int8_kernel_max_steps" in report.data["values"]
