"""The core probe (boards/bench/cores.py) reads sharing where it is made to happen: two copies of its job pinned to one
CPU, as where fewer CPUs are allowed than threads, take about twice the time of one alone."""
import os
from pathlib import Path

import pytest

from paddle_edge.boards.bench import cores

README = Path(__file__).resolve().parents[1] / "README.md"
pinning = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="pinning needs Linux")


@pinning
def test_two_threads_allowed_one_cpu_are_probed_on_it_twice_and_read_as_shared():
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    os.sched_setaffinity(0, {cpu})
    try:
        found = cores.probe_cores(2, probes=3)
    finally:
        os.sched_setaffinity(0, allowed)
    assert found["cpus"] == [cpu, cpu] and "error" not in found, found
    assert sorted(found["side_by_side"])[1] > 1.6 and found["shared"] >= 2, found  # one CPU, two jobs: about 2


def test_one_thread_has_nothing_to_probe():
    found = cores.probe_cores(1)
    assert found["side_by_side"] == [] and found["shared"] == 0 and found["threads"] == 1


def test_the_readme_states_the_probes_rule():
    text = " ".join(README.read_text().split())
    number = {2: "two", 3: "three", 4: "four"}[cores.PROBES]
    assert f"probed {number} times before and {number} after the grid" in text
    assert f"over {cores.SHARED_ABOVE} it counts as sharing" in text
