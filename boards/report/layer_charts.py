"""The report's charts of `paddle-edge quant-debug`: SQNR along the graph, and the worst layers' value histograms."""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
from matplotlib.figure import Figure

from .charts import plt

Debug = Dict[str, Any]
TOP_DB = 80.0  # SQNRs above it (999: identical to float) are drawn at it


def _measured(value: Any) -> float:
    return np.nan if value is None else min(float(value), TOP_DB)


def sqnr_along_graph(debug: Debug) -> Figure:
    """SQNR of every op and activation quantizer against float, in graph order: the error each adds on its own (local)
    and the error accumulated up to it (global); where it falls, int8 loses."""
    rows = debug["rows"]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(11, 4))
    for kind, marker in (("op", "o"), ("quantizer", "x")):
        picked = [i for i, r in enumerate(rows) if r["kind"] == kind]
        ax.scatter(x[picked], [_measured(rows[i]["local_sqnr_db"]) for i in picked], marker=marker, s=14, color="#dd8452",
                   label=f"local ({'compute ops' if kind == 'op' else 'activation quantizers'})")
    ax.plot(x, [_measured(r["global_sqnr_db"]) for r in rows], color="#c44e52", label="global (accumulated), exact int8 ONNX")
    if any(r["paddle_global_sqnr_db"] is not None for r in rows):
        ax.plot(x, [_measured(r["paddle_global_sqnr_db"]) for r in rows], color="#4c72b0", ls="--",
                label="global, PaddleSlim's program in Paddle")
    paddle_local = [i for i, r in enumerate(rows) if r.get("paddle_local_sqnr_db") is not None]
    if paddle_local:
        ax.scatter(x[paddle_local], [_measured(rows[i]["paddle_local_sqnr_db"]) for i in paddle_local], marker="+", s=20,
                   color="#4c72b0", label="local (compute ops), PaddleSlim's program in Paddle")
    ax.set(xlabel="position in the graph (compute ops and quantizers)", ylabel="SQNR vs float (dB)",
           title=f"{debug['model']}: where int8 departs from float ({debug['samples']} samples)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def worst_histograms(debug: Debug, count: int = 4) -> Figure:
    """Float vs exact int8 values of the worst-ranked tensors: clipping shows as a pile-up at the calibrated range's
    edge, a coarse grid as gaps."""
    by_output: Dict[str, List[Dict[str, Any]]] = {}
    for r in debug["rows"]:
        by_output.setdefault(r["output"], []).append(r)
    worst = [next(r for r in by_output[o] if r["histogram"]) for o in debug["ranking"] if any(r["histogram"] for r in by_output[o])][:count]
    fig, axes = plt.subplots(1, max(1, len(worst)), figsize=(3 * max(1, len(worst)), 3), squeeze=False)
    for ax, r in zip(axes[0], worst):
        h = r["histogram"]
        edges = np.array(h["edges"])
        ax.stairs(h["float"], edges, label="float", color="#4c72b0")
        ax.stairs(h["int8"], edges, label="int8", color="#c44e52")
        if r["activation_calibrated"]:
            for edge in r["activation_calibrated"]:
                ax.axvline(edge, color="#8c8c8c", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_title(f"{r['output'][:24]} ({r['kind']})", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig
