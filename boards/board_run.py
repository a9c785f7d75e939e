"""Run a bundle on a board: stage the runtime package, the bundle and the inputs there, run the runtime, bring results back.

Only `paddle_edge/__init__.py` and `paddle_edge/runtime/` go to the board; the training stack never does, so a board
run is also the proof that the runtime is thin (each run reports whether paddle was importable there).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Protocol, Sequence

import numpy as np

from ..export.debian_rootfs import tail
from ..runtime.errors import PaddleEdgeError
from ..train.datasets.cache import cache_dir
from .profile import BoardProfile

PACKAGE_DIR = Path(__file__).resolve().parents[1]


class Board(Protocol):
    """Somewhere a bundle can run: a folder to stage files in and a python to run there."""

    profile: BoardProfile

    @property
    def home(self) -> Path: ...

    def python(self, args: Sequence[str], python_path: Sequence[Path] = (), timeout: Optional[float] = 1800) -> subprocess.CompletedProcess: ...


@dataclasses.dataclass(frozen=True)
class HostBoard:
    """This machine, natively (the x86-64 profile)."""

    profile: BoardProfile

    @property
    def home(self) -> Path:
        return cache_dir("boards", "host")

    def python(self, args: Sequence[str], python_path: Sequence[Path] = (), timeout: Optional[float] = 1800) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": ":".join(map(str, python_path))}
        return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout)


@dataclasses.dataclass(frozen=True)
class BoardRun:
    """What came back from a board: outputs and batch-1 call times per precision, and what the board said about itself."""

    board: str
    outputs: Dict[str, List[np.ndarray]]
    seconds: Dict[str, np.ndarray]
    info: Dict[str, Dict[str, object]]


def install_runtime(dest: Path) -> Path:
    """Copy the runtime package (and the package root it imports through) into `dest`; return the folder for PYTHONPATH."""
    package = dest / "paddle_edge"
    package.mkdir(parents=True)
    shutil.copyfile(PACKAGE_DIR / "__init__.py", package / "__init__.py")
    shutil.copytree(PACKAGE_DIR / "runtime", package / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def run_bundle(board: Board, bundle: Path, feeds: Dict[str, np.ndarray], precisions: Sequence[str], threads: int,
               calls: int = 20, backend: str = "auto") -> BoardRun:
    """Copy runtime, bundle and inputs into the board, evaluate each precision there, bring the results back."""
    board.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="run-", dir=board.home) as tmp:
        work = Path(tmp)
        pythonpath = install_runtime(work / "lib")
        staged = work / "bundle"
        (shutil.copytree if Path(bundle).is_dir() else shutil.copyfile)(bundle, staged)
        np.savez(work / "inputs.npz", **feeds)
        outputs, seconds, info = {}, {}, {}
        for precision in precisions:
            proc = board.python(["-m", "paddle_edge.runtime.evaluate", str(staged), str(work), "--precision", precision,
                                 "--threads", str(threads), "--calls", str(calls), "--backend", backend], python_path=[pythonpath])
            if proc.returncode != 0:
                said = tail(proc)
                raise PaddleEdgeError(f"the runtime on {board.profile.name} failed on the {precision} artifact:\n{said}",
                                      "" if "fix:" in said else "export the bundle for this board: paddle-edge export ... --board NAME")
            with np.load(work / f"outputs-{precision}.npz") as data:
                outputs[precision] = [data[f"arr_{i}"] for i in range(len(data.files))]
            seconds[precision] = np.load(work / f"seconds-{precision}.npy")
            info[precision] = json.loads((work / f"board-{precision}.json").read_text())
    return BoardRun(board.profile.name, outputs, seconds, info)


def board_for(profile: BoardProfile) -> Board:
    """The board a profile runs on here: emulated under qemu for ARM profiles, this host for x86-64."""
    if profile.emulation is None:
        return HostBoard(profile)
    from .emulator import emulate

    return emulate(profile)
