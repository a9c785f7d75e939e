"""SIGKILL in the middle of every writer: the previous good artifact stays intact and no partial one passes for good.

Each writer runs as its own `paddle-edge` process and is killed at several points: the moment its temporary
`.partial` path appears (the write itself), and fractions of a whole run's time. After every kill, whatever carries
the artifact's real name must load and verify (sha256 against its manifest, schema, a closed page) and hold the same
set of files as the good one: the previous whole artifact, or the new whole one if the kill came after its rename.
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


def _survives(args: List[str], watch: Path, fractions: List[Optional[float]], baseline: Callable[[], object],
              intact: Callable[[object], bool]) -> None:
    """Write once, whole and timed, and take `baseline()` of the result; then kill the writer at each point (a fraction
    of that time, or None: when its .partial appears). After each kill `intact(baseline)` must hold. Counts kill points
    and losses."""
    start = time.perf_counter()
    subprocess.run([*CLI, *args], check=True, capture_output=True)
    whole = time.perf_counter() - start
    good = baseline()
    delays = [None if f is None else f * whole for f in fractions]
    killed = 0
    for delay in delays:
        if _kill(args, watch, delay):
            killed += 1
            TRIED["kill points"] += 1
            if not intact(good):
                TRIED["data lost"] += 1
                pytest.fail(f"after SIGKILL at {delay if delay is not None else 'the first .partial'}: the artifact is damaged")
    assert killed >= len(delays) - 1, "the writer finished before most kill points; make it slower"


def test_export_killed_mid_write_keeps_the_previous_bundle(lenet, lenet_ptq, tmp_path):
    out, archive = tmp_path / "bundle", tmp_path / "bundle.tar.gz"

    def state() -> tuple:
        return _snapshot(out), sha256_file(archive)

    def intact(good: object) -> bool:  # each of the two is the old whole file or the new whole one, never a mix
        load_bundle(out)
        load_bundle(archive)
        return state()[0] == good[0] or _snapshot(out).keys() == good[0].keys()

    _survives(["export", str(lenet.model_dir), "--int8", str(lenet_ptq.model_dir), "--out", str(out)], tmp_path,
              [None, 0.3, 0.6, 0.85], state, intact)


def test_compress_killed_mid_write_keeps_the_previous_int8_model(lenet, tmp_path):
    out = tmp_path / "int8"

    def intact(good: object) -> bool:
        return ModelCard.load(out).precision == "int8" and _snapshot(out).keys() == good.keys()  # old or new, whole

    _survives(["compress", str(lenet.model_dir), "--method", "ptq", "--algo", "avg", "--batch-nums", "4", "--out", str(out)],
              tmp_path, [None, 0.4, 0.8], lambda: _snapshot(out), intact)


def test_report_killed_mid_write_keeps_a_whole_page(lenet_run_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in (run_dir.PARITY, run_dir.PREDICTIONS, run_dir.BENCH):
        (run / name).write_bytes((lenet_run_dir / name).read_bytes())
    schema = json.loads(SCHEMA_FILE.read_text())

    def intact(good: object) -> bool:
        jsonschema.validate(json.loads((run / run_dir.DATA).read_text()), schema)
        return (run / run_dir.HTML).read_text().rstrip().endswith("</html>") and _snapshot(run).keys() == good.keys()

    _survives(["report", str(run)], run, [None, 0.3, 0.6, 0.85], lambda: _snapshot(run), intact)


def _whole_checkpoints(folder: Path) -> bool:
    """Every epoch-N directory holds both state files, and the latest is loadable."""
    dirs = [p for p in folder.glob("epoch-*") if p.is_dir()]
    return all((p / "state.pdparams").is_file() and (p / "state.pdopt").is_file() for p in dirs)


def test_train_killed_mid_run_resumes_to_the_target(tmp_path, mnist_dir):
    """SIGKILL while a checkpoint is being written, and again between epochs; --resume reaches the zoo's target."""
    out = tmp_path / "softmax"
    epochs = ZOO["softmax"].epochs
    assert _kill(["train", "softmax", "--out", str(out)], out / "checkpoints", None)  # while a checkpoint's .partial exists
    TRIED["kill points"] += 1
    first = latest_checkpoint(out / "checkpoints")
    assert _whole_checkpoints(out / "checkpoints") and first < epochs
    if first < epochs - 2:  # and again between epochs of the resumed run
        proc = subprocess.Popen([*CLI, "train", "softmax", "--out", str(out), "--resume"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and latest_checkpoint(out / "checkpoints") <= first:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        TRIED["kill points"] += 1
    done = latest_checkpoint(out / "checkpoints")
    assert done < epochs and _whole_checkpoints(out / "checkpoints"), f"killed after {done} epochs"
    result = train_model("softmax", out, resume=True, verbose=0)
    print(f"killed after epoch {done}; resumed for {result.epochs_run} epochs; top-1 {result.card.metrics['top1']:.4f}")
    assert result.epochs_run == epochs - done
    if result.card.metrics["top1"] < ZOO["softmax"].target:
        TRIED["data lost"] += 1
    assert result.card.metrics["top1"] >= ZOO["softmax"].target
