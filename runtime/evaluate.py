"""Run a bundle over saved inputs and time it: what a board runs, with nothing but the runtime installed.

    python -m paddle_edge.runtime.evaluate BUNDLE WORKDIR --precision int8 --threads 4 --calls 100

reads WORKDIR/inputs.npz (groups of model inputs: array "g<group>.<input name>"), writes WORKDIR/outputs-<precision>.npz
(array "g<group>.<output position>"), WORKDIR/seconds-<precision>.npy (batch-1 call times) and
WORKDIR/board-<precision>.json (what ran, where). Groups hold inputs of different shapes (a detector's images).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from . import open as open_bundle
from .batching import predict_all
from .cpu import cpu_info
from .errors import PaddleEdgeError
from .timing import time_calls
from .tuning import machine_key
from .versions import package_versions

def save_groups(path: Path, groups: Sequence[Dict[str, np.ndarray]]) -> None:
    """Groups of named arrays into one .npz, array "g<group>.<name>"."""
    np.savez(path, **{f"g{i}.{name}": array for i, group in enumerate(groups) for name, array in group.items()})


def load_groups(path: Path) -> List[Dict[str, np.ndarray]]:
    """The groups save_groups wrote, in order."""
    groups: Dict[int, Dict[str, np.ndarray]] = {}
    with np.load(path) as data:
        for key in data.files:
            group, name = key.split(".", 1)
            groups.setdefault(int(group[1:]), {})[name] = data[key]
    return [groups[i] for i in sorted(groups)]


def where_it_ran() -> Dict[str, object]:
    """The machine, Python, CPU and engine versions of this run, and whether paddle could have been imported (it never is)."""
    return {"machine": platform.machine(), "python": platform.python_version(), "cpu": cpu_info(),
            "versions": package_versions(("numpy", "onnxruntime", "openvino", "paddlelite", "paddlepaddle")),
            "machine_key": machine_key(), "paddle_importable": importlib.util.find_spec("paddle") is not None}


def evaluate(bundle: Path, workdir: Path, precision: str, threads: int, calls: int, backend: str = "auto",
             artifact: Optional[str] = None) -> Dict[str, object]:
    """Load (and verify) the bundle, run the inputs, time batch-1 calls; write the results into `workdir`."""
    start = time.perf_counter()
    predictor = open_bundle(bundle, backend=backend, precision=precision, threads=threads, artifact=artifact)
    load_seconds = time.perf_counter() - start
    groups = load_groups(workdir / "inputs.npz")
    outputs = [predict_all(predictor.predict, feeds) for feeds in groups]
    save_groups(workdir / f"outputs-{precision}.npz", [{str(j): x for j, x in enumerate(group)} for group in outputs])
    one = {k: np.ascontiguousarray(v[:1]) for k, v in groups[0].items()}
    np.save(workdir / f"seconds-{precision}.npy", time_calls(lambda: predictor.predict(one), calls) if calls else np.zeros(0))
    info = {**where_it_ran(), "backend": predictor.backend_name, "artifact": predictor.artifact, "precision": precision,
            "threads": threads, "load_seconds": load_seconds, "chosen_by": predictor.chosen_by,
            **({"engine": predictor.backend.engine} if hasattr(predictor.backend, "engine") else {})}
    (workdir / f"board-{precision}.json").write_text(json.dumps(info, indent=2))
    return info


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calls", type=int, default=0, help="also time this many batch-1 calls")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--artifact", help="a manifest artifact name (default: the one made for this CPU, else for any)")
    args = parser.parse_args(argv)
    try:
        print(json.dumps(evaluate(args.bundle, args.workdir, args.precision, args.threads, args.calls, args.backend, args.artifact)))
    except PaddleEdgeError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
