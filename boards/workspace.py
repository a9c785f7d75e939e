"""A board's workspace when its files are on this machine (the host, an emulated board's root filesystem).

Apart from board_run so that the boards that use it (host, emulated) and board_run, which picks among them, import it
without importing each other.
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

RESULTS = ("outputs-*", "seconds-*", "board-*")  # what a run brings back from the board


@contextlib.contextmanager
def local_workspace(home: Path, local: Path, fetch: Sequence[str]) -> Iterator[str]:
    """Copy `local` into a fresh folder under `home`, yield its path; on leaving, copy files matching `fetch` back into
    `local` and remove the folder (also on error)."""
    home.mkdir(parents=True, exist_ok=True)
    remote = Path(tempfile.mkdtemp(prefix="run-", dir=home))
    try:
        shutil.copytree(local, remote, dirs_exist_ok=True)
        yield str(remote)
        for pattern in fetch:
            for path in remote.glob(pattern):
                shutil.copyfile(path, local / path.name)
    finally:
        shutil.rmtree(remote)
