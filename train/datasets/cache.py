"""Where fetched data and tools are cached: $PADDLE_EDGE_CACHE, else the user cache dir."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """The cache directory (created), optionally a sub-directory of it."""
    root = Path(os.environ.get("PADDLE_EDGE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "paddle-edge")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
