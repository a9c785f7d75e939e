"""Cold start of one engine in a fresh process: import, load and first-inference time, and the process's peak memory;
then one call at each benchmarked batch size, so an engine that crashes or hangs on one does it in this child, not in the bench.

    python -m paddle_edge.boards.bench.cold_start BUNDLE_DIR ENGINE --threads 2 --batch 1 --batches 1,8,64

Each engine gets its own process so that its peak RSS is its own (a process's high-water mark never goes down) and
its first inference is really the first. Prints one line per step, each `paddle-edge.cold_start {JSON}`: the cold
start's figures, then each batch size as it ran.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import queue
import re
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional, Sequence, Tuple

from ...runtime.errors import PaddleEdgeError


def _peak_rss_mb() -> float:
    """This process's own high-water mark. Linux carries ru_maxrss over from the parent across fork + exec, so a child
    started by a large process would report the parent's; /proc's VmHWM belongs to the new address space only."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)


TIMEOUT_S = 300.0  # what each step of the cold-start process may take before it is called hung (bench --timeout)
LINE = "paddle-edge.cold_start "  # what starts each line the child prints for its parent (an engine may print too)


def _feeds(bundle: Any, batch: int, shapes: Dict[str, List[int]]) -> Dict[str, Any]:
    """Seeded random inputs of `batch` samples: of `shapes` where given, else of the manifest's shape."""
    import numpy as np

    rng = np.random.default_rng(0)  # float32 from the start: a 64-page batch is 300 MB of it, not 600 MB of float64 first
    return {s.name: rng.standard_normal([batch, *shapes[s.name][1:]] if s.name in shapes else [batch if d == -1 else d for d in s.shape],
                                        dtype=np.float32).astype(s.dtype, copy=False) for s in bundle.manifest.inputs}


def _measure(bundle_dir: Path, engine_name: str, threads: int, batch: int, paddle_int8: Optional[Path],
             shapes: Dict[str, List[int]], settings: Dict[str, str]) -> Tuple[Dict[str, float], Callable[[int], Any]]:
    """Everything after the interpreter's start-up counts: numpy, the engine's library, the bundle, the first call.
    Also returns a call at a batch size, for the batch sizes the bench will time."""
    start = time.perf_counter()
    import numpy  # noqa: F401 - its import is part of every engine's cold start

    from ... import runtime
    from .engines import ENGINES, OPENVINO, load

    engine = ENGINES[engine_name]
    if engine_name.startswith("paddle_inference"):
        import paddle.inference  # noqa: F401 - its import is part of the reference's cold start
    elif engine.package == OPENVINO:
        from ...runtime.backends import openvino  # noqa: F401 - imports openvino, its telemetry off
    else:
        import onnxruntime  # noqa: F401
    imported = time.perf_counter()
    bundle = runtime.load_bundle(bundle_dir)
    run = load(engine, bundle, threads, paddle_int8, settings)
    loaded = time.perf_counter()
    run(_feeds(bundle, batch, shapes))
    first = time.perf_counter()
    figures = {"import_s": imported - start, "load_s": loaded - imported, "first_inference_s": first - loaded, "peak_rss_mb": _peak_rss_mb()}
    return figures, lambda n: run(_feeds(bundle, n, shapes))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal has no name of its own
        return f"signal {number}"


def _what_it_said(stderr: str, code: int, hung: str = "") -> str:
    """Why a child failed: that it hung; else its last exception line, and the operator Paddle names after it; else the
    signal that ended it, or its last line."""
    if hung:
        return hung
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = [next((x for x in reversed(lines) if re.match(r"\w+(Error|Exception)\b.*:", x)), ""),
            next((x for x in reversed(lines) if x.startswith("[operator")), "")]
    ended = f"killed by {_signal_name(-code)}" if code < 0 else f"exit {code}"
    return " ".join(filter(None, said)) or (f"{ended}: {lines[-1]}" if lines else f"{ended}, nothing on stderr")


class ColdStartFailed(PaddleEdgeError):
    """An engine could not load or run the model in a fresh process; `last_line` is why (_what_it_said)."""

    def __init__(self, engine: str, code: int, stderr: str, command: Sequence[str], hung: str = "") -> None:
        self.last_line = _what_it_said(stderr, code, hung)
        super().__init__(f"cold start of {engine} failed ({self.last_line}): {stderr.strip()[-2000:]}",
                         ("give it longer with `paddle-edge bench --timeout SECONDS`, or " if hung else "")
                         + f"run it by hand to see the whole error: {shlex.join(command)}")


