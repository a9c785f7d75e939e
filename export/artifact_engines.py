"""Each artifact of a bundle run by the engine that defines it: what export scores into the manifest and parity checks.

- the float Paddle program: Paddle Inference (the reference);
- an fp32 ONNX: onnxruntime, as the thin runtime runs it;
- an int8 ONNX: onnxruntime with graph optimizations off, so every QuantizeLinear/DequantizeLinear runs as written: the
  model's exact int8 semantics, the same on every CPU. The fused int8 kernels a CPU runs are measured against it (parity);
- a Paddle Lite x86 .nb: Lite (2.13rc0) in its sidecar. An arm .nb has no engine on an x86 host (board parity runs it on an
  emulated ARM board, with the Lite runtime boards/lite_arm_build.py builds), a Paddle.js model none outside a browser
  (boards/browser).
"""
from __future__ import annotations

from typing import Callable, Dict, List

import numpy as np

from .. import runtime
from ..runtime.batching import predict_all
from ..runtime.errors import PaddleEdgeError
from ..runtime.versions import package_versions

Feeds = Dict[str, np.ndarray]


class NoEngineHere(PaddleEdgeError):
    """This host has no engine for the artifact (an arm .nb on x86, say)."""


def engine_label(bundle: runtime.Bundle, name: str) -> str:
    """What runs artifact `name` in `run_artifact`, with its version."""
    art = bundle.manifest.artifacts[name]
    if art.format == "paddle-program":
        return f"Paddle Inference {package_versions(['paddlepaddle'])['paddlepaddle']}"
    if art.format == "onnx":
        how = "graph optimizations off: exact QDQ" if art.precision == "int8" else "default optimizations"
        return f"onnxruntime {package_versions(['onnxruntime'])['onnxruntime']} ({how})"
    if art.format == "nb" and art.target == "x86":
        from .lite import LITE_VERSION

        return f"Paddle Lite {LITE_VERSION} x86 (sidecar)"
    if art.format == "paddlejs-model":
        raise NoEngineHere(f"{name} runs in a browser (Paddle.js, {art.target})", "`paddle-edge board parity browser BUNDLE` runs it")
    raise NoEngineHere(f"no engine on this host runs {name} ({art.format}, target {art.target})",
                       "`paddle-edge board parity rpi4 BUNDLE --backend paddlelite` runs it on the emulated Pi (after "
                       "`paddle-edge lite-build`)" if (art.format, art.target) == ("nb", "arm") else
                       "run it on its board: `paddle-edge board run` / `deploy`")


def artifact_runner(bundle: runtime.Bundle, name: str, threads: int = 2) -> Callable[[Feeds], List[np.ndarray]]:
    """A function running inputs through artifact `name` with its defining engine (see the module docstring), the engine
    loaded once."""
    art = bundle.manifest.artifacts[name]
    engine_label(bundle, name)  # raises NoEngineHere first
    if art.format == "paddle-program":
        from ..source.paddle_predictor import PaddlePredictor

        return PaddlePredictor((bundle.root / art.path).parent, threads).run
    if art.format == "onnx":
        backend = "onnxruntime-unfused" if art.precision == "int8" else "onnxruntime"
        return runtime.open(bundle, backend=backend, precision=art.precision, threads=threads, artifact=name).predict
    from .lite_sidecar import ensure_sidecar

    sidecar = ensure_sidecar()
    return lambda feeds: sidecar.predict(bundle.root / art.path, [feeds[s.name] for s in bundle.manifest.inputs], threads)


def run_artifact(bundle: runtime.Bundle, name: str, feeds: Feeds, threads: int = 2) -> List[np.ndarray]:
    """Every output of artifact `name` over whole arrays of inputs, run by its defining engine."""
    return predict_all(artifact_runner(bundle, name, threads), feeds)
