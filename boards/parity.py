"""`paddle-edge parity`: the product's promise, measured in one run against the float Paddle reference.

Every artifact of the bundle is gated on its own: each is run by the engine that defines it (export/artifact_engines.py:
Paddle Inference for the reference, onnxruntime for fp32 ONNX, onnxruntime unfused for an int8 ONNX's exact semantics,
Lite x86 in its sidecar), and the int8 engine this CPU runs (the thin runtime's choice, with onnxruntime's fused int8
kernels) is gated against both the float model and the exact int8 semantics. OpenVINO, where installed, runs the same
files and is held to the same float and task-metric limits. Speed is measured alongside and reported as goals with
intervals; it never decides the verdict.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import runtime
from ..export.artifact_engines import NoEngineHere, artifact_runner, engine_label
from ..export.drop_interval import drop_interval, sample_counts
from ..export.lite_sidecar import LITE_VERSION, SidecarError
from ..runtime import backends
from ..runtime.cpu import cpu_info
from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_file
from ..runtime.manifest import PARAMETER_FORMATS
from ..runtime.metrics import INT8_DROP_LIMITS, INT8_MSE_RATIO_LIMIT, LABELS, drops, format_scores
from ..export.evaluation import (EvaluationSet, Outputs, checked_values, compare, evaluation_set, first_samples,
                                 run_groups, task_scores)
from .checks import CheckedReport, judge, judge_goals
from .quant_debug.debugger import kernel_steps
from .quant_debug.report import KERNEL_GROUPS, KERNEL_SAMPLES, KERNEL_STEP_LIMIT
from ..runtime.timing import time_in_rounds
from .latency import paired_ratio
from .provenance import provenance

SCHEMA = "paddle-edge.parity/2"
REFERENCE = "paddle_fp32"
# Checks are data: (limit, "max" = value must not exceed it, "min" = value must reach it). NAME is ENGINE_MEASURE.
TOLERANCES: Dict[str, Tuple[float, str]] = {
    # fp32: the float model's function, to float32's rounding, and its answers. SQNR scales with the outputs and the
    # depth; an absolute bound does not: on the 100-layer PP-OCRv4 detector onnxruntime's own graph optimizations move the
    # probability map by 6e-5 against the same session unoptimized, as much as Paddle Inference differs from either, and
    # the recogniser's softmax moves by 1e-3 on Chinese lines (at 93 dB). The largest difference is reported, not gated.
    "onnx_fp32_sqnr_db": (80.0, "min"),
    "onnx_fp32_argmax_agreement": (1.0, "min"),
    "onnx_fp32_text_agreement": (1.0, "min"),
    "onnx_fp32_box_f1_vs_float": (1.0, "min"),
    "lite_x86_fp32_sqnr_db": (80.0, "min"),
    "lite_x86_fp32_argmax_agreement": (1.0, "min"),
    "lite_x86_fp32_text_agreement": (1.0, "min"),
    "lite_x86_fp32_box_f1_vs_float": (1.0, "min"),
    "lite_x86_fp32_runnable": (1.0, "min"),
    "onnx_int8_exact_argmax_agreement": (0.99, "min"),  # the int8 model itself vs the float model
    "onnx_int8_exact_top1_drop_points": (INT8_DROP_LIMITS["top1"], "max"),
    "onnx_int8_exact_mse_ratio": (INT8_MSE_RATIO_LIMIT, "max"),
    "onnx_int8_argmax_agreement": (0.99, "min"),  # what this CPU runs vs the float model
    "onnx_int8_top1_drop_points": (INT8_DROP_LIMITS["top1"], "max"),
    "onnx_int8_mse_ratio": (INT8_MSE_RATIO_LIMIT, "max"),
    "onnx_int8_vs_exact_argmax_agreement": (0.999, "min"),  # what this CPU runs vs the int8 model's exact semantics
    # ... and each of its fused int8 kernels, on the same input codes, within a quantization step of the exact result
    # (quant-debug's fused vs exact column). In a deep model one-step ties flip codes further on (the recogniser reads a
    # few lines differently from the exact model with every kernel within a step), so end-to-end text and box agreement
    # with the exact model are reported; the kernels and the task metric are what is gated.
    "onnx_int8_kernel_max_steps": (float(KERNEL_STEP_LIMIT), "max"),
    "onnx_int8_variants_max_abs_diff": (0.0, "max"),  # every int8 ONNX of the bundle is the same function (exact runs)
    # text models: the fp32 file gives the float model's answers; int8 loses at most a point of its task metric
    "onnx_fp32_char_acc_drop_points": (0.0, "max"),
    "onnx_fp32_f1_drop_points": (0.0, "max"),
    "lite_x86_fp32_char_acc_drop_points": (0.0, "max"),
    "lite_x86_fp32_f1_drop_points": (0.0, "max"),
    "onnx_int8_exact_char_acc_drop_points": (INT8_DROP_LIMITS["char_acc"], "max"),
    "onnx_int8_char_acc_drop_points": (INT8_DROP_LIMITS["char_acc"], "max"),
    "onnx_int8_exact_f1_drop_points": (INT8_DROP_LIMITS["f1"], "max"),
    "onnx_int8_f1_drop_points": (INT8_DROP_LIMITS["f1"], "max"),
    # OpenVINO (the optional backend, where installed: installing it adds these gates) runs the same model (the int8 file
    # it opens on this CPU, runtime.artifact_for: the same function) and is held to the same float and task-metric limits; its int8 kernels are not cut out op by op, so
    # its agreement with the exact int8 model is reported, not gated
    "openvino_fp32_runnable": (1.0, "min"),
    "openvino_int8_runnable": (1.0, "min"),
    "openvino_fp32_sqnr_db": (80.0, "min"),
    "openvino_fp32_argmax_agreement": (1.0, "min"),
    "openvino_fp32_text_agreement": (1.0, "min"),
    "openvino_fp32_box_f1_vs_float": (1.0, "min"),
    "openvino_fp32_char_acc_drop_points": (0.0, "max"),
    "openvino_fp32_f1_drop_points": (0.0, "max"),
    "openvino_int8_argmax_agreement": (0.99, "min"),
    "openvino_int8_top1_drop_points": (INT8_DROP_LIMITS["top1"], "max"),
    "openvino_int8_mse_ratio": (INT8_MSE_RATIO_LIMIT, "max"),
    "openvino_int8_char_acc_drop_points": (INT8_DROP_LIMITS["char_acc"], "max"),
    "openvino_int8_f1_drop_points": (INT8_DROP_LIMITS["f1"], "max"),
}
GOALS: Dict[str, Tuple[float, str]] = {"runtime_overhead_ratio": (1.05, "max")}
Feeds = Dict[str, np.ndarray]


class ParityReport(CheckedReport):
    """Outputs, accuracy and latency of a bundle against its float Paddle reference."""

    def render(self) -> str:
        d = self.data
        rows = [("model", f"{d['model']} ({d['samples']:,} samples, {d['threads']} threads)"), ("cpu", d["cpu"]["label"])]
        for key, e in d["engines"].items():
            scores, drop = format_scores(e["scores"]), _fmt_drop(e)
            vs = [f"{label}: {_fmt_agreement(e[part])}" for part, label in (("vs_float", "vs float"), ("vs_exact_int8", "vs exact int8"))
                  if part in e]
            kernels = e.get("kernels")
            if kernels and kernels["checked"]:
                vs.append(f"fused kernels: {kernels['checked']} checked op by op on {kernels['samples']} samples, "
                          f"largest {kernels['max_steps']} step(s) from exact")
            rows.append((e["title"], "; ".join(filter(None, [f"{scores} ({drop})" if drop else scores, *vs])) or "-"))
        rows += [(f"latency {k} (us)", f"{v:,.1f}") for k, v in d["latency_us"].items()]
        rows += [(f"throughput {k}", f"{v:,.0f} samples/s") for k, v in d["throughput"].items()]
        rows += self.check_rows() + self.goal_rows()
        rows += [(f"skipped {k}", v) for k, v in d.get("skipped", {}).items()]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _fmt_drop(engine: Dict[str, Any]) -> str:
    """What an engine loses against the float reference: points of its accuracy metric (negative: it scored higher), or
    the MSE ratio."""
    drops = {k[:-len("_drop_points")]: v for k, v in engine.items() if k.endswith("_drop_points")}
    points = [f"{LABELS.get(k, k) + ' ' if len(drops) > 1 else ''}drop {v:+.2f} points{_fmt_interval(engine, k)}"
              for k, v in drops.items()]
    return ", ".join(points) or (f"{engine['mse_ratio']:.3f}x float's MSE" if "mse_ratio" in engine else "")


def _fmt_interval(engine: Dict[str, Any], metric: str) -> str:
    interval = engine.get(f"{metric}_drop_interval")
    return f" (95 % interval [{interval[0]:+.2f}, {interval[1]:+.2f}])" if interval else ""


AGREEMENTS = (("argmax_agreement", "argmax agreement"), ("text_agreement", "same text"), ("box_precision_vs_float", "box precision"),
              ("box_recall_vs_float", "box recall"), ("box_f1_vs_float", "box F1 vs float"))


def _fmt_closeness(part: Dict[str, Any]) -> List[str]:
    sqnr = "exact" if part.get("sqnr_db", 0) is None else f"SQNR {part['sqnr_db']:.1f} dB" if "sqnr_db" in part else ""
    cosine = f"cosine {part['cosine']:.6f}" if "cosine" in part else ""
    return [f"max abs diff {part['max_abs_diff']:.2g}", cosine, sqnr]


def _fmt_agreement(part: Dict[str, Any]) -> str:
    answers = [f"{label} {part[key] * 100:.2f} %" for key, label in AGREEMENTS if key in part]
    each = [f"{name}: {', '.join(filter(None, _fmt_closeness(one)))}" for name, one in part.get("per_output", {}).items()]
    return ", ".join(filter(None, [*answers, *_fmt_closeness(part)])) + (f" (per output: {'; '.join(each)})" if each else "")


class _Engines:
    """The engines of one parity run, their outputs and what each is checked on."""

    def __init__(self, bundle: runtime.Bundle, evaluation: EvaluationSet, threads: int) -> None:
        self.bundle, self.evaluation, self.threads = bundle, evaluation, threads
        self.manifest = bundle.manifest
        self.rows: Dict[str, Dict[str, Any]] = {}
        self.outputs: Dict[str, Outputs] = {}
        self.values: Dict[str, float] = {}
        self.counts: Dict[str, np.ndarray] = {}

    def compare(self, outputs: Outputs, reference: Outputs) -> Dict[str, float]:
        return compare(outputs, reference, self.manifest, self.evaluation)

    def add(self, key: str, title: str, artifact: Optional[str], outputs: Outputs, engine: str,
            exact: Optional[str] = None, gated: bool = True) -> None:
        """Record an engine's outputs, scores and comparisons; `exact` names the exact int8 engine it is held to.
        Only a `gated` engine's comparisons become values the checks judge."""
        art = self.manifest.artifacts.get(artifact) if artifact else None
        row: Dict[str, Any] = {"title": title, "artifact": artifact, "engine": engine, "bytes": art.bytes if art else None,
                               "precision": art.precision if art else "fp32",
                               "scores": task_scores(outputs, self.manifest, self.evaluation)}
        measured: Dict[str, float] = {}
        if key != REFERENCE:
            row["vs_float"] = self.compare(outputs, self.outputs[REFERENCE])
            row.update(drops(row["scores"], self.rows[REFERENCE]["scores"]))
            row.update(self.drop_intervals(outputs, row["scores"]))
            measured.update(checked_values(row["vs_float"], f"{key}_"))
            measured.update({f"{key}_{k}": v for k, v in row.items() if k.endswith("_drop_points") or k == "mse_ratio"})
        if exact:
            row["vs_exact_int8"] = self.compare(outputs, self.outputs[exact])
            measured.update(checked_values(row["vs_exact_int8"], f"{key}_vs_exact_"))
        row["gated"] = gated
        if gated:
            self.values.update(measured)
        self.rows[key], self.outputs[key] = row, outputs

    def drop_intervals(self, outputs: Outputs, scores: Dict[str, float]) -> Dict[str, List[float]]:
        """The 95 % interval of each task-metric drop against the reference, resampling the samples (the same ones for
        both): how far the drop could move on another draw of this many samples (a report; the checks judge the drop)."""
        return {f"{metric}_drop_interval": list(drop_interval(self.reference_counts(metric),
                                                              sample_counts(outputs, self.manifest, self.evaluation, metric), metric))
                for metric in INT8_DROP_LIMITS if metric in scores}

    def reference_counts(self, metric: str) -> np.ndarray:
        """The reference's per-sample counts for `metric`, counted once per run."""
        if metric not in self.counts:
            self.counts[metric] = sample_counts(self.outputs[REFERENCE], self.manifest, self.evaluation, metric)
        return self.counts[metric]

    def run(self, run: Any) -> Outputs:
        return run_groups(run, self.evaluation)

    def artifact(self, key: str, title: str, name: str) -> None:
        """Run artifact `name` with the engine that defines it."""
        self.add(key, title, name, self.run(artifact_runner(self.bundle, name, self.threads)), engine_label(self.bundle, name))


def _int8(engines: _Engines, bundle: runtime.Bundle) -> Optional[runtime.Predictor]:
    """The int8 ONNX artifacts: each one's exact semantics, the one the thin runtime picks here with fused kernels (gated
    against the exact one), and the others made for a CPU with fused kernels on this CPU (reported: they are made for
    other CPUs; a file made for another backend is run by that backend, in `_openvino`, where this CPU suits it)."""
    names = [n for n, a in bundle.manifest.artifacts.items() if a.format == "onnx" and a.precision == "int8"]
    if not names:
        return None
    engines.artifact("onnx_int8_exact", "int8 exact QDQ semantics (onnxruntime unfused)", names[0])
    variants = [engines.compare(engines.run(artifact_runner(bundle, other, engines.threads)), engines.outputs["onnx_int8_exact"])
                for other in names[1:]]
    if variants:
        engines.values["onnx_int8_variants_max_abs_diff"] = max(v["max_abs_diff"] for v in variants)
    chosen = runtime.open(bundle, backend="onnxruntime", precision="int8", threads=engines.threads)
    engines.add("onnx_int8", f"ONNX Runtime int8, thin runtime ({chosen.artifact}, this CPU's kernels)", chosen.artifact,
                engines.run(chosen.predict), f"onnxruntime fused int8 kernels on {cpu_info()['label']}", exact="onnx_int8_exact")
    checked = first_samples(engines.evaluation, KERNEL_SAMPLES, KERNEL_GROUPS)
    kernels = kernel_steps(bundle, checked, chosen.artifact, engines.threads)
    steps = [agreement.max_steps for agreement in kernels.local.values()]
    engines.rows["onnx_int8"]["kernels"] = {
        "checked": len(steps), "samples": checked.samples, "max_steps": max(steps, default=0),
        "deviating": [output for output, agreement in kernels.local.items() if agreement.max_steps > KERNEL_STEP_LIMIT]}
    if steps:
        engines.values["onnx_int8_kernel_max_steps"] = float(max(steps))
    for other in (n for n in names if n != chosen.artifact and bundle.manifest.artifacts[n].target not in backends.FILE_TARGETS.values()):
        fused = runtime.open(bundle, backend="onnxruntime", precision="int8", threads=engines.threads, artifact=other)
        target = bundle.manifest.artifacts[other].target or "any CPU"
        engines.add(f"onnx_int8_{other.replace('-', '_')}_here", f"{other} (made for {target}) on this CPU's kernels, not what runs here",
                    other, engines.run(fused.predict), "onnxruntime fused int8 kernels", exact="onnx_int8_exact",
                    gated=False)
    return chosen


def _openvino(engines: _Engines, bundle: runtime.Bundle, skipped: Dict[str, str]) -> None:
    """OpenVINO on each precision's ONNX file, the one runtime.open gives it on this CPU, where it is installed."""
    if not backends.available("openvino"):
        skipped["openvino"] = "OpenVINO is not installed here: pip install 'paddle-edge[openvino]'"
        return
    for precision in bundle.manifest.precisions("onnx"):
        key = f"openvino_{precision}"
        try:
            chosen = runtime.open(bundle, backend="openvino", precision=precision, threads=engines.threads)
            outputs = engines.run(chosen.predict)
        except PaddleEdgeError as exc:  # installed but unable to run this bundle here: a failed check, with its words
            skipped[key] = f"OpenVINO could not run it: {exc.problem}"
            engines.values[f"{key}_runnable"] = 0.0
            continue
        engines.values[f"{key}_runnable"] = 1.0
        engines.add(key, f"OpenVINO {precision} ({chosen.artifact}, latency hint)", chosen.artifact, outputs,
                    f"OpenVINO {chosen.backend.version} CPU on {cpu_info()['label']}", exact="onnx_int8_exact" if precision == "int8" else None)


def _lite_x86(engines: _Engines, bundle: runtime.Bundle, skip_lite: bool, skipped: Dict[str, str]) -> None:
    """Paddle Lite x86 artifacts in the sidecar; a sidecar that cannot start fails a check unless Lite is skipped."""
    for name, art in bundle.manifest.artifacts.items():
        if art.format != "nb" or art.target != "x86":
            continue
        key = f"lite_x86_{art.precision}"
        if skip_lite:
            skipped[key] = "skipped on request (--skip-lite)"
            continue
        try:
            engines.artifact(key, f"Paddle Lite {LITE_VERSION} x86 {art.precision} (sidecar)", name)
            engines.values[f"{key}_runnable"] = 1.0
        except SidecarError as exc:
            skipped[key] = f"the Lite sidecar could not start: {exc.problem}"
            engines.values[f"{key}_runnable"] = 0.0


def _latency(reference_dir: Path, feeds: Feeds, fp32: runtime.Predictor, int8: Optional[runtime.Predictor],
             threads: int, b1_calls: int, b64_calls: int) -> Tuple[Dict[str, float], Dict[str, float], Dict[str, float]]:
    """Batch-1 p50/p90 and batch-64 throughput of each in-process engine (timed in turn), and the runtime's overhead."""
    from ..source.paddle_predictor import PaddlePredictor

    reference = PaddlePredictor(reference_dir, threads)
    bare = fp32.backend.session  # the same session the runtime wraps: the ratio is exactly the wrapper's overhead
    latency, throughput = {}, {}
    for batch, calls in ((1, b1_calls), (64, b64_calls)):
        chunk = {k: np.ascontiguousarray(v[:batch]) for k, v in feeds.items()}
        runners = {"paddle_inference_fp32": lambda c=chunk: reference.run(c), "onnxruntime_fp32": lambda c=chunk: fp32.predict(c),
                   "bare_onnxruntime_fp32": lambda c=chunk: bare.run(None, c)}
        if int8:
            runners["onnxruntime_int8"] = lambda c=chunk: int8.predict(c)
        for name, timing in time_in_rounds(runners, len(chunk[next(iter(chunk))]), calls).items():
            if batch == 1:
                latency[f"{name}_b1_p50"], latency[f"{name}_b1_p90"] = timing.p50_us, timing.p90_us
            else:
                throughput[f"{name}_b{timing.batch}"] = timing.throughput
    one = {k: np.ascontiguousarray(v[:1]) for k, v in feeds.items()}
    overhead = paired_ratio(lambda: fp32.predict(one), lambda: bare.run(None, one), calls=4 * b1_calls)
    return latency, throughput, overhead.to_dict()


