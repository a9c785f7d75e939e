"""Whether this machine's CPUs run side by side at full speed, measured: one fixed single-threaded job on each CPU at
once, each copy's time over its time alone on the same CPU (1.0: independent cores; toward 2.0 where two of them are
time-sliced on one core; hyperthread siblings read in between).

A VM's vCPUs can be hyperthreads of one physical core, or be time-sliced on one host core, at some moments and not
others. A call on several threads then runs slower in some rounds of a benchmark than in others, by factors that can
differ between kernels, so a ratio of two engines' times at that thread count can move with it. The bench probes just
before and just after its grid and says so beside its figures. A probe reads its own moment only: it can show that a
run had sharing, never that the rounds between the probes had none.
"""
from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

JOB_ELEMENTS = 1 << 15  # 256 KB of float64, computed in place: it stays in the core's own cache
JOB_PASSES = 1000  # about 0.2 s on a Zen 4 core
PROBES = 3  # before the grid, and again after it
SHARED_ABOVE = 1.3  # a probe over this: the CPUs were not independent when it ran
TIMEOUT_S = 60.0  # for each copy to start, and for all of them to finish

# pinned before numpy is imported (its thread pools start on the pinned CPU, and are kept to one thread), then ready;
# the job starts when the parent says go, so that every copy computes at the same time
_JOB = f"""
import os, sys, time
if int(sys.argv[1]) >= 0:
    os.sched_setaffinity(0, {{int(sys.argv[1])}})
import numpy as np
x = np.linspace(0.0, 1.0, {JOB_ELEMENTS})
print("ready", sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [], flush=True)
sys.stdin.readline()
t = time.perf_counter()
for _ in range({JOB_PASSES}):
    np.sin(x, out=x)
print(time.perf_counter() - t, flush=True)
"""
_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class ProbeFailed(RuntimeError):
    """A copy of the job did not run to its end."""


def _line(proc: subprocess.Popen, deadline: float) -> str:
    """The next line `proc` writes, waiting until `deadline` at most."""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(max(0.0, deadline - time.monotonic())):
            raise ProbeFailed(f"a copy of the probe's job said nothing within {TIMEOUT_S:.0f} s")
    return proc.stdout.readline()


def _stop(procs: List[subprocess.Popen]) -> None:
    """Kill what still runs, reap every copy and close its pipes."""
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        for pipe in (p.stdin, p.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


def _run_jobs(cpus: List[int]) -> List[float]:
    """Seconds of the job in one process per entry of `cpus` (pinned there; -1: not pinned), all started at once."""
    with contextlib.ExitStack() as stack:
        errors = [stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in cpus]
        procs: List[subprocess.Popen] = []
        stack.callback(_stop, procs)  # runs before the error files close
        for cpu, err in zip(cpus, errors):
            procs.append(subprocess.Popen([sys.executable, "-c", _JOB, str(cpu)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=err, text=True, env={**os.environ, **_ENV}))

        def failed(p: subprocess.Popen, what: str) -> ProbeFailed:
            _stop([p])
            err = errors[procs.index(p)]
            err.seek(0)
            return ProbeFailed(f"a copy of the probe's job {what}: {err.read().strip()[-300:] or f'exit code {p.returncode}'}")
        deadline = time.monotonic() + TIMEOUT_S
        for cpu, p in zip(cpus, procs):
            said = _line(p, deadline).split(maxsplit=1)
            if len(said) != 2 or said[0] != "ready":
                raise failed(p, "did not start")
            if cpu >= 0 and said[1].strip() != f"[{cpu}]":
                raise failed(p, f"runs on CPUs {said[1].strip()}, not on CPU {cpu} alone")
        for p in procs:
            try:
                p.stdin.write("go\n")
                p.stdin.flush()
            except OSError:
                raise failed(p, "stopped before its job") from None
        deadline = time.monotonic() + TIMEOUT_S
        seconds = []
        for p in procs:
            try:
                seconds.append(float(_line(p, deadline)))
            except ValueError:
                raise failed(p, "did not finish its job") from None
        return seconds


def probe_cpus(threads: int) -> List[int]:
    """The CPUs `threads` threads of this process can run on, the first `threads` of those allowed; where fewer are
    allowed, some twice (the oversubscription is then what the probe reads); -1 (not pinned) where this OS cannot say."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return [-1] * threads
    return [allowed[i % len(allowed)] for i in range(threads)]


def side_by_side(cpus: List[int], probes: int) -> Dict[str, Any]:
    """The job on every CPU of `cpus` at once, `probes` times: each time the largest of each copy's time over the
    faster of two runs of it alone on its CPU (and those times alone, in seconds)."""
    alone = {cpu: min(_run_jobs([cpu])[0] for _ in range(2)) for cpu in set(cpus)}
    ratios = [max(t / alone[cpu] for t, cpu in zip(_run_jobs(cpus), cpus)) for _ in range(probes)]
    return {"side_by_side": ratios, "alone_s": {str(cpu): s for cpu, s in sorted(alone.items())}}


def probe_cores(threads: int, cpus: Optional[List[int]] = None, probes: int = PROBES) -> Dict[str, Any]:
    """`probes` side_by_side measurements for `threads` threads on `cpus` (default: probe_cpus), with the rule they
    are read by; none at one thread, and none, with the reason, where the job could not run."""
    cpus = probe_cpus(threads) if cpus is None else cpus
    found: Dict[str, Any] = {"threads": threads, "cpus": cpus if threads > 1 else [], "side_by_side": [], "alone_s": {},
                             "shared_above": SHARED_ABOVE,
                             "rule": f"one single-threaded job on each of the CPUs listed at once, each copy's time over "
                                     f"its time alone there, the largest per probe (1.0: independent cores; over "
                                     f"{SHARED_ABOVE}: they shared a core when probed)"}
    if threads > 1:
        try:
            found.update(side_by_side(cpus, probes))
        except (ProbeFailed, OSError) as exc:
            found["error"] = str(exc)
    found["shared"] = sum(r > SHARED_ABOVE for r in found["side_by_side"])
    return found


def merged(before: Dict[str, Any], after: Dict[str, Any]) -> Dict[str, Any]:
    """The probes just before and just after the grid as one record (the same threads and CPUs)."""
    errors = [e for e in (before.get("error"), after.get("error")) if e]
    return {**before, "side_by_side": before["side_by_side"] + after["side_by_side"], "shared": before["shared"] + after["shared"],
            "alone_s": {**before["alone_s"], **{f"{cpu} after": s for cpu, s in after["alone_s"].items()}},
            **({"error": "; ".join(errors)} if errors else {})}
