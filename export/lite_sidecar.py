"""The Paddle Lite sidecar: a Debian 11 root filesystem with CPython 3.9 and paddlelite 2.13rc0, built once and cached.

Why: Lite's Python wheels exist only for CPython 3.7-3.10 on x86-64, and this host runs 3.11. Debian 11 ships 3.9, and
the newest Lite with a cp39 wheel is 2.13rc0 (tag v2.13-rc), whose opt turns PaddleSlim's QDQ int8 programs
(quantize_linear/dequantize_linear) into int8 kernels (2.10's could not). Building needs root (debootstrap); running
does not: the sidecar's python3.9 is started through the sidecar's own dynamic loader and libraries, so it reads and
writes host paths directly.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..runtime.errors import PaddleEdgeError
from ..train.datasets.cache import cache_dir as default_cache_dir
from .debian_rootfs import debian_tool, drop_apt_caches, ensure_built, is_built, run_step, tail

LITE_VERSION = "2.13rc0"  # the newest paddlelite with a CPython 3.9 wheel; its opt writes "v2.13-rc" into a .nb
LITE_TAG = "v2.13-rc"     # the Paddle-Lite git tag it was built from (commit 102697b), whose ARM runtime boards build
SUITE = "bullseye"     # Debian 11: the newest Debian whose python3 is 3.9
PYTHON = "python3.9"
PACKAGES = (
    f"paddlelite=={LITE_VERSION}",
    "numpy==1.26.4",  # newest numpy 1.x for cp39; paddlelite declares no numpy need of its own
)
PLATFORMS = ("manylinux2014_x86_64", "manylinux1_x86_64")  # paddlelite is manylinux1, numpy 1.26 manylinux2014
NAME = f"lite-sidecar-{LITE_VERSION}"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the paddle_edge package, whatever its directory is called
BACKEND_MODULE = "paddle_edge.runtime.backends.paddlelite"
Inputs = Union[np.ndarray, Sequence[np.ndarray]]


class SidecarError(PaddleEdgeError):
    """The sidecar cannot be built or a program in it failed."""


@dataclasses.dataclass(frozen=True)
class Sidecar:
    """A built sidecar root; runs its python3.9 with paddlelite on the path."""

    root: Path

    @property
    def site(self) -> Path:
        """Where paddlelite and numpy are installed."""
        return self.root / "opt" / "lite"

    @property
    def opt_tool(self) -> Path:
        """Lite's own opt command-line script (`paddle_lite_opt`), run with the sidecar's python."""
        return self.site / "bin" / "paddle_lite_opt"

    def run(self, args: Sequence[str], python_path: Sequence[Path] = (), threads: int = 1,
            timeout: Optional[float] = 900) -> subprocess.CompletedProcess:
        """Run `python3.9 ARGS` in the sidecar; output is captured, the exit code left to the caller."""
        libs = self.root / "usr" / "lib" / "x86_64-linux-gnu"
        env = {
            "PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/"), "LANG": "C.UTF-8",
            "PYTHONHOME": str(self.root / "usr"), "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": os.pathsep.join(str(p) for p in (self.site, *python_path)),
            "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),  # Lite's x86 build has no thread setting
        }
        cmd = [str(libs / "ld-linux-x86-64.so.2"), "--library-path", str(libs), str(self.root / "usr" / "bin" / PYTHON), *args]
        try:
            return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise SidecarError(f"{PYTHON} {' '.join(args[:2])} in the sidecar ran longer than {timeout:.0f} s",
                               "pass a larger timeout, or a smaller model or batch") from exc

    def _run_backend(self, nb_path: Path, inputs: Inputs, threads: int, calls: int, batch: int = 1) -> Tuple[List[np.ndarray], np.ndarray]:
        if not Path(nb_path).is_file():
            raise SidecarError(f"{nb_path} does not exist", "export it first with export_lite(model_dir, nb_path, \"x86\")")
        arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
        with tempfile.TemporaryDirectory(prefix="paddle-edge-lite-") as tmp:
            work = Path(tmp)
            (work / "path").mkdir()
            (work / "path" / "paddle_edge").symlink_to(PACKAGE_DIR, target_is_directory=True)
            for i, x in enumerate(arrays):
                np.save(work / f"input_{i}.npy", np.ascontiguousarray(x))
            proc = self.run(["-m", BACKEND_MODULE, str(Path(nb_path).resolve()), str(work), "--threads", str(threads),
                             "--calls", str(calls), "--batch", str(batch)], python_path=[work / "path"], threads=threads)
            if proc.returncode != 0:
                raise SidecarError(f"Paddle Lite could not run {nb_path} (exit {proc.returncode}):\n{tail(proc)}",
                                   f"run only .nb files exported for x86 by opt {LITE_VERSION}, with inputs that fit the model")
            outputs = [np.load(p) for p in sorted(work.glob("output_*.npy"), key=lambda p: int(p.stem.split("_")[1]))]
            seconds = np.load(work / "seconds.npy") if calls else np.zeros(0)
        return outputs, seconds

    def predict(self, nb_path: Path, inputs: Inputs, threads: int = 1) -> List[np.ndarray]:
        """Run an x86 .nb on `inputs` (one array, or one per model input in feed order); return its outputs."""
        return self._run_backend(nb_path, inputs, threads, 0)[0]

    def latency(self, nb_path: Path, inputs: Inputs, threads: int = 1, calls: int = 50, batch: int = 1) -> np.ndarray:
        """Per-call wall times in seconds of `calls` runs on the first `batch` samples of `inputs`, measured inside the sidecar."""
        arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
        return self._run_backend(nb_path, [x[:batch] for x in arrays], threads, calls, batch)[1]


def _check_host(base: Path) -> None:
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        raise SidecarError(f"the Paddle Lite sidecar needs x86-64 Linux (Lite's wheels are x86-64 only); this is "
                           f"{platform.system()} {platform.machine()}", "export for Lite on an x86-64 Linux machine")
    if os.geteuid() != 0:
        raise SidecarError("building the Paddle Lite sidecar (a Debian 11 root filesystem made by debootstrap) needs root; "
                           "using it afterwards does not",
                           f"build it once as root: sudo env PADDLE_EDGE_CACHE={base} {sys.executable} -m paddle_edge.export.lite_sidecar")
    if importlib.util.find_spec("pip") is None:
        raise SidecarError(f"{sys.executable} has no pip, which installs the Lite wheels into the sidecar",
                           f"{sys.executable} -m ensurepip, then retry")


def _build(tmp: Path) -> Dict[str, object]:
    """debootstrap bullseye + pip-install Lite into `tmp`; check that paddlelite imports there."""
    run_step([debian_tool("debootstrap", "debootstrap", SidecarError), "--variant=minbase", "--include=python3", SUITE, str(tmp)],
             f"debootstrap {SUITE}", "debootstrap needs the Debian package archive; check the network and disk space (about 500 MB)",
             SidecarError)
    drop_apt_caches(tmp)
    pip = [sys.executable, "-m", "pip", "install", "--no-compile", "--disable-pip-version-check", "--target",
           str(tmp / "opt" / "lite"), "--python-version", "3.9", "--implementation", "cp", "--only-binary=:all:"]
    run_step([*pip, *(arg for p in PLATFORMS for arg in ("--platform", p)), *PACKAGES], "pip install " + " ".join(PACKAGES),
             "pip needs the Python package index; check the network", SidecarError)
    probe = Sidecar(tmp).run(["-c", "import json, platform, numpy, paddlelite.lite as lite; print(json.dumps("
                                    "{'python': platform.python_version(), 'numpy': numpy.__version__, 'opt': lite.Opt().version()}))"])
    if probe.returncode != 0:
        raise SidecarError(f"the new sidecar cannot import paddlelite:\n{tail(probe)}",
                           "nothing was installed; retry, and report the output above if it fails again")
    return {"suite": SUITE, "packages": list(PACKAGES), **json.loads(probe.stdout.strip().splitlines()[-1])}


def sidecar_built(cache_dir: Optional[Path] = None) -> bool:
    """Whether the sidecar is there already (asking Lite something then costs no build)."""
    return is_built((Path(cache_dir) if cache_dir is not None else default_cache_dir()) / NAME)


def ensure_sidecar(cache_dir: Optional[Path] = None) -> Sidecar:
    """The sidecar under `cache_dir` (default: $PADDLE_EDGE_CACHE or ~/.cache/paddle-edge), built on first use (1-2 min)."""
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    root = base / NAME
    if not is_built(root):
        _check_host(base)
        ensure_built(root, _build)
    return Sidecar(root)


if __name__ == "__main__":
    print(ensure_sidecar().root)