def save_predictions(path: Path, labels: Optional[np.ndarray], outputs: Dict[str, np.ndarray]) -> Path:
    """Each engine's predicted class per sample (and the true labels): what a report's per-class figures are made of."""
    with atomic_file(Path(path)) as tmp, open(tmp, "wb") as f:
        np.savez(f, **({"labels": labels} if labels is not None else {}), **{k: v.argmax(1) for k, v in outputs.items()})
    return Path(path)


def run_parity(bundle_path: Path, threads: int = 2, data: Optional[Path] = None, limit: Optional[int] = None,
               shapes: Optional[Dict[str, Sequence[int]]] = None, b1_calls: int = 500, b64_calls: int = 50,
               predictions: Optional[Path] = None, skip_lite: bool = False,
               tolerances: Optional[Dict[str, Tuple[float, str]]] = None) -> ParityReport:
    """Gate every artifact of a bundle against the float Paddle reference (and int8 against its exact semantics); time it.

    With `predictions` (classification only), also save every engine's predicted classes there (see save_predictions).
    `b1_calls=0` measures no latency (`bench` is the tool for speed)."""
    bundle = runtime.load_bundle(Path(bundle_path))
    manifest = bundle.manifest
    if "paddle-fp32-program" not in manifest.artifacts:
        raise PaddleEdgeError("this bundle carries no float Paddle reference", "export it again without --no-reference")
    evaluation = evaluation_set(manifest, data, limit, shapes)
    print(f"parity: {evaluation.description} through every artifact of {bundle.root} on {cpu_info()['label']}", flush=True)
    engines = _Engines(bundle, evaluation, threads)
    engines.artifact(REFERENCE, "Paddle Inference fp32 (reference)", "paddle-fp32-program")
    fp32 = runtime.open(bundle, backend="onnxruntime", precision="fp32", threads=threads)
    engines.add("onnx_fp32", "ONNX Runtime fp32, thin runtime", fp32.artifact, engines.run(fp32.predict), engine_label(bundle, fp32.artifact))
    int8 = _int8(engines, bundle)
    skipped = dict(manifest.source.get("skipped", {}))
    _openvino(engines, bundle, skipped)
    _lite_x86(engines, bundle, skip_lite, skipped)
    for name in (n for n, a in manifest.artifacts.items() if a.format not in PARAMETER_FORMATS):
        try:
            engine_label(bundle, name)
        except NoEngineHere as exc:
            skipped[name] = exc.problem
    if predictions is not None and manifest.task == "classification":
        save_predictions(predictions, evaluation.truth, {k: np.concatenate([g[0] for g in v]) for k, v in engines.outputs.items()})

    latency: Dict[str, float] = {}
    throughput: Dict[str, float] = {}
    overhead: Optional[Dict[str, Any]] = None
    if b1_calls:
        print(f"parity: latency at batch 1 ({b1_calls} calls) and 64 ({b64_calls} calls), engines in turn", flush=True)
        reference_dir = (bundle.root / manifest.artifacts["paddle-fp32-program"].path).parent
        latency, throughput, overhead = _latency(reference_dir, evaluation.groups[0], fp32, int8, threads, b1_calls, b64_calls)
    report: Dict[str, Any] = {
        "schema": SCHEMA, "model": manifest.model, "task": manifest.task, "threads": threads, "samples": evaluation.samples,
        "data": evaluation.description,
        "cpu": cpu_info(), "provenance": provenance(), "engines": engines.rows, "latency_us": latency, "throughput": throughput, "runtime_overhead": overhead,
        "quantization": manifest.quantization, "skipped": skipped, "toolchain": manifest.toolchain,
        "artifacts": {n: {"path": str(bundle.root / a.path), "sha256": a.sha256, "bytes": a.bytes, "target": a.target}
                      for n, a in manifest.artifacts.items()},
    }
    goals = judge_goals({"runtime_overhead_ratio": (overhead["value"], *overhead["interval"])} if overhead else {}, GOALS)
    return ParityReport.of(report, judge(engines.values, tolerances or TOLERANCES), goals)
