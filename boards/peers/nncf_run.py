"""NNCF's accuracy control on a float bundle's fp32 ONNX, with the user's images and paddle-edge's scorer and engine.

`quantize_with_nncf` runs NNCF's `quantize_with_accuracy_control` on a float bundle's fp32 ONNX, calibrated on the
user's calibration images and judged on their labelled validation images, both through the manifest's preprocessing
and scored by `Validation` (parity's scorer on paddle-edge's own engine). What NNCF 3.4.0 needs on paddle2onnx's
graphs is done here: weight Constants become initializers first (see onnx_graphs), and NNCF's usage telemetry, which
it sends through openvino-telemetry assuming consent where no consent file exists, is switched off through
environment variables before nncf is imported.
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import onnx

from ...export.evaluation import evaluation_set, task_metric
from ...runtime import load_bundle
from ...runtime.bundle import Bundle
from ...runtime.errors import PaddleEdgeError
from ...runtime.files import atomic_file
from ...runtime.preprocess import images_to_batch
from ...runtime.quiet_import import import_quietly
from ...source.calibration import calibration_images
from .onnx_graphs import FloatOp, float_compute_ops, weights_as_initializers
from .validation import EXACT, Validation

NNCF_PIN = "3.4.0"  # the version whose behaviour on paddle2onnx graphs these modules' docstrings describe


@dataclasses.dataclass(frozen=True)
class NncfSettings:
    """What NNCF is asked for besides the drop: its preset, overflow fix (7-bit weights where int8 could overflow) and
    calibration subset size (None: every calibration image; NNCF also ranks quantizers on that many validation samples)."""

    preset: str = "performance"
    overflow_fix: str = "first_layer_only"
    subset_size: Optional[int] = None

    PRESETS = ("performance", "mixed")
    OVERFLOW_FIXES = ("first_layer_only", "enable", "disable")

    def check(self) -> None:
        """Refuse a preset, overflow fix or subset size NNCF does not take, before anything runs."""
        if self.preset not in self.PRESETS:
            raise PaddleEdgeError(f"unknown NNCF preset {self.preset!r}", f"use one of {', '.join(self.PRESETS)}")
        if self.overflow_fix not in self.OVERFLOW_FIXES:
            raise PaddleEdgeError(f"unknown NNCF overflow fix {self.overflow_fix!r}", f"use one of {', '.join(self.OVERFLOW_FIXES)}")
        if self.subset_size is not None and self.subset_size < 1:
            raise PaddleEdgeError(f"subset size {self.subset_size} is not a number of samples", "give 1 or more, or leave it out")


@dataclasses.dataclass(frozen=True)
class NncfRun:
    """What NNCF's accuracy control did: its settings, its time, the int8 ONNX it wrote, the compute ops it left in
    float, and its validation score against the float model's."""

    onnx: Path
    settings: Dict[str, Any]
    seconds: float
    validation: Dict[str, Any]
    compute_ops: int
    float_ops: Tuple[FloatOp, ...]
    float_score: float
    score: float

    @property
    def drop_points(self) -> float:
        return round((self.float_score - self.score) * 100, 9)

    def to_dict(self) -> Dict[str, Any]:
        return {"onnx": str(self.onnx), "settings": self.settings, "seconds": self.seconds, "validation": self.validation,
                "compute_ops": self.compute_ops, "float_ops": [dataclasses.asdict(op) for op in self.float_ops],
                "float_score": self.float_score, "score": self.score, "drop_points": self.drop_points}


def _import_nncf() -> Any:
    """nncf, imported with its telemetry off: NNCF_CI gives nncf its telemetry stub, and openvino-telemetry's CI switch
    during the import keeps it from writing a client id into the home directory while nncf sets up the real one it replaces."""
    os.environ["NNCF_CI"] = "1"
    try:
        return import_quietly("nncf")
    except ImportError as exc:
        raise PaddleEdgeError(f"NNCF is not installed here ({exc})", f"pip install 'paddle-edge[peers]' (nncf=={NNCF_PIN})") from None


def load_float_bundle(path: Path) -> Bundle:
    """The float bundle at `path`, refused unless it holds an onnx-fp32 model."""
    bundle = load_bundle(Path(path))
    if "onnx-fp32" not in bundle.manifest.artifacts:
        raise PaddleEdgeError(f"{path} has no onnx-fp32 model", "export the float model with --target onnx")
    return bundle


