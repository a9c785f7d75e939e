"""The engines a bundle is benchmarked on, each loaded the way a user would load it, behind one call signature.

Paddle Inference is imported only for its engines, so a process timing an ONNX Runtime engine holds no Paddle (what a
board holds), and its memory is the runtime's own. Beside the thin runtime's own engines are the ones a user would try
instead: OpenVINO (fp32 from the Paddle program through its Paddle frontend and from the fp32 ONNX, int8 from the
file the runtime picks for this CPU; latency and throughput hints) where it is installed, and Paddle Inference's
oneDNN int8 on PaddleSlim's int8 program (`--paddle-int8 DIR`: the program is not part of a bundle). Where `paddle-edge
tune` measured the bundle on this machine, `runtime_tuned` is what `runtime.open(backend="auto", precision="auto")`
opens for each batch size: the tuning's engine, precision, threads and settings.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from ... import runtime
from ...export.lite_sidecar import LITE_VERSION
from ...runtime import backends
from ...runtime.errors import PaddleEdgeError
from ...runtime.tuning import Tuning, bundle_sha256, find_tuning

Feeds = Dict[str, np.ndarray]
Run = Callable[[Feeds], List[np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Engine:
    """One way to run the bundle: a backend, a precision and the artifacts it reads."""

    name: str
    label: str
    precision: str
    artifacts: Tuple[str, ...]
    parity_key: str  # where `paddle-edge parity` reports this engine's accuracy
    in_process: bool = True  # False: runs in the Paddle Lite sidecar, timed there
    package: str = ""  # an optional package it needs; without it the engine is left out (and said so)
    paddle_int8: bool = False  # runs PaddleSlim's int8 program, given apart from the bundle
    tuned: bool = False  # the runtime's tuned choice per batch size (needs this machine's tuning file in the bundle)
    backend: str = ""  # the runtime backend it is opened with (runtime.open), which picks the file for this CPU


REFERENCE = "paddle_inference_fp32"
PADDLE_INT8 = "paddle_inference_int8"
BARE = "bare_onnxruntime_fp32"
OPENVINO = "openvino"
TUNED = "runtime_tuned"
ENGINES: Dict[str, Engine] = {e.name: e for e in (
    Engine(REFERENCE, "Paddle Inference fp32 (reference)", "fp32", ("paddle-fp32-program", "paddle-fp32-params"), "paddle_fp32"),
    Engine(PADDLE_INT8, "Paddle Inference int8 (oneDNN, PaddleSlim's program)", "int8", (), "", paddle_int8=True),
    Engine("onnxruntime_fp32", "ONNX Runtime fp32 (thin runtime)", "fp32", ("onnx-fp32",), "onnx_fp32", backend="onnxruntime"),
    Engine("onnxruntime_int8", "ONNX Runtime int8 (thin runtime)", "int8", ("onnx-int8",), "onnx_int8", backend="onnxruntime"),
    Engine(TUNED, "thin runtime, backend and precision auto (its tuning here)", "auto", (), "", tuned=True),
    Engine(BARE, "bare onnxruntime.InferenceSession fp32", "fp32", ("onnx-fp32",), "onnx_fp32"),
    Engine("openvino_fp32_paddle", "OpenVINO fp32 (Paddle program, latency hint)", "fp32", ("paddle-fp32-program", "paddle-fp32-params"),
           "", package=OPENVINO),
    Engine("openvino_fp32", "OpenVINO fp32 (ONNX, latency hint)", "fp32", ("onnx-fp32",), "openvino_fp32", package=OPENVINO,
           backend="openvino"),
    Engine("openvino_int8", "OpenVINO int8 (ONNX, latency hint)", "int8", ("onnx-int8",), "openvino_int8", package=OPENVINO,
           backend="openvino"),
    Engine("openvino_fp32_throughput", "OpenVINO fp32 (ONNX, throughput hint)", "fp32", ("onnx-fp32",), "openvino_fp32", package=OPENVINO,
           backend="openvino-throughput"),
    Engine("openvino_int8_throughput", "OpenVINO int8 (ONNX, throughput hint)", "int8", ("onnx-int8",), "openvino_int8", package=OPENVINO,
           backend="openvino-throughput"),
    Engine("paddlelite_x86_fp32", f"Paddle Lite {LITE_VERSION} x86 fp32 (sidecar)", "fp32", ("lite-x86-fp32",), "lite_x86_fp32",
           in_process=False),
)}


PEER_PREFIXES = ("paddle_inference", "openvino", "paddlelite")


def is_peer(name: str) -> bool:
    """An engine a user would pick instead: one that cannot run a model is a finding, where the runtime's own engines
    and the reference not running it is a broken bundle."""
    return name.startswith(PEER_PREFIXES) and name != REFERENCE


def tuning_here(bundle: runtime.Bundle) -> Optional[Tuning]:
    """The bundle's tuning measured on this machine, if it has one."""
    return find_tuning(bundle.source or bundle.root, bundle_sha256(bundle.root))[0]


