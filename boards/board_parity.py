"""`paddle-edge board parity`: will this exact bundle give the same answers on the board? Compared with the x86-64 runtime.

Latency on an emulated board is printed apart and labelled emulated: qemu's timings say nothing about the real board.
"""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import runtime
from ..export.artifact_engines import artifact_runner
from ..runtime import backends
from ..runtime.cpu import cpu_info, lite_target
from ..runtime.errors import PaddleEdgeError
from ..runtime.manifest import Manifest
from ..runtime.metrics import drops, format_scores
from ..runtime.timing import time_calls
from .board_run import Board, BoardRun, describe_run, run_bundle, run_kernel_models
from .browser.board import GPU_BACKENDS, PADDLEJS_ARTIFACT, BrowserBoard, gpu_device
from .browser.chromium import PageError
from .browser.kernels import unchecked_text
from .browser.page_preprocessing import WRITTEN_BACK, PagePreprocessing, page_preprocessing, written_back
from .checks import CheckedReport, judge
from .parity import TOLERANCES as PARITY_TOLERANCES
from ..export.evaluation import (EvaluationSet, Outputs, checked_values, compare, evaluation_set, first_samples,
                                 run_groups, task_scores)
from .provenance import provenance
from .quant_debug.debugger import kernel_cases
from .quant_debug.report import KERNEL_GROUPS, KERNEL_SAMPLES, KERNEL_STEP_LIMIT
from .quant_debug.tensor_stats import CodeAgreement

# fp32 on the board is the x86 function to float32's rounding, judged as parity judges it (boards/parity.py): SQNR, which
# scales with the outputs and the depth, and the same answers. How close to numpy's allclose(ATOL, RTOL) the board's
# engine comes (max |board - x86| / (ATOL + RTOL |x86|)) is gated for classifiers (the zoo, PaddleOCR's direction
# classifier: 0.08-0.76) and reported for text models: the 100-layer PP-OCRv4 recogniser's ARM and x86 kernels, summing
# in another order, differ by 1e-4 on probabilities, and its softmax moves by 1e-3 at 93-97 dB between two x86 engines
# (tune: OpenVINO, or onnxruntime at another graph optimization level).
ATOL, RTOL = 1e-5, 1e-6
# (limit, "max" or "min"), per check.
BOARD_TOLERANCES: Dict[str, Tuple[float, str]] = {
    "fp32_sqnr_db": (80.0, "min"),
    "fp32_argmax_agreement": (1.0, "min"),
    # int8 is held to the model's exact int8 semantics (the artifact the board ran, onnxruntime unfused on this host),
    # not to this host's fused kernels, which deviate themselves on x86 without VNNI (runtime/cpu.py)
    "int8_vs_exact_argmax_agreement": (0.999, "min"),
    "fp32_text_agreement": (1.0, "min"),  # text models: the same decoded lines and boxes as on this host
    "fp32_box_f1_vs_float": (1.0, "min"),
    # each of the board's fused int8 kernels, on the input codes of the exact run, within a quantization step of the exact
    # result (as parity holds this host's): deep text models amplify one-step ties into other lines and boxes, so their
    # end-to-end agreement with the exact model is reported, not gated
    "int8_kernel_max_steps": (float(KERNEL_STEP_LIMIT), "max"),
    # a browser's Paddle.js model (WebGL, float32 textures) against Paddle Inference on the program it was converted from
    "paddlejs_fp32_sqnr_db": (80.0, "min"),
    "paddlejs_fp32_argmax_agreement": (1.0, "min"),
    # a browser: the page's own preprocessing (JavaScript) of each image gives the runtime's tensor (page_preprocessing.py)
    "preprocess_agreement": (1.0, "min"),
}
# onnxruntime-web's GPU backends in a browser (float32 on the GPU, int8 as dequantize-then-float there) are judged as the
# board's own engine is, their values named after the backend, but for allclose, which is reported: GPU float32 is not
# the CPU kernels' arithmetic
GPU_CHECKS = ("fp32_sqnr_db", "fp32_argmax_agreement", "int8_vs_exact_argmax_agreement", "fp32_text_agreement", "fp32_box_f1_vs_float")
BOARD_TOLERANCES.update({f"{ep}_{k}": BOARD_TOLERANCES[k] for ep in GPU_BACKENDS for k in GPU_CHECKS})
# and, on labelled data, what the board's int8 loses of the task's metric against this host's fp32: the limits parity holds
# the int8 file to here (issue 10's targets, measured on the board that runs it)
BOARD_TOLERANCES.update({k.removeprefix("onnx_"): v for k, v in PARITY_TOLERANCES.items()
                         if k.startswith("onnx_int8_") and k.endswith("_drop_points") and "exact" not in k})
