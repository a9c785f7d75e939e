"""SIGKILL in the middle of every writer: the previous good artifact stays intact and no partial one passes for good.

Each writer runs as its own `paddle-edge` process and is killed at several points: the moment its temporary
`.partial` path appears (the write itself), and fractions of a whole run's time. Two whole runs first show the writer is
deterministic, so the old whole artifact and the new whole one are the same bytes: after every kill, each file under the
artifact's real name must have exactly the sha256 a whole run left, and the artifact must load and verify. The bundle's
.tar.gz is the one writer output that is not reproducible (gzip and tar stamp the time of writing), so it is read whole
instead: its gzip stream must be complete (CRC and length) and every file in it byte-identical to the bundle's.
A kill point counts only once its checks have passed; a failed check counts as data lost.

Durability beyond SIGKILL (power loss) rests on fsync: the last tests check that the new file or tree is fsynced before
it takes the target's name and the parent directory after.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import jsonschema
import numpy as np
import paddle
import pytest
from robustness import TRIED

from paddle_edge.boards.report import run_dir
from paddle_edge.boards.report.summary import SCHEMA_FILE
from paddle_edge.runtime import files, load_bundle
from paddle_edge.runtime.files import atomic_dir, atomic_file, sha256_file
from paddle_edge.source.card import ModelCard
from paddle_edge.train.trainer import latest_checkpoint, train_model
from paddle_edge.train.zoo import ZOO

CLI = [sys.executable, "-m", "paddle_edge.cli"]
Snapshot = Dict[str, str]


def _snapshot(root: Path) -> Snapshot:
    """sha256 of every file under `root` whose path has no '.partial' part, by path relative to `root`'s parent."""
    return {str(p.relative_to(root.parent)): sha256_file(p) for p in sorted(root.rglob("*"))
            if p.is_file() and ".partial" not in str(p)}


def _archive_snapshot(archive: Path) -> Snapshot:
    """sha256 of every file in a .tar.gz by its name there; the whole gzip stream is decompressed first, so a torn or
    truncated archive raises instead of yielding the members before the tear."""
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive.read_bytes()))) as tar:
        return {m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest() for m in tar.getmembers() if m.isfile()}


def _differences(good: Snapshot, now: Snapshot) -> str:
    missing, extra = sorted(good.keys() - now.keys()), sorted(now.keys() - good.keys())
    changed = sorted(k for k in good.keys() & now.keys() if good[k] != now[k])
    return f"missing {missing}, unexpected {extra}, different bytes {changed}"


@contextlib.contextmanager
def _data_lost_if_this_fails() -> Iterator[None]:
    """Count a failed check of an artifact as data lost, then let the failure through."""
    try:
        yield
    except BaseException:
        TRIED["data lost"] += 1
        raise


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


def _survives(args: List[str], watch: Path, fractions: List[Optional[float]], snapshot: Callable[[], Snapshot],
              verify: Callable[[], None]) -> None:
    """Write twice, whole and timed: both runs must leave the same `snapshot()` (sha256 per file), the good one. Then
    kill the writer at each point (a fraction of a whole run's time, or None: when its .partial appears); after each kill
    `snapshot()` must be the good one, byte for byte, and `verify()` must pass."""
    start = time.perf_counter()
    subprocess.run([*CLI, *args], check=True, capture_output=True)
    whole = time.perf_counter() - start
    good = snapshot()
    subprocess.run([*CLI, *args], check=True, capture_output=True)
    again = snapshot()
    assert again == good, f"two whole runs wrote different bytes ({_differences(good, again)}): old and new whole differ"
    killed = 0
    for fraction in fractions:
        delay = None if fraction is None else fraction * whole
        if not _kill(args, watch, delay):
            continue
        killed += 1
        with _data_lost_if_this_fails():
            now = snapshot()
            assert now == good, f"after SIGKILL at {'the first .partial' if delay is None else f'{delay:.2f} s'}: {_differences(good, now)}"
            verify()
        TRIED["kill points"] += 1
    assert killed >= len(fractions) - 1, "the writer finished before most kill points; make it slower"


def test_export_killed_mid_write_keeps_the_previous_bundle(lenet, lenet_ptq, tmp_path):
    out, archive = tmp_path / "bundle", tmp_path / "bundle.tar.gz"

    def snapshot() -> Snapshot:  # the bundle's files, and the archive's, which must be the same bytes
        bundle = _snapshot(out)
        in_archive = _archive_snapshot(archive)
        assert in_archive == bundle, f"the archive does not hold the bundle's bytes: {_differences(bundle, in_archive)}"
        return {**bundle, **{f"{archive.name}:{name}": sha for name, sha in in_archive.items()}}

    def verify() -> None:
        load_bundle(out)
        load_bundle(archive)

    _survives(["export", str(lenet.model_dir), "--int8", str(lenet_ptq.model_dir), "--out", str(out)], tmp_path,
              [None, 0.3, 0.6, 0.85], snapshot, verify)


def test_compress_killed_mid_write_keeps_the_previous_int8_model(lenet, tmp_path):
    out = tmp_path / "int8"

    def verify() -> None:
        assert ModelCard.load(out).precision == "int8"

    _survives(["compress", str(lenet.model_dir), "--method", "ptq", "--algo", "avg", "--batch-nums", "4", "--out", str(out)],
              tmp_path, [None, 0.4, 0.8], lambda: _snapshot(out), verify)


