"""Tuned engine choices for one bundle on one machine: what `paddle-edge tune` measured, read back by `runtime.open`.

A tuning file (schema paddle-edge.tuning/2) is `<board>.json` in the bundle directory's `tuning/` folder (beside a
.tar.gz: `<archive>.tuning/`). The signed manifest is never touched. `open(backend="auto")` uses a tuning file only if
it names this bundle (the sha256 of its manifest.json), was measured natively (not under emulation), on a CPU with this
machine's model, label and core count, and with the engine versions installed here; every choice in it passed parity
on that machine when it was measured, on the artifact each choice names (a choice whose backend and precision this
release would run on another file of the bundle is passed over: nothing judged that file). A file it cannot use is passed over with the reason, never fatal: the runtime
then follows its untuned rule and says why (`Predictor.chosen_by`).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .cpu import cpu_info
from . import backends
from .errors import BackendError, BundleError
from .files import sha256_file
from .manifest import MANIFEST_NAME
from .versions import package_versions

SCHEMA = "paddle-edge.tuning/2"  # 2: each choice names the artifact it was judged on
ANY = "any"  # the choice for either precision (precision="auto"): one of the fp32 and int8 choices
ENGINES = ("onnxruntime", "openvino", "paddlelite")  # packages whose version is part of a tuning's machine


@dataclasses.dataclass(frozen=True)
class Choice:
    """One engine configuration: backend, precision, threads and the backend's settings, with its measured median call
    and the bundle's artifact it ran (and passed parity) on."""

    backend: str
    precision: str
    threads: int
    settings: Dict[str, str]
    p50_us: float
    artifact: str = ""

    def describe(self) -> str:
        settings = "".join(f", {k}={v}" for k, v in sorted(self.settings.items()))
        return f"{self.backend} {self.precision}, {self.threads} thread(s){settings}"


@dataclasses.dataclass(frozen=True)
class Tuning:
    """Per batch size, the configuration chosen for each precision ("fp32", "int8") and for either (ANY), each of which passed parity."""

    board: str
    emulated: bool
    bundle_sha256: str
    machine: Dict[str, Any]
    choices: Dict[int, Dict[str, Choice]]
    measured: Dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return {"schema": SCHEMA, "board": self.board, "emulated": self.emulated, "bundle_sha256": self.bundle_sha256,
                "machine": self.machine, "measured": self.measured,
                "choices": {str(b): {p: dataclasses.asdict(c) for p, c in per.items()} for b, per in self.choices.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: Path) -> "Tuning":
        if d.get("schema") != SCHEMA:
            raise BundleError(f"{source} is not a tuning file this release reads (schema {d.get('schema')!r}, not {SCHEMA!r})",
                              "delete it, or run `paddle-edge tune` again")
        try:
            choices = {int(b): {p: Choice(c["backend"], c["precision"], int(c["threads"]), dict(c["settings"]), float(c["p50_us"]),
                                       str(c["artifact"]))
                                for p, c in per.items()} for b, per in d["choices"].items()}
            for batch, per in choices.items():
                for choice in per.values():
                    backends.require_known(choice.backend)
                    backends.check_settings(choice.backend, choice.settings)
                    if choice.precision not in ("fp32", "int8") or choice.threads < 1 or batch < 1:
                        raise ValueError(f"a choice of precision {choice.precision!r} on {choice.threads} threads for batch {batch}")
            if not isinstance(d["bundle_sha256"], str):
                raise TypeError(f"bundle_sha256 is a {type(d['bundle_sha256']).__name__}")
            return cls(d["board"], bool(d["emulated"]), d["bundle_sha256"], dict(d["machine"]), choices, dict(d.get("measured", {})))
        except (KeyError, TypeError, ValueError, AttributeError, BackendError) as exc:
            raise BundleError(f"tuning file {source} is missing or mistypes a field: {exc}",
                              "delete it, or run `paddle-edge tune` again") from exc

    def choice(self, precision: str, batch: Optional[int]) -> Optional[Tuple[int, Choice]]:
        """The choice for `precision` ("fp32", "int8", or "auto": either) at the tuned batch size nearest `batch` (on a
        log scale; the smallest tuned batch if None), with that batch size; None if nothing of that precision passed."""
        key = ANY if precision == "auto" else precision
        batches = sorted(b for b, per in self.choices.items() if key in per)
        if not batches:
            return None
        nearest = batches[0] if batch is None else min(batches, key=lambda b: abs(math.log(b) - math.log(max(1, batch))))
        return nearest, self.choices[nearest][key]


def machine_key() -> Dict[str, Any]:
    """What a tuning must have been measured on to be used here: this CPU's model, label and core count, and the engines'
    versions (parity was judged on those kernels)."""
    info = cpu_info()
    return {"cpu": info["label"], "model": info["model"], "cores": os.cpu_count() or 1, "engines": package_versions(ENGINES)}


def bundle_sha256(root: Path) -> str:
    """The bundle's identity: the sha256 of its manifest, which holds every artifact's sha256."""
    return sha256_file(Path(root) / MANIFEST_NAME)


def tuning_dir(bundle_path: Path) -> Path:
    """Where the tuning files of the bundle at `bundle_path` live: `tuning/` inside a bundle directory,
    `<archive>.tuning/` beside a bundle archive."""
    bundle_path = Path(bundle_path)
    return bundle_path / "tuning" if bundle_path.is_dir() else bundle_path.with_name(bundle_path.name + ".tuning")


def read_tuning(path: Path) -> Tuning:
    """A tuning file, parsed; a clear error if it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"cannot read tuning file {path} ({exc})", "delete it, or run `paddle-edge tune` again") from exc
    if not isinstance(data, dict):
        raise BundleError(f"tuning file {path} holds a {type(data).__name__}, not an object", "delete it, or run `paddle-edge tune` again")
    return Tuning.from_dict(data, Path(path))


def find_tuning(bundle_path: Path, sha256: str) -> Tuple[Optional[Tuning], List[str]]:
    """The tuning file for this bundle measured natively on this machine, if any, and why each other file was passed over."""
    folder = tuning_dir(bundle_path)
    here = machine_key()
    passed_over = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            tuning = read_tuning(path)
        except BundleError as exc:
            passed_over.append(f"{path.name}: {exc.problem}")
            continue
        if tuning.bundle_sha256 != sha256:
            passed_over.append(f"{path.name}: measured on another bundle (sha256 {tuning.bundle_sha256[:12]})")
        elif tuning.emulated:
            passed_over.append(f"{path.name}: measured under emulation, which says nothing of a real CPU's speed")
        elif tuning.machine != here:
            differ = ", ".join(f"{k} {tuning.machine.get(k)!r} there, {here[k]!r} here" for k in here if tuning.machine.get(k) != here[k])
            passed_over.append(f"{path.name}: measured on another machine ({differ})")
        else:
            return tuning, passed_over
    return None, passed_over
