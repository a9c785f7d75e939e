"""`paddle-edge compress --max-drop`: PaddleSlim PTQ, then keep the layers the debugger ranks most harmful in float
until int8 loses at most the allowed points of the task's metric on the user's validation images.

Every candidate is what would ship: PaddleSlim quantizes with the layers in its `skip_tensor_list` (so the other layers
keep PaddleSlim's own scales), export writes the int8 ONNX, and the candidate is scored on its exact int8 semantics
(onnxruntime, graph optimizations off) against the fp32 ONNX, on the validation images, never the test set. The chosen
int8 model's card records every trial; parity then measures the exported bundle on the user's test data.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from . import runtime
from .boards.quant_debug.debugger import debug_bundle
from .boards.quant_debug.graph import FLOAT
from .compress.accuracy_search import search_keep_float
from .compress.ptq import quantize_ptq
from .compress.recipe import PtqRecipe
from .compress.result import CompressResult
from .export.bundle import build_bundle
from .export.evaluation import LABEL_KINDS, evaluation_set, task_metric
from .runtime.errors import PaddleEdgeError
from .runtime.files import atomic_dir
from .source.labels import detect_kind, read_labelled
from .source.model import SourceModel, as_source

FORMATS = {"classification": "class folders or `path<TAB>label` lines", "text_recognition": "`path<TAB>text` lines",
           "text_detection": "`path<TAB>[{\"transcription\": ..., \"points\": [[x, y], ...]}]` lines"}
DEBUG_SAMPLES = 32  # validation samples the ranking is measured on


def _labelled(model: SourceModel, data: Path, metric: str) -> None:
    """Refuse validation data that cannot give `metric` (unlabelled images) before any quantization runs."""
    unlabelled_folder = Path(data).is_dir() and detect_kind(Path(data)) == "unlabelled"
    if unlabelled_folder or read_labelled(Path(data), LABEL_KINDS[model.task]).labels is None:
        raise PaddleEdgeError(f"{data} has no labels, so {metric} cannot be measured on it",
                              f"give labelled validation images: {FORMATS[model.task]}")


def _ranked_weights(bundle_dir: Path, data: Path) -> List[str]:
    """The Paddle weights of the int8 ops and quantizers, worst first by the error each adds on its own."""
    bundle = runtime.load_bundle(bundle_dir)
    report = debug_bundle(bundle, evaluation_set(bundle.manifest, data, DEBUG_SAMPLES, None))
    rows = [r for r in report.ranked if r.weight and r.precision != FLOAT and r.local_sqnr_db is not None]
    return list(dict.fromkeys(r.weight for r in rows))


def quantize_with_accuracy_control(model: Union[Path, SourceModel], out_dir: Path, recipe: PtqRecipe, calibration: Path,
                                   data: Path, max_drop: float, metric: Optional[str] = None) -> CompressResult:
    """PTQ whose exact int8 model loses at most `max_drop` points of the task metric on `data` (labelled validation
    images), keeping the fewest of the debugger's worst-ranked layers in float; written to `out_dir` all at once."""
    model = as_source(model)
    metric = task_metric(model.task, metric)
    _labelled(model, data, metric)
    if max_drop < 0:
        raise PaddleEdgeError(f"--max-drop {max_drop} asks int8 to beat float", "give a drop of 0 points or more")
    with tempfile.TemporaryDirectory(prefix="accuracy-control-", dir=Path(out_dir).parent) as work:
        scores: Dict[Tuple[str, ...], Tuple[Path, Dict[str, float]]] = {}

        def measure(keep: Tuple[str, ...]) -> float:
            trial = Path(work) / f"trial-{len(scores)}"
            quantize_ptq(model, trial / "int8", dataclasses.replace(recipe, keep_float=keep), calibration=calibration)
            bundle = build_bundle(model, trial / "bundle", int8_dir=trial / "int8", targets=("onnx",),
                                  include_reference=False, data=data).manifest
            scores[keep] = (trial, {name: bundle.accuracy[name][metric] for name in ("onnx-fp32", "onnx-int8")})
            return scores[keep][1]["onnx-int8"]

        plain = measure(())
        float_score = scores[()][1]["onnx-fp32"]
        print(f"{metric} on {data}: fp32 {100 * float_score:.2f} %, int8 {100 * plain:.2f} % with every layer quantized", flush=True)
        ranked = [] if (float_score - plain) * 100 <= max_drop else _ranked_weights(scores[()][0] / "bundle", data)
        best, trials = search_keep_float(ranked, lambda keep: plain if not keep else measure(keep), float_score, max_drop)
        chosen = scores[best.keep_float][0] / "int8"
        card = as_source(chosen).card
        control = {"metric": metric, "max_drop_points": max_drop, "validation": str(data), "float_score": float_score,
                   "engine": "onnxruntime, graph optimizations off (exact int8 semantics of the exported file)",
                   "ranked_by": "paddle-edge quant-debug: local SQNR, worst first", "ranked": ranked,
                   "trials": [dataclasses.asdict(t) for t in trials]}
        card = dataclasses.replace(card, quantization={**card.quantization, "accuracy_control": control})
        card.save(chosen)
        with atomic_dir(Path(out_dir)) as tmp:
            shutil.copytree(chosen, tmp, dirs_exist_ok=True)
    return CompressResult(Path(out_dir), card)
