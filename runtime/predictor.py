"""The predictor users hold: checks inputs against the manifest, runs a backend, maps outputs to labels."""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .backends import Backend
from .batching import predict_all
from .errors import InputError
from .manifest import Manifest, TensorSpec
from .db_boxes import TextBox
from .preprocess import ImageLike, image_to_input, images_to_batch, is_nhwc_of, normalize, to_layout
from .tasks import boxes_of, labels_of, texts_of

Batch = Union[np.ndarray, Dict[str, np.ndarray]]
MAX_ACCEPTED = 256  # remembered input signatures per predictor
MAX_BATCH = 1024  # larger batches run in slices of this size


def _check(spec: TensorSpec, x: np.ndarray, images: bool) -> None:
    """Raise naming the input, the dimension, what was expected and what came, and the call that fixes it."""
    if not isinstance(x, np.ndarray):
        raise InputError(f"input {spec.name!r} is a {type(x).__name__}, not a numpy array", "pass np.asarray(batch, dtype=np.float32)")
    if x.dtype != spec.dtype:
        if x.dtype.kind in "biu" and np.dtype(spec.dtype).kind == "f":
            # raw pixels or features: a cast alone would run unnormalised values and give plausible, wrong answers
            raise InputError(f"input {spec.name!r} has dtype {x.dtype} (raw {'pixels' if images else 'values'}?); the model "
                             f"takes normalised {spec.dtype}",
                             "pass predictor.preprocess(raw), which applies the manifest's scale and offset"
                             + (", or give the images to predictor.classify()" if images else ""))
        raise InputError(f"input {spec.name!r} has dtype {x.dtype}, the model takes {spec.dtype}", f"pass batch.astype(np.{spec.dtype})")
    if x.ndim != len(spec.shape):
        raise InputError(f"input {spec.name!r} has rank {x.ndim} (shape {x.shape}), the model takes rank {len(spec.shape)} {list(spec.shape)}",
                         "add or remove the batch/channel axis")
    if is_nhwc_of(spec, x.shape):
        raise InputError(f"input {spec.name!r} has shape {x.shape}, channels last (NHWC); the model takes channels first "
                         f"(NCHW) {list(spec.shape)}", "pass batch.transpose(0, 3, 1, 2)")
    for axis, (want, got) in enumerate(zip(spec.shape, x.shape)):
        if want != -1 and want != got:
            what = "channel count" if spec.layout == "NCHW" and axis == 1 else f"dim {axis}"
            raise InputError(f"input {spec.name!r} has {what} {got}, the model takes {want} (shape {list(spec.shape)}, -1 is any)",
                             "resize or convert the input to the model's shape")
    if x.shape[0] == 0:
        raise InputError(f"input {spec.name!r} is an empty batch", "pass at least one sample")


def _non_finite(name: str, x: np.ndarray) -> InputError:
    bad = ~np.isfinite(x)
    return InputError(f"input {name!r} holds {int(np.count_nonzero(bad))} NaN or infinite values "
                      f"(first at index {tuple(int(i) for i in np.argwhere(bad)[0])})", "clean the input (np.nan_to_num) or drop those samples")


