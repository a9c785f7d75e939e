"""`paddle-edge compress --max-drop`: PaddleSlim PTQ with the recipe's calibration, then PaddleSlim's other calibration
algorithms, then the layers the debugger ranks most harmful kept in float, until int8 loses at most the allowed points
of the task's metric on the user's validation images (or, with `--metric cosine`, of its outputs' cosine similarity with
float's, on images without labels).

Every candidate is what would ship: PaddleSlim quantizes with the layers in its `skip_tensor_list` (so the other layers
keep PaddleSlim's own scales), export writes the int8 ONNX, and the candidate is scored on its exact int8 semantics
(onnxruntime, graph optimizations off) against the fp32 ONNX, on the validation images, never the test set. Each
trial's drop carries its 95 % interval, a paired bootstrap over the validation samples (export/drop_interval.py), and
the card says whether the chosen file is within the limit across it: where not, the validation set is too small to
tell. The chosen int8 model's card records every trial; parity then measures the exported bundle on the user's test data.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import onnxruntime as ort

from . import runtime
from .boards.quant_debug.debugger import debug_bundle
from .boards.quant_debug.graph import FLOAT
from .boards.latency import latency_against
from .compress.accuracy_search import AccuracySearch
from .compress.ptq import quantize_ptq
from .compress.recipe import CALIBRATION_ORDER, PtqRecipe
from .compress.result import CompressResult
from .export.bundle import build_bundle
from .export.artifact_engines import artifact_runner
from .export.drop_interval import cosine_counts, drop_interval, metric_of, resolution_text, sample_counts
from .export.evaluation import (COSINE, LABEL_KINDS, EvaluationSet, Outputs, evaluation_set, first_samples, run_groups,
                                task_metric)
from .runtime.cpu import cpu_info
from .runtime.errors import PaddleEdgeError
from .runtime.files import atomic_dir
from .source.labels import detect_kind, read_labelled
from .source.model import SourceModel, as_source

FORMATS = {"classification": "class folders or `path<TAB>label` lines", "text_recognition": "`path<TAB>text` lines",
           "text_detection": "`path<TAB>[{\"transcription\": ..., \"points\": [[x, y], ...]}]` lines"}
DEBUG_SAMPLES = 32  # validation samples the ranking is measured on
LATENCY_SAMPLES = 8  # validation samples the chosen int8 file is timed on against fp32


def _labelled(model: SourceModel, data: Path, metric: str) -> None:
    """Refuse validation data that cannot give `metric` before any quantization runs: unlabelled images, or text
    detection labels without a box to find (none, or all don't-care "###"), where F1 would be 0 for float and int8
    alike and any drop would look met."""
    unlabelled_folder = Path(data).is_dir() and detect_kind(Path(data)) == "unlabelled"
    labels = None if unlabelled_folder else read_labelled(Path(data), LABEL_KINDS[model.task]).labels
    if labels is None:
        raise PaddleEdgeError(f"{data} has no labels, so {metric} cannot be measured on it",
                              f"give labelled validation images: {FORMATS[model.task]}")
    if model.task == "text_detection" and not any(not region.ignore for regions in labels for region in regions):
        raise PaddleEdgeError(f"{data} labels no text box to find (every image's list is empty or \"###\"), so {metric} "
                              "cannot be measured on it", "give validation images whose labels have the boxes of their text")


def _float_scores(float_score: float, metric: str, data: Path) -> None:
    """A float model scoring 0 on the validation data leaves int8 nothing to lose: any drop would look met."""
    if float_score <= 0:
        raise PaddleEdgeError(f"the float model scores {metric} = 0 on {data}, so no int8 drop can be measured against it",
                              "check that the labels are the model's own (its label list or dictionary, its task) and that "
                              "the images are what it reads")


class Validation:
    """The user's validation images, scored for one metric: the fp32 file's outputs run once (every trial exports the
    same fp32 ONNX), each trial's int8 file on its exact semantics (onnxruntime, graph optimizations off), and how sure
    the drop is (export/drop_interval.py)."""

    def __init__(self, data: Path, metric: str) -> None:
        self.data, self.metric = Path(data), metric
        self.evaluation: Optional[EvaluationSet] = None
        self.fp32: Outputs = []  # kept for cosine only; a task metric keeps fp32's score and per-sample counts
        self.fp32_score = 1.0
        self.fp32_counts: Optional[np.ndarray] = None

    def score(self, bundle_dir: Path) -> Tuple[float, float, Tuple[float, float]]:
        """(fp32's score, int8's score, the drop's 95 % interval in points) of a bundle's two ONNX files."""
        bundle = runtime.load_bundle(bundle_dir)
        manifest = bundle.manifest
        if self.evaluation is None:  # all set at the end: a failed first score leaves nothing half-made
            evaluation = evaluation_set(manifest, self.data, None, None)
            fp32 = run_groups(artifact_runner(bundle, "onnx-fp32"), evaluation)
            counts = None if self.metric == COSINE else sample_counts(fp32, manifest, evaluation, self.metric)
            self.fp32 = fp32 if counts is None else []
            self.fp32_counts, self.fp32_score = counts, 1.0 if counts is None else float(metric_of(counts, self.metric))
            self.evaluation = evaluation
        _float_scores(self.fp32_score, self.metric, self.data)
        int8 = run_groups(artifact_runner(bundle, "onnx-int8"), self.evaluation)
        if self.metric == COSINE:
            fp32_counts, int8_counts = cosine_counts(int8, self.fp32)
        else:
            fp32_counts, int8_counts = self.fp32_counts, sample_counts(int8, manifest, self.evaluation, self.metric)
        return (self.fp32_score, float(metric_of(int8_counts, self.metric)),
                drop_interval(fp32_counts, int8_counts, self.metric))


def output_cosine(bundle_dir: Path, data: Path) -> float:
    """The cosine similarity of the int8 file's exact outputs (onnxruntime, graph optimizations off) with the fp32 file's,
    over every value they give for `data`'s images: the metric of `--metric cosine`, which needs no labels."""
    return Validation(data, COSINE).score(bundle_dir)[1]


def _ranked_weights(bundle_dir: Path, data: Path) -> List[str]:
    """The Paddle weights of the int8 ops and quantizers, worst first as the debugger ranks them (measured gain of float
    inputs, then the error each adds on its own)."""
    bundle = runtime.load_bundle(bundle_dir)
    report = debug_bundle(bundle, evaluation_set(bundle.manifest, data, DEBUG_SAMPLES, None))
    rows = [r for r in report.ranked if r.weight and r.precision != FLOAT and r.local_sqnr_db is not None]
    return list(dict.fromkeys(r.weight for r in rows))


def _latency(bundle_dir: Path, data: Path, threads: int = 2) -> Dict[str, Any]:
    """An int8 file against fp32 in onnxruntime on this CPU (the file the thin runtime opens here, fused kernels), on
    the first validation images: reported for the chosen file; the speed rule reads it for float-layer candidates."""
    bundle = runtime.load_bundle(bundle_dir)
    int8, fp32 = (runtime.open(bundle, "onnxruntime", precision, threads) for precision in ("int8", "fp32"))
    feeds = first_samples(evaluation_set(bundle.manifest, data, LATENCY_SAMPLES, None), LATENCY_SAMPLES, 1).groups[0]
    return {"engine": f"onnxruntime {ort.__version__}, default optimizations", "artifact": int8.artifact, "threads": threads,
            "cpu": cpu_info()["label"], "input_shape": {k: list(x.shape) for k, x in feeds.items()},
            **latency_against(int8.predict, fp32.predict, feeds, calls=30, warmup=5)}


def quantize_with_accuracy_control(model: Union[Path, SourceModel], out_dir: Path, recipe: PtqRecipe, calibration: Path,
                                   data: Path, max_drop: float, metric: Optional[str] = None,
                                   algos: Sequence[str] = CALIBRATION_ORDER, allow_slower: bool = False,
                                   fold_quantizers: bool = False, within_interval: bool = False) -> CompressResult:
    """PTQ whose exact int8 model loses at most `max_drop` points of the task metric on `data` (labelled validation
    images): the recipe's calibration, then each of `algos`, then the fewest of the debugger's worst-ranked layers in
    float on the best of them, stopping where float layers would make int8 slower than fp32 on this CPU (unless
    `allow_slower`); written to `out_dir` all at once. With `fold_quantizers` every candidate is scored and timed as
    `export --fold-quantizers` writes it, and its card says so, so that `export` ships that file. With
    `within_interval` the limit holds for the upper end of each drop's 95 % interval, not only the measured drop."""
    model = as_source(model)
    metric = task_metric(model.task, metric)
    if metric != COSINE:
        _labelled(model, data, metric)
    if max_drop < 0:
        raise PaddleEdgeError(f"--max-drop {max_drop} asks int8 to beat float", "give a drop of 0 points or more")
    candidates = list(dict.fromkeys([recipe.algo, *algos]))
    recipes = {algo: dataclasses.replace(recipe, algo=algo) for algo in candidates}  # an unknown one is refused here
    Path(out_dir).parent.mkdir(parents=True, exist_ok=True)  # the trials are made beside it, to move the chosen one in
    with tempfile.TemporaryDirectory(prefix="accuracy-control-", dir=Path(out_dir).parent) as work:
        trials: Dict[Tuple[str, Tuple[str, ...]], Path] = {}

        validation = Validation(data, metric)

        def measure(algo: str, keep: Tuple[str, ...]) -> Tuple[float, float, Tuple[float, float]]:
            trial = trials[algo, keep] = Path(work) / f"trial-{len(trials)}"
            quantize_ptq(model, trial / "int8", dataclasses.replace(recipes[algo], keep_float=keep), calibration=calibration)
            built = build_bundle(model, trial / "bundle", int8_dir=trial / "int8", targets=("onnx",), include_reference=False,
                                 fold_quantizers=fold_quantizers)
            return validation.score(built.directory)

        timed: Dict[Path, Dict[str, Any]] = {}  # trial -> its timing, which the chosen one reuses

        def speed(algo: str, keep: Tuple[str, ...]) -> Tuple[float, float, float]:
            latency = timed[trials[algo, keep]] = _latency(trials[algo, keep] / "bundle", data)
            ratio = latency["vs_fp32"]
            return ratio["value"], ratio["interval"][0], ratio["interval"][1]

        search = AccuracySearch(measure, max_drop, None if allow_slower else speed, within_interval)
        calibrated = search.calibration(candidates)
        ranked = [] if search.met(calibrated) else _ranked_weights(trials[calibrated.algo, ()] / "bundle", data)
        best = search.keep_float(calibrated, ranked)
        chosen = trials[best.algo, best.keep_float]
        card = as_source(chosen / "int8").card
        samples = validation.evaluation.samples if validation.evaluation else 0
        sure = search.sure(best)
        print(f"  kept: {best.algo} calibration, {len(best.keep_float)} in float, drop {best.drop_points:.2f} points "
              f"{resolution_text(best.drop_interval, samples)}: "
              + ("within the limit across it" if sure else f"reaching past the limit {max_drop:g}, so {samples} validation "
                 "samples cannot tell whether it keeps to it; validate on more images to be sure"), flush=True)
        control = {"metric": metric, "max_drop_points": max_drop, "validation": str(data), "float_score": search.float_score,
                   "limit_held_to": "the upper end of the drop's 95 % interval" if within_interval else "the measured drop",
                   "engine": "onnxruntime, graph optimizations off (exact int8 semantics of the exported file)",
                   "calibrations": candidates, "calibration": best.algo,
                   "ranked_by": "paddle-edge quant-debug: measured gain of float inputs, then local SQNR, worst first",
                   "ranked": ranked, "trials": [dataclasses.asdict(t) for t in search.trials],
                   "speed_rule": search.speed_rule, "validation_samples": samples, "drop_interval": list(best.drop_interval),
                   "within_limit_across_interval": sure, "export": {"fold_quantizers": fold_quantizers},
                   "latency": timed.get(chosen) or _latency(chosen / "bundle", data)}
        card = dataclasses.replace(card, quantization={**card.quantization, "accuracy_control": control})
        card.save(chosen / "int8")
        with atomic_dir(Path(out_dir)) as tmp:
            shutil.copytree(chosen / "int8", tmp, dirs_exist_ok=True)
    return CompressResult(Path(out_dir), card)
