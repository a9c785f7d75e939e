"""`paddle-edge board parity`: will this exact bundle give the same answers on the board? Compared with the x86-64 runtime.

Latency on an emulated board is printed apart and labelled emulated: qemu's timings say nothing about the real board.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .. import runtime
from ..export.artifact_engines import run_artifact
from ..runtime.cpu import cpu_info
from ..runtime.batching import predict_all
from ..runtime import metrics
from ..runtime.timing import time_calls
from .board_run import Board, run_bundle
from .checks import CheckedReport, judge
from .parity import evaluation_data
from .provenance import provenance

# fp32 outputs agree when |board - x86| <= ATOL + RTOL * |x86| everywhere (numpy's allclose). ATOL alone (1e-5) is under
# float32's resolution for logits above ~20 (ulp 1.9e-6 there), where ARM and x86 kernels, summing in another order,
# differ by a few ulp; RTOL admits ~8 ulp there. The plain max abs diff is reported beside it.
ATOL, RTOL = 1e-5, 1e-6
# (limit, "max" or "min"), per check.
BOARD_TOLERANCES: Dict[str, Tuple[float, str]] = {
    "fp32_allclose_ratio": (1.0, "max"),  # max |board - x86| / (ATOL + RTOL |x86|)
    "fp32_argmax_agreement": (1.0, "min"),
    # int8 is held to the model's exact int8 semantics (the artifact the board ran, onnxruntime unfused on this host),
    # not to this host's fused kernels, which deviate themselves on x86 without VNNI (runtime/cpu.py)
    "int8_vs_exact_argmax_agreement": (0.999, "min"),
}


class BoardParityReport(CheckedReport):
    """Board vs x86-64 runtime (fp32) and vs the exact int8 semantics of the file the board ran (int8)."""

    def render(self) -> str:
        d = self.data
        where = f"emulated: qemu -cpu {d['qemu_cpu']}" if d["emulated"] else "native"
        rows = [("board", f"{d['board']} ({where}; {d['board_info']['machine']}, Python {d['board_info']['python']}, "
                          f"onnxruntime {d['board_info']['versions']['onnxruntime']}, paddle importable: {d['board_info']['paddle_importable']})"),
                ("samples", str(d["samples"]))]
        rows.append(("x86-64 host", d["host_cpu"]["label"]))
        for precision, scores in d["top1"].items():
            names = " / ".join(scores)
            rows.append((f"{precision} top-1 {names}", " / ".join(f"{v * 100:.2f} %" for v in scores.values())
                         + f"  (board ran {d['artifacts'][precision]['board']}, x86-64 {d['artifacts'][precision]['x86_64']})"))
        rows += [(k, f"{v:.6g}") for k, v in d["values"].items() if k.startswith("int8_") and k not in BOARD_TOLERANCES]
        label = "EMULATED, not the board's speed" if d["emulated"] else "native"
        rows += [(f"latency b1 p50 {k} (us)", f"x86-64 {v['x86_64']:,.0f} | board {v['board']:,.0f} ({label})") for k, v in d["latency_us"].items()]
        rows.append(("fp32 max abs diff", f"{d['values']['fp32_max_abs_diff']:.3g} (check: |board - x86| <= {d['tolerance']['atol']:g} + "
                                          f"{d['tolerance']['rtol']:g} |x86|)"))
        rows += self.check_rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def board_parity(board: Board, bundle_path: Path, threads: Optional[int] = None, limit: Optional[int] = None,
                 data: Optional[Path] = None, shapes: Optional[Dict[str, Sequence[int]]] = None, calls: int = 20) -> BoardParityReport:
    """Run the bundle's test split on the board and on this host's runtime; compare outputs per precision."""
    bundle = runtime.load_bundle(Path(bundle_path))
    manifest = bundle.manifest
    feeds, labels = evaluation_data(manifest, data, limit, shapes)
    precisions = manifest.precisions("onnx")
    threads = threads or board.profile.runtime.threads
    remote = run_bundle(board, bundle.root, feeds, precisions, threads, calls)

    values: Dict[str, float] = {}
    top1: Dict[str, Dict[str, float]] = {}
    latency: Dict[str, Dict[str, float]] = {}
    for precision in precisions:
        local = runtime.open(bundle, backend="onnxruntime", precision=precision, threads=threads)
        host_out, board_out = predict_all(local.predict, feeds), remote.outputs[precision]
        if precision == "fp32":
            values["fp32_max_abs_diff"] = max(float(np.max(np.abs(a - b))) for a, b in zip(host_out, board_out))
            values["fp32_allclose_ratio"] = max(float(np.max(np.abs(a - b) / (ATOL + RTOL * np.abs(a)))) for a, b in zip(host_out, board_out))
        else:
            exact = run_artifact(bundle, remote.info[precision]["artifact"], feeds, threads)
            values["int8_vs_exact_max_abs_diff"] = max(float(np.max(np.abs(a - b))) for a, b in zip(exact, board_out))
            values["int8_x86_64_vs_exact_max_abs_diff"] = max(float(np.max(np.abs(a - b))) for a, b in zip(exact, host_out))
        if manifest.task == "classification":
            agreement = (lambda a, b: float((a[0].argmax(1) == b[0].argmax(1)).mean()))
            if precision == "fp32":
                values["fp32_argmax_agreement"] = agreement(host_out, board_out)
            else:
                values["int8_vs_exact_argmax_agreement"] = agreement(exact, board_out)
                values["int8_x86_64_vs_exact_argmax_agreement"] = agreement(exact, host_out)
                values["int8_board_vs_x86_64_argmax_agreement"] = agreement(host_out, board_out)
            if labels is not None:
                top1[precision] = {"board": metrics.top1(board_out[0], labels), "x86_64": metrics.top1(host_out[0], labels),
                                   **({"exact": metrics.top1(exact[0], labels)} if precision != "fp32" else {})}
        one = {k: np.ascontiguousarray(v[:1]) for k, v in feeds.items()}
        latency[precision] = {"x86_64": float(np.median(time_calls(lambda p=local, x=one: p.predict(x), calls * 10)) * 1e6),
                              "board": float(np.median(remote.seconds[precision]) * 1e6)}
    emulated = board.profile.emulation is not None
    report = {"board": board.profile.name, "emulated": emulated, "qemu_cpu": board.profile.emulation.qemu_cpu if emulated else None,
              "samples": int(len(next(iter(feeds.values())))), "threads": threads, "top1": top1, "values": values,
              "latency_us": latency, "latency_note": "emulated under qemu: not the board's speed" if emulated else "native",
              "tolerance": {"atol": ATOL, "rtol": RTOL}, "board_info": remote.info[precisions[0]], "host_cpu": cpu_info(), "provenance": provenance(),
              "artifacts": {p: {"board": remote.info[p]["artifact"], "x86_64": runtime.open(bundle, backend="onnxruntime", precision=p).artifact}
                            for p in precisions}}
    return BoardParityReport.of(report, judge(values, BOARD_TOLERANCES))
