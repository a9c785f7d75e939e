"""Open a bundle (a directory or its .tar.gz) and verify every file against the manifest before any model is parsed."""
from __future__ import annotations

import dataclasses
import tarfile
import tempfile
from pathlib import Path
from typing import List

from .errors import BundleError
from .files import sha256_file
from .manifest import MANIFEST_NAME, Manifest
from .onnx_guard import check_onnx_file


@dataclasses.dataclass(frozen=True)
class Bundle:
    """A verified bundle on disk."""

    root: Path
    manifest: Manifest

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


def _extract(archive: Path) -> Path:
    """Unpack a bundle archive into a fresh temporary directory, refusing entries that would leave it."""
    dest = Path(tempfile.mkdtemp(prefix="paddle-edge-bundle-"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            _check_members(archive, members)
            for member in members:
                tar.extract(member, dest, set_attrs=False)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"{archive} is not a readable bundle archive ({exc})", "copy the .tar.gz again; it is truncated or damaged") from exc
    roots = [p for p in dest.iterdir()]
    return roots[0] if len(roots) == 1 and roots[0].is_dir() else dest


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


def load_bundle(path: Path) -> Bundle:
    """Open and verify a bundle directory or .tar.gz."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"no bundle at {path}", "pass the directory or .tar.gz written by `paddle-edge export`")
    root = _extract(path) if path.is_file() else path
    manifest = Manifest.load(root / MANIFEST_NAME)
    verify(root, manifest)
    return Bundle(root, manifest)
