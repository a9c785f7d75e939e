"""Cold start of one engine in a fresh process: import, load and first-inference time, and the process's peak memory.

    python -m paddle_edge.boards.bench.cold_start BUNDLE_DIR ENGINE --threads 2 --batch 1

Each engine gets its own process so that its peak RSS is its own (a process's high-water mark never goes down) and
its first inference is really the first. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

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


def _measure(bundle_dir: Path, engine_name: str, threads: int, batch: int, paddle_int8: Optional[Path],
             shapes: Dict[str, List[int]]) -> Dict[str, float]:
    """Everything after the interpreter's start-up counts: numpy, the engine's library, the bundle, the first call."""
    start = time.perf_counter()
    import numpy as np

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
    run = load(engine, bundle, threads, paddle_int8)
    loaded = time.perf_counter()
    rng = np.random.default_rng(0)
    feeds = {s.name: rng.standard_normal([batch, *shapes[s.name][1:]] if s.name in shapes else [batch if d == -1 else d for d in s.shape])
             .astype(s.dtype) for s in bundle.manifest.inputs}
    run(feeds)
    first = time.perf_counter()
    return {"import_s": imported - start, "load_s": loaded - imported, "first_inference_s": first - loaded, "peak_rss_mb": _peak_rss_mb()}


class ColdStartFailed(PaddleEdgeError):
    """An engine could not load or run the model in a fresh process; `last_line` is what it said: its last exception
    line, and the operator Paddle names after it, else its last line."""

    def __init__(self, engine: str, code: int, stderr: str) -> None:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        said = [next((x for x in reversed(lines) if re.match(r"\w+(Error|Exception)\b.*:", x)), ""),
                next((x for x in reversed(lines) if x.startswith("[operator")), "")]
        self.last_line = " ".join(filter(None, said)) or (lines[-1] if lines else f"exit {code}, nothing on stderr")
        super().__init__(f"cold start of {engine} failed (exit {code}): {stderr.strip()[-2000:]}",
                         "run the command above by hand to see the whole error")


def cold_start(bundle_dir: Path, engine_name: str, threads: int, batch: int = 1, timeout: float = 300,
               paddle_int8: Optional[Path] = None, shapes: Optional[Dict[str, Sequence[int]]] = None) -> Dict[str, float]:
    """Run the measurement in a new interpreter and return what it printed. `shapes` (an input's shape, its first dim
    replaced by `batch`) is what is benchmarked where the model's own shape has dynamic dims (a detector's page)."""
    cmd = [sys.executable, "-m", __name__, str(bundle_dir), engine_name, "--threads", str(threads), "--batch", str(batch)]
    cmd += ["--paddle-int8", str(paddle_int8)] if paddle_int8 else []
    cmd += ["--shapes", json.dumps({name: list(map(int, shape)) for name, shape in (shapes or {}).items()})]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ColdStartFailed(engine_name, -1, f"no answer within {timeout:g} s\n{exc.stderr or ''}") from None
    if proc.returncode != 0:
        raise ColdStartFailed(engine_name, proc.returncode, proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("engine")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--paddle-int8", type=Path, help="PaddleSlim's int8 model directory (engine paddle_inference_int8)")
    parser.add_argument("--shapes", type=json.loads, default={}, help='the benchmarked input shapes, {"x": [1, 3, 640, 640]}')
    args = parser.parse_args(argv)
    print(json.dumps(_measure(args.bundle, args.engine, args.threads, args.batch, args.paddle_int8, args.shapes)))


if __name__ == "__main__":
    main()