class Predictor:
    """A loaded bundle artifact on one backend."""

    def __init__(self, manifest: Manifest, backend: Backend, backend_name: str, precision: str, artifact: str = "",
                 chosen_by: str = "named by the caller", threads: int = 1) -> None:
        self.manifest = manifest
        self.threads = threads
        self.chosen_by = chosen_by  # why this backend and precision: a tuning on this machine, the default rule, or the caller
        self.artifact = artifact  # the manifest's name of the file this predictor runs
        self.backend = backend
        self.backend_name = backend_name
        self.precision = precision
        self._specs = {s.name: s for s in manifest.inputs}
        self._names = [s.name for s in manifest.inputs]
        self._name_set = frozenset(self._names)
        self._dtypes = [(s.name, np.dtype(s.dtype)) for s in manifest.inputs]
        self._run = backend.run
        self._single = self._dtypes[0] if len(self._dtypes) == 1 else None
        self._images = manifest.preprocess.image is not None
        # the last accepted shape, checked first; None until one is accepted (a 0-d array has shape ())
        self._last: Tuple[Optional[Tuple[int, ...]], np.ndarray] = (None, np.zeros(0))
        # (name, shape) already checked -> zeros for the NaN scan (empty for integer inputs): a serving loop pays the
        # shape checks once per shape, not once per call.
        self._accepted: Dict[Tuple[str, Tuple[int, ...]], np.ndarray] = {}

    def preprocess(self, raw: np.ndarray) -> np.ndarray:
        """Raw values to exactly what predict() takes: float32, x * scale + offset as the manifest says.

        For a single-input image model, a pixel batch (values 0..255) N x H x W gets its channel axis and N x H x W x C
        becomes N x C x H x W; pixels are not resized, colour-converted or inverted (classify() does all that from image
        files). Table rows (N x features) are only normalised."""
        if self._images and len(self.manifest.inputs) == 1:
            raw = to_layout(raw, self.manifest.inputs[0])
        return normalize(raw, self.manifest.preprocess)

    def predict(self, batch: Batch) -> List[np.ndarray]:
        """Run normalised inputs (one array for a single-input model, else a dict by input name); return the outputs."""
        if self._single is not None and type(batch) is dict and len(batch) == 1 and self._single[0] in batch:
            batch = batch[self._single[0]]
        if type(batch) is np.ndarray and self._single is not None:  # the serving loop's case, kept short
            name, dtype = self._single
            shape = batch.shape
            if shape == self._last[0] and batch.dtype is dtype:
                zeros = self._last[1]
            else:
                zeros = self._accepted.get((name, shape)) if batch.dtype is dtype else None
                zeros = self._accept(name, batch) if zeros is None else zeros
                self._last = (shape, zeros)
            if zeros.size and not math.isfinite(batch.ravel().dot(zeros)):
                raise _non_finite(name, batch)
            return self._run({name: batch}) if shape[0] <= MAX_BATCH else self._predict_in_chunks({name: batch})
        feeds = batch if isinstance(batch, dict) else {self._names[0]: batch}
        if feeds.keys() != self._name_set:
            raise InputError(f"model takes inputs {self._names}, got {sorted(feeds)}", "pass a dict with exactly those keys")
        for name, dtype in self._dtypes:
            x = feeds[name]
            zeros = self._accepted.get((name, x.shape)) if type(x) is np.ndarray and x.dtype is dtype else None
            if zeros is None:
                zeros = self._accept(name, x)
            # NaN and inf times 0 are NaN: one dot product finds any (an int8 model would hide them in plausible scores)
            if zeros.size and not math.isfinite(x.ravel().dot(zeros)):
                raise _non_finite(name, x)
        if x.shape[0] > MAX_BATCH:
            return self._predict_in_chunks(feeds)
        return self._run(feeds)

    def _accept(self, name: str, x: np.ndarray) -> np.ndarray:
        """Check an input signature seen for the first time; remember it with its zeros for the NaN scan."""
        _check(self._specs[name], x, self._images)
        zeros = np.zeros(x.size if x.dtype.kind == "f" else 0, x.dtype)
        if len(self._accepted) < MAX_ACCEPTED:
            self._accepted[(name, x.shape)] = zeros
        return zeros

    def _predict_in_chunks(self, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """A batch larger than MAX_BATCH runs in slices, so the engine's intermediate tensors stay bounded."""
        return predict_all(self._run, feeds, MAX_BATCH)

    def _require_task(self, task: str, call: str) -> None:
        if self.manifest.task != task:
            heads = {"classification": "classify", "text_recognition": "recognize", "text_detection": "detect"}
            have = heads.get(self.manifest.task)
            raise InputError(f"{call}() needs a {task} model; this bundle's model ({self.manifest.model}) is {self.manifest.task}",
                             f"call predictor.{have}()" if have else "call predictor.predict() with model inputs")

    def classify(self, images: Sequence[ImageLike]) -> List[Tuple[str, float]]:
        """Label and probability for each image (a softmax of the outputs, unless the model ends in one)."""
        self._require_task("classification", "classify")
        return labels_of(self.predict(images_to_batch(images, self.manifest.preprocess)), self.manifest)

    def recognize(self, images: Sequence[ImageLike]) -> List[Tuple[str, float]]:
        """Text and confidence of each text-line image, by greedy CTC decoding with the bundle's dictionary."""
        self._require_task("text_recognition", "recognize")
        return texts_of(self.predict(images_to_batch(images, self.manifest.preprocess)), self.manifest)

    def detect(self, image: ImageLike) -> List[TextBox]:
        """Text boxes (four corners in the image's own pixels, and a score) found in one image by DB post-processing."""
        self._require_task("text_detection", "detect")
        batch, size = image_to_input(image, self.manifest.preprocess)
        return boxes_of(self.predict(batch), self.manifest, size)