# OpenVINO running the bundle on a board is held to what parity holds it to on this host (boards/parity.py), and Paddle
# Lite's int8 .nb likewise: their int8 kernels are their own, not cut out op by op, so their agreement with the exact int8
# model is reported, and their int8 answers are judged against the float model's (this host's fp32): a classifier's same
# class on 99 % of the inputs, the task metric's drop
PEER_INT8 = {k.removeprefix("openvino_"): v for k, v in PARITY_TOLERANCES.items() if k.startswith("openvino_int8_") and not k.endswith("runnable")}
ANSWER_KEYS = ("argmax_agreement", "text_agreement", "box_f1_vs_float")
REPORTED = ("int8_", "fp32_", "paddlejs_", *(f"{ep}_" for ep in GPU_BACKENDS))  # prefixes of the values a report lists


ALLCLOSE_GATED_TASKS = ("classification",)


def tolerances(backend: str, task: str) -> Dict[str, Tuple[float, str]]:
    """What board parity gates when the board runs the runtime's `backend` on a model of `task`: allclose to this host's
    fp32 only where the board runs the host reference's engine (onnxruntime); another engine's kernels sum in another
    order, and are judged as parity judges them here, by SQNR and answers."""
    if backend == "onnxruntime":
        return {**BOARD_TOLERANCES, **({"fp32_allclose_ratio": (1.0, "max")} if task in ALLCLOSE_GATED_TASKS else {})}
    return {**{k: v for k, v in BOARD_TOLERANCES.items() if not k.startswith("int8_")}, **PEER_INT8}


class BoardParityReport(CheckedReport):
    """Board vs x86-64 runtime (fp32) and vs the exact int8 semantics of the file the board ran, or for a Lite .nb of the
    bundle's int8 ONNX (int8; another engine than onnxruntime: also against float)."""

    def render(self) -> str:
        d = self.data
        where = (f"emulated: qemu -cpu {d['qemu_cpu']}" if d["emulated"] else "a browser on this host" if "user_agent" in d["board_info"]
                 else "native")
        rows = [("board", f"{d['board']} ({where}; {describe_run(d['board_info'])})"), ("samples", str(d["samples"]))]
        rows.append(("x86-64 host", d["host_cpu"]["label"]))
        for precision, scores in d["scores"].items():
            rows += [(f"{precision} on {where}", format_scores(found)) for where, found in scores.items()]
            rows.append((f"{precision} files", f"board ran {d['artifacts'][precision]['board']}, x86-64 {d['artifacts'][precision]['x86_64']}"))
        gated = tolerances(d.get("backend", "onnxruntime"), d["task"])
        rows += [(k, f"{v:.6g}") for k, v in d["values"].items() if k.startswith(REPORTED) and k not in gated]
        if d.get("page_preprocessing"):
            rows.append(("preprocessing in the page", PagePreprocessing(**d["page_preprocessing"]).describe()))
        rows += [(f"{what} not run", why) for what, why in (d.get("not_run") or {}).items()]
        rows += [(f"{what} kernels", f"not checked before loading: {unchecked_text(ops)}") for what, ops in (d.get("kernels_unchecked") or {}).items()]
        if d.get("kernels"):
            k = d["kernels"]
            rows.append(("int8 kernels", f"{k['checked']} ops of {k['artifact']} checked alone on the board on {k['samples']} samples' "
                                         f"exact input codes: largest {k['max_steps']} step(s) from exact"
                                         + (f"; deviating: {', '.join(k['deviating'])}" if k["deviating"] else "")))
        elif d.get("backend", "onnxruntime") != "onnxruntime" and "int8" in d["artifacts"]:
            rows.append(("int8 kernels", f"not checked op by op: an op cut out alone runs on onnxruntime's kernels, not {d['backend']}'s"))
        label = d["latency_note"].upper() if d["emulated"] else d["latency_note"]
        rows += [(f"latency b1 p50 {k} (us)", f"x86-64 {v['x86_64']:,.0f} | board {v['board']:,.0f} ({label})") for k, v in d["latency_us"].items()]
        for precision, batches in (d.get("board_latency_batches_us") or {}).items():
            rows += [(f"board {precision} batch {b} (us)", f"p50 {t['p50']:,.0f}, " + (f"p90 {t['p90']:,.0f}" if "p90" in t else f"max {t['max']:,.0f}")
                      + (f" of {t['calls']} calls" if "calls" in t else "") + f" ({label})") for b, t in batches.items()]
        if "fp32_allclose_ratio" not in gated:
            rows.append(("fp32 allclose ratio", f"{d['values']['fp32_allclose_ratio']:.3g} (reported for a {d['task']} model: max "
                                                f"|board - x86| / ({d['tolerance']['atol']:g} + {d['tolerance']['rtol']:g} |x86|))"))
        rows += self.check_rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _versus(prefix: str, outputs: Outputs, reference: Outputs, manifest: Manifest, evaluation: EvaluationSet,
            measures: Sequence[str] = ANSWER_KEYS) -> Dict[str, float]:
    """compare() once, and the `measures` of it wanted, named `prefix` + measure (checked_values)."""
    return checked_values(compare(outputs, reference, manifest, evaluation), prefix, measures)


def answer_values(precision: str, board_out: Outputs, reference: Outputs, manifest: Manifest,
                  evaluation: EvaluationSet, prefix: str = "") -> Dict[str, float]:
    """What BOARD_TOLERANCES judges of one engine's outputs on the board against `reference`: for fp32 this host's fp32
    runtime, for int8 the exact int8 semantics (exact_int8_file: what another engine's int8 is only reported against);
    named `prefix` + the check."""
    if precision == "fp32":
        return _versus(f"{prefix}fp32_", board_out, reference, manifest, evaluation, ("max_abs_diff", "sqnr_db", *ANSWER_KEYS))
    return _versus(f"{prefix}int8_vs_exact_", board_out, reference, manifest, evaluation, ("max_abs_diff", *ANSWER_KEYS))


def _allclose_ratio(host: Outputs, board: Outputs) -> float:
    """max |board - x86| / (ATOL + RTOL |x86|) over every output: <= 1 is numpy's allclose."""
    return max(float(np.max(np.abs(a - b) / (ATOL + RTOL * np.abs(a)))) for gh, gb in zip(host, board) for a, b in zip(gh, gb))


AnyBoard = Union[Board, BrowserBoard]


def board_precisions(manifest: Manifest, board: AnyBoard, backend: str, bundle_path: Path) -> Tuple[str, ...]:
    """The precisions the board runs with `backend`: of the bundle's ONNX files; for Paddle Lite, of its .nb files for
    the board's CPU."""
    if backends.BACKENDS[backend][2] != "nb":
        return manifest.precisions("onnx")
    target = lite_target(board.profile.arch)
    found = tuple(p for p in ("fp32", "int8") if any(a.format == "nb" and a.target == target and a.precision == p
                                                     for a in manifest.artifacts.values()))
    if "fp32" not in found:
        raise PaddleEdgeError(f"{bundle_path} has no Paddle Lite fp32 .nb for {board.profile.name}'s CPU ({target})",
                              f"export it with `--target lite-{target}` too")
    return found


def exact_int8_file(manifest: Manifest, artifact: str) -> str:
    """The int8 file whose exact semantics an engine's int8 outputs from `artifact` are compared with: its own ONNX, or
    for a Lite .nb (made by Lite's opt from the same quantized program) the bundle's int8 ONNX."""
    if manifest.artifacts[artifact].format == "onnx":
        return artifact
    return manifest.pick("onnx", "int8")[0]


def runners(board: AnyBoard, backend: str = "onnxruntime") -> Tuple[Callable[..., BoardRun], Callable[..., List[np.ndarray]]]:
    """How to run a bundle (with the runtime's `backend`), and single kernels, on the board: in the page for a browser
    (onnxruntime-web only), with its python otherwise."""
    if isinstance(board, BrowserBoard):
        if backend != "onnxruntime":
            raise PaddleEdgeError(f"a browser runs onnxruntime-web, not {backend}", "leave the backend out for the browser")
        return board.run_bundle, board.run_kernel_models
    return (lambda *a, **k: run_bundle(board, *a, backend=backend, **k)), (lambda *a, **k: run_kernel_models(board, *a, **k))


def _board_kernels(board: AnyBoard, bundle: runtime.Bundle, artifact: str, evaluation: EvaluationSet, threads: int) -> Dict[str, Any]:
    """Every int8 op of the file the board ran whose activation inputs are quantized, alone, on the input codes the
    exact run gives the first inputs: the board's fused kernel against the exact result, in quantization steps (output
    codes; a float output's accumulator unit)."""
    cases = kernel_cases(bundle, artifact, threads)
    checked = first_samples(evaluation, KERNEL_SAMPLES, KERNEL_GROUPS)
    if not cases.ops:
        return {"checked": 0, "samples": checked.samples, "artifact": artifact, "max_steps": 0, "deviating": []}
    found = [case for group in checked.groups for case in cases.run(group)[1]]
    files = {output: f"{i}.onnx" for i, output in enumerate(cases.models)}
    got = runners(board)[1]({files[o]: m.SerializeToString() for o, m in cases.models.items()},
                            [(files[op.output], codes) for op, codes, _ in found], threads)
    agreement = {op.output: CodeAgreement() for op in cases.ops}
    for (op, _, exact), fused in zip(found, got):
        agreement[op.output].add(exact, fused, cases.step[op.output])
    steps = {output: a.max_steps for output, a in agreement.items()}
    return {"checked": len(steps), "samples": checked.samples, "artifact": artifact, "max_steps": max(steps.values(), default=0),
            "deviating": [output for output, n in steps.items() if n > KERNEL_STEP_LIMIT]}


def _paddlejs(board: BrowserBoard, bundle: runtime.Bundle, evaluation: EvaluationSet, threads: int, calls: int) -> Dict[str, Any]:
    """The bundle's Paddle.js model in the page against Paddle Inference on the float program it was converted from: the
    values BOARD_TOLERANCES judges, scores, batch-1 latency (the page's, and Paddle Inference's on this host)."""
    manifest = bundle.manifest
    ran = board.run_paddlejs(bundle.root, evaluation.groups, calls)
    reference = artifact_runner(bundle, "paddle-fp32-program", threads)
    board_out, reference_out = ran.outputs[PADDLEJS_ARTIFACT], run_groups(reference, evaluation)
    values = {"paddlejs_fp32_allclose_ratio": _allclose_ratio(reference_out, board_out),
              **_versus("paddlejs_fp32_", board_out, reference_out, manifest, evaluation, ("max_abs_diff", "sqnr_db", *ANSWER_KEYS))}
    scores = {}
    if evaluation.truth is not None:
        scores = {where: task_scores(out, manifest, evaluation) for where, out in (("board", board_out), ("x86_64", reference_out))}
    one = {k: np.ascontiguousarray(v[:1]) for k, v in evaluation.groups[0].items()}
    latency = {"x86_64": float(np.median(time_calls(lambda: reference(one), calls * 10)) * 1e6),
               "board": float(np.median(ran.seconds[PADDLEJS_ARTIFACT]) * 1e6)}
    return {"values": values, "scores": {PADDLEJS_ARTIFACT: scores} if scores else {}, "latency": latency, "info": ran.info[PADDLEJS_ARTIFACT],
            "top1": {PADDLEJS_ARTIFACT: {w: s["top1"] for w, s in scores.items()}} if scores and manifest.task == "classification" else {}}


