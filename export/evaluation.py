"""What parity runs every engine on, and how it scores and compares what they give back.

An evaluation set is groups of model inputs and the truth they are scored against: the test split of a dataset
paddle-edge trained on (one group); the user's own labelled images in their ecosystem's format, preprocessed as the
manifest says (a few hundred images per group for a fixed-size classifier, a few text lines per group for a recogniser,
one image per group for a detector, whose images keep their own sizes; every group is held in memory, so a parity set is
hundreds of images, not a whole archive); or seeded random inputs for a model with neither.
Every engine gets the same groups, so every difference is the engine's.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..runtime import ocr_metrics
from ..runtime.errors import PaddleEdgeError
from ..runtime.manifest import Manifest, TensorSpec
from ..runtime.metrics import score
from ..runtime.preprocess import image_to_input, images_to_batch
from ..runtime.tasks import boxes_of, labels_of, texts_of
from ..source.labels import detect_kind, read_labelled
from ..train.datasets import load_dataset

Feeds = Dict[str, np.ndarray]
Outputs = List[List[np.ndarray]]  # per group, per model output
LABEL_KINDS = {"classification": "classification", "text_recognition": "recognition", "text_detection": "detection"}
LINES_PER_GROUP = 8  # text lines per recogniser batch, each padded to its widest line as the runtime pads a call
IMAGES_PER_GROUP = 256  # a fixed-size classifier's images per batch
TASK_METRICS = {"classification": "top1", "text_recognition": "char_acc", "text_detection": "f1"}  # what accuracy control holds a task to
COSINE = "cosine"  # or any task: int8's outputs against fp32's, as a score in [-1, 1] (its drop in points: 100 x (1 - cosine))
IDENTICAL_SQNR_DB = 999.0  # what a check sees for identical outputs (no noise: the SQNR is infinite); reports say "exact"


@dataclasses.dataclass(frozen=True)
class EvaluationSet:
    """Groups of model inputs, the truth to score them on (None: unlabelled), what each group's image measured, and the
    image files the inputs were made from, in order (none for a dataset's arrays or random inputs)."""

    groups: Tuple[Feeds, ...]
    truth: Optional[Any]
    sizes: Tuple[Tuple[int, int], ...]
    samples: int
    description: str
    images: Tuple[Path, ...] = ()

    @property
    def single(self) -> Feeds:
        """All inputs as one feeds dict (a set of one group: a dataset's split or random inputs)."""
        if len(self.groups) != 1:
            raise PaddleEdgeError("these inputs come in groups of different shapes", "run them group by group")
        return self.groups[0]


def _image_set(manifest: Manifest, data: Path, limit: Optional[int]) -> EvaluationSet:
    """The user's images (labelled in their ecosystem's format, or a plain folder) through the manifest's preprocessing."""
    kind = LABEL_KINDS.get(manifest.task)
    if manifest.preprocess.image is None or kind is None:
        raise PaddleEdgeError(f"a {manifest.task} model without image preprocessing cannot be fed a folder of images",
                              "export it with its preprocessing (an inference.yml, or `--preprocess FILE`)")
    path = Path(data)
    if path.is_dir() and (kind != "classification" or detect_kind(path) == "unlabelled"):
        kind = "unlabelled"  # a plain folder: agreement with float, no accuracy
    labelled = read_labelled(path, kind)
    images = list(labelled.images[:limit])
    truth = labelled.labels[:limit] if labelled.labels is not None else None
    name = manifest.inputs[0].name
    what = f"{len(images):,} images of {path}" + ("" if truth is not None else " (unlabelled)")
    if manifest.task == "text_detection":
        pairs = [image_to_input(image, manifest.preprocess) for image in images]
        return EvaluationSet(tuple({name: x} for x, _ in pairs), truth, tuple(size for _, size in pairs), len(images), what, tuple(images))
    if manifest.task == "text_recognition":
        groups = tuple({name: images_to_batch(images[i:i + LINES_PER_GROUP], manifest.preprocess)}
                       for i in range(0, len(images), LINES_PER_GROUP))
        return EvaluationSet(groups, truth, (), len(images), what, tuple(images))
    if truth is not None:
        known = {label: i for i, label in enumerate(manifest.labels or ())}
        unknown = sorted({str(t) for t in truth} - set(known))
        if unknown:
            raise PaddleEdgeError(f"labels {unknown[:5]} of {path} are not among the model's {sorted(known)[:10]}",
                                  "label the images with the model's own class names (its label_list)")
        truth = np.array([known[str(t)] for t in truth], dtype=np.int64)
    groups = tuple({name: images_to_batch(images[i:i + IMAGES_PER_GROUP], manifest.preprocess)}
                   for i in range(0, len(images), IMAGES_PER_GROUP))
    return EvaluationSet(groups, truth, (), len(images), what, tuple(images))


def _example_shape(manifest: Manifest, spec: TensorSpec) -> List[int]:
    """`spec`'s shape with its open dims set to what the model's preprocessing makes of an image (PaddleOCR's
    classifier 48x192, recogniser 48x320, detector 736x736), else 1: a size to suggest for random inputs."""
    image = manifest.preprocess.image
    typical: Dict[int, int] = {}
    if image is not None and len(spec.shape) == 4:
        resize = image.resize
        side = -(-resize.side // resize.multiple) * resize.multiple if resize.multiple else resize.side  # a limited side, rounded up
        c, h, w = (3, 1, 2) if spec.layout == "NHWC" else (1, 2, 3)
        typical = {c: image.channels, h: resize.height or side, w: resize.width or side}
    return [(typical.get(axis) or 1) if d == -1 else d for axis, d in enumerate(spec.shape)]


def evaluation_set(manifest: Manifest, data: Optional[Path], limit: Optional[int],
                   shapes: Optional[Dict[str, Sequence[int]]]) -> EvaluationSet:
    """The test split for a model trained here (`data`: its files); the user's images at `data` for a model brought from
    elsewhere; else seeded random inputs of `shapes` (every dynamic dim given)."""
    dataset_name = manifest.source.get("dataset")
    if dataset_name:
        dataset = load_dataset(dataset_name, data)
        x, y = dataset.x_test[:limit], dataset.y_test[:limit]
        return EvaluationSet(({manifest.inputs[0].name: x},), y, (), len(x), f"{len(x):,} test samples of {dataset_name}")
    if data is not None:
        return _image_set(manifest, data, limit)
    rng = np.random.default_rng(0)
    feeds = {}
    for spec in manifest.inputs:
        shape = list((shapes or {}).get(spec.name, spec.shape))
        shape[0] = (limit or 64) if spec.shape[0] == -1 else shape[0]  # a dynamic batch dim is the run's, whatever was given
        if -1 in shape:
            example = "x".join(str(d) for d in _example_shape(manifest, spec))
            raise PaddleEdgeError(f"input {spec.name!r} has dynamic dims {list(spec.shape)} and no data was given",
                                  f"pass --data with your own images (a folder or label list), or --shape {spec.name}:{example} "
                                  "with real sizes for random inputs")
        feeds[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
    n = len(next(iter(feeds.values())))
    return EvaluationSet((feeds,), None, (), n, f"{n} seeded random inputs (no data given)")


def first_samples(evaluation: EvaluationSet, count: int, max_groups: int) -> EvaluationSet:
    """The first `count` inputs of an evaluation set, in at most `max_groups` of its groups (the last one cut), without
    their truth."""
    groups: List[Feeds] = []
    taken = 0
    for group in evaluation.groups:
        if taken >= count or len(groups) == max_groups:
            break
        rows = len(next(iter(group.values())))
        keep = min(rows, count - taken)
        groups.append({name: x[:keep] for name, x in group.items()})
        taken += keep
    return EvaluationSet(tuple(groups), None, evaluation.sizes[:len(groups)], taken,
                         f"the first {taken} of {evaluation.description}", evaluation.images[:taken])


def run_groups(run: Callable[[Feeds], List[np.ndarray]], evaluation: EvaluationSet) -> Outputs:
    """Every output of `run` for every group, in order."""
    return [run(group) for group in evaluation.groups]


def _joined(outputs: Outputs) -> List[np.ndarray]:
    """One array per model output over all groups (groups of one shape only), for row-wise scores."""
    return [np.concatenate(parts) for parts in zip(*outputs)]


def task_metric(task: str, metric: Optional[str]) -> str:
    """The metric accuracy control holds a `task` model to; `metric`, if given, must be that one or COSINE (any task's)."""
    if metric == COSINE:
        return COSINE
    default = TASK_METRICS.get(task)
    if default is None:
        raise PaddleEdgeError(f"--max-drop needs a task metric; a {task} model has none here",
                              "use it on a classifier, a text recogniser or a text detector")
    if metric not in (None, default):
        raise PaddleEdgeError(f"a {task} model is judged by {default} (or {COSINE}), not {metric}",
                              f"pass --metric {default} or {COSINE}, or leave it out")
    return default


def task_scores(outputs: Outputs, manifest: Manifest, evaluation: EvaluationSet) -> Dict[str, float]:
    """The task's own metric against the truth: top-1 or MSE; character accuracy and exact lines; box P/R/F1 at IoU 0.5."""
    if evaluation.truth is None:
        return {}
    if manifest.task == "text_recognition":
        texts = [text for group in outputs for text, _ in texts_of(group, manifest)]
        return ocr_metrics.recognition_scores(texts, list(evaluation.truth))
    if manifest.task == "text_detection":
        cared = cared_boxes(boxes(outputs, manifest, evaluation), evaluation)
        return ocr_metrics.detection_scores(cared, [[r.points for r in regions if not r.ignore] for regions in evaluation.truth])
    return score(_joined(outputs)[0], evaluation.truth, manifest.task)


def boxes(outputs: Outputs, manifest: Manifest, evaluation: EvaluationSet) -> List[List[np.ndarray]]:
    """Each image's text boxes (corner arrays) from a detector's outputs."""
    return [[box.points for box in boxes_of(group, manifest, size)] for group, size in zip(outputs, evaluation.sizes)]


def cared_boxes(found: List[List[np.ndarray]], evaluation: EvaluationSet) -> List[List[np.ndarray]]:
    """Each image's found boxes but those on its don't-care regions, which count neither way."""
    return [[box for box in image if not _ignored(box, regions)] for image, regions in zip(found, evaluation.truth)]


def _ignored(box: np.ndarray, regions: Sequence[Any], iou: float = 0.5) -> bool:
    """Whether a found box is on a don't-care region ("###"): as PaddleOCR's evaluator, it then counts neither way."""
    return any(r.ignore and ocr_metrics.polygon_iou(box, r.points) > iou for r in regions)


def _closeness(got: np.ndarray, ref: np.ndarray) -> Dict[str, Any]:
    """Largest absolute difference, cosine similarity and SQNR (dB; None where identical) of two flat arrays (two empty
    ones, an output no image gave a value in, are identical)."""
    if not got.size and not ref.size:
        return {"max_abs_diff": 0.0, "cosine": 1.0, "sqnr_db": None}
    noise = float(np.sum((got - ref) ** 2))
    norms = float(np.linalg.norm(got) * np.linalg.norm(ref))
    return {"max_abs_diff": float(np.max(np.abs(got - ref))), "cosine": float(got @ ref / norms) if norms else 1.0,
            "sqnr_db": 10 * math.log10(float(np.sum(ref ** 2)) / noise) if noise else None}


def _flat(outputs: Outputs, index: Optional[int] = None) -> np.ndarray:
    """Every value of the outputs, as float64, or of the output at `index` only."""
    return np.concatenate([x.astype(np.float64).ravel() for group in outputs
                           for i, x in enumerate(group) if index is None or i == index])


def compare(outputs: Outputs, reference: Outputs, manifest: Manifest, evaluation: EvaluationSet) -> Dict[str, Any]:
    """How far an engine's outputs are from the reference's: largest absolute difference, cosine similarity and SQNR
    (dB; None where identical) over every value, and of a model with several outputs also of each (`per_output`, by
    name); and whether the answers agree (top class, decoded text, boxes)."""
    found: Dict[str, Any] = _closeness(_flat(outputs), _flat(reference))
    if len(manifest.outputs) > 1:
        found["per_output"] = {spec.name: _closeness(_flat(outputs, i), _flat(reference, i)) for i, spec in enumerate(manifest.outputs)}
    if manifest.task == "classification":
        mine, theirs = (np.array([label for label, _ in labels_of(_joined(o), manifest)]) for o in (outputs, reference))
        found["argmax_agreement"] = float(np.mean(mine == theirs))
    elif manifest.task == "text_recognition":
        mine, theirs = ([t for g in o for t, _ in texts_of(g, manifest)] for o in (outputs, reference))
        found["text_agreement"] = float(np.mean([a == b for a, b in zip(mine, theirs)]))
    elif manifest.task == "text_detection":
        mine, theirs = boxes(outputs, manifest, evaluation), boxes(reference, manifest, evaluation)
        nothing = not any(map(len, mine)) and not any(map(len, theirs))  # both found no text: they agree
        scores = ocr_metrics.detection_scores(mine, theirs)  # a ratio with nothing to count is 1: no box found wrongly, or missed
        found.update({"box_precision_vs_float": scores["precision"] if scores["predicted"] else 1.0,
                      "box_recall_vs_float": scores["recall"] if scores["truth"] else 1.0,
                      "box_f1_vs_float": 1.0 if nothing else scores["f1"]})
    return found


def checked_values(found: Dict[str, Any], prefix: str, measures: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """compare()'s figures (those in `measures`, or all) as values a check judges, named `prefix` + figure: an exact
    match's SQNR as IDENTICAL_SQNR_DB; the per-output figures are reported, not judged."""
    return {f"{prefix}{k}": IDENTICAL_SQNR_DB if v is None else v for k, v in found.items()
            if k != "per_output" and (measures is None or k in measures)}
