"""An emulated ARM64 board built from real parts: Debian's arm64 packages, aarch64 wheels from PyPI, and qemu user mode.

The userland is debootstrap's first stage (nothing executed) with every downloaded .deb unpacked by dpkg; the runtime's
own dependencies are installed with the host's pip for the board's platform tags. Programs run through
`qemu-aarch64-static -cpu <the profile's core>`: the CPU is emulated, timings are not the board's.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, ContextManager, Dict, Optional, Sequence

from ..export.debian_rootfs import MARKER, debian_tool, drop_apt_caches, ensure_built, is_built, run_step
from ..runtime.errors import PaddleEdgeError
from ..runtime.files import cache_dir
from . import lite_arm_build
from .profile import BoardProfile
from .workspace import RESULTS, local_workspace

PYTHON = "usr/bin/python3"


class BoardError(PaddleEdgeError):
    """The emulated board cannot be built, or a program on it failed."""


def _require_emulation(profile: BoardProfile) -> None:
    if profile.emulation is None or profile.arch != "aarch64":
        raise BoardError(f"board {profile.name!r} ({profile.arch}) is not emulated here", "emulate an aarch64 board such as rpi4")


def _check_host(profile: BoardProfile, backend: str) -> None:
    if os.geteuid() != 0:
        said = "" if backend == "onnxruntime" else f" --backend {backend}"
        raise BoardError("building the emulated board (debootstrap into a folder) needs root",
                         f"run once as root: sudo {sys.executable} -m paddle_edge.cli board emulate {profile.name}{said}")


def _check_python(profile: BoardProfile, python_version: str) -> None:
    """The userland's CPython must be the one the profile names: the wheels installed for it, and the claim, depend on it."""
    if python_version != profile.python:
        raise BoardError(f"board {profile.name!r} says Python {profile.python}, but Debian {profile.emulation.debian_suite} "
                         f"has Python {python_version}", "set the profile's os.python, or its emulation.debian_suite, to match")


Builder = Callable[[Path], Dict[str, object]]


def _build_userland(suite: str, qemu: str) -> Builder:
    def build(tmp: Path) -> Dict[str, object]:
        run_step([debian_tool("debootstrap", "debootstrap", BoardError), "--foreign", "--arch=arm64", "--variant=minbase",
                  "--include=python3", suite, str(tmp)], f"debootstrap --foreign --arch=arm64 {suite}",
                 "debootstrap needs the Debian package archive; check the network and disk space (about 300 MB)", BoardError)
        debs = sorted((tmp / "var" / "cache" / "apt" / "archives").glob("*.deb"))
        for deb in debs:
            run_step(["dpkg-deb", "-x", str(deb), str(tmp)], f"unpacking {deb.name}", "retry; the download may be damaged", BoardError)
        drop_apt_caches(tmp)
        probe = run_step([qemu, "-L", str(tmp), str(tmp / PYTHON), "-c", "import platform; print(platform.machine(), platform.python_version())"],
                         "starting the board's python under qemu", "check that qemu-user-static works on this host", BoardError)
        machine, version = probe.stdout.split()
        return {"suite": suite, "arch": "arm64", "packages": len(debs), "machine": machine, "python": version}
    return build


def _build_site(profile: BoardProfile, python_version: str, packages: Sequence[str]) -> Builder:
    def build(tmp: Path) -> Dict[str, object]:
        cmd = [sys.executable, "-m", "pip", "install", "--no-compile", "--disable-pip-version-check", "--target", str(tmp),
               "--python-version", python_version, "--implementation", "cp", "--only-binary=:all:",
               *(arg for tag in profile.wheel_platforms for arg in ("--platform", tag)), *packages]
        run_step(cmd, "pip install " + " ".join(packages) + " for aarch64", "pip needs the Python package index; check the network", BoardError)
        return {"packages": list(packages), "platforms": list(profile.wheel_platforms)}
    return build


@dataclasses.dataclass(frozen=True)
class EmulatedBoard:
    """A built arm64 userland and runtime site for one profile; runs the board's python under qemu."""

    profile: BoardProfile
    root: Path
    site: Path
    qemu: str
    has_runtime: bool = False
    emulated: bool = True
    env: Dict[str, str] = dataclasses.field(default_factory=dict)  # what the backend's engine needs (Lite's: its library)

    def workspace(self, local: Path, fetch: Sequence[str] = RESULTS) -> ContextManager[str]:
        """A workspace inside the board's root filesystem."""
        return local_workspace(self.root / "opt" / "paddle-edge", local, fetch)

    def python(self, args: Sequence[str], python_path: Sequence[str] = (), timeout: Optional[float] = 1800) -> subprocess.CompletedProcess:
        """Run the board's python with ARGS; only the board's site and `python_path` are importable."""
        env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONPATH": os.pathsep.join(str(p) for p in (*python_path, self.site)), **self.env}
        cmd = [self.qemu, "-cpu", self.profile.emulation.qemu_cpu, "-L", str(self.root), str(self.root / PYTHON), *args]
        try:
            return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise BoardError(f"the emulated {self.profile.name} ran longer than {timeout:.0f} s", "evaluate fewer samples (--limit)") from exc


def emulate(profile: BoardProfile, backend: str = "onnxruntime") -> EmulatedBoard:
    """The emulated board for `profile`, built and cached on first use (about a minute): one userland per Debian suite,
    one site per set of runtime wheels in it (with OpenVINO's for `backend` openvino); for `backend` paddlelite, Paddle
    Lite's ARM library, which `paddle-edge lite-build` makes once."""
    _require_emulation(profile)
    env = lite_arm_build.board_env() if profile.runtime.engine_for(backend, profile.name) == "paddlelite" else {}
    packages = profile.runtime.packages_for(backend, profile.name)
    suite = profile.emulation.debian_suite
    root = cache_dir("boards") / f"debian-{suite}-arm64"
    site = root / "opt" / "paddle-edge-site" / "-".join(p.replace("==", "-") for p in packages)
    if not is_built(root) or not is_built(site):
        _check_host(profile, backend)
        print(f"building the emulated {profile.name}: arm64 Debian {suite} userland + runtime wheels (about a minute, once)", flush=True)
    qemu = debian_tool("qemu-aarch64-static", "qemu-user-static", BoardError)
    ensure_built(root, _build_userland(suite, qemu))
    python_version = ".".join(json.loads((root / MARKER).read_text())["python"].split(".")[:2])
    _check_python(profile, python_version)
    ensure_built(site, _build_site(profile, python_version, packages))
    return EmulatedBoard(profile, root, site, qemu, env=env)