def _gpu_backends(board: BrowserBoard, bundle: runtime.Bundle, evaluation: EvaluationSet, threads: int, calls: int,
                  references: Dict[str, Outputs], where: Dict[str, Any], backends: Sequence[str]) -> Dict[str, Any]:
    """The bundle's ONNX files on each GPU backend of onnxruntime-web the browser offers, judged against `references` (per
    precision: this host's fp32 outputs, the exact int8 ones): the values BOARD_TOLERANCES judges, scores, batch-1 p50 and
    info per "{backend}-{precision}", and why a backend or a precision did not run."""
    manifest = bundle.manifest
    found: Dict[str, Dict[str, Any]] = {"values": {}, "scores": {}, "latency": {}, "info": {}, "not_run": {}}
    for ep in backends:
        if gpu_device(ep, where).startswith("unavailable"):
            found["not_run"][ep] = f"the browser offers no {ep}: {gpu_device(ep, where)}"
            continue
        try:
            ran = board.run_bundle(bundle.root, evaluation.groups, list(references), threads, calls, ep=ep)
        except PageError as exc:  # the backend did not start in the page
            found["not_run"][ep] = exc.problem
            continue
        for precision, reference in references.items():
            key, info = f"{ep}-{precision}", ran.info[precision]
            if "not_run" in info:
                found["not_run"][key] = info["not_run"]
                continue
            out = ran.outputs[precision]
            found["values"].update(answer_values(precision, out, reference, manifest, evaluation, prefix=f"{ep}_"))
            if precision == "fp32":
                found["values"][f"{ep}_fp32_allclose_ratio"] = _allclose_ratio(reference, out)
            if evaluation.truth is not None:
                found["scores"][key] = task_scores(out, manifest, evaluation)
            found["latency"][key] = float(np.median(ran.seconds[precision]) * 1e6)
            found["info"][key] = info
    return found


def _page_preprocessing(board: BrowserBoard, manifest: Manifest, evaluation: EvaluationSet) -> Optional[PagePreprocessing]:
    """The page's preprocessing of the evaluation's image files, or of the first test samples of a dataset's arrays
    written back as images; None where there are neither."""
    if evaluation.images:
        return page_preprocessing(board, evaluation.images, manifest.preprocess)
    with tempfile.TemporaryDirectory(prefix="paddle-edge-images-") as folder:
        images = written_back(next(iter(evaluation.groups[0].values())), manifest.preprocess, Path(folder))
        return page_preprocessing(board, images, manifest.preprocess, WRITTEN_BACK) if images else None


def latency_note(board: AnyBoard) -> str:
    """What the board's timings are worth."""
    if isinstance(board, BrowserBoard):
        return "this host's headless Chromium: a browser on this CPU, not a device"
    return "emulated under qemu: not the board's speed" if board.emulated else "native"


