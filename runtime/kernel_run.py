"""Run single-op int8 models with this machine's fused onnxruntime kernels: what a board's kernels are checked with.

    python -m paddle_edge.runtime.kernel_run WORKDIR --threads 4

reads WORKDIR/kernels.json (a list of {"model": a file in WORKDIR/kernels/ with one output}) and
WORKDIR/kernel-inputs.npz (one group of input codes per entry, as evaluate.save_groups writes them), runs each entry's
model on its group with the runtime's onnxruntime backend (default optimizations: its int8 kernels fused as they are
for a bundle), and writes the outputs, in the same order, to WORKDIR/kernel-outputs.npz. The host compares them with
the exact result.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence

from .backends.onnxruntime import OnnxRuntimeBackend
from .errors import PaddleEdgeError
from .evaluate import load_groups, save_groups

KERNELS, INPUTS, OUTPUTS = "kernels.json", "kernel-inputs.npz", "kernel-outputs.npz"


def run_kernels(workdir: Path, threads: int) -> int:
    """Run every listed single-op model on its inputs; return how many ran."""
    entries = json.loads((workdir / KERNELS).read_text())
    groups = load_groups(workdir / INPUTS)
    if len(groups) != len(entries):
        raise PaddleEdgeError(f"{len(entries)} kernels listed but {len(groups)} groups of inputs", "stage the kernels again")
    engines: Dict[str, OnnxRuntimeBackend] = {}
    outputs = []
    for entry, feeds in zip(entries, groups):
        model = entry["model"]
        if model not in engines:
            engines[model] = OnnxRuntimeBackend(workdir / "kernels" / model, threads)
        outputs.append({"0": engines[model].run(feeds)[0]})
    save_groups(workdir / OUTPUTS, outputs)
    return len(outputs)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        print(json.dumps({"kernels_run": run_kernels(args.workdir, args.threads)}))
    except PaddleEdgeError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
