"""The `paddle-edge` command as a user types it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paddle_edge.cli", *args], capture_output=True, text=True)


def test_run_prints_the_digit(lenet_bundle, digit_png):
    out = cli("run", str(lenet_bundle.archive), str(digit_png))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(": ")[1].startswith("3 (")


def test_check_lists_ops(lenet):
    out = cli("check", str(lenet.model_dir), "--target", "onnx")
    assert out.returncode == 0 and "matmul_v2" in out.stdout and "0 of" in out.stdout


@pytest.mark.parametrize("args, message", [
    (("train", "resnet9000", "--out", "/tmp/x"), "unknown model 'resnet9000'"),
    (("export", "/nonexistent/model", "--out", "/tmp/x"), "is not a directory"),
    (("run", "/nonexistent/bundle.tar.gz", "a.png"), "no bundle at"),
])
def test_errors_name_the_problem_and_the_fix(args, message):
    out = cli(*args)
    assert out.returncode == 2 and message in out.stderr and "fix:" in out.stderr


def test_parity_prints_a_table_and_writes_json(lenet_bundle):
    out = cli("parity", str(lenet_bundle.directory), "--limit", "500")
    report = json.loads(Path(f"{lenet_bundle.directory}.parity.json").read_text())
    failed = [name for name, check in report["checks"].items() if not check["passed"]]
    assert failed == []  # speed is a reported goal, never a check
    assert out.returncode == (1 if failed else 0), out.stderr
    assert "onnx_fp32_sqnr_db" in out.stdout and report["samples"] == 500


def test_help_states_the_default_precision_and_every_zoo_model():
    from paddle_edge.train.zoo import ZOO

    assert "(default: auto: the faster one" in " ".join(cli("run", "--help").stdout.split())
    train_help = cli("train", "--help").stdout
    assert all(name in train_help for name in ZOO), train_help


def test_run_on_an_fp32_only_bundle_runs_fp32_and_names_the_precision_to_pass(lenet, digit_png, tmp_path):
    from paddle_edge import runtime
    from paddle_edge.export.bundle import build_bundle
    from paddle_edge.runtime.errors import BackendError

    fp32_only = build_bundle(lenet.model_dir, tmp_path / "fp32", include_reference=False).directory
    out = cli("run", str(fp32_only), str(digit_png), "--precision", "int8")
    assert out.returncode == 2 and "has no int8 model; it has fp32" in out.stderr and "`paddle-edge run --precision fp32`" in out.stderr, out.stderr
    with pytest.raises(BackendError, match="precision='fp32'"):
        runtime.open(fp32_only, backend="onnxruntime", precision="int8")
    for asked, said in (([], "fp32: the bundle has no int8 model"), (["--precision", "fp32"], "the default rule")):
        out = cli("run", str(fp32_only), str(digit_png), *asked)  # the default (auto) runs the precision the bundle has
        assert out.returncode == 0 and out.stdout.split(": ")[1].startswith("3 (") and said in out.stderr, out.stderr
        assert "engine: onnxruntime fp32 (untuned" in out.stderr


@pytest.mark.parametrize("method", ["ptq", "qat"])
def test_compress_of_a_run_directory_points_at_the_model_inside(lenet, method, tmp_path):
    run = lenet.model_dir.parent  # what `paddle-edge train --out RUN` was given
    out = cli("compress", str(run), "--method", method, "--out", str(tmp_path / "int8"))
    assert out.returncode == 2 and "training run directory" in out.stderr, out.stderr
    assert f"fix: point at the model directory inside it: {lenet.model_dir}" in out.stderr and not (tmp_path / "int8").exists()


def test_train_and_compress_print_percentages_and_no_temporary_path(lenet, tmp_path):
    out = cli("train", "softmax", "--epochs", "1", "--limit", "2000", "--out", str(tmp_path / "softmax"))
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(rf"softmax: top-1 \d+\.\d\d %, validation top-1 \d+\.\d\d %, epoch 1 -> {tmp_path / 'softmax' / 'model'}",
                        out.stdout.strip().splitlines()[-1]), out.stdout
    out = cli("compress", str(lenet.model_dir), "--algo", "avg", "--batch-nums", "2", "--out", str(tmp_path / "int8"))
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"float: top-1 \d+\.\d\d %, validation top-1 \d+\.\d\d %; int8 \(ptq, PaddleSlim's program in Paddle\): top-1 \d+\.\d\d %, "
                        rf"validation top-1 \d+\.\d\d % -> {tmp_path / 'int8'} \(`export` scores the int8 file that ships, on the test "
                        r"split or `--data`\)", out.stdout.strip().splitlines()[-1]), out.stdout
    assert ".partial" not in out.stdout + out.stderr  # the temporary directory the model was written into is gone