def test_report_killed_mid_write_keeps_a_whole_page(lenet_run_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in (run_dir.PARITY, run_dir.PREDICTIONS, run_dir.BENCH):
        (run / name).write_bytes((lenet_run_dir / name).read_bytes())
    schema = json.loads(SCHEMA_FILE.read_text())

    def verify() -> None:
        jsonschema.validate(json.loads((run / run_dir.DATA).read_text()), schema)
        assert (run / run_dir.HTML).read_text().rstrip().endswith("</html>")

    _survives(["report", str(run)], run, [None, 0.3, 0.6, 0.85], lambda: _snapshot(run), verify)


def _load_checkpoints(folder: Path) -> int:
    """Load every epoch-N checkpoint in `folder` as resuming reads it (paddle.load of state.pdparams and state.pdopt)
    and check it against the softmax net: its parameters by name and shape, finite, and an optimizer state holding an
    accumulator of each parameter's shape and the learning-rate schedule. Returns the latest epoch."""
    expected = {name: list(p.shape) for name, p in ZOO["softmax"].build().state_dict().items()}
    for epoch in sorted(p for p in folder.glob("epoch-*") if p.is_dir()):
        params = paddle.load(str(epoch / "state.pdparams"))
        assert {name: list(p.shape) for name, p in params.items()} == expected, epoch
        optimizer = paddle.load(str(epoch / "state.pdopt"))
        accumulators = {k: v for k, v in optimizer.items() if isinstance(v, paddle.Tensor)}
        assert {tuple(s) for s in expected.values()} <= {tuple(v.shape) for v in accumulators.values()}, epoch
        assert all(np.isfinite(t.numpy()).all() for t in [*params.values(), *accumulators.values()]), epoch
        assert optimizer["LR_Scheduler"]["last_epoch"] > 0, epoch
    return latest_checkpoint(folder)


def test_train_killed_mid_run_resumes_to_the_target(tmp_path, mnist_dir):
    """SIGKILL while a checkpoint is being written, and again between epochs; --resume reaches the zoo's target."""
    out = tmp_path / "softmax"
    checkpoints = out / "checkpoints"
    epochs = ZOO["softmax"].epochs
    assert _kill(["train", "softmax", "--out", str(out)], checkpoints, None)  # while a checkpoint's .partial exists
    with _data_lost_if_this_fails():
        first = _load_checkpoints(checkpoints)
    TRIED["kill points"] += 1
    assert first < epochs
    if first < epochs - 2:  # and again between epochs of the resumed run
        proc = subprocess.Popen([*CLI, "train", "softmax", "--out", str(out), "--resume"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and latest_checkpoint(checkpoints) <= first:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with _data_lost_if_this_fails():
            done = _load_checkpoints(checkpoints)
        TRIED["kill points"] += 1
    else:
        done = first
    assert done < epochs, f"killed after {done} epochs"
    with _data_lost_if_this_fails():
        result = train_model("softmax", out, resume=True, verbose=0)
        print(f"killed after epoch {done}; resumed for {result.epochs_run} epochs; top-1 {result.card.metrics['top1']:.4f}")
        assert result.epochs_run == epochs - done
        assert result.card.metrics["top1"] >= ZOO["softmax"].target


class _FsyncLog:
    """os.fsync that records the path each descriptor names (from /proc/self/fd), then syncs it for real."""

    def __init__(self) -> None:
        self.paths: List[Path] = []
        self._fsync = os.fsync

    def __call__(self, fd: int) -> None:
        self.paths.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        self._fsync(fd)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "move-aside"])
def test_atomic_dir_fsyncs_the_new_tree_before_the_swap_and_the_parent_after(tmp_path, monkeypatch, exchange):
    log = _FsyncLog()
    monkeypatch.setattr(os, "fsync", log)
    if not exchange:  # the path for systems without renameat2
        monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    dest = tmp_path / "bundle"
    for version in (b"old", b"new"):  # a new directory, then one that replaces an existing one
        log.paths.clear()
        with atomic_dir(dest) as tmp:
            (tmp / "reference").mkdir()
            (tmp / "model.onnx").write_bytes(version)
            (tmp / "reference" / "model.pdmodel").write_bytes(version)
        *staged, parent = log.paths  # staged paths still name the temporary tree: they were synced before the rename
        assert parent == tmp_path, f"the parent directory must be fsynced last, after the rename: {log.paths}"
        assert sorted(staged) == sorted([tmp, tmp / "model.onnx", tmp / "reference", tmp / "reference" / "model.pdmodel"])
        assert staged[-1] == tmp and staged.index(tmp / "reference") > staged.index(tmp / "reference" / "model.pdmodel")
        assert (dest / "model.onnx").read_bytes() == (dest / "reference" / "model.pdmodel").read_bytes() == version
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_atomic_file_fsyncs_the_file_before_the_rename_and_the_parent_after(tmp_path, monkeypatch):
    log = _FsyncLog()
    monkeypatch.setattr(os, "fsync", log)
    dest = tmp_path / "report.json"
    for version in ("old", "new"):
        log.paths.clear()
        with atomic_file(dest) as tmp:
            tmp.write_text(version)
        assert log.paths == [tmp, tmp_path], log.paths
        assert tmp.name.endswith(".partial") and dest.read_text() == version


def test_what_is_written_atomically_gets_a_plain_new_files_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "tuning.json") as tmp:
            tmp.write_text("{}")
        with atomic_dir(tmp_path / "bundle") as folder:
            (folder / "manifest.json").write_text("{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "tuning.json").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600: others may read a bundle
    assert (tmp_path / "bundle").stat().st_mode & 0o777 == 0o755
