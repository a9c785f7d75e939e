"""NNCF's accuracy control beside paddle-edge's (`compress --max-drop`): same float model, images, scorer and engine.

`peer_report` scores NNCF's int8 file and paddle-edge's (a bundle's `onnx-int8`) on the user's test images, exact
and through onnxruntime's fused kernels, counts the compute ops each leaves in float from its graph, and times each
against the fp32 ONNX in pairs of interleaved calls (a report, never a gate). `run_nncf_peer` runs
`quantize_with_nncf` first.
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import onnx
import onnxruntime as ort

from ...export.evaluation import EvaluationSet, compare, evaluation_set, run_groups, task_metric, task_scores
from ...runtime import load_bundle
from ...runtime.backends.onnxruntime import OnnxRuntimeBackend
from ...runtime.bundle import Bundle
from ...runtime.cpu import cpu_info, onnx_target
from ...runtime.errors import PaddleEdgeError
from ...runtime.files import atomic_file, sha256_file
from ...runtime.manifest import Manifest
from ...runtime.metrics import LABELS, drops
from ..latency import latency_against
from ..provenance import provenance
from ..quant_debug.graph import COMPUTE_OPS
from .nncf_run import NncfRun, NncfSettings, load_float_bundle, quantize_with_nncf
from .onnx_graphs import FloatOp, float_compute_ops, is_qdq, ort_kernels
from .validation import EXACT, FUSED, backend


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One ONNX of the comparison: its row key, what it is, its file, and the float model its graph is read against."""

    key: str
    title: str
    path: Path
    float_path: Path


def _row(c: Candidate, manifest: Manifest, evaluation: EvaluationSet, reference: Optional[List], threads: int,
         work: Path) -> Tuple[Dict[str, Any], List]:
    """Scores (exact and fused) with their drops and answers against the fp32 model's fused outputs (`reference`; None:
    this is the fp32 model), the compute ops left in float and ORT's kernels of one ONNX; and its fused outputs."""
    row: Dict[str, Any] = {"title": c.title, "onnx": str(c.path), "bytes": c.path.stat().st_size, "sha256": sha256_file(c.path)}
    outputs = {engine: run_groups(backend(c.path, engine == "exact", threads).run, evaluation) for engine in ("fused", "exact")}
    base = outputs["fused"] if reference is None else reference
    base_scores = task_scores(base, manifest, evaluation)
    for engine in ("exact", "fused"):
        scores = task_scores(outputs[engine], manifest, evaluation)
        row[engine] = {"engine": EXACT if engine == "exact" else FUSED, "scores": scores, "samples": evaluation.samples,
                       **drops(scores, base_scores), "vs_fp32": compare(outputs[engine], base, manifest, evaluation)}
    model = onnx.load(str(c.path))
    if is_qdq(model):
        row["compute_ops"], floats = float_compute_ops(onnx.load(str(c.float_path)), model)
        row["float_ops"] = [dataclasses.asdict(op) for op in floats]
    else:
        row["compute_ops"] = sum(node.op_type in COMPUTE_OPS for node in model.graph.node)
        row["float_ops"] = [dataclasses.asdict(FloatOp(n.name, n.op_type, None, "float")) for n in model.graph.node if n.op_type in COMPUTE_OPS]
    row["float_op_count"] = len(row["float_ops"])
    row["ort_kernels"] = ort_kernels(c.path, work)
    return row, outputs["fused"]


