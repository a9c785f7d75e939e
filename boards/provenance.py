"""Where a measurement came from: the command, the date, the CPU (and its int8 instructions) and the code's commit.

Every JSON a run writes carries it, so a table generated from that JSON can say what produced it.
"""
from __future__ import annotations

import datetime
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional

from ..runtime.cpu import cpu_info


def commit() -> str:
    """`git describe --always --dirty` of the checkout paddle-edge runs from, or "unknown" outside one."""
    try:
        proc = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "unknown"


def provenance(command: Optional[str] = None) -> Dict[str, Any]:
    """{command, date (UTC), cpu, commit, python} for the run in progress; `command` defaults to this process's command line."""
    return {"command": command or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "cpu": cpu_info(), "commit": commit(), "python": platform.python_version()}