def board_parity(board: AnyBoard, bundle_path: Path, threads: Optional[int] = None, limit: Optional[int] = None,
                 data: Optional[Path] = None, shapes: Optional[Dict[str, Sequence[int]]] = None, calls: int = 20,
                 gpu: Sequence[str] = GPU_BACKENDS, backend: str = "onnxruntime") -> BoardParityReport:
    """Run the bundle's evaluation set (test split, or the user's images at `data`) on the board and on this host's
    runtime; compare outputs and answers per precision. On a browser, also on the `gpu` backends of onnxruntime-web it
    offers, and on the bundle's Paddle.js model if it has one. A board running Python runs the runtime's `backend`
    there (OpenVINO's CPU plugin: judged by the same checks, but for the op-by-op check of onnxruntime's fused int8
    kernels, which OpenVINO does not run; Paddle Lite: the bundle's .nb files for the board's CPU, against the ONNX
    files here)."""
    bundle = runtime.load_bundle(Path(bundle_path))
    manifest = bundle.manifest
    evaluation = evaluation_set(manifest, data, limit, shapes)
    precisions = board_precisions(manifest, board, backend, bundle_path)
    lacking = [p for p in precisions if p not in manifest.precisions("onnx")]
    if lacking:  # Paddle Lite's .nb files: fp32 is judged against this host's fp32 ONNX, int8 beside the exact int8 ONNX
        raise PaddleEdgeError(f"board parity compares the board's .nb files with this host's runtime on the bundle's ONNX "
                              f"files (fp32: the reference; int8: its exact semantics, reported), and {bundle_path} has "
                              f"no {' or '.join(lacking)} ONNX", "export the bundle with `--target onnx` too")
    threads = threads or board.profile.threads
    paddlejs = isinstance(board, BrowserBoard) and PADDLEJS_ARTIFACT in manifest.artifacts
    if paddlejs and "paddle-fp32-program" not in manifest.artifacts:
        raise PaddleEdgeError(f"{bundle_path} has a Paddle.js model but not the float Paddle program it is judged against",
                              "export it again without --no-reference")
    if backend != "onnxruntime" and "int8" in precisions and "fp32" not in precisions:
        raise PaddleEdgeError(f"{backend}'s int8 on the board is judged against the float file, and {bundle_path} has none",
                              "export the bundle with its fp32 ONNX too")
    if backend != "onnxruntime" and "int8" in precisions and evaluation.truth is None and manifest.task != "classification":
        raise PaddleEdgeError(f"{backend}'s int8 on the board is judged against float by the task metric it loses, and "
                              f"{evaluation.description} has no labels to score a {manifest.task} model by (its int8 "
                              "agreement with float is only reported: a deep text model's answers move with one-step ties)",
                              "pass --data with a labelled list: PaddleOCR's `path<TAB>text` (rec) or "
                              "`path<TAB>[{\"transcription\", \"points\"}]` (det)")
    remote = runners(board, backend)[0](bundle.root, evaluation.groups, precisions, threads, calls)

    values: Dict[str, float] = {}
    top1: Dict[str, Dict[str, float]] = {}
    scores: Dict[str, Dict[str, Dict[str, float]]] = {}
    latency: Dict[str, Dict[str, float]] = {}
    kernels: Optional[Dict[str, Any]] = None
    references: Dict[str, Outputs] = {}  # what each precision is judged against: this host's fp32, the exact int8
    for precision in precisions:
        local = runtime.open(bundle, backend="onnxruntime", precision=precision, threads=threads)
        host_out, board_out = run_groups(local.predict, evaluation), remote.outputs[precision]
        ran = {"board": board_out, "x86_64": host_out}
        if precision == "fp32":
            values["fp32_allclose_ratio"] = _allclose_ratio(host_out, board_out)
            values.update(answer_values(precision, board_out, host_out, manifest, evaluation))
            references[precision] = host_out
        else:
            exact = run_groups(artifact_runner(bundle, exact_int8_file(manifest, remote.info[precision]["artifact"]), threads), evaluation)
            ran["exact"] = references[precision] = exact
            values.update(answer_values(precision, board_out, exact, manifest, evaluation))
            if backend != "onnxruntime":  # against the float model, as parity judges OpenVINO on this host
                values.update(_versus("int8_", board_out, references["fp32"], manifest, evaluation))
            if evaluation.truth is not None and "fp32" in references:  # the task metric the board's int8 loses
                values.update({f"int8_{k}": v for k, v in drops(task_scores(board_out, manifest, evaluation),
                                                                  task_scores(references["fp32"], manifest, evaluation)).items()})
            values.update(_versus("int8_x86_64_vs_exact_", host_out, exact, manifest, evaluation, ("max_abs_diff", *ANSWER_KEYS)))
            values.update(_versus("int8_board_vs_x86_64_", board_out, host_out, manifest, evaluation))
            if backend == "onnxruntime":
                kernels = _board_kernels(board, bundle, remote.info[precision]["artifact"], evaluation, threads)
            if kernels and kernels["checked"]:
                values["int8_kernel_max_steps"] = float(kernels["max_steps"])
        if evaluation.truth is not None:
            scores[precision] = {where: task_scores(out, manifest, evaluation) for where, out in ran.items()}
            if manifest.task == "classification":
                top1[precision] = {where: found["top1"] for where, found in scores[precision].items()}
        one = {k: np.ascontiguousarray(v[:1]) for k, v in evaluation.groups[0].items()}
        latency[precision] = {"x86_64": float(np.median(time_calls(lambda p=local, x=one: p.predict(x), calls * 10)) * 1e6),
                              "board": float(np.median(remote.seconds[precision]) * 1e6)}
    infos = {p: remote.info[p] for p in precisions}
    artifacts = {p: {"board": remote.info[p]["artifact"], "x86_64": runtime.artifact_for(manifest, "onnxruntime", p)}
                 for p in precisions}
    not_run: Dict[str, str] = {}
    note = latency_note(board)
    prepared = _page_preprocessing(board, manifest, evaluation) if isinstance(board, BrowserBoard) else None
    if prepared:
        values.update(prepared.values())
    if isinstance(board, BrowserBoard):
        found_gpu = _gpu_backends(board, bundle, evaluation, threads, calls, references, remote.info[precisions[0]], gpu)
        values.update(found_gpu["values"])
        not_run = found_gpu["not_run"]
        note += "".join(f"; {ep} on {gpu_device(ep, remote.info[precisions[0]])}" for ep in gpu
                        if any(key.startswith(f"{ep}-") for key in found_gpu["info"]))
        for key, info in found_gpu["info"].items():
            precision = info["precision"]
            infos[key], artifacts[key] = info, {"board": info["artifact"], "x86_64": artifacts[precision]["x86_64"]}
            latency[key] = {"x86_64": latency[precision]["x86_64"], "board": found_gpu["latency"][key]}
            if key in found_gpu["scores"]:
                scores[key] = {"board": found_gpu["scores"][key]}
                if manifest.task == "classification":
                    top1[key] = {"board": found_gpu["scores"][key]["top1"]}
    if paddlejs:
        found = _paddlejs(board, bundle, evaluation, threads, calls)
        values.update(found["values"])
        scores.update(found["scores"])
        top1.update(found["top1"])
        latency[PADDLEJS_ARTIFACT], infos[PADDLEJS_ARTIFACT] = found["latency"], found["info"]
        artifacts[PADDLEJS_ARTIFACT] = {"board": PADDLEJS_ARTIFACT, "x86_64": "paddle-fp32-program"}
    emulated = board.emulated
    report = {"board": board.profile.name, "backend": backend, "model": manifest.model, "emulated": emulated, "kernels": kernels, "qemu_cpu": board.profile.emulation.qemu_cpu if emulated else None,
              "samples": evaluation.samples, "data": evaluation.description, "task": manifest.task, "threads": threads,
              "top1": top1, "scores": scores, "values": values,
              "latency_us": latency, "latency_note": note + (f"; Paddle.js on WebGL2: {infos[PADDLEJS_ARTIFACT]['webgl2']}" if paddlejs else ""),
              "board_latency_batches_us": {p: info["latency_us"] for p, info in infos.items() if "latency_us" in info},
              "tolerance": {"atol": ATOL, "rtol": RTOL}, "board_info": remote.info[precisions[0]], "host_cpu": cpu_info(), "provenance": provenance(),
              "artifacts": artifacts, **({"gpu_asked": list(gpu)} if isinstance(board, BrowserBoard) else {}),
              **({"page_preprocessing": dataclasses.asdict(prepared)} if prepared else {}), "not_run": not_run, "engines": {p: info.get("engine") for p, info in infos.items() if info.get("engine")},
              "placements": {p: info["placement"] for p, info in infos.items() if info.get("placement")},
              "kernels_unchecked": {p: info["kernels_unchecked"] for p, info in infos.items() if info.get("kernels_unchecked")}}
    return BoardParityReport.of(report, judge(values, tolerances(backend, manifest.task)))