def peer_report(float_bundle: Path, nncf_run: NncfRun, ours: Path, test: Path, limit: Optional[int] = None, threads: int = 2,
                calls: int = 30, batch: int = 8) -> "PeerReport":
    """NNCF's int8 ONNX and paddle-edge's (`ours`: a bundle's onnx-int8) side by side with the fp32 ONNX on the labelled
    `test` images: the task metric exact and fused, answers against fp32, float compute ops, ORT's kernels, and each
    int8 file's time against fp32's (`calls` interleaved pairs on the first `batch` test samples, `threads` threads)."""
    bundle, our_bundle = load_float_bundle(float_bundle), _ours(ours, float_bundle)
    manifest = bundle.manifest
    metric = task_metric(manifest.task, nncf_run.settings["metric"])
    evaluation = evaluation_set(manifest, test, limit, None)
    if evaluation.truth is None:
        raise PaddleEdgeError(f"{test} has no labels", "give labelled test images")
    fp32_path = bundle.path_of("onnx-fp32")
    candidates = [Candidate("fp32", "fp32 ONNX (reference)", fp32_path, fp32_path),
                  Candidate("nncf", f"NNCF {nncf_run.settings['nncf']} accuracy control", Path(nncf_run.onnx), fp32_path),
                  Candidate("paddle-edge", f"paddle-edge {'accuracy control' if _control(our_bundle) else 'PTQ'} (onnx-int8)",
                            our_bundle.path_of("onnx-int8"), our_bundle.path_of("onnx-fp32"))]
    this_cpu = next((name for name, a in our_bundle.manifest.artifacts.items()
                     if a.format == "onnx" and a.precision == "int8" and a.target and a.target == onnx_target()), None)
    if this_cpu:  # the int8 file the thin runtime opens on this CPU (uint8 weights where u8s8 kernels saturate)
        candidates.append(Candidate(f"paddle-edge {this_cpu}", f"paddle-edge, {this_cpu} (the thin runtime's pick on this CPU)",
                                    our_bundle.path_of(this_cpu), our_bundle.path_of("onnx-fp32")))
    rows: Dict[str, Dict[str, Any]] = {}
    reference = None
    first = {k: x[:batch] for k, x in evaluation.groups[0].items()}
    fp32_fused = OnnxRuntimeBackend(fp32_path, threads)
    with tempfile.TemporaryDirectory(prefix="peer-") as work:
        for c in candidates:
            print(f"scoring {c.title} on {evaluation.description}", flush=True)
            rows[c.key], outputs = _row(c, manifest, evaluation, reference, threads, Path(work))
            reference = outputs if reference is None else reference
            if c.key != "fp32":
                rows[c.key]["latency"] = latency_against(OnnxRuntimeBackend(c.path, threads).run, fp32_fused.run, first, calls, min(10, calls))
    control = _control(our_bundle)
    data = {"provenance": provenance(), "cpu": cpu_info()["label"], "model": manifest.model, "task": manifest.task,
            "metric": metric, "test": {"data": evaluation.description, "samples": evaluation.samples},
            "nncf": nncf_run.to_dict(),
            "ours": {"bundle": str(ours), "keep_float": list((our_bundle.manifest.quantization or {}).get("keep_float", [])),
                     "max_drop_points": control.get("max_drop_points"), "validation": control.get("validation"),
                     "trials": len(control.get("trials", [])), "float_score": control.get("float_score")},
            "latency": {"engine": f"onnxruntime {ort.__version__}, default optimizations", "threads": threads, "pairs": calls,
                        "input_shape": {k: list(x.shape) for k, x in first.items()}, "gates": False},
            "rows": rows}
    return PeerReport(data)


def _control(bundle: Bundle) -> Dict[str, Any]:
    """What paddle-edge's accuracy control recorded in the bundle's manifest (empty for plain PTQ)."""
    return (bundle.manifest.quantization or {}).get("accuracy_control", {})


def _ours(ours: Path, float_bundle: Path) -> Bundle:
    """paddle-edge's int8 bundle, refused unless it holds an onnx-int8 of the same float model and preprocessing."""
    bundle, reference = load_bundle(Path(ours)), load_bundle(Path(float_bundle)).manifest
    m = bundle.manifest
    if "onnx-int8" not in m.artifacts or "onnx-fp32" not in m.artifacts:
        raise PaddleEdgeError(f"{ours} has no onnx-int8 and onnx-fp32 pair", "export it with --int8 and --target onnx")
    if m.source.get("float_model_sha256") != reference.source.get("float_model_sha256"):
        raise PaddleEdgeError(f"{ours} was not made from the float model of {float_bundle} (its float sha256 differs)",
                              "compare int8 models of one float model: export both bundles from it")
    if (m.preprocess, m.labels, m.postprocess) != (reference.preprocess, reference.labels, reference.postprocess):
        raise PaddleEdgeError(f"{ours} preprocesses or decodes differently from {float_bundle}",
                              "export both bundles with the same inference.yml")
    return bundle


def run_nncf_peer(float_bundle: Path, ours: Path, calibration: Path, data: Path, test: Path, max_drop: float, out: Path,
                  metric: Optional[str] = None, settings: NncfSettings = NncfSettings(), limit: Optional[int] = None,
                  test_limit: Optional[int] = None, threads: int = 2, calls: int = 30) -> "PeerReport":
    """`quantize_with_nncf`, then `peer_report` against paddle-edge's bundle `ours`; `ours` and the test labels are
    checked before NNCF runs."""
    _ours(ours, float_bundle)
    if evaluation_set(load_float_bundle(float_bundle).manifest, test, 1, None).truth is None:
        raise PaddleEdgeError(f"{test} has no labels, so the two int8 models cannot be scored on it", "give labelled test images")
    run = quantize_with_nncf(float_bundle, calibration, data, max_drop, out, metric, settings, limit, threads)
    return peer_report(float_bundle, run, ours, test, test_limit, threads, calls)