def quantize_with_nncf(float_bundle: Path, calibration: Path, data: Path, max_drop: float, out: Path,
                       metric: Optional[str] = None, settings: NncfSettings = NncfSettings(), limit: Optional[int] = None,
                       threads: int = 2) -> NncfRun:
    """NNCF's `quantize_with_accuracy_control` on the bundle's fp32 ONNX: calibrated on `calibration` (images), at most
    `max_drop` points of the task metric lost on `data` (labelled validation images), scored as paddle-edge scores its
    own candidates; the int8 ONNX is written to `out`."""
    bundle = load_float_bundle(float_bundle)
    manifest = bundle.manifest
    metric = task_metric(manifest.task, metric)
    settings.check()
    if max_drop < 0:
        raise PaddleEdgeError(f"--max-drop {max_drop} asks int8 to beat float", "give a drop of 0 points or more")
    evaluation = evaluation_set(manifest, data, limit, None)
    name = manifest.inputs[0].name
    images = calibration_images(calibration)
    if not images:
        raise PaddleEdgeError(f"{calibration} holds no images to calibrate on", "give a folder or list of images, e.g. 32 of them")
    calibration_items = [{name: images_to_batch([image], manifest.preprocess)} for image in images]
    subset_size = settings.subset_size or len(calibration_items)
    nncf = _import_nncf()
    from nncf.quantization.advanced_parameters import (AdvancedAccuracyRestorerParameters,
                                                       AdvancedQuantizationParameters, OverflowFix)

    float_model = onnx.load(str(bundle.path_of("onnx-fp32")))
    prepared, moved = weights_as_initializers(float_model)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nncf-peer-", dir=out.parent) as work:
        validation = Validation(manifest, evaluation, metric, Path(work), threads)
        float_score = validation.score(prepared)  # also shows a broken validation before NNCF hides it (it falls back to output errors)
        print(f"NNCF {nncf.__version__} accuracy control: {metric} on {evaluation.description}: fp32 {100 * float_score:.2f} %, "
              f"max drop {max_drop} points; calibration on {len(calibration_items)} images", flush=True)
        start = time.perf_counter()
        try:
            int8 = nncf.quantize_with_accuracy_control(
                prepared, nncf.Dataset(calibration_items), nncf.Dataset(validation.items), validation,
                max_drop=max_drop / 100, drop_type=nncf.DropType.ABSOLUTE,
                preset=nncf.QuantizationPreset(settings.preset), subset_size=subset_size,
                advanced_quantization_parameters=AdvancedQuantizationParameters(overflow_fix=OverflowFix(settings.overflow_fix)),
                advanced_accuracy_restorer_parameters=AdvancedAccuracyRestorerParameters(num_ranking_workers=1))
        except Exception as exc:  # nncf raises its own error types and whatever its backends raise
            raise PaddleEdgeError(f"NNCF {nncf.__version__} failed: {type(exc).__name__}: {str(exc)[:500]}",
                                  f"check the float model and data; NNCF is tested here at {NNCF_PIN}") from exc
        seconds = time.perf_counter() - start
        spent = {"calls": validation.calls, "items": validation.seen, "seconds": round(validation.seconds, 3)}
        score = validation.score(int8)
    with atomic_file(out) as tmp:
        onnx.save(int8, str(tmp))
    compute_ops, float_ops = float_compute_ops(float_model, int8)
    return NncfRun(
        out, {"nncf": nncf.__version__, "api": "nncf.quantize_with_accuracy_control (ONNX backend)", "preset": settings.preset,
              "overflow_fix": settings.overflow_fix, "subset_size": subset_size, "ranking_subset_size": subset_size,
              "calibration": f"{len(calibration_items)} images of {calibration}, one per item",
              "max_drop_points": max_drop, "drop_type": "absolute", "metric": metric, "target_device": "ANY",
              "fast_bias_correction": True, "num_ranking_workers": 1, "restore_mode": "activations_and_weights",
              "tune_hyperparams": False, "weight_constants_moved_to_initializers": moved},
        round(seconds, 3), {"data": evaluation.description, "samples": evaluation.samples, "engine": EXACT, **spent},
        compute_ops, float_ops, float_score, score)
