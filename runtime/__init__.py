"""The thin runtime: loads a bundle and runs it with numpy + onnxruntime (or paddlelite). Never imports paddle."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from . import backends
from .bundle import Bundle, load_bundle
from .errors import BackendError, BundleError, InputError, PaddleEdgeError
from .manifest import Manifest
from .predictor import Predictor

__all__ = ["open", "Predictor", "Bundle", "load_bundle", "Manifest",
           "PaddleEdgeError", "BundleError", "InputError", "BackendError"]

PRECISIONS = ("fp32", "int8")


def _choose_backend(bundle: Bundle, backend: str, precision: str) -> str:
    if backend != "auto":
        return backend
    runnable = {fmt: (name, package) for name, (_, _, fmt, package) in backends.BACKENDS.items()}
    formats = sorted({a.format for a in bundle.manifest.artifacts.values() if a.precision == precision and a.format in runnable})
    for fmt in formats:
        if backends.available(runnable[fmt][0]):
            return runnable[fmt][0]
    needed = " or ".join(runnable[fmt][1] for fmt in formats)
    raise BackendError(f"no installed backend can run this bundle's {precision} artifacts (formats: {formats})",
                       f"pip install {needed}" if needed else "pick another precision, or export the bundle with one")


def open(bundle: Union[str, Path, Bundle], backend: str = "auto", precision: str = "int8",
         threads: Optional[int] = None, target: Optional[str] = None) -> Predictor:  # noqa: A001 - the public verb
    """Verify a bundle and return a Predictor for one precision on one backend."""
    if precision not in PRECISIONS:
        raise BackendError(f"unknown precision {precision!r}", f"use one of {PRECISIONS}")
    if backend != "auto":
        backends.require_known(backend)
    loaded = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
    name = _choose_backend(loaded, backend, precision)
    artifact_name, _ = loaded.manifest.pick(backends.BACKENDS[name][2], precision, target)
    engine = backends.create(name, loaded.path_of(artifact_name), threads or os.cpu_count() or 1)
    return Predictor(loaded.manifest, engine, name, precision)
