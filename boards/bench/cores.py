"""Whether this machine's cores run side by side at full speed, measured: one fixed single-threaded job on each core
at once, each copy's time over its time alone on the same core (1.0: independent cores; toward 2.0 where two of them
are time-sliced on one host core; hyperthread siblings read in between).

A VM's vCPUs can be hyperthreads of one physical core, or be time-sliced on one host core, at some moments and not
others. A call on several threads then runs slower in some rounds of a benchmark than in others, by different factors
for different kernels, so a ratio of two engines' times at that thread count can move with it. The bench probes before
and after its grid and says so beside its figures. A probe reads its own moment only: it can show that a run had
sharing, never that the rounds between the probes had none.
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, Dict, List

JOB_ELEMENTS = 1 << 15  # 256 KB of float64, computed in place: it stays in the core's own cache
JOB_PASSES = 1000  # about 0.2 s on a Zen 4 core
PROBES = 3  # before the grid, and again after it
SHARED_ABOVE = 1.3  # a probe over this: the cores were not independent when it ran
TIMEOUT_S = 60.0

# pinned before numpy is imported (its thread pools start on the pinned core, and are kept to one thread), then ready;
# the job starts when the parent says go, so that every copy computes at the same time
_JOB = f"""
import os, sys, time
if int(sys.argv[1]) >= 0 and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {{int(sys.argv[1])}})
import numpy as np
x = np.linspace(0.0, 1.0, {JOB_ELEMENTS})
print("ready", flush=True)
sys.stdin.readline()
t = time.perf_counter()
for _ in range({JOB_PASSES}):
    np.sin(x, out=x)
print(time.perf_counter() - t, flush=True)
"""
_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class ProbeFailed(RuntimeError):
    """A copy of the job did not run to its end."""


def _run_jobs(cpus: List[int]) -> List[float]:
    """Seconds of the job in one process per entry of `cpus` (pinned there; -1: not pinned), all started at once."""
    procs = [subprocess.Popen([sys.executable, "-c", _JOB, str(cpu)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, **_ENV}) for cpu in cpus]
    try:
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                raise ProbeFailed(f"a copy of the probe's job did not start: {p.communicate(timeout=TIMEOUT_S)[1].strip()[-300:]}")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        said = [p.communicate(timeout=TIMEOUT_S) for p in procs]
        if any(p.returncode for p in procs):
            raise ProbeFailed(f"a copy of the probe's job failed: {next(e for (_, e), p in zip(said, procs) if p.returncode).strip()[-300:]}")
        return [float(out.split()[-1]) for out, _ in said]
    except subprocess.TimeoutExpired as exc:
        raise ProbeFailed(f"a copy of the probe's job took over {TIMEOUT_S:.0f} s") from exc
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def probe_cpus(threads: int) -> List[int]:
    """The CPUs `threads` threads of this process can run on, one per thread; where fewer are allowed, some twice
    (the oversubscription is then what the probe reads)."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return [allowed[i % len(allowed)] for i in range(threads)] if allowed else [-1] * threads


def side_by_side(cpus: List[int], probes: int) -> List[float]:
    """The job on every CPU of `cpus` at once, `probes` times: each time the largest of each copy's time over the
    faster of two runs of it alone on its CPU."""
    alone = {cpu: min(_run_jobs([cpu])[0] for _ in range(2)) for cpu in set(cpus)}
    return [max(t / alone[cpu] for t, cpu in zip(_run_jobs(cpus), cpus)) for _ in range(probes)]


def probe_cores(threads: int, probes: int = PROBES) -> Dict[str, Any]:
    """`probes` side_by_side measurements for `threads` threads, with the rule they are read by; none at one thread,
    and none, with the reason, where the job could not run."""
    cpus = probe_cpus(threads)
    found: Dict[str, Any] = {"threads": threads, "cpus": cpus, "side_by_side": [], "shared_above": SHARED_ABOVE,
                             "rule": f"one single-threaded job on each of the {threads} CPUs at once, each copy's time over "
                                     f"its time alone there (1.0: independent cores; over {SHARED_ABOVE}: they shared a "
                                     "core when probed)"}
    if threads > 1:
        try:
            found["side_by_side"] = side_by_side(cpus, probes)
        except (ProbeFailed, OSError, ValueError) as exc:
            found["error"] = str(exc)
    found["shared"] = sum(r > SHARED_ABOVE for r in found["side_by_side"])
    return found


def merged(before: Dict[str, Any], after: Dict[str, Any]) -> Dict[str, Any]:
    """The probes before and after the grid as one record."""
    ratios = before["side_by_side"] + after["side_by_side"]
    errors = [e for e in (before.get("error"), after.get("error")) if e]
    return {**after, "side_by_side": ratios, "shared": before["shared"] + after["shared"],
            **({"error": "; ".join(errors)} if errors else {})}
