"""OpenVINO backend: runs an .onnx file (fp32, or int8 as QDQ) on OpenVINO's CPU plugin, an optional extra
(`pip install 'paddle-edge[openvino]'`).

`hint="latency"` (the default) compiles for one request at a time, with `threads` threads: what a single caller wants.
`hint="throughput"` compiles for parallel requests (OpenVINO's streams share the threads) and splits each batch across
the requests it asks for, run together: what a caller with a stream of images wants.

On an ARM CPU without half-precision arithmetic (Cortex-A72 and A53: Raspberry Pi 4, RK3399) files are compiled without
OpenVINO's low-precision transformations (only an int8 file has anything for them to do), so an int8 file runs its QDQ
function in float32 there: with them, the ARM
plugin of OpenVINO 2026.4 moves the int8 convolutions its ACL kernels lack to fp16
(`FallbackUnsupportedLPConvToFP16`), which such a CPU has no kernel for, and the PP-OCR classifier's int8 file
failed at its first call ("Convolution node ... is not initialized") or answered with an empty output (batch 0).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from ..cpu import arm64_half_precision
from ..errors import BackendError, BundleError, InputError
from ..quiet_import import import_quietly

ov = import_quietly("openvino")
HINTS = {"latency": "LATENCY", "throughput": "THROUGHPUT"}


def low_precision_runs_here() -> bool:
    """Whether OpenVINO's low-precision (int8) transformations can run on this CPU: everywhere but on an aarch64 Linux
    CPU known to lack half-precision arithmetic (see the module docstring)."""
    return arm64_half_precision() is not False


def _said(exc: Exception) -> str:
    """OpenVINO's message on one line, cut to a readable length."""
    return " ".join(str(exc).split())[:300]


class OpenVinoBackend:
    """Runs an .onnx file on OpenVINO's CPU device."""

    def __init__(self, model_path: Path, threads: int, hint: str = "latency") -> None:
        if hint not in HINTS:
            raise BackendError(f"unknown OpenVINO hint {hint!r}", f"use one of {sorted(HINTS)}")
        core = ov.Core()
        try:
            model = core.read_model(str(model_path))
        except RuntimeError as exc:
            raise BundleError(f"OpenVINO cannot read {model_path} ({_said(exc)})",
                              "the file is truncated or not a model; copy or export it again") from exc
        properties: Dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": HINTS[hint], "INFERENCE_PRECISION_HINT": "f32"}
        if not low_precision_runs_here():
            properties["LP_TRANSFORMS_MODE"] = False
        try:
            self.compiled = core.compile_model(model, "CPU", properties)
        except RuntimeError as exc:
            raise BackendError(f"OpenVINO cannot compile {model_path} for this CPU ({_said(exc)})",
                               "run the bundle with backend='onnxruntime'") from exc
        self.version = ov.get_version().split("-")[0]
        self.input_names: List[str] = [p.get_any_name() for p in self.compiled.inputs]
        self.output_names: List[str] = [p.get_any_name() for p in self.compiled.outputs]
        count = self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") if hint == "throughput" else 1
        self.requests = [self.compiled.create_infer_request() for _ in range(count)]
        self.lock = threading.Lock()  # one call at a time owns the requests: a Predictor may be shared by threads

    def run(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """The outputs for `feeds`: one request, or the batch (axis 0 of every input and output) split across the
        throughput hint's requests, run together, joined in order."""
        missing = [n for n in self.input_names if n not in feeds]
        if missing:
            raise InputError(f"OpenVINO needs inputs {missing}", "give every input the model was exported with")
        batch = len(feeds[self.input_names[0]])
        parts = max(1, min(len(self.requests), batch))
        bounds = np.linspace(0, batch, parts + 1).astype(int)
        with self.lock:
            started = []
            try:
                for request, low, high in zip(self.requests, bounds[:-1], bounds[1:]):
                    request.start_async({n: np.ascontiguousarray(feeds[n][low:high]) for n in self.input_names})
                    started.append(request)
            except RuntimeError as exc:
                raise InputError(f"OpenVINO refused the inputs ({_said(exc)})",
                                 "give every input the shape the model was exported for (see the manifest's inputs)") from exc
            finally:
                failed = []
                for request in started:
                    try:
                        request.wait()
                    except RuntimeError as exc:
                        failed.append(exc)
            if failed:
                raise BackendError(f"OpenVINO failed while running the model ({_said(failed[0])})",
                                   "check the bundle with `paddle-edge parity`, or run it with backend='onnxruntime'") from failed[0]
            outputs = []  # copied out once, while the lock is held: the next call reuses the requests' buffers
            for i in range(len(self.output_names)):
                views = [r.get_output_tensor(i).data for r in self.requests[:parts]]
                outputs.append(np.concatenate(views) if len(views) > 1 else views[0].copy())
        if batch and all(not len(o) for o in outputs):  # every output empty: no answer (one empty output may be "none found")
            raise BackendError(f"OpenVINO answered a batch of {batch} with empty outputs on this CPU",
                               "run the bundle with backend='onnxruntime', and check it here with `paddle-edge board parity`")
        return outputs


class OpenVinoThroughputBackend(OpenVinoBackend):
    """OpenVINO compiled for throughput: each batch split across its parallel requests."""

    def __init__(self, model_path: Path, threads: int) -> None:
        super().__init__(model_path, threads, hint="throughput")
