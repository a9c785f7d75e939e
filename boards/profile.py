"""Board profiles: the boards people deploy to, as data (boards/profiles/*.json, plus the user's own files).

A user adds a board by dropping NAME.json into $PADDLE_EDGE_BOARDS (or ~/.config/paddle-edge/boards/); a user profile
with a built-in name replaces the built-in one.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..runtime.errors import PaddleEdgeError

BUILTIN_DIR = Path(__file__).parent / "profiles"


@dataclasses.dataclass(frozen=True)
class CoreGroup:
    """Cores of one kind on the SoC."""

    core: str
    count: int
    mhz: int


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    """How the runtime should run on this board, and the onnxruntime paddle-edge has run there (deploys install it)."""

    onnxruntime: str
    threads: int
    lite_power_mode: str
    lite_valid_places: Tuple[str, ...]


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

    @classmethod
    def from_dict(cls, d: Dict[str, Any], source: Path) -> "BoardProfile":
        try:
            emulation = d.get("emulation")
            return cls(
                name=d["name"], title=d["title"], soc=d["cpu"]["soc"],
                cores=tuple(CoreGroup(c["core"], int(c["count"]), int(c.get("mhz", 0))) for c in d["cpu"]["cores"]),
                arch=d["arch"], abi=d["abi"], wheel_platforms=tuple(d["wheel_platforms"]),
                distro=d["os"]["distro"], python=d["os"]["python"], memory_mb=int(d["memory_mb"]),
                runtime=RuntimeSettings(d["runtime"]["onnxruntime"], int(d["runtime"]["threads"]), d["runtime"]["lite_power_mode"],
                                        tuple(d["runtime"]["lite_valid_places"])),
                export_targets=tuple(d["export_targets"]),
                emulation=Emulation(**emulation) if emulation else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PaddleEdgeError(f"board profile {source} is missing or mistypes a field: {exc!r}",
                                  f"compare it with {BUILTIN_DIR / 'rpi4.json'}") from exc

    @property
    def core_count(self) -> int:
        return sum(c.count for c in self.cores)

    def describe(self) -> str:
        cores = " + ".join(f"{c.count}x {c.core}" + (f" @{c.mhz / 1000:.1f} GHz" if c.mhz else "") for c in self.cores)
        emulated = f"emulate: qemu -cpu {self.emulation.qemu_cpu}" if self.emulation else "native"
        return (f"{self.name:12} {self.title}\n{'':12} {self.soc}: {cores}; {self.arch} ({self.abi}); {self.memory_mb // 1024} GiB; "
                f"{self.distro}, Python {self.python}\n{'':12} threads {self.runtime.threads}, Lite {self.runtime.lite_power_mode} "
                f"on {'/'.join(self.runtime.lite_valid_places)}; export {', '.join(self.export_targets)}; {emulated}")


def user_dir() -> Path:
    """Where the user's own profiles are read from."""
    return Path(os.environ.get("PADDLE_EDGE_BOARDS") or Path.home() / ".config" / "paddle-edge" / "boards")


def _json_files(folder: Path) -> List[Path]:
    """The .json files of a folder; none if it is missing or not readable by this user."""
    try:
        return sorted(folder.glob("*.json")) if folder.is_dir() else []
    except PermissionError:
        return []


def load_profiles() -> Dict[str, BoardProfile]:
    """Built-in profiles, then the user's (which may replace a built-in one of the same name)."""
    profiles: Dict[str, BoardProfile] = {}
    for folder in (BUILTIN_DIR, user_dir()):
        for path in _json_files(folder):
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise PaddleEdgeError(f"board profile {path} is not valid JSON ({exc})", "fix or remove the file") from exc
            profile = BoardProfile.from_dict(data, path)
            profiles[profile.name] = profile
    return profiles


def get_profile(name: str) -> BoardProfile:
    """The profile called `name`, or an error listing the known ones."""
    profiles = load_profiles()
    if name not in profiles:
        raise PaddleEdgeError(f"unknown board {name!r}; known boards: {', '.join(profiles)}",
                              f"pick one of those, or add {user_dir() / (name + '.json')}")
    return profiles[name]