def engines_for(manifest: runtime.Manifest, wanted: Optional[List[str]] = None, paddle_int8: Optional[Path] = None,
                skipped: Optional[Dict[str, str]] = None, tuned: bool = False) -> List[Engine]:
    """The engines whose artifacts the bundle carries (and whose package is installed; Paddle Inference int8 where
    `paddle_int8` is given; the tuned runtime where the bundle is `tuned` here), in table order; unknown or impossible
    names raise, engines left out are named in `skipped`."""
    unknown = sorted(set(wanted or ()) - set(ENGINES))
    if unknown:
        raise PaddleEdgeError(f"unknown engine(s) {unknown}", f"choose from {', '.join(ENGINES)}")
    chosen = []
    for e in (e for e in ENGINES.values() if wanted is None or e.name in wanted):
        if not all(a in manifest.artifacts for a in e.artifacts):
            continue
        if e.package and not backends.available(e.package):
            why = f"{e.package} is not installed here: pip install 'paddle-edge[{e.package}]'"
        elif e.paddle_int8 and paddle_int8 is None:
            why = "give PaddleSlim's int8 model directory with --paddle-int8 DIR (what `paddle-edge compress` wrote)"
        elif e.tuned and not tuned:
            why = "no tuning of this bundle on this machine: run `paddle-edge tune BUNDLE` first"
        else:
            chosen.append(e)
            continue
        if wanted is not None:
            raise PaddleEdgeError(f"{e.name} cannot run: {why}", why)
        if skipped is not None:
            skipped[e.name] = why
    missing = sorted(set(wanted or ()) - {e.name for e in chosen})
    if missing:
        raise PaddleEdgeError(f"this bundle has no artifacts for {missing} (it has {sorted(manifest.artifacts)})",
                              "export the bundle with those targets and precisions, or leave them out of --backends")
    return chosen


def tuned_predictors(bundle: runtime.Bundle, tuning: Tuning) -> Dict[int, runtime.Predictor]:
    """What runtime.open(backend="auto", precision="auto") opens for each batch size the tuning chose for."""
    return {b: runtime.open(bundle, precision="auto", batch=b) for b in sorted(tuning.choices)}


def _tuned_run(bundle: runtime.Bundle) -> Run:
    """The tuned predictor of the batch size nearest each call's (as a caller who opened with batch=N runs), looked up
    once per batch size."""
    tuning = tuning_here(bundle)
    if tuning is None:
        raise PaddleEdgeError(f"{bundle.root} has no tuning for this machine", "run `paddle-edge tune BUNDLE` first")
    predictors = tuned_predictors(bundle, tuning)
    by_batch: Dict[int, runtime.Predictor] = {}

    def run(feeds: Feeds) -> List[np.ndarray]:
        n = len(next(iter(feeds.values())))
        if n not in by_batch:
            found = tuning.choice("auto", n)
            by_batch[n] = predictors[found[0] if found else min(predictors)]
        return by_batch[n].predict(feeds)
    return run


def load(engine: Engine, bundle: runtime.Bundle, threads: int, paddle_int8: Optional[Path] = None,
         settings: Optional[Mapping[str, str]] = None) -> Run:
    """Load an in-process engine; return its run(feeds) -> outputs (the tuned runtime runs at its tuning's threads).
    `settings` (`bench --settings`) are the thin runtime's ONNX Runtime settings, for its two onnxruntime engines."""
    if engine.tuned:
        return _tuned_run(bundle)
    if engine.name in (REFERENCE, PADDLE_INT8):
        from ...source.paddle_predictor import PaddlePredictor

        if engine.name == REFERENCE:
            return PaddlePredictor(bundle.root / "reference", threads).run
        return PaddlePredictor(Path(paddle_int8), threads, int8=True).run
    if engine.name == "openvino_fp32_paddle":
        from ...runtime.backends.openvino import OpenVinoBackend

        return OpenVinoBackend(bundle.path_of("paddle-fp32-program"), threads, "latency").run
    if engine.name == BARE:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(str(bundle.path_of("onnx-fp32")), options, providers=["CPUExecutionProvider"])
        return lambda feeds: session.run(None, feeds)
    if engine.backend:
        return runtime.open(bundle, backend=engine.backend, precision=engine.precision, threads=threads,
                            settings=settings if engine.backend == runtime.DEFAULT_BACKEND else None).predict
    raise PaddleEdgeError(f"{engine.name} runs in the Paddle Lite sidecar, not in this process", "time it with the sidecar")
