"""The core probe (boards/bench/cores.py) reads sharing where it is made to happen (two copies of its job pinned to one
CPU take about twice the time of one alone), puts two copies on one CPU where fewer are allowed than threads, and a
probe that cannot run is recorded, not raised."""
import os
import time
from pathlib import Path

import pytest

from paddle_edge.boards.bench import cores
from paddle_edge.boards.report.readme import _cores

README = Path(__file__).resolve().parents[1] / "README.md"
pinning = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="pinning needs Linux")


@pinning
def test_two_copies_pinned_to_one_cpu_read_as_shared():
    cpu = min(os.sched_getaffinity(0))  # this process may run anywhere: the copies pin themselves
    found = cores.side_by_side([cpu, cpu], probes=3)
    assert max(found["side_by_side"]) > 1.6, found  # one CPU, two jobs: about 2 (unpinned copies: about 1)


@pinning
def test_two_threads_allowed_one_cpu_are_probed_on_it_twice():
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        assert cores.probe_cpus(2) == [min(allowed)] * 2
    finally:
        os.sched_setaffinity(0, allowed)


def test_one_thread_has_nothing_to_probe():
    found = cores.probe_cores(1)
    assert found["side_by_side"] == [] and found["shared"] == 0 and found["threads"] == 1 and "error" not in found
    assert _cores({"goal_threads": 1, "cores": found}) == "one thread: nothing to probe"


def test_a_probe_that_cannot_run_is_recorded_and_the_bench_goes_on(monkeypatch):
    monkeypatch.setattr(cores, "_JOB", "import sys; sys.stderr.write('no | numpy here'); sys.exit(3)")
    failed = cores.probe_cores(2, probes=1)
    assert failed["side_by_side"] == [] and "did not start: no | numpy here" in failed["error"], failed
    monkeypatch.setattr(cores, "_JOB", "import time; print('ready []', flush=True); time.sleep(60)")
    monkeypatch.setattr(cores, "TIMEOUT_S", 1.0)
    start = time.monotonic()
    hung = cores.probe_cores(2, cpus=[-1, -1], probes=1)
    assert "said nothing within 1 s" in hung["error"] and time.monotonic() - start < 10, hung
    both = cores.merged(failed, hung)
    assert both["error"] == f"{failed['error']}; {hung['error']}" and both["shared"] == 0
    assert _cores({"goal_threads": 2, "cores": both}) == "not probed; failed: " + both["error"].replace("|", "\\|")


def test_the_readme_states_the_probes_rule():
    text = " ".join(README.read_text().split())
    number = {2: "two", 3: "three", 4: "four"}[cores.PROBES]
    assert f"probed {number} times just before and {number} just after the grid" in text
    assert f"over {cores.SHARED_ABOVE} it counts as sharing" in text
