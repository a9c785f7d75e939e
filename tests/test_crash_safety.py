"""SIGKILL in the middle of every writer: the previous good artifact stays intact and no partial one passes for good.

Each writer runs as its own `paddle-edge` process and is killed at several points: the moment its temporary
`.partial` path appears (the write itself), and fixed delays spread over its run. After every kill, whatever carries
the artifact's real name must load and verify, and equal the previous good one or a complete new one.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import jsonschema
import pytest
from robustness import TRIED

from paddle_edge.boards.report import run_dir
from paddle_edge.boards.report.summary import SCHEMA_FILE
from paddle_edge.runtime import load_bundle
from paddle_edge.runtime.files import sha256_file
from paddle_edge.train.card import ModelCard
from paddle_edge.train.trainer import latest_checkpoint, train_model
from paddle_edge.train.zoo import ZOO

CLI = [sys.executable, "-m", "paddle_edge.cli"]


def _snapshot(root: Path) -> Dict[str, str]:
    """sha256 of every file under `root` whose path has no '.partial' part."""
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file() and ".partial" not in str(p)}


def _kill(args: List[str], watch: Path, delay: Optional[float]) -> bool:
    """Run `paddle-edge ARGS`; SIGKILL it after `delay` s, or (delay None) as soon as a .partial appears in `watch`.
    True if it was killed before it finished."""
    before = set(watch.glob(".*.partial")) if watch.is_dir() else set()
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.perf_counter()
    while proc.poll() is None:
        partial_seen = delay is None and watch.is_dir() and set(watch.glob(".*.partial")) - before
        if partial_seen or (delay is not None and time.perf_counter() - start >= delay):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    return False


def _survives(args: List[str], watch: Path, delays: List[Optional[float]], intact: Callable[[], bool]) -> None:
    """Kill the writer at each point; after each, `intact()` must hold. Counts kill points and losses."""
    killed = 0
    for delay in delays:
        if _kill(args, watch, delay):
            killed += 1
            TRIED["kill points"] += 1
            if not intact():
                TRIED["data lost"] += 1
                pytest.fail(f"after SIGKILL at {delay if delay is not None else 'the first .partial'}: the artifact is damaged")
    assert killed >= len(delays) - 1, "the writer finished before most kill points; make it slower"


def test_export_killed_mid_write_keeps_the_previous_bundle(lenet, lenet_ptq, tmp_path):
    out = tmp_path / "bundle"
    args = ["export", str(lenet.model_dir), "--int8", str(lenet_ptq.model_dir), "--out", str(out)]
    subprocess.run([*CLI, *args], check=True, capture_output=True)
    good_dir, good_archive = _snapshot(out), sha256_file(out.with_name("bundle.tar.gz"))

    def intact() -> bool:
        load_bundle(out)
        load_bundle(out.with_name("bundle.tar.gz"))
        return _snapshot(out) == good_dir and sha256_file(out.with_name("bundle.tar.gz")) == good_archive

    _survives(args, tmp_path, [None, 1.0, 2.5, 4.0], intact)


def test_compress_killed_mid_write_keeps_the_previous_int8_model(lenet, tmp_path):
    out = tmp_path / "int8"
    args = ["compress", str(lenet.model_dir), "--method", "ptq", "--algo", "avg", "--batch-nums", "4", "--out", str(out)]
    subprocess.run([*CLI, *args], check=True, capture_output=True)
    good = _snapshot(out)

    def intact() -> bool:
        return ModelCard.load(out).precision == "int8" and _snapshot(out) == good

    _survives(args, tmp_path, [None, 2.0, 4.0], intact)


def test_report_killed_mid_write_keeps_a_whole_page(lenet_run_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in (run_dir.PARITY, run_dir.PREDICTIONS, run_dir.BENCH):
        (run / name).write_bytes((lenet_run_dir / name).read_bytes())
    subprocess.run([*CLI, "report", str(run)], check=True, capture_output=True)
    schema = json.loads(SCHEMA_FILE.read_text())

    def intact() -> bool:
        jsonschema.validate(json.loads((run / run_dir.DATA).read_text()), schema)
        return (run / run_dir.HTML).read_text().rstrip().endswith("</html>")

    _survives(["report", str(run)], run, [None, 1.0, 2.0, 3.0], intact)


def _whole_checkpoints(folder: Path) -> bool:
    """Every epoch-N directory holds both state files, and the latest is loadable."""
    dirs = [p for p in folder.glob("epoch-*") if p.is_dir()]
    return all((p / "state.pdparams").is_file() and (p / "state.pdopt").is_file() for p in dirs)


def test_train_killed_mid_run_resumes_to_the_target(tmp_path, mnist_dir):
    """SIGKILL while a checkpoint is being written, and again between epochs; --resume reaches the zoo's target."""
    out = tmp_path / "softmax"
    assert _kill(["train", "softmax", "--out", str(out)], out / "checkpoints", None)  # the first checkpoint's .partial
    TRIED["kill points"] += 1
    assert _whole_checkpoints(out / "checkpoints") and latest_checkpoint(out / "checkpoints") < 4
    proc = subprocess.Popen([*CLI, "train", "softmax", "--out", str(out), "--resume"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and latest_checkpoint(out / "checkpoints") < 4:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    TRIED["kill points"] += 1
    done = latest_checkpoint(out / "checkpoints")
    assert 4 <= done < ZOO["softmax"].epochs and _whole_checkpoints(out / "checkpoints"), f"killed after {done} epochs"
    result = train_model("softmax", out, resume=True, verbose=0)
    print(f"killed after epoch {done}; resumed for {result.epochs_run} epochs; top-1 {result.card.metrics['top1']:.4f}")
    assert result.epochs_run == ZOO["softmax"].epochs - done
    if result.card.metrics["top1"] < ZOO["softmax"].target:
        TRIED["data lost"] += 1
    assert result.card.metrics["top1"] >= ZOO["softmax"].target
