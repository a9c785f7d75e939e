"""The thin runtime: loads a bundle and runs it with numpy + onnxruntime (or paddlelite, or openvino where installed).
Never imports paddle."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from . import backends
from .bundle import Bundle, load_bundle
from .cpu import onnx_target
from .errors import BackendError, BundleError, InputError, PaddleEdgeError
from .manifest import Manifest
from .predictor import Predictor

__all__ = ["open", "Predictor", "Bundle", "load_bundle", "Manifest",
           "PaddleEdgeError", "BundleError", "InputError", "BackendError"]

PRECISIONS = ("fp32", "int8")


def _require_precision(manifest: Manifest, precision: str) -> None:
    """Raise naming the precisions the bundle has when it has no model of `precision` that a backend runs (an fp32-only
    bundle opened at the default int8)."""
    formats = {fmt for _, _, fmt, _ in backends.BACKENDS.values()}
    have = sorted({a.precision for a in manifest.artifacts.values() if a.format in formats})
    if precision not in have:
        raise BackendError(f"this bundle has no {precision} model; it has {', '.join(have) or 'none the runtime can run'}",
                           f"open it with precision={have[0]!r} (`paddle-edge run --precision {have[0]}`)" if have else
                           "export the model again with `paddle-edge export`")


def _choose_backend(bundle: Bundle, backend: str, precision: str) -> str:
    if backend != "auto":
        return backend
    runnable: Dict[str, Tuple[str, str]] = {}
    for name, (_, _, fmt, package) in backends.BACKENDS.items():
        runnable.setdefault(fmt, (name, package))  # the first backend listed for a format is its default
    formats = sorted({a.format for a in bundle.manifest.artifacts.values() if a.precision == precision and a.format in runnable})
    for fmt in formats:
        if backends.available(runnable[fmt][0]):
            return runnable[fmt][0]
    needed = " or ".join(runnable[fmt][1] for fmt in formats)
    raise BackendError(f"no installed backend can run this bundle's {precision} artifacts (formats: {formats})",
                       f"pip install {needed}" if needed else "pick another precision, or export the bundle with one")


def open(bundle: Union[str, Path, Bundle], backend: str = "auto", precision: str = "int8",
         threads: Optional[int] = None, target: Optional[str] = None, artifact: Optional[str] = None) -> Predictor:  # noqa: A001
    """Verify a bundle and return a Predictor for one precision on one backend.

    The artifact is the one made for this CPU's kind where the bundle has one (runtime/cpu.py: x86-64 without VNNI gets
    the int8 ONNX with uint8 weights), else the one for any CPU; `target` (Lite's arch) or `artifact` (a manifest
    artifact name) choose it explicitly."""
    if precision not in PRECISIONS:
        raise BackendError(f"unknown precision {precision!r}", f"use one of {PRECISIONS}")
    if backend != "auto":
        backends.require_known(backend)
    loaded = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
    _require_precision(loaded.manifest, precision)
    name = _choose_backend(loaded, backend, precision)
    fmt = backends.BACKENDS[name][2]
    if artifact is None:
        artifact, _ = loaded.manifest.pick(fmt, precision, target, prefer=onnx_target())
    elif artifact not in loaded.manifest.artifacts or (loaded.manifest.artifacts[artifact].format, loaded.manifest.artifacts[artifact].precision) != (fmt, precision):
        raise BackendError(f"bundle has no {fmt} {precision} artifact named {artifact!r}",
                           f"use one of: {', '.join(n for n, a in loaded.manifest.artifacts.items() if a.format == fmt)}")
    engine = backends.create(name, loaded.path_of(artifact), threads or os.cpu_count() or 1)
    return Predictor(loaded.manifest, engine, name, precision, artifact)
