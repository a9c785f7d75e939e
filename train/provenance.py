"""Where a published figure came from: the command, when (UTC), on which CPU, from which commit of paddle-edge."""
from __future__ import annotations

import shlex
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Sequence

from ..runtime.cpu import cpu_info

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def git_commit(folder: Path = PACKAGE_DIR) -> str:
    """`git describe --always --dirty` in `folder`, or "unknown" where there is no git or no repository."""
    try:
        proc = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=folder, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "unknown"


def provenance(argv: Sequence[str]) -> Dict[str, Any]:
    """{"command", "date", "cpu", "commit"} for a results file; `argv` is the command line, program name first."""
    command = [Path(argv[0]).name, *argv[1:]] if argv else []
    return {"command": shlex.join(command), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "cpu": cpu_info(), "commit": git_commit()}
