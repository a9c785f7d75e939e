"""The predictor users hold: checks inputs against the manifest, runs a backend, maps outputs to labels."""
from __future__ import annotations

from typing import Dict, List, Sequence, Set, Tuple, Union

import numpy as np

from .backends import Backend
from .errors import InputError
from .manifest import Manifest, TensorSpec
from .preprocess import ImageLike, images_to_batch, normalize

Batch = Union[np.ndarray, Dict[str, np.ndarray]]
MAX_ACCEPTED = 256  # remembered input signatures per predictor


def _check(spec: TensorSpec, x: np.ndarray) -> None:
    """Raise naming the input, the dimension, what was expected and what came."""
    if not isinstance(x, np.ndarray):
        raise InputError(f"input {spec.name!r} is a {type(x).__name__}, not a numpy array", "pass np.asarray(batch, dtype=np.float32)")
    if x.dtype != spec.dtype:
        raise InputError(f"input {spec.name!r} has dtype {x.dtype}, the model takes {spec.dtype}", f"pass batch.astype(np.{spec.dtype})")
    if x.ndim != len(spec.shape):
        raise InputError(f"input {spec.name!r} has rank {x.ndim} (shape {x.shape}), the model takes rank {len(spec.shape)} {list(spec.shape)}",
                         "add or remove the batch/channel axis")
    for axis, (want, got) in enumerate(zip(spec.shape, x.shape)):
        if want != -1 and want != got:
            what = "channel count" if spec.layout == "NCHW" and axis == 1 else f"dim {axis}"
            raise InputError(f"input {spec.name!r} has {what} {got}, the model takes {want} (shape {list(spec.shape)}, -1 is any)",
                             "resize or convert the input to the model's shape")
    if x.shape[0] == 0:
        raise InputError(f"input {spec.name!r} is an empty batch", "pass at least one sample")


class Predictor:
    """A loaded bundle artifact on one backend."""

    def __init__(self, manifest: Manifest, backend: Backend, backend_name: str, precision: str) -> None:
        self.manifest = manifest
        self.backend = backend
        self.backend_name = backend_name
        self.precision = precision
        self._specs = manifest.inputs
        self._names = [s.name for s in manifest.inputs]
        self._name_set = frozenset(self._names)
        # (name, dtype, shape) already checked: a serving loop pays the checks once per shape, not once per call.
        self._accepted: Set[Tuple[str, np.dtype, Tuple[int, ...]]] = set()

    def preprocess(self, raw: np.ndarray) -> np.ndarray:
        """Raw values (pixels 0..255, table features) to normalised model input."""
        return normalize(raw, self.manifest.preprocess)

    def predict(self, batch: Batch) -> List[np.ndarray]:
        """Run normalised inputs (one array for a single-input model, else a dict by input name); return the outputs."""
        feeds = batch if isinstance(batch, dict) else {self._names[0]: batch}
        if feeds.keys() != self._name_set:
            raise InputError(f"model takes inputs {self._names}, got {sorted(feeds)}", "pass a dict with exactly those keys")
        for spec in self._specs:
            x = feeds[spec.name]
            key = (spec.name, x.dtype, x.shape) if type(x) is np.ndarray else None
            if key not in self._accepted:
                _check(spec, x)
                if len(self._accepted) < MAX_ACCEPTED:
                    self._accepted.add(key)
        return self.backend.run(feeds)

    def classify(self, images: Sequence[ImageLike]) -> List[Tuple[str, float]]:
        """Label and softmax probability for each image."""
        logits = self.predict(images_to_batch(images, self.manifest.preprocess))[0]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = exp / exp.sum(axis=1, keepdims=True)
        labels = self.manifest.labels or tuple(str(i) for i in range(probs.shape[1]))
        return [(labels[i], float(p[i])) for i, p in zip(probs.argmax(axis=1), probs)]
