"""Whether this machine's cores run side by side at full speed, measured: one fixed single-threaded job alone, then
one copy on each core at once, their time over the job's time alone (1.0: independent cores; 2.0 on two cores: they
share one).

A VM's vCPUs can be hyperthreads of one physical core, or share a host core with another guest, at some moments and
not others. A call on several threads then runs up to twice as slow in some rounds of a benchmark and not in others,
by different factors for different kernels, so a ratio of two engines' times at that thread count moves with it. The
bench probes before and after its grid and says so beside its figures; a board's own cores read 1.0.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any, Dict, List

JOB_ELEMENTS = 1 << 18  # a float64 vector that stays in L2, so memory bandwidth is not what is shared
JOB_PASSES = 100  # about 0.2 s on a Zen 4 core
START_DELAY_S = 0.4  # every copy starts computing at the same wall-clock time, after its interpreter is up
SHARED_ABOVE = 1.3  # a probe over this: the cores were not independent when it ran

_JOB = """
import os, sys, time
import numpy as np
cpu, start = int(sys.argv[1]), float(sys.argv[2])
if cpu >= 0 and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {cpu})
x = np.linspace(0.0, 1.0, %d)
while time.time() < start:
    pass
t = time.perf_counter()
for _ in range(%d):
    x = np.sin(x)
print(time.perf_counter() - t)
""" % (JOB_ELEMENTS, JOB_PASSES)


def _run_jobs(cpus: List[int]) -> List[float]:
    """Seconds of the job in one process per entry of `cpus` (pinned there; -1: not pinned), started together."""
    start = time.time() + START_DELAY_S
    procs = [subprocess.Popen([sys.executable, "-c", _JOB, str(cpu), repr(start)], stdout=subprocess.PIPE, text=True)
             for cpu in cpus]
    return [float(p.communicate()[0]) for p in procs]


def side_by_side(cores: int, probes: int) -> List[float]:
    """The job on every core at once, `probes` times: each time the slowest copy's over the faster of two runs alone."""
    cpus = sorted(os.sched_getaffinity(0))[:cores] if hasattr(os, "sched_getaffinity") else [-1] * cores
    alone = min(min(_run_jobs(cpus[:1])) for _ in range(2))
    return [max(_run_jobs(cpus)) / alone for _ in range(probes)]


def probe_cores(cores: int, probes: int = 3) -> Dict[str, Any]:
    """`probes` side_by_side measurements, with the rule they are read by; none on one core."""
    ratios = side_by_side(cores, probes) if cores > 1 else []
    return {"cores": cores, "side_by_side": ratios, "shared": sum(r > SHARED_ABOVE for r in ratios),
            "rule": f"one single-threaded job on each of {cores} cores at once, the slowest copy's time over the job's alone "
                    f"(1.0: independent cores; over {SHARED_ABOVE}: they shared a core when probed)"}
