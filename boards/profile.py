"""Board profiles: the boards people deploy to, as data (boards/profiles/*.json, plus the user's own files).

A user adds a board by dropping NAME.json into $PADDLE_EDGE_BOARDS (or ~/.config/paddle-edge/boards/); a user profile
with a built-in name replaces the built-in one.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ..runtime.backends import BACKENDS, require_known
from ..runtime.errors import PaddleEdgeError

BUILTIN_DIR = Path(__file__).parent / "profiles"
PILLOW = "13.0.0"  # a profile's default: wheels for CPython 3.10-3.14 on aarch64 and x86-64 (older Pythons name their own)
# Where a profile has actually run paddle-edge's runtime: what `paddle-edge boards` tells the user.
BROWSER_DRIVERS = {"chromium": "chromium-driver"}  # browser package -> its WebDriver's package (Debian)
VERIFIED = {"native": "has run natively (this host's tests)", "emulated": "has run emulated under qemu (board tests)",
            "never": "NEVER RUN anywhere: an untested description"}


@dataclasses.dataclass(frozen=True)
class CoreGroup:
    """Cores of one kind on the SoC."""

    core: str
    count: int
    mhz: int


def engine_package(backend: str) -> Optional[str]:
    """The distribution the runtime's `backend` needs beside the runtime's own (None: onnxruntime's backends)."""
    require_known(backend)
    package = BACKENDS[backend][3]
    return None if package == "onnxruntime" else package


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    """How the runtime should run on this board, and the onnxruntime, numpy and Pillow for its Python (deploys and emulation
    install them)."""

    onnxruntime: str
    numpy: str
    threads: int
    pillow: str = PILLOW
    openvino: Optional[str] = None  # OpenVINO's wheel for this board's Python, where PyPI has one (backend "openvino")

    @property
    def packages(self) -> Tuple[str, ...]:
        """The runtime's dependencies as pinned requirements for this board's Python."""
        return (f"onnxruntime=={self.onnxruntime}", f"numpy=={self.numpy}", f"Pillow=={self.pillow}")

    def engine_for(self, backend: str, board: str) -> Optional[str]:
        """The engine the runtime's `backend` needs on `board` beside the runtime's own (None: onnxruntime's backends need
        none; paddlelite: the library `paddle-edge lite-build` makes, no wheel); raises where OpenVINO has no wheel."""
        package = engine_package(backend)
        if package != "openvino":
            return package
        if self.openvino is None:
            raise PaddleEdgeError(f"board {board}'s profile names no OpenVINO wheel for it", "run it with backend onnxruntime, "
                                  "or add runtime.openvino (a version with a wheel for the board's Python and platform) to its profile")
        return package

    def packages_for(self, backend: str, board: str) -> Tuple[str, ...]:
        """The runtime's dependencies and the wheel the runtime `backend` needs (OpenVINO's) for `board`."""
        return (*self.packages, f"openvino=={self.openvino}") if self.engine_for(backend, board) == "openvino" else self.packages


@dataclasses.dataclass(frozen=True)
class Emulation:
    """How this board is emulated here: qemu's model of its core and the Debian userland."""

    qemu_cpu: str
    debian_suite: str


@dataclasses.dataclass(frozen=True)
class BoardProfile:
    """One board: its CPU, ABI and wheel tags, OS, memory, runtime settings and export targets."""

    name: str
    title: str
    soc: str
    cores: Tuple[CoreGroup, ...]
    arch: str
    abi: str
    wheel_platforms: Tuple[str, ...]
    distro: str
    python: str
    memory_mb: int
    runtime: RuntimeSettings
    export_targets: Tuple[str, ...]
    emulation: Optional[Emulation]
    verified: str  # a key of VERIFIED

    @classmethod
    def from_dict(cls, d: Dict[str, Any], source: Path) -> "BoardProfile":
        try:
            emulation = d.get("emulation")
            if d["verified"] not in VERIFIED:
                raise ValueError(f"verified is {d['verified']!r}, not one of {', '.join(VERIFIED)}")
            return cls(
                name=d["name"], title=d["title"], soc=d["cpu"]["soc"],
                cores=tuple(CoreGroup(c["core"], int(c["count"]), int(c.get("mhz", 0))) for c in d["cpu"]["cores"]),
                arch=d["arch"], abi=d["abi"], wheel_platforms=tuple(d["wheel_platforms"]),
                distro=d["os"]["distro"], python=d["os"]["python"], memory_mb=int(d["memory_mb"]),
                runtime=RuntimeSettings(d["runtime"]["onnxruntime"], d["runtime"]["numpy"], int(d["runtime"]["threads"]),
                                        d["runtime"].get("pillow", PILLOW), d["runtime"].get("openvino")),
                export_targets=tuple(d["export_targets"]),
                emulation=Emulation(**emulation) if emulation else None,
                verified=d["verified"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PaddleEdgeError(f"board profile {source} is missing or mistypes a field: {exc!r}",
                                  f"compare it with {BUILTIN_DIR / 'rpi4.json'}") from exc

    @property
    def threads(self) -> int:
        """The thread count the runtime uses there unless told otherwise."""
        return self.runtime.threads

    @property
    def core_count(self) -> int:
        return sum(c.count for c in self.cores)

    def describe(self) -> str:
        cores = " + ".join(f"{c.count}x {c.core}" + (f" @{c.mhz / 1000:.1f} GHz" if c.mhz else "") for c in self.cores)
        emulation = (f"emulated with qemu -cpu {self.emulation.qemu_cpu} on Debian {self.emulation.debian_suite}" if self.emulation
                     else "no emulation")
        return (f"{self.name:12} {self.title}\n{'':12} {self.soc}: {cores}; {self.arch} ({self.abi}); {self.memory_mb // 1024} GiB; "
                f"{self.distro}, Python {self.python}\n{'':12} threads {self.runtime.threads}, onnxruntime {self.runtime.onnxruntime}, "
                f"numpy {self.runtime.numpy}, Pillow {self.runtime.pillow}"
                + (f", OpenVINO {self.runtime.openvino} (backend openvino)" if self.runtime.openvino else "") + f"; export {', '.join(self.export_targets)}; {emulation}\n"
                f"{'':12} {VERIFIED[self.verified]}")


@dataclasses.dataclass(frozen=True)
class BrowserProfile:
    """A browser as a board: which one runs the page (from Debian's packages, on this host) and how many wasm threads."""

    name: str
    title: str
    browser: str  # the Debian package of the browser; its WebDriver comes from BROWSER_DRIVERS
    threads: int
    export_targets: Tuple[str, ...]
    verified: str

    @classmethod
    def from_dict(cls, d: Dict[str, Any], source: Path) -> "BrowserProfile":
        try:
            b = d["browser"]
            if b["package"] not in BROWSER_DRIVERS or d["verified"] not in VERIFIED:
                raise ValueError(f"browser {b['package']!r} / verified {d['verified']!r}: known browsers {', '.join(BROWSER_DRIVERS)}")
            return cls(d["name"], d["title"], b["package"], int(b["threads"]), tuple(d["export_targets"]), d["verified"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PaddleEdgeError(f"browser profile {source} is missing or mistypes a field: {exc!r}",
                                  f"compare it with {BUILTIN_DIR / 'browser.json'}") from exc

    def describe(self) -> str:
        from .browser.onnxruntime_web import VERSION

        return (f"{self.name:12} {self.title}\n{'':12} headless {self.browser} ({BROWSER_DRIVERS[self.browser]}) on this host, "
                f"onnxruntime-web {VERSION} wasm (SIMD), {self.threads} threads where the page is cross-origin isolated, "
                f"its WebGPU and WebGL backends where the browser offers them, and Paddle.js (paddlejs-core, WebGL backend) for a bundle exported with the paddlejs target; "
                f"export {', '.join(self.export_targets)}\n{'':12} {VERIFIED[self.verified]}")


AnyProfile = Union[BoardProfile, BrowserProfile]


def cpu_board(profile: AnyProfile) -> BoardProfile:
    """The profile, if it is a board that runs Python; a browser is refused by name (it runs only board run and parity)."""
    if isinstance(profile, BrowserProfile):
        raise PaddleEdgeError(f"board {profile.name!r} is a browser: it runs the bundle with onnxruntime-web, not with Python",
                              f"use `paddle-edge board parity {profile.name} BUNDLE` or `board run {profile.name} BUNDLE`; "
                              "tune and deploy need a CPU board")
    return profile


def user_dir() -> Path:
    """Where the user's own profiles are read from."""
    return Path(os.environ.get("PADDLE_EDGE_BOARDS") or Path.home() / ".config" / "paddle-edge" / "boards")


def _warn_unreadable(path: Path, exc: OSError) -> None:
    """Say on stderr that a user profile (or their folder) is skipped, and how to make it readable."""
    print(f"warning: skipping board profiles in {path}: {exc.strerror or exc}\n  fix: make it readable by this user "
          f"(chmod a+r on a file, a+rx on a folder), or point $PADDLE_EDGE_BOARDS at another folder", file=sys.stderr)


def _json_files(folder: Path) -> List[Path]:
    """The .json files of a folder; none if it does not exist, and a warning if it cannot be read."""
    try:
        return sorted(folder / name for name in os.listdir(folder) if name.endswith(".json"))
    except FileNotFoundError:
        return []
    except OSError as exc:
        _warn_unreadable(folder, exc)
        return []


def load_profiles() -> Dict[str, AnyProfile]:
    """Built-in profiles, then the user's (which may replace a built-in one of the same name); unreadable ones are
    skipped with a warning."""
    profiles: Dict[str, AnyProfile] = {}
    for folder in (BUILTIN_DIR, user_dir()):
        for path in _json_files(folder):
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise PaddleEdgeError(f"board profile {path} is not valid JSON ({exc})", "fix or remove the file") from exc
            except OSError as exc:
                _warn_unreadable(path, exc)
                continue
            profile = (BrowserProfile if isinstance(data, dict) and "browser" in data else BoardProfile).from_dict(data, path)
            profiles[profile.name] = profile
    return profiles


def get_profile(name: str) -> AnyProfile:
    """The profile called `name`, or an error listing the known ones."""
    profiles = load_profiles()
    if name not in profiles:
        raise PaddleEdgeError(f"unknown board {name!r}; known boards: {', '.join(profiles)}",
                              f"pick one of those, or add {user_dir() / (name + '.json')}")
    return profiles[name]
