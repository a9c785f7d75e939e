"""Debian root filesystems built from Debian's packages, once, into a cache: the Lite sidecar and the emulated boards.

A rootfs is built in a temporary directory beside its final place, under a file lock, and renamed into place with a
marker file written last; a directory without the marker is an interrupted build and is removed.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Type

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import exclusive_lock

MARKER = "paddle-edge-rootfs.json"
APT_CACHES = ("var/cache/apt", "var/lib/apt/lists")  # debootstrap's downloads; nothing here runs apt afterwards


def tail(proc: subprocess.CompletedProcess, lines: int = 25) -> str:
    """The last lines a process printed."""
    return "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-lines:])


def run_step(cmd: Sequence[str], what: str, fix: str, error: Type[PaddleEdgeError] = PaddleEdgeError,
             env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Run a build step; raise `error` naming the step, its output and the fix if it fails."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise error(f"{what} failed (exit {proc.returncode}):\n{tail(proc)}", fix)
    return proc


def debian_tool(tool: str, package: str, error: Type[PaddleEdgeError] = PaddleEdgeError) -> str:
    """Path of a tool from Debian package `package`, installed with apt-get (as root) if missing."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which(tool, path=search)
    if found:
        return found
    apt = shutil.which("apt-get", path=search)
    fix = f"run `apt-get update && apt-get install -y {package}` as root and retry"
    if apt is None or os.geteuid() != 0:
        raise error(f"{tool} (Debian package {package}) is not installed" + ("" if apt else " and there is no apt-get"), fix)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run_step([apt, "update"], "apt-get update", fix, error, env)
    run_step([apt, "install", "-y", package], f"apt-get install {package}", fix, error, env)
    return shutil.which(tool, path=search) or f"/usr/sbin/{tool}"


def drop_apt_caches(root: Path) -> None:
    """Remove the package downloads debootstrap leaves behind."""
    for cache in (root / c for c in APT_CACHES):
        if cache.is_dir():
            shutil.rmtree(cache)


def is_built(root: Path) -> bool:
    return (root / MARKER).is_file()


def ensure_built(root: Path, build: Callable[[Path], Dict[str, object]]) -> Path:
    """`root`, built by `build(tmp)` (which returns what to record in the marker) if it is not there yet."""
    if is_built(root):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(root.parent / f".{root.name}.lock"):
        if is_built(root):
            return root
        for stale in root.parent.glob(f".{root.name}.*.partial"):  # left by a build that was killed
            shutil.rmtree(stale)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".partial", dir=root.parent))
        try:
            tmp.chmod(0o755)
            info = build(tmp)
            (tmp / MARKER).write_text(json.dumps(info, indent=2))
            if root.exists():
                shutil.rmtree(root)
            os.replace(tmp, root)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
    return root
