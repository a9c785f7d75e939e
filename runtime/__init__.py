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
    formats = {a.format for a in bundle.manifest.artifacts.values() if a.precision == precision}
    if backend != "auto":
        return backend
    for name, (_, _, fmt, _) in backends.BACKENDS.items():
        if fmt in formats and backends.available(name):
            return name
    raise BackendError(f"no installed backend can run this bundle's {precision} artifacts (formats: {sorted(formats) or 'none'})",
                       "pip install onnxruntime (or paddlelite), or pick another precision")


def open(bundle: Union[str, Path, Bundle], backend: str = "auto", precision: str = "int8",
         threads: Optional[int] = None, target: Optional[str] = None) -> Predictor:  # noqa: A001 - the public verb
    """Verify a bundle and return a Predictor for one precision on one backend."""
    if precision not in PRECISIONS:
        raise BackendError(f"unknown precision {precision!r}", f"use one of {PRECISIONS}")
    loaded = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
    name = _choose_backend(loaded, backend, precision)
    if name not in backends.BACKENDS:
        raise BackendError(f"unknown backend {name!r}", f"use one of: auto, {', '.join(backends.BACKENDS)}")
    artifact_name, _ = loaded.manifest.pick(backends.BACKENDS[name][2], precision, target)
    engine = backends.create(name, loaded.path_of(artifact_name), threads or os.cpu_count() or 1)
    return Predictor(loaded.manifest, engine, name, precision)
