"""The core probe (boards/bench/cores.py) reads sharing where it is made to happen: two copies of its job pinned to one
core take about twice the time of one alone."""
import os

import pytest

from paddle_edge.boards.bench import cores


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="pinning needs Linux")
def test_two_jobs_pinned_to_one_core_read_as_shared():
    cpu = min(os.sched_getaffinity(0))
    alone = min(min(cores._run_jobs([cpu])) for _ in range(2))
    together = max(cores._run_jobs([cpu, cpu])) / alone
    assert together > 1.6, together  # one core, two jobs: about 2
    assert together > cores.SHARED_ABOVE


def test_one_core_has_nothing_to_probe():
    found = cores.probe_cores(1)
    assert found["side_by_side"] == [] and found["shared"] == 0 and found["cores"] == 1
