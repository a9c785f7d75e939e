"""Run single-op int8 models with this machine's fused onnxruntime kernels: what a board's kernels are checked with.

    python -m paddle_edge.runtime.kernel_run WORKDIR --threads 4

reads WORKDIR/kernels.json (a list of {"model": file in WORKDIR/kernels/, "output": its output}) and
WORKDIR/kernel-inputs.npz (one group of input codes per entry, as evaluate.save_groups writes them), runs each entry's
model on its group with onnxruntime's default optimizations (so its int8 kernels are fused as they are for a bundle),
and writes the outputs, in the same order, to WORKDIR/kernel-outputs.npz. The host compares them with the exact result.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, Optional, Sequence

import onnxruntime as ort

from .evaluate import load_groups, save_groups

KERNELS, INPUTS, OUTPUTS = "kernels.json", "kernel-inputs.npz", "kernel-outputs.npz"


def run_kernels(workdir: Path, threads: int) -> int:
    """Run every listed single-op model on its inputs; return how many ran."""
    entries = json.loads((workdir / KERNELS).read_text())
    sessions: Dict[str, ort.InferenceSession] = {}
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    outputs = []
    for entry, feeds in zip(entries, load_groups(workdir / INPUTS)):
        model = entry["model"]
        if model not in sessions:
            sessions[model] = ort.InferenceSession(str(workdir / "kernels" / model), options, providers=["CPUExecutionProvider"])
        outputs.append({"0": sessions[model].run([entry["output"]], feeds)[0]})
    save_groups(workdir / OUTPUTS, outputs)
    return len(outputs)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps({"kernels_run": run_kernels(args.workdir, args.threads)}))


if __name__ == "__main__":
    main()
