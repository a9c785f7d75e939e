"""`paddle-edge parity`: the product's promise, measured in one run against the float Paddle reference.

Outputs (float ONNX vs Paddle Inference), accuracy (int8 vs float) and latency (Paddle Inference, the thin runtime,
a bare onnxruntime.InferenceSession) side by side; every check is collected, none stops the others.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import runtime
from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_file
from ..runtime.manifest import Manifest
from ..runtime.evaluate import predict_all
from ..runtime.metrics import score
from ..train.datasets import load_dataset
from ..train.paddle_predictor import PaddlePredictor
from .checks import CheckedReport, judge
from .latency import Timing, paired_ratio, time_in_rounds

# Tolerances are data: (limit, "max" = value must not exceed it, "min" = value must reach it).
TOLERANCES: Dict[str, Tuple[float, str]] = {
    "onnx_fp32_max_abs_diff": (1e-4, "max"),
    "onnx_fp32_argmax_agreement": (1.0, "min"),
    "runtime_overhead_ratio": (1.05, "max"),
    "lite_x86_fp32_max_abs_diff": (1e-4, "max"),
    "lite_x86_fp32_argmax_agreement": (1.0, "min"),
}
Feeds = Dict[str, np.ndarray]
SCORE_ROWS = (("float", "float (Paddle Inference)"), ("onnx_fp32", "fp32 (ONNX Runtime)"), ("int8", "int8 (ONNX Runtime)"),
              ("lite_x86_fp32", "fp32 (Paddle Lite x86)"), ("lite_x86_int8", "int8 (Paddle Lite x86)"))


class ParityReport(CheckedReport):
    """Outputs, accuracy and latency of a bundle against its float Paddle reference."""

    def render(self) -> str:
        d = self.data
        rows = [("model", f"{d['model']} ({d['samples']} samples, {d['threads']} threads)")]
        rows += [(title, _fmt(d[key])) for key, title in SCORE_ROWS if key in d]
        rows += [(f"latency {k}", f"{v:,.1f}") for k, v in d["latency_us"].items()]
        rows += [(f"throughput {k}", f"{v:,.0f} samples/s") for k, v in d["throughput"].items()]
        rows += self.check_rows()
        rows += [(f"skipped {k}", v) for k, v in d.get("skipped", {}).items()]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _fmt(metrics: Dict[str, Any]) -> str:
    return ", ".join(f"{k} {v * 100:.2f} %" if k == "top1" else f"{k} {v}" if k == "method" else f"{k} {v:.4g}"
                     for k, v in metrics.items()) or "-"


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


def _max_abs_diff(a: List[np.ndarray], b: List[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x.astype(np.float64) - y))) for x, y in zip(a, b))


def _lite_x86(bundle: runtime.Bundle, feeds: Feeds, ref_all: List[np.ndarray], labels: Optional[np.ndarray],
              threads: int, calls: int) -> Dict[str, Dict[str, Any]]:
    """Paddle Lite x86 artifacts, run in the Lite sidecar (the only place Lite runs on this host): outputs, scores, batch-1 latency."""
    arts = {n: a for n, a in bundle.manifest.artifacts.items() if a.format == "nb" and a.target == "x86"}
    found: Dict[str, Dict[str, Any]] = {"values": {}, "scores": {}, "latency": {}, "skipped": {}, "outputs": {}}
    if not arts:
        return found
    from ..export.lite_sidecar import SidecarError, ensure_sidecar

    try:
        sidecar = ensure_sidecar()
    except SidecarError as exc:
        found["skipped"]["paddlelite"] = exc.problem
        return found
    inputs = [feeds[spec.name] for spec in bundle.manifest.inputs]
    for art in arts.values():
        key = f"lite_x86_{art.precision}"
        outputs = sidecar.predict(bundle.root / art.path, inputs, threads)
        found["outputs"][key] = outputs[0]
        found["values"][f"{key}_max_abs_diff"] = _max_abs_diff(outputs, ref_all)
        if bundle.manifest.task == "classification":
            found["values"][f"{key}_argmax_agreement"] = float((outputs[0].argmax(1) == ref_all[0].argmax(1)).mean())
        if labels is not None:
            found["scores"][key] = score(outputs[0], labels, bundle.manifest.task)
        timing = Timing(1, sidecar.latency(bundle.root / art.path, inputs, threads, calls))
        found["latency"][f"paddlelite_x86_{art.precision}_b1_p50"] = timing.p50_us
        found["latency"][f"paddlelite_x86_{art.precision}_b1_p90"] = timing.p90_us
    return found


def save_predictions(path: Path, labels: Optional[np.ndarray], outputs: Dict[str, np.ndarray]) -> Path:
    """Each engine's predicted class per sample (and the true labels): what a report's per-class figures are made of."""
    with atomic_file(Path(path)) as tmp, open(tmp, "wb") as f:
        np.savez(f, **({"labels": labels} if labels is not None else {}), **{k: v.argmax(1) for k, v in outputs.items()})
    return Path(path)


def run_parity(bundle_path: Path, threads: int = 2, data: Optional[Path] = None, limit: Optional[int] = None,
               shapes: Optional[Dict[str, Sequence[int]]] = None, b1_calls: int = 500, b64_calls: int = 50,
               predictions: Optional[Path] = None) -> ParityReport:
    """Measure outputs, accuracy and latency of a bundle against its float Paddle reference.

    With `predictions` (classification only), also save every engine's predicted classes there (see save_predictions)."""
    bundle = runtime.load_bundle(Path(bundle_path))
    manifest = bundle.manifest
    if "paddle-fp32-program" not in manifest.artifacts:
        raise PaddleEdgeError("this bundle carries no float Paddle reference", "export it again without --no-reference")
    reference = PaddlePredictor(bundle.root / "reference", threads)
    fp32 = runtime.open(bundle, backend="onnxruntime", precision="fp32", threads=threads)
    int8 = runtime.open(bundle, backend="onnxruntime", precision="int8", threads=threads) \
        if "int8" in manifest.precisions("onnx") else None
    feeds, labels = evaluation_data(manifest, data, limit, shapes)
    print(f"parity: outputs of {len(next(iter(feeds.values()))):,} samples on Paddle Inference and ONNX Runtime"
          f" ({', '.join(manifest.precisions('onnx'))})", flush=True)

    ref_all, fp32_all = predict_all(reference.run, feeds), predict_all(fp32.predict, feeds)
    report: Dict[str, Any] = {"model": manifest.model, "threads": threads, "samples": int(len(ref_all[0]))}
    parity: Dict[str, float] = {"onnx_fp32_max_abs_diff": _max_abs_diff(fp32_all, ref_all)}
    if manifest.task == "classification":
        parity["onnx_fp32_argmax_agreement"] = float((fp32_all[0].argmax(1) == ref_all[0].argmax(1)).mean())
    if labels is not None:
        report["float"] = score(ref_all[0], labels, manifest.task)
        report["onnx_fp32"] = score(fp32_all[0], labels, manifest.task)
    outputs = {"float": ref_all[0], "onnx_fp32": fp32_all[0]}
    if int8:
        int8_all = predict_all(int8.predict, feeds)
        outputs["int8"] = int8_all[0]
        method = (manifest.quantization or {}).get("method", "?")
        report["int8"] = {**(score(int8_all[0], labels, manifest.task) if labels is not None else {}), "method": method}
        if manifest.task == "classification":
            parity["int8_argmax_agreement"] = float((int8_all[0].argmax(1) == ref_all[0].argmax(1)).mean())
            if labels is not None:
                parity["int8_top1_drop_points"] = (report["float"]["top1"] - report["int8"]["top1"]) * 100

    print(f"parity: latency at batch 1 ({b1_calls} calls) and 64 ({b64_calls} calls), engines in turn", flush=True)
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
    lite = _lite_x86(bundle, feeds, ref_all, labels, threads, b1_calls)
    parity.update(lite["values"])
    report.update(lite["scores"])
    latency.update(lite["latency"])
    if predictions is not None and manifest.task == "classification":
        save_predictions(predictions, labels, {**outputs, **lite["outputs"]})
    report.update(parity=parity, latency_us=latency, throughput=throughput, runtime_overhead_ratio=overhead,
                  skipped={**manifest.source.get("skipped", {}), **lite["skipped"]},
                  artifacts={n: {"path": str(bundle.root / a.path), "sha256": a.sha256, "bytes": a.bytes} for n, a in manifest.artifacts.items()},
                  toolchain=manifest.toolchain)
    return ParityReport.of(report, judge({**parity, "runtime_overhead_ratio": overhead}, TOLERANCES))
