"""What the robustness tests tried, counted as they run; conftest prints it at the end of the session."""
from __future__ import annotations

from collections import Counter

TRIED: Counter = Counter()
KINDS = ("malformed archives", "fuzz cases", "kill points", "threads x calls", "data lost")


def summary() -> str:
    """One line: each kind of attempt and how many, with how many lost data (must be 0)."""
    return "robustness: " + ", ".join(f"{kind} {TRIED[kind]:,}" for kind in KINDS)
