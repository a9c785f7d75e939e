"""The report's charts, drawn with matplotlib from the report's data (and the bench's raw samples)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List

import matplotlib

matplotlib.use("Agg")  # files only; no display on a build machine or a board
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

Summary = Dict[str, Any]
COLORS = {"paddle_inference_fp32": "#4c72b0", "onnxruntime_fp32": "#55a868", "onnxruntime_int8": "#c44e52",
          "bare_onnxruntime_fp32": "#8c8c8c", "paddlelite_x86_fp32": "#8172b2",
          "paddle_fp32": "#4c72b0", "onnx_fp32": "#55a868", "onnx_int8": "#c44e52", "onnx_int8_exact": "#dd8452",
          "lite_x86_fp32": "#8172b2"}
NAMES = {"paddle_fp32": "float (Paddle Inference)", "onnx_fp32": "fp32 (ONNX Runtime)", "onnx_int8": "int8 (ONNX Runtime, this CPU)",
         "onnx_int8_exact": "int8 exact QDQ (unfused)",
         "lite_x86_fp32": "fp32 (Paddle Lite x86)"}


def per_class_accuracy(summary: Summary) -> Figure:
    """Top-1 per class, one bar per engine: where int8 loses, if anywhere."""
    per_class = summary["classes"]["per_class_top1"]
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(per_class)
    classes = np.arange(summary["classes"]["classes"])
    for i, (engine, values) in enumerate(per_class.items()):
        ax.bar(classes + (i - (len(per_class) - 1) / 2) * width, np.array(values) * 100, width, label=NAMES.get(engine, engine),
               color=COLORS.get(engine))
    low = min(min(v) for v in per_class.values()) * 100
    ax.set_ylim(max(0.0, low - 1.0), 100.2)
    ax.set_xticks(classes)
    ax.set(xlabel="class", ylabel="top-1 in the class (%)", title="Accuracy per class: float vs int8")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig


def confusion_matrices(summary: Summary) -> Figure:
    """Counts of (true, predicted), float beside int8, on a log colour scale so that single errors show."""
    matrices = summary["classes"]["confusion"]
    fig, axes = plt.subplots(1, len(matrices), figsize=(6 * len(matrices), 5.2), squeeze=False)
    for ax, (engine, counts) in zip(axes[0], matrices.items()):
        counts = np.array(counts)
        image = ax.imshow(np.maximum(counts, 0.5), norm=LogNorm(vmin=0.5, vmax=max(counts.max(), 1)), cmap="Blues")
        for (t, p), n in np.ndenumerate(counts):
            if n:
                ax.text(p, t, str(n), ha="center", va="center", fontsize=7, color="white" if t == p else "black")
        ax.set(xlabel="predicted", ylabel="true", title=f"Confusion matrix, {NAMES.get(engine, engine)}",
               xticks=range(len(counts)), yticks=range(len(counts)))
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def latency_vs_accuracy(summary: Summary) -> Figure:
    """Each engine at batch 1 and at the largest batch: time per sample against accuracy."""
    rows = [r for r in summary["latency"] if r["threads"] == summary["goal_threads"] and r["accuracy"] is not None]
    batches = sorted({r["batch"] for r in rows})
    fig, ax = plt.subplots(figsize=(9, 4.5))
    scale = 100 if summary["metric"] == "top1" else 1
    for r in rows:
        if r["batch"] not in (batches[0], batches[-1]):
            continue
        per_sample = r["p50_us"] / r["batch"]
        filled = r["batch"] == batches[0]
        ax.scatter(per_sample, r["accuracy"] * scale, s=80, color=COLORS.get(r["engine"]), marker="o" if filled else "s",
                   facecolors=None if filled else "none", label=f"{r['label']}, batch {r['batch']}")
        ax.annotate(f"b{r['batch']}", (per_sample, r["accuracy"] * scale), textcoords="offset points", xytext=(6, 4), fontsize=7)
    values = [r["accuracy"] * scale for r in rows]
    pad = max(0.25, (max(values) - min(values)) * 0.3)
    ax.set_ylim(min(values) - pad, max(values) + pad)
    ax.set_xscale("log")
    ax.set(xlabel="median time per sample (us, log scale)", ylabel="top-1 (%)" if scale == 100 else summary["metric"],
           title=f"Latency vs accuracy, {summary['goal_threads']} thread(s) (filled: batch {batches[0]}, hollow: batch {batches[-1]})")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, which="both")
    return fig


def latency_distributions(summary: Summary, samples: Dict[tuple, List[float]]) -> Figure:
    """Per-call times at the goal thread count, one panel per batch size: medians and tails."""
    batches = sorted({r["batch"] for r in summary["latency"]})
    fig, axes = plt.subplots(len(batches), 1, figsize=(9, 2.4 * len(batches)), squeeze=False)
    for ax, batch in zip(axes[:, 0], batches):
        rows = [r for r in summary["latency"] if r["batch"] == batch and r["threads"] == summary["goal_threads"]]
        data = [samples[(r["engine"], r["threads"], r["batch"])] for r in rows]
        box = ax.boxplot(data, vert=False, whis=(1, 99), showfliers=False, patch_artist=True)
        for patch, r in zip(box["boxes"], rows):
            patch.set_facecolor(COLORS.get(r["engine"], "#cccccc"))
        ax.set_yticks(range(1, len(rows) + 1), [r["engine"] for r in rows], fontsize=7)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decade labels only: minor ones collide on a short axis
        ax.set(xlabel="time per call (us, log; whiskers p1-p99)", title=f"batch {batch}, {summary['goal_threads']} thread(s)")
        ax.grid(axis="x", alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def throughput_grid(summary: Summary) -> Figure:
    """Samples per second of every engine in every (threads, batch) cell."""
    cells = sorted({(r["threads"], r["batch"]) for r in summary["latency"]})
    engines = list(dict.fromkeys(r["engine"] for r in summary["latency"]))
    by_key = {(r["engine"], r["threads"], r["batch"]): r["throughput"] for r in summary["latency"]}
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(engines)
    for i, engine in enumerate(engines):
        ax.bar(np.arange(len(cells)) + (i - (len(engines) - 1) / 2) * width, [by_key.get((engine, *c), 0) for c in cells], width,
               label=engine, color=COLORS.get(engine))
    ax.set_xticks(range(len(cells)), [f"{t} thr, batch {b}" for t, b in cells])
    ax.set_yscale("log")
    ax.set(ylabel="samples / s (log)", title="Throughput per engine, thread count and batch size")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3, which="both")
    return fig


def roofline(bench: Dict[str, Any]) -> Figure:
    """Each engine at the goal thread count on this CPU's roofline: FLOPs per byte its compute ops move in a call
    against the GFLOP/s it reached, under the measured GEMM peaks and the copy bandwidth (log-log)."""
    threads, peak = bench["goal_threads"], bench["peak"]
    rows = [r for r in bench["cells"] if r["threads"] == threads and r["flops_per_byte"] > 0]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    if not rows:  # no ONNX model to count FLOPs and bytes on
        ax.text(0.5, 0.5, "no FLOP count: the bundle has no fp32 ONNX", ha="center", va="center", transform=ax.transAxes)
        return fig
    intensity = np.geomspace(min(r["flops_per_byte"] for r in rows) / 4, max(r["flops_per_byte"] for r in rows) * 4, 200)
    for kind, values in peak["gops"].items():
        ax.plot(intensity, np.minimum(values[str(threads)], peak["memory_gbs"] * intensity), lw=1,
                ls="-" if kind == "fp32" else "--", label=f"roof: {kind} GEMM {values[str(threads)]:.0f} G/s")
    for r in rows:
        ax.scatter(r["flops_per_byte"], r["gflops"], color=COLORS.get(r["engine"], "#333333"), s=18 + 4 * np.log2(r["batch"]))
        ax.annotate(f"{r['engine']} b{r['batch']}", (r["flops_per_byte"], r["gflops"]), fontsize=6, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="FLOPs per byte moved by Conv/Gemm/MatMul (log)", ylabel="GFLOP/s reached (log)",
           title=f"Roofline, {threads} thread(s): onnxruntime's GEMM peaks, memory copy {peak['memory_gbs']:.1f} GB/s (numpy, one thread)")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3, which="both")
    return fig


CLASS_CHARTS: Dict[str, Callable[[Summary], Figure]] = {"per_class_accuracy": per_class_accuracy, "confusion_matrices": confusion_matrices}
LATENCY_CHARTS: Dict[str, Callable[[Summary], Figure]] = {"latency_vs_accuracy": latency_vs_accuracy, "throughput_grid": throughput_grid}
