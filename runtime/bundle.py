"""Open a bundle (a directory or its .tar.gz) and verify every file against the manifest before any model is parsed.

An archive is unpacked once, into the user cache under its own sha256 (`bundles/<sha256>`), and the cached copy is
verified again on every open: opening the same .tar.gz a thousand times leaves one copy, and a damaged copy is replaced.
"""
from __future__ import annotations

import dataclasses
import tarfile
from pathlib import Path
from typing import List, Optional

from .errors import BundleError
from .files import atomic_dir, cache_dir, sha256_file
from .manifest import MANIFEST_NAME, Manifest
from .onnx_guard import check_onnx_file


@dataclasses.dataclass(frozen=True)
class Bundle:
    """A verified bundle on disk."""

    root: Path
    manifest: Manifest
    source: Optional[Path] = None  # what was opened: the directory, or the archive whose unpacked copy `root` is

    def path_of(self, artifact_name: str) -> Path:
        return self.root / self.manifest.artifacts[artifact_name].path


MAX_UNPACKED_BYTES = 2 << 30
MAX_ENTRIES = 1000


def _check_members(archive: Path, members: List[tarfile.TarInfo]) -> None:
    """Refuse anything but plain files and directories with relative paths that stay inside the bundle."""
    if len(members) > MAX_ENTRIES or sum(m.size for m in members) > MAX_UNPACKED_BYTES:
        raise BundleError(f"{archive} unpacks to more than {MAX_ENTRIES} entries or {MAX_UNPACKED_BYTES >> 30} GiB",
                          "this is not a paddle-edge bundle; export the model again")
    for m in members:
        parts = Path(m.name).parts
        if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in parts:
            raise BundleError(f"{archive} holds an unsafe entry {m.name!r} (link, device, absolute or '..' path)",
                              "do not open this archive; ask for a bundle written by `paddle-edge export`")


def _extract(archive: Path, dest: Path) -> None:
    """Unpack a bundle archive into the empty directory `dest`, refusing entries that would leave it."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            _check_members(archive, members)
            for member in members:
                tar.extract(member, dest, set_attrs=False)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"{archive} is not a readable bundle archive ({exc})", "copy the .tar.gz again; it is truncated or damaged") from exc


def _bundle_root(unpacked: Path) -> Path:
    """The bundle inside an unpacked archive: its single top directory, else the unpacked directory itself."""
    roots = list(unpacked.iterdir())
    return roots[0] if len(roots) == 1 and roots[0].is_dir() else unpacked


def verify(root: Path, manifest: Manifest) -> None:
    """Check every artifact's place, size and sha256, then each ONNX file's structure; raise naming the first problem."""
    real_root = root.resolve()
    for name, art in manifest.artifacts.items():
        path = root / art.path
        if Path(art.path).is_absolute() or real_root not in path.resolve().parents:
            raise BundleError(f"bundle artifact {name!r} points outside the bundle ({art.path!r})",
                              "do not use this bundle; ask for one written by `paddle-edge export`")
        if not path.is_file():
            raise BundleError(f"bundle artifact {name!r} is missing: {path}", "copy the whole bundle directory again")
        if path.stat().st_size != art.bytes or sha256_file(path) != art.sha256:
            raise BundleError(
                f"bundle artifact {name!r} ({art.path}) does not match the sha256 in its manifest",
                "the file was changed or damaged in transit; copy the bundle again or re-export it",
            )
    for art in manifest.artifacts.values():
        if art.format == "onnx":
            check_onnx_file(root / art.path, root)


def _open_dir(root: Path) -> Bundle:
    manifest = Manifest.load(root / MANIFEST_NAME)
    verify(root, manifest)
    return Bundle(root, manifest)


def _open_archive(archive: Path) -> Bundle:
    """The archive's cached copy, verified; unpacked (into a .partial directory, renamed into place) if absent or damaged."""
    try:
        cached = cache_dir("bundles") / sha256_file(archive)
    except OSError as exc:
        raise BundleError(f"cannot read {archive} or create the bundle cache ({exc})",
                          "make the archive readable and $PADDLE_EDGE_CACHE (or ~/.cache) writable, or pass the unpacked bundle directory") from exc
    if cached.is_dir():
        try:
            return _open_dir(_bundle_root(cached))
        except BundleError:  # the cached copy was changed or damaged: the archive (same sha256) replaces it below
            pass
    with atomic_dir(cached) as partial:
        _extract(archive, partial)
        manifest = _open_dir(_bundle_root(partial)).manifest  # verified before it enters the cache
    return Bundle(_bundle_root(cached), manifest)


def load_bundle(path: Path) -> Bundle:
    """Open and verify a bundle directory or .tar.gz."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"no bundle at {path}", "pass the directory or .tar.gz written by `paddle-edge export`")
    return dataclasses.replace(_open_archive(path) if path.is_file() else _open_dir(path), source=path)