@dataclasses.dataclass(frozen=True)
class PeerReport:
    """The side-by-side run: its JSON (`data`), a table, and whether both int8 models were scored."""

    data: Dict[str, Any]

    @property
    def ok(self) -> bool:
        """NNCF ran and both int8 models have the task metric on the test set, exact and fused; latency never gates."""
        metric = self.data["metric"]
        return all(metric in self.data["rows"].get(key, {}).get(engine, {}).get("scores", {})
                   for key in ("nncf", "paddle-edge") for engine in ("exact", "fused"))

    def verdict(self) -> str:
        """The issue's question, answered from the rows: at the same max drop, does paddle-edge keep no more ops in float
        than NNCF, or run faster (the file the thin runtime opens here; time intervals that overlap say neither)?"""
        rows = self.data["rows"]
        ours = next((r for k, r in rows.items() if k.startswith("paddle-edge ")), rows["paddle-edge"])
        nncf = rows["nncf"]
        fewer = ours["float_op_count"] <= nncf["float_op_count"]
        low, high = ours["latency"]["vs_fp32"]["interval"], nncf["latency"]["vs_fp32"]["interval"]
        speed = "faster than" if low[1] < high[0] else "slower than" if low[0] > high[1] else "not measurably faster or slower than"
        slower = [name for name, row in (("paddle-edge's", ours), ("NNCF's", nncf)) if row["latency"]["vs_fp32"]["interval"][0] > 1]
        return (f"paddle-edge keeps {ours['float_op_count']} of {ours['compute_ops']} compute ops in float, NNCF "
                f"{nncf['float_op_count']}: {'no more' if fewer else 'more'} than NNCF; its int8 file is {speed} NNCF's "
                f"({ours['latency']['vs_fp32']['value']:.2f}x vs {nncf['latency']['vs_fp32']['value']:.2f}x fp32's time): "
                + ("the target is met" if fewer or speed == "faster than" else "the target (no more float ops, or faster) is missed")
                + (f"; {' and '.join(slower)} int8 {'is' if len(slower) == 1 else 'are'} slower than fp32 on this CPU" if slower else ""))

    def render(self) -> str:
        d, metric = self.data, self.data["metric"]
        label = LABELS.get(metric, metric)
        lines = [f"{d['model']}: {label} on {d['test']['data']}; {d['cpu']}", "",
                 f"| model | float compute ops | exact {label} | drop | fused {label} | drop | same answers (exact) | "
                 f"time vs fp32 (95 % interval) | ORT int8 kernels / float compute |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for row in d["rows"].values():
            exact, fused = row["exact"], row["fused"]
            agree = next((v for k, v in exact["vs_fp32"].items() if k in ("argmax_agreement", "text_agreement", "box_f1_vs_float")), None)
            lat = row.get("latency")
            timing = f"{lat['vs_fp32']['value']:.2f}x [{lat['vs_fp32']['interval'][0]:.2f}, {lat['vs_fp32']['interval'][1]:.2f}] " \
                     f"({lat['median_ms']:.1f} vs {lat['fp32_median_ms']:.1f} ms)" if lat else "reference"
            lines.append(f"| {row['title']} | {row['float_op_count']} of {row['compute_ops']} | {100 * exact['scores'][metric]:.2f} % | "
                         f"{exact.get(f'{metric}_drop_points', 0):+.2f} | {100 * fused['scores'][metric]:.2f} % | "
                         f"{fused.get(f'{metric}_drop_points', 0):+.2f} | {'-' if agree is None else f'{100 * agree:.2f} %'} | "
                         f"{timing} | {row['ort_kernels']['int8_kernels']} / {row['ort_kernels']['float_compute']} |")
        n, s = d["nncf"], d["nncf"]["settings"]
        lines += ["", f"- NNCF {s['nncf']}: preset {s['preset']}, overflow fix {s['overflow_fix']}, subset size {s['subset_size']}; "
                  f"{n['seconds']:.0f} s ({n['validation']['calls']} validation calls, {n['validation']['seconds']:.0f} s); "
                  f"validation {100 * n['score']:.2f} % vs fp32 {100 * n['float_score']:.2f} % (drop {n['drop_points']:.2f} of "
                  f"{s['max_drop_points']} points, {n['validation']['samples']} samples)",
                  f"- NNCF left in float: {', '.join(op['weight'] or op['node'] for op in n['float_ops']) or 'none'}"]
        o = d["ours"]
        floats = d["rows"]["paddle-edge"]["float_ops"]
        how = f"max drop {o['max_drop_points']} points on {o['validation']}, {o['trials']} trials" if o["trials"] else \
            "no accuracy control recorded in its manifest"
        lines += [f"- paddle-edge: {how}; kept in float: {', '.join(o['keep_float']) or 'none'}",
                  f"- float in paddle-edge's graph: {', '.join(op['weight'] or op['node'] for op in floats) or 'none'}",
                  f"- latency: {d['latency']['engine']}, {d['latency']['threads']} threads, {d['latency']['pairs']} pairs on "
                  f"{d['latency']['input_shape']} (a report, not a gate)",
                  f"- at the same max drop: {self.verdict()}"]
        return "\n".join(lines)

    def save(self, path: Path) -> Path:
        with atomic_file(Path(path)) as tmp:
            tmp.write_text(json.dumps({**self.data, "ok": self.ok}, indent=2, sort_keys=True, ensure_ascii=False))
        return Path(path)
