"""Where fetched data and tools are cached: $PADDLE_EDGE_CACHE, else the user cache dir (the runtime's helper, shared)."""
from __future__ import annotations

from ...runtime.files import cache_dir

__all__ = ["cache_dir"]