@dataclasses.dataclass(frozen=True)
class ColdStart:
    """One engine's cold start in a fresh process, and the batch sizes it then ran once each, in ascending order."""

    figures: Dict[str, float]
    ran: Tuple[int, ...]
    failed_batch: Optional[int] = None  # the first batch size it failed or hung at; its process ended there, larger ones untried
    failure: str = ""  # what it said there


def _read_lines(stream: IO[str], found: "queue.Queue[Optional[str]]") -> None:
    for line in stream:
        found.put(line)
    found.put(None)


def _steps(proc: subprocess.Popen, timeout: float) -> Tuple[List[Dict[str, Any]], str]:
    """The steps the child printed until it ended, and, if a step took longer than `timeout` (other output does not
    count), the hang, said."""
    lines: "queue.Queue[Optional[str]]" = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    steps: List[Dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return steps, f"no answer within {timeout:g} s"
        if line is None:
            return steps, ""
        at = line.find(LINE)  # an engine's own output may precede it on the line
        if at >= 0:
            steps.append(json.loads(line[at + len(LINE):]))
            deadline = time.monotonic() + timeout


def cold_start(bundle_dir: Path, engine_name: str, threads: int, batches: Sequence[int] = (1,), timeout: float = TIMEOUT_S,
               paddle_int8: Optional[Path] = None, shapes: Optional[Dict[str, Sequence[int]]] = None,
               settings: Optional[Dict[str, str]] = None) -> ColdStart:
    """Run the measurement (at batch 1) in a new interpreter, then one call at each of `batches`, each step given
    `timeout` seconds. `shapes` (an input's shape, its first dim replaced by the batch size) is what is benchmarked where
    the model's own shape has dynamic dims (a detector's page); `settings` as engines.load takes them. Raises
    ColdStartFailed where the cold start itself failed; a failure at a batch size is in the result."""
    batches = sorted(set(batches))
    cmd = [sys.executable, "-m", __name__, str(bundle_dir), engine_name, "--threads", str(threads), "--batch", "1",
           "--batches", ",".join(map(str, batches))]
    cmd += ["--paddle-int8", str(paddle_int8)] if paddle_int8 else []
    cmd += ["--shapes", json.dumps({name: list(map(int, shape)) for name, shape in (shapes or {}).items()})]
    cmd += ["--settings", json.dumps(dict(settings or {}))]
    with tempfile.TemporaryFile("w+", errors="replace") as stderr:  # a file, not a pipe: a chatty engine never blocks on it
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, errors="replace")
        try:
            steps, hung = _steps(proc, timeout)
        finally:  # stopped, or the parent interrupted: the child never outlives this call
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
            proc.stdout.close()
        stderr.seek(0)
        said = stderr.read()
    figures = next((step["cold"] for step in steps if "cold" in step), None)
    if figures is None:
        raise ColdStartFailed(engine_name, code, said, cmd, hung)
    ran = tuple(step["ran"] for step in steps if "ran" in step)
    failed = next((b for b in batches if b not in ran), None)
    return ColdStart(figures, ran, failed, "" if failed is None else _what_it_said(said, code, hung))


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("engine")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1, help="the cold start's batch size")
    parser.add_argument("--batches", default="", help="the batch sizes to run once each after it, ascending: 1,8,64")
    parser.add_argument("--paddle-int8", type=Path, help="PaddleSlim's int8 model directory (engine paddle_inference_int8)")
    parser.add_argument("--shapes", type=json.loads, default={}, help='the benchmarked input shapes, {"x": [1, 3, 640, 640]}')
    parser.add_argument("--settings", type=json.loads, default={}, help='the thin runtime\'s ONNX Runtime settings, {"parallel": "batch"}')
    args = parser.parse_args(argv)
    figures, run_batch = _measure(args.bundle, args.engine, args.threads, args.batch, args.paddle_int8, args.shapes, args.settings)
    print(LINE + json.dumps({"cold": figures}), flush=True)
    for batch in (int(b) for b in args.batches.split(",") if b):
        if batch != args.batch:
            run_batch(batch)
        print(LINE + json.dumps({"ran": batch}), flush=True)


if __name__ == "__main__":
    main()
