"""What the robustness tests tried, counted as they run, and the verdict conftest prints and saves at the end of a session.

A count says only what was tried. Whether it held comes from pytest's own reports on the robustness modules: a session
in which any of their tests failed says FAILED and how many, and never "data lost 0". The same figures, with the date,
pytest's exit status and each kind's outcome, go to a JSON file ($PADDLE_EDGE_ROBUSTNESS_JSON, else
build/test/robustness.json) so the README's figures can come from a file a run produced.
"""
from __future__ import annotations

import datetime
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from paddle_edge.boards.provenance import provenance
from paddle_edge.runtime.files import atomic_file

TRIED: Counter = Counter()
LOST = "data lost"
MODULES = {  # robustness test module -> the kinds its tests count
    "test_untrusted_bundles.py": ("malformed archives",),
    "test_hostile_inputs.py": ("fuzz cases", "threads x calls"),
    "test_crash_safety.py": ("kill points",),
}
KINDS = ("malformed archives", "fuzz cases", "kill points", "threads x calls")
JSON_ENV = "PADDLE_EDGE_ROBUSTNESS_JSON"
DEFAULT_JSON = Path(__file__).resolve().parents[1] / "build" / "test" / "robustness.json"
FAILED, PASSED, NOT_RUN = "failed", "passed", "not run"


def outcomes_of(stats: Dict[str, List[Any]]) -> Dict[str, str]:
    """Robustness test node id -> failed, passed or skipped, from pytest's reports by category (a failed setup or
    teardown fails the test even where its call passed)."""
    outcomes: Dict[str, str] = {}
    for category, outcome in (("skipped", "skipped"), ("passed", PASSED), ("failed", FAILED), ("error", FAILED)):
        for report in stats.get(category, ()):
            nodeid = getattr(report, "nodeid", "")
            if Path(nodeid.split("::")[0]).name in MODULES and outcomes.get(nodeid) != FAILED:
                outcomes[nodeid] = outcome
    return outcomes


def _kind_outcome(outcomes: Iterable[str]) -> str:
    found = set(outcomes)
    return FAILED if FAILED in found else PASSED if PASSED in found else NOT_RUN


def verdict(outcomes: Dict[str, str], exit_status: Optional[int]) -> Dict[str, Any]:
    """Counts and outcome per kind, the failed checks, and whether the data-lost count is proven."""
    by_kind: Dict[str, List[str]] = {kind: [] for kind in KINDS}
    for nodeid, outcome in outcomes.items():
        for kind in MODULES[Path(nodeid.split("::")[0]).name]:
            by_kind[kind].append(outcome)
    kinds = {kind: {"count": TRIED[kind], "outcome": _kind_outcome(found), "tests_passed": found.count(PASSED),
                    "tests_failed": found.count(FAILED)} for kind, found in by_kind.items()}
    failed = sorted(nodeid for nodeid, outcome in outcomes.items() if outcome == FAILED)
    outcome = _kind_outcome(outcomes.values())
    kinds[LOST] = {"count": TRIED[LOST], "outcome": PASSED if outcome == PASSED and not TRIED[LOST] else FAILED}
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "outcome": outcome,
            "exit_status": exit_status, "failed_checks": failed, "kinds": kinds}


def summary(result: Dict[str, Any]) -> str:
    """One line: each kind of attempt and how many; "data lost 0" only when every robustness test that ran passed."""
    kinds = result["kinds"]
    counts = ", ".join(f"{kind} {kinds[kind]['count']:,}" if kinds[kind]["outcome"] != NOT_RUN else f"{kind} not run" for kind in KINDS)
    lost = kinds[LOST]["count"]
    if result["outcome"] != FAILED:
        return f"robustness: {counts}, {LOST} {lost:,}"
    failed = len(result["failed_checks"])
    failed_kinds = ", ".join(kind for kind in KINDS if kinds[kind]["outcome"] == FAILED)
    return (f"robustness: FAILED, {failed} failed check{'s' if failed != 1 else ''} ({failed_kinds}): {counts}, "
            f"{LOST} {f'{lost:,}' if lost else 'unknown'}")


def report(stats: Dict[str, List[Any]], exit_status: Optional[int], command: str) -> Optional[str]:
    """The closing line, with its JSON saved; None (and no file written) when no robustness test ran this session."""
    outcomes = outcomes_of(stats)
    if _kind_outcome(outcomes.values()) == NOT_RUN:
        return None
    result = verdict(outcomes, exit_status)
    result["line"] = summary(result)
    result["provenance"] = provenance(command)
    with atomic_file(Path(os.environ.get(JSON_ENV) or DEFAULT_JSON)) as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
    return result["line"]
