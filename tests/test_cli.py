"""The `paddle-edge` command as a user types it."""
from __future__ import annotations

import json
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
    assert "onnx_fp32_max_abs_diff" in out.stdout and report["samples"] == 500
