"""`paddle-edge parity`: the product's promise, measured in one run against the float Paddle reference.

Every artifact of the bundle is gated on its own: each is run by the engine that defines it (export/artifact_engines.py:
Paddle Inference for the reference, onnxruntime for fp32 ONNX, onnxruntime unfused for an int8 ONNX's exact semantics,
Lite x86 in its sidecar), and the int8 engine this CPU runs (the thin runtime's choice, with onnxruntime's fused int8
kernels) is gated against both the float model and the exact int8 semantics. Speed is measured alongside and reported
as goals with intervals; it never decides the verdict.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import runtime
from ..export.artifact_engines import NoEngineHere, engine_label, run_artifact
from ..export.lite_sidecar import SidecarError
from ..runtime.batching import predict_all
from ..runtime.cpu import cpu_info
from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_file
from ..runtime.manifest import Manifest
from ..runtime.metrics import format_scores, score
from ..train.datasets import load_dataset
from .checks import CheckedReport, judge, judge_goals
from .latency import Timing, paired_ratio, time_in_rounds
from .provenance import provenance

SCHEMA = "paddle-edge.parity/2"
REFERENCE = "paddle_fp32"
# Checks are data: (limit, "max" = value must not exceed it, "min" = value must reach it). NAME is ENGINE_MEASURE.
TOLERANCES: Dict[str, Tuple[float, str]] = {
    "onnx_fp32_max_abs_diff": (1e-4, "max"),
    "onnx_fp32_argmax_agreement": (1.0, "min"),
    "lite_x86_fp32_max_abs_diff": (1e-4, "max"),
    "lite_x86_fp32_argmax_agreement": (1.0, "min"),
    "lite_x86_fp32_runnable": (1.0, "min"),
    "onnx_int8_exact_argmax_agreement": (0.99, "min"),  # the int8 model itself vs the float model
    "onnx_int8_exact_top1_drop_points": (0.5, "max"),
    "onnx_int8_exact_mse_ratio": (1.1, "max"),
    "onnx_int8_argmax_agreement": (0.99, "min"),  # what this CPU runs vs the float model
    "onnx_int8_top1_drop_points": (0.5, "max"),
    "onnx_int8_mse_ratio": (1.1, "max"),
    "onnx_int8_vs_exact_argmax_agreement": (0.999, "min"),  # what this CPU runs vs the int8 model's exact semantics
    "onnx_int8_variants_max_abs_diff": (0.0, "max"),  # every int8 ONNX of the bundle is the same function (exact runs)
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
            rows.append((e["title"], "; ".join(filter(None, [f"{scores} ({drop})" if drop else scores, *vs])) or "-"))
        rows += [(f"latency {k} (us)", f"{v:,.1f}") for k, v in d["latency_us"].items()]
        rows += [(f"throughput {k}", f"{v:,.0f} samples/s") for k, v in d["throughput"].items()]
        rows += self.check_rows() + self.goal_rows()
        rows += [(f"skipped {k}", v) for k, v in d.get("skipped", {}).items()]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _fmt_drop(engine: Dict[str, Any]) -> str:
    """What an engine loses against the float reference: top-1 points (negative: it scored higher), or the MSE ratio."""
    if "top1_drop_points" in engine:
        return f"drop {engine['top1_drop_points']:+.2f} points"
    return f"{engine['mse_ratio']:.3f}x float's MSE" if "mse_ratio" in engine else ""


def _fmt_agreement(part: Dict[str, float]) -> str:
    agreement = f"argmax agreement {part['argmax_agreement'] * 100:.2f} %, " if "argmax_agreement" in part else ""
    return f"{agreement}max abs diff {part['max_abs_diff']:.2g}"


def evaluation_data(manifest: Manifest, data: Optional[Path], limit: Optional[int],
                    shapes: Optional[Dict[str, Sequence[int]]]) -> Tuple[Feeds, Optional[np.ndarray]]:
    """The dataset's test split for zoo models; seeded random inputs for a model brought from elsewhere."""
    dataset_name = manifest.source.get("dataset")
    if dataset_name:
        dataset = load_dataset(dataset_name, data)
        return {manifest.inputs[0].name: dataset.x_test[:limit]}, dataset.y_test[:limit]
    rng = np.random.default_rng(0)
    feeds = {}
    for spec in manifest.inputs:
        shape = list((shapes or {}).get(spec.name, spec.shape))
        shape[0] = limit or 64 if shape[0] == -1 else shape[0]
        if -1 in shape:
            raise PaddleEdgeError(f"input {spec.name!r} has dynamic dims {list(spec.shape)}; parity needs concrete ones",
                                  f"pass --shape {spec.name}:" + "x".join("1" if d == -1 else str(d) for d in spec.shape))
        feeds[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
    return feeds, None


def _versus(outputs: List[np.ndarray], reference: List[np.ndarray], task: str) -> Dict[str, float]:
    """Largest absolute difference over all outputs, and for classification how often the top class agrees."""
    found = {"max_abs_diff": max(float(np.max(np.abs(x.astype(np.float64) - y))) for x, y in zip(outputs, reference))}
    if task == "classification":
        found["argmax_agreement"] = float((outputs[0].argmax(1) == reference[0].argmax(1)).mean())
    return found


def _drop(scores: Dict[str, float], float_scores: Dict[str, float]) -> Dict[str, float]:
    """The accuracy lost against float: top-1 points, or the ratio of MSEs."""
    if "top1" in scores:
        return {"top1_drop_points": (float_scores["top1"] - scores["top1"]) * 100}
    return {"mse_ratio": scores["mse"] / max(float_scores["mse"], 1e-12)} if "mse" in scores else {}


class _Engines:
    """The engines of one parity run, their outputs and what each is checked on."""

    def __init__(self, bundle: runtime.Bundle, feeds: Feeds, labels: Optional[np.ndarray], threads: int) -> None:
        self.bundle, self.feeds, self.labels, self.threads = bundle, feeds, labels, threads
        self.task = bundle.manifest.task
        self.rows: Dict[str, Dict[str, Any]] = {}
        self.outputs: Dict[str, List[np.ndarray]] = {}
        self.values: Dict[str, float] = {}

    def add(self, key: str, title: str, artifact: Optional[str], outputs: List[np.ndarray], engine: str,
            exact: Optional[str] = None, gated: bool = True) -> None:
        """Record an engine's outputs, scores and comparisons; `exact` names the exact int8 engine it is held to.
        Only a `gated` engine's comparisons become values the checks judge."""
        art = self.bundle.manifest.artifacts.get(artifact) if artifact else None
        row: Dict[str, Any] = {"title": title, "artifact": artifact, "engine": engine, "bytes": art.bytes if art else None,
                               "precision": art.precision if art else "fp32",
                               "scores": score(outputs[0], self.labels, self.task) if self.labels is not None else {}}
        measured: Dict[str, float] = {}
        if key != REFERENCE:
            row["vs_float"] = _versus(outputs, self.outputs[REFERENCE], self.task)
            row.update(_drop(row["scores"], self.rows[REFERENCE]["scores"]))
            measured.update({f"{key}_{k}": v for k, v in row["vs_float"].items()})
            measured.update({f"{key}_{k}": row[k] for k in ("top1_drop_points", "mse_ratio") if k in row})
        if exact:
            row["vs_exact_int8"] = _versus(outputs, self.outputs[exact], self.task)
            measured.update({f"{key}_vs_exact_{k}": v for k, v in row["vs_exact_int8"].items()})
        row["gated"] = gated
        if gated:
            self.values.update(measured)
        self.rows[key], self.outputs[key] = row, outputs

    def artifact(self, key: str, title: str, name: str) -> None:
        """Run artifact `name` with the engine that defines it."""
        self.add(key, title, name, run_artifact(self.bundle, name, self.feeds, self.threads), engine_label(self.bundle, name))


def _int8(engines: _Engines, bundle: runtime.Bundle) -> Optional[runtime.Predictor]:
    """The int8 ONNX artifacts: each one's exact semantics, the one the thin runtime picks here with fused kernels (gated
    against the exact one), and the others with fused kernels on this CPU (reported: they are made for other CPUs)."""
    names = [n for n, a in bundle.manifest.artifacts.items() if a.format == "onnx" and a.precision == "int8"]
    if not names:
        return None
    engines.artifact("onnx_int8_exact", "int8 exact QDQ semantics (onnxruntime unfused)", names[0])
    for other in names[1:]:
        variant = run_artifact(bundle, other, engines.feeds, engines.threads)
        engines.values["onnx_int8_variants_max_abs_diff"] = _versus(variant, engines.outputs["onnx_int8_exact"], engines.task)["max_abs_diff"]
    chosen = runtime.open(bundle, backend="onnxruntime", precision="int8", threads=engines.threads)
    engines.add("onnx_int8", f"ONNX Runtime int8, thin runtime ({chosen.artifact}, this CPU's kernels)", chosen.artifact,
                predict_all(chosen.predict, engines.feeds), f"onnxruntime fused int8 kernels on {cpu_info()['label']}", exact="onnx_int8_exact")
    for other in (n for n in names if n != chosen.artifact):
        fused = runtime.open(bundle, backend="onnxruntime", precision="int8", threads=engines.threads, artifact=other)
        target = bundle.manifest.artifacts[other].target or "any CPU"
        engines.add(f"onnx_int8_{other.replace('-', '_')}_here", f"{other} (made for {target}) on this CPU's kernels, not what runs here",
                    other, predict_all(fused.predict, engines.feeds), "onnxruntime fused int8 kernels", exact="onnx_int8_exact",
                    gated=False)
    return chosen


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
            engines.artifact(key, f"Paddle Lite x86 {art.precision} (sidecar)", name)
            engines.values[f"{key}_runnable"] = 1.0
        except SidecarError as exc:
            skipped[key] = f"the Lite sidecar could not start: {exc.problem}"
            engines.values[f"{key}_runnable"] = 0.0


def _latency(reference_dir: Path, feeds: Feeds, fp32: runtime.Predictor, int8: Optional[runtime.Predictor],
             threads: int, b1_calls: int, b64_calls: int) -> Tuple[Dict[str, float], Dict[str, float], Dict[str, float]]:
    """Batch-1 p50/p90 and batch-64 throughput of each in-process engine (timed in turn), and the runtime's overhead."""
    from ..train.paddle_predictor import PaddlePredictor

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

    With `predictions` (classification only), also save every engine's predicted classes there (see save_predictions)."""
    bundle = runtime.load_bundle(Path(bundle_path))
    manifest = bundle.manifest
    if "paddle-fp32-program" not in manifest.artifacts:
        raise PaddleEdgeError("this bundle carries no float Paddle reference", "export it again without --no-reference")
    feeds, labels = evaluation_data(manifest, data, limit, shapes)
    print(f"parity: {len(next(iter(feeds.values()))):,} samples through every artifact of {bundle.root} on {cpu_info()['label']}", flush=True)
    engines = _Engines(bundle, feeds, labels, threads)
    engines.artifact(REFERENCE, "Paddle Inference fp32 (reference)", "paddle-fp32-program")
    fp32 = runtime.open(bundle, backend="onnxruntime", precision="fp32", threads=threads)
    engines.add("onnx_fp32", "ONNX Runtime fp32, thin runtime", fp32.artifact, predict_all(fp32.predict, feeds), engine_label(bundle, fp32.artifact))
    int8 = _int8(engines, bundle)
    skipped = dict(manifest.source.get("skipped", {}))
    _lite_x86(engines, bundle, skip_lite, skipped)
    for name in (n for n, a in manifest.artifacts.items() if a.format != "paddle-params"):
        try:
            engine_label(bundle, name)
        except NoEngineHere as exc:
            skipped[name] = exc.problem
    if predictions is not None and manifest.task == "classification":
        save_predictions(predictions, labels, {k: v[0] for k, v in engines.outputs.items()})

    print(f"parity: latency at batch 1 ({b1_calls} calls) and 64 ({b64_calls} calls), engines in turn", flush=True)
    reference_dir = (bundle.root / manifest.artifacts["paddle-fp32-program"].path).parent
    latency, throughput, overhead = _latency(reference_dir, feeds, fp32, int8, threads, b1_calls, b64_calls)
    report: Dict[str, Any] = {
        "schema": SCHEMA, "model": manifest.model, "task": manifest.task, "threads": threads, "samples": int(len(labels) if labels is not None else len(next(iter(feeds.values())))),
        "cpu": cpu_info(), "provenance": provenance(), "engines": engines.rows, "latency_us": latency, "throughput": throughput, "runtime_overhead": overhead,
        "quantization": manifest.quantization, "skipped": skipped, "toolchain": manifest.toolchain,
        "artifacts": {n: {"path": str(bundle.root / a.path), "sha256": a.sha256, "bytes": a.bytes, "target": a.target}
                      for n, a in manifest.artifacts.items()},
    }
    goals = judge_goals({"runtime_overhead_ratio": (overhead["value"], *overhead["interval"])}, GOALS)
    return ParityReport.of(report, judge(engines.values, tolerances or TOLERANCES), goals)
