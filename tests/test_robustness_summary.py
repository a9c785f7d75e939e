"""The robustness line at the end of a test session comes from pytest's verdicts, not from the counters alone: a session
in which a robustness check failed (or its setup broke) never says "data lost 0". Each case runs a real inner pytest
session with this suite's conftest.py and robustness.py."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Tuple

TESTS = Path(__file__).resolve().parent
KILL_TESTS = '''import pytest
from robustness import TRIED


@pytest.fixture
def broken_setup():
    raise RuntimeError("the writer could not be started")


def test_holds():
    TRIED["kill points"] += 3


def test_check_fails():
    TRIED["kill points"] += 1
    assert False, "the old artifact changed"


def test_setup_errors(broken_setup):
    TRIED["kill points"] += 1
'''


def _session(tmp_path: Path, selection: str) -> Tuple[str, Dict[str, Any]]:
    """Run the inner tests chosen by `-k selection`; return the last line printed and the JSON verdict saved."""
    suite = tmp_path / selection.replace(" ", "_")
    suite.mkdir()
    for name in ("conftest.py", "robustness.py"):
        shutil.copy(TESTS / name, suite / name)
    (suite / "test_crash_safety.py").write_text(KILL_TESTS)  # a name robustness.py counts as the kill-point tests
    verdict = suite / "robustness.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", selection, str(suite)],
                          cwd=suite, capture_output=True, text=True, env={**os.environ, "PADDLE_EDGE_ROBUSTNESS_JSON": str(verdict)})
    return proc.stdout.strip().splitlines()[-1], json.loads(verdict.read_text())


def test_data_lost_0_only_when_every_check_passed(tmp_path):
    line, saved = _session(tmp_path, "holds")
    assert line == "robustness: malformed archives not run, fuzz cases not run, kill points 3, threads x calls not run, data lost 0"
    assert saved["outcome"] == "passed" and saved["kinds"]["data lost"] == {"count": 0, "outcome": "passed"}


def test_a_failed_check_or_broken_setup_is_never_data_lost_0(tmp_path):
    for selection, failed in (("holds or check_fails", ["test_check_fails"]), ("holds or setup_errors", ["test_setup_errors"]),
                              ("holds or check_fails or setup_errors", ["test_check_fails", "test_setup_errors"])):
        line, saved = _session(tmp_path, selection)
        assert line.startswith(f"robustness: FAILED, {len(failed)} failed check") and "(kill points)" in line, line
        assert "data lost 0" not in line and line.endswith("data lost unknown"), line
        assert saved["outcome"] == "failed" and saved["kinds"]["data lost"]["outcome"] == "failed"
        assert [nodeid.split("::")[1] for nodeid in saved["failed_checks"]] == failed
