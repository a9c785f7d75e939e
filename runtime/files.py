"""File helpers shared by every stage: hashing, write-then-rename (so no artifact is ever half-written), the cache dir.

Renames are durable: the new file or tree is fsynced before it takes the target's name and the parent directory after,
so a power cut, not only a killed process, leaves the old whole artifact or the new whole one."""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Optional


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_path(path: Path) -> None:
    """fsync one file or directory: its bytes, or its list of names, reach the disk and not only the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """fsync every file under `root`, then every directory from the deepest up to `root` itself."""
    for folder, _, names in os.walk(root, topdown=False):
        for name in names:
            if not os.path.islink(os.path.join(folder, name)):  # a link is a name in its directory, synced with it
                _fsync_path(Path(folder, name))
        _fsync_path(Path(folder))


def _umask() -> int:
    """This process's umask, read without changing it (Linux's /proc; 022 where that is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


@contextlib.contextmanager
def atomic_file(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; on success it gets the mode a plain new file would (mkstemp's 0600
    undone: a bundle or report is read by other users and services), is fsynced, renamed onto `dest`, and the rename
    fsynced."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        _fsync_path(tmp_path)
        os.replace(tmp_path, dest)
        _fsync_path(dest.parent)
    finally:
        tmp_path.unlink(missing_ok=True)


RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS):  # the filesystem or kernel lacks it
        return False
    raise OSError(ctypes.get_errno(), f"cannot swap {a} and {b}")


@contextlib.contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """Yield a temporary directory beside `dest`; on success it takes the place of `dest` in one atomic step.

    A directory cannot be renamed over a non-empty one, so an existing `dest` is swapped with the new directory
    (renameat2 RENAME_EXCHANGE): at every instant `dest` is the old whole directory or the new whole one. Where the
    system has no exchange, the old one is moved aside first, leaving a moment without `dest`. Every file and directory
    of the new tree is fsynced before the swap and the parent directory after it."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    aside: Optional[Path] = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # a plain new directory's mode, not mkdtemp's 0700
        _fsync_tree(tmp)
        if not dest.exists():
            os.replace(tmp, dest)
        elif not _exchange(tmp, dest):
            aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
            os.replace(dest, aside / dest.name)
            os.replace(tmp, dest)
        _fsync_path(dest.parent)  # the new name is on disk before the old tree is deleted
        if aside is not None:
            shutil.rmtree(aside)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if missing): one process at a time fills a cache entry."""
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cache_dir(*parts: str) -> Path:
    """The cache directory (created): $PADDLE_EDGE_CACHE, else the user cache dir; optionally a sub-directory of it."""
    root = Path(os.environ.get("PADDLE_EDGE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "paddle-edge")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
