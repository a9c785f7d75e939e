"""The thin runtime: loads a bundle and runs it with numpy + onnxruntime (or paddlelite, or openvino where installed).
Never imports paddle."""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Mapping, NamedTuple, Optional, Tuple, Union

from . import backends
from .bundle import Bundle, load_bundle
from .cpu import lite_target, onnx_target, openvino_takes_int8_activations
from .errors import BackendError, BundleError, InputError, PaddleEdgeError
from .manifest import Manifest
from .metrics import INT8_DROP_LIMITS, INT8_MSE_RATIO_LIMIT, LABELS, drops
from .predictor import Predictor
from .tuning import Choice, bundle_sha256, find_tuning

__all__ = ["open", "artifact_for", "default_precision", "Predictor", "Bundle", "load_bundle", "Manifest",
           "PaddleEdgeError", "BundleError", "InputError", "BackendError"]

PRECISIONS = ("fp32", "int8")


def _require_precision(manifest: Manifest, precision: str) -> None:
    """Raise naming the precisions the bundle has when it has no model of `precision` that a backend runs (an fp32-only
    bundle opened at int8)."""
    formats = {fmt for _, _, fmt, _ in backends.BACKENDS.values()}
    have = sorted({a.precision for a in manifest.artifacts.values() if a.format in formats})
    if precision not in have:
        raise BackendError(f"this bundle has no {precision} model; it has {', '.join(have) or 'none the runtime can run'}",
                           f"open it with precision={have[0]!r} (`paddle-edge run --precision {have[0]}`)" if have else
                           "export the model again with `paddle-edge export`")


DEFAULT_BACKEND = "onnxruntime"  # the rule without a tuning: the engine every bundle's ONNX passes parity on (export)


def _default_backend(manifest: Manifest, precision: str) -> str:
    """The untuned rule: onnxruntime on the bundle's ONNX. Another engine (Paddle Lite's .nb, OpenVINO) runs when asked for by
    name, or when a tuning measured on this machine chose it after it passed parity here."""
    runnable = {fmt for _, _, fmt, _ in backends.BACKENDS.values()}
    formats = sorted({a.format for a in manifest.artifacts.values() if a.precision == precision and a.format in runnable})
    if "onnx" in formats:
        return DEFAULT_BACKEND
    named = sorted(name for name, (_, _, fmt, _) in backends.BACKENDS.items() if fmt in formats)
    raise BackendError(f"backend 'auto' runs a bundle's ONNX with onnxruntime, and this bundle has no {precision} ONNX "
                       f"(formats: {formats})", f"name the backend: backend={named[0]!r} (`--backend {named[0]}`)" if named
                       else "export the bundle with an ONNX artifact")


def _tuned(loaded: Bundle, precision: str, batch: Optional[int]) -> Tuple[Optional[Tuple[int, Choice]], str]:
    """This machine's tuned choice for the bundle, and a sentence saying where it came from or why there is none."""
    tuning, passed_over = find_tuning(loaded.source or loaded.root, bundle_sha256(loaded.root))
    found = tuning.choice(precision, batch) if tuning else None
    opens = _has(loaded.manifest, found[1].backend, found[1].precision, None) if found is not None else None
    if found is not None and backends.available(found[1].backend) and opens == found[1].artifact:
        return found, f"tuned on {tuning.board} for batch {found[0]} ({found[1].p50_us:,.0f} us per call there)"
    why = ("; ".join(passed_over) if passed_over else "no tuning file") if tuning is None else (
        f"the tuning on {tuning.board} has no {precision} choice" if found is None else
        f"the tuned {found[1].backend} is not installed" if not backends.available(found[1].backend) else
        f"the tuning on {tuning.board} judged {found[1].describe()} on {found[1].artifact}, which is not the file it opens "
        f"here ({opens}): run `paddle-edge tune` again")
    return None, f"untuned ({why}): the default rule"


def artifact_for(manifest: Manifest, backend: str, precision: str, target: Optional[str] = None) -> str:
    """The artifact `open` runs for a named backend and precision on this machine: the one made for this CPU's kind,
    else for the backend (OpenVINO's int8-activation file only where its plugin takes them, cpu.py), else for any CPU;
    a .nb is made for one CPU architecture: this machine's, unless `target` (Lite's arch) names another."""
    backends.require_known(backend)
    fmt = backends.BACKENDS[backend][2]
    made_for_backend = backends.FILE_TARGETS.get(backend)
    if made_for_backend == backends.OPENVINO_TARGET and not openvino_takes_int8_activations():
        made_for_backend = None
    name, _ = manifest.pick(fmt, precision, target or (lite_target() if fmt == "nb" else None),
                            prefer=onnx_target() or made_for_backend)
    return name


def _int8_losses(manifest: Manifest, artifact: str) -> List[Tuple[str, bool]]:
    """What the int8 `artifact` lost against the float model by the scores export recorded in the manifest on the same
    data (the float program's, else an fp32 file's), each said in words with whether parity allows it; empty where
    export recorded no score for the file."""
    scored = manifest.accuracy.get(artifact, {})
    floats = sorted((s for n, s in manifest.accuracy.items() if n in manifest.artifacts and manifest.artifacts[n].precision == "fp32"
                     and s.get("measured") and s.get("data") == scored.get("data")),
                    key=lambda s: str(s.get("engine", "")).startswith("Paddle Inference"), reverse=True)
    reference = {m: next(s[m] for s in floats if m in s) for m in (*INT8_DROP_LIMITS, "mse") if any(m in s for s in floats)}
    lost = drops(scored, reference)
    found = [(f"{lost[f'{m}_drop_points']:.2f} points of {LABELS[m]} (limit {limit:g})", lost[f"{m}_drop_points"] <= limit)
             for m, limit in INT8_DROP_LIMITS.items() if f"{m}_drop_points" in lost]
    if "mse_ratio" in lost:
        found.append((f"an MSE {lost['mse_ratio']:.3g}x float's (limit {INT8_MSE_RATIO_LIMIT:g}x)", lost["mse_ratio"] <= INT8_MSE_RATIO_LIMIT))
    return found


def _has(manifest: Manifest, backend: str, precision: str, target: Optional[str]) -> Optional[str]:
    """The artifact `open` would run for `backend` and `precision`, if the bundle has one (for `target`, Lite's arch)."""
    try:
        return artifact_for(manifest, backend, precision, target)
    except BundleError:
        return None


class PrecisionRule(NamedTuple):
    """What precision "auto" opens without a tuning, and why; `over_limit`: the bundle's own scores show its int8 file
    losing more than parity allows (then fp32, where the bundle has it: a tuning's choice for either precision does not
    apply, its choice for fp32 does)."""

    precision: str
    why: str
    over_limit: bool

    @property
    def rules_int8_out(self) -> bool:
        """The scores rule the int8 file out and the bundle has fp32 to open instead."""
        return self.over_limit and self.precision == "fp32"


def default_precision(manifest: Manifest, backend: str, target: Optional[str] = None) -> PrecisionRule:
    """The rule for precision "auto": int8 where the bundle has an int8 model for `backend` and the scores export
    recorded do not show it losing more than parity allows (metrics.INT8_DROP_LIMITS, an MSE ratio for regression),
    else fp32; fp32 too where the int8 file is a Lite .nb export did not score (an arm one: no engine there) and the
    bundle has fp32."""
    artifact = _has(manifest, backend, "int8", target)
    if artifact is None:
        return PrecisionRule("fp32", "fp32: the bundle has no int8 model for it", False)
    unscored_nb = manifest.artifacts[artifact].format == "nb" and not manifest.accuracy.get(artifact, {}).get("measured")
    if unscored_nb and _has(manifest, backend, "fp32", target) is not None:  # an arm .nb: export has no engine for it
        return PrecisionRule("fp32", f"fp32: export did not score the bundle's {artifact} (no engine ran it there); "
                                     "`board parity` judges it on a board, precision='int8' runs it", False)
    losses = _int8_losses(manifest, artifact)
    if not losses:
        return PrecisionRule("int8", "int8: the bundle has it (export recorded no score of it to judge it by)", False)
    said = (f"the bundle's {artifact} lost {'; '.join(text for text, _ in losses)} against float on "
            f"{manifest.accuracy[artifact].get('data', 'the data export scored')} at export")
    if all(allowed for _, allowed in losses):
        return PrecisionRule("int8", f"int8: {said}", False)
    if _has(manifest, backend, "fp32", target) is None:
        return PrecisionRule("int8", f"int8 though {said}: the bundle has no fp32 model for it", True)
    return PrecisionRule("fp32", f"fp32, because {said}", True)


def open(bundle: Union[str, Path, Bundle], backend: str = "auto", precision: str = "auto",  # noqa: A001
         threads: Optional[int] = None, target: Optional[str] = None, artifact: Optional[str] = None,
         batch: Optional[int] = None, settings: Optional[Mapping[str, str]] = None) -> Predictor:
    """Verify a bundle and return a Predictor for one precision on one backend.

    `backend="auto"` takes the choice `paddle-edge tune` measured on this machine for the batch size nearest `batch`
    (runtime/tuning.py), for `precision` ("auto": whichever was faster); its threads and settings apply unless given.
    Without a tuning, or with `target` or `artifact` given, it runs the ONNX with onnxruntime. Precision "auto" opens no
    int8 file that the scores export recorded in the manifest show losing more of the task metric against float than
    parity allows, where the bundle has fp32 (default_precision): it opens fp32, a tuning's fp32 choice where there is
    one; otherwise it is a tuning's choice for either precision, or untuned int8 where the bundle has an int8 model for
    the backend (`artifact` given: that file's precision), but for a Lite .nb export did not score, which opens fp32.
    `predictor.chosen_by` says which. The artifact is the one made for this CPU's kind where the bundle has one
    (runtime/cpu.py: x86-64 without VNNI gets the int8 ONNX with uint8 weights, whatever the backend), else the one made
    for the backend (OpenVINO gets the one with int8 activations where its plugin takes them, cpu.py), else the one for
    any CPU; `target` (Lite's arch) or `artifact` (a manifest artifact name) choose it explicitly."""
    if precision not in (*PRECISIONS, "auto"):
        raise BackendError(f"unknown precision {precision!r}", f"use one of {PRECISIONS} or 'auto'")
    if backend != "auto":
        backends.require_known(backend)
    loaded = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
    if precision == "auto" and artifact in loaded.manifest.artifacts:
        precision = loaded.manifest.artifacts[artifact].precision
    name, chosen_by, why, rule = backend, "named by the caller", "", None
    if precision == "auto":
        rule = default_precision(loaded.manifest, DEFAULT_BACKEND if backend == "auto" else backend, target)
        why = rule.why
        if backend != "auto" or rule.over_limit:  # the scores rule int8 out: a tuning's choice for fp32 applies, if any
            precision = rule.precision
    if backend == "auto":
        tuned, chosen_by = (None, "untuned (the caller named the file): the default rule") if artifact or target else _tuned(loaded, precision, batch)
        if tuned is not None:
            choice = tuned[1]
            name, precision = choice.backend, choice.precision
            threads = threads or choice.threads
            settings = choice.settings if settings is None else settings
            why = why if rule is not None and rule.over_limit else ""  # said where the scores decided, or warn
        else:
            precision = rule.precision if rule is not None and precision == "auto" else precision
            _require_precision(loaded.manifest, precision)
            name = _default_backend(loaded.manifest, precision)
    else:
        _require_precision(loaded.manifest, precision)
    chosen_by += f"; {why}" if why else ""
    fmt = backends.BACKENDS[name][2]
    if artifact is None:
        artifact = artifact_for(loaded.manifest, name, precision, target)
    elif artifact not in loaded.manifest.artifacts or (loaded.manifest.artifacts[artifact].format, loaded.manifest.artifacts[artifact].precision) != (fmt, precision):
        raise BackendError(f"bundle has no {fmt} {precision} artifact named {artifact!r}",
                           f"use one of: {', '.join(n for n, a in loaded.manifest.artifacts.items() if a.format == fmt)}")
    threads = threads or os.cpu_count() or 1
    engine = backends.create(name, loaded.path_of(artifact), threads, settings)
    return Predictor(loaded.manifest, engine, name, precision, artifact, chosen_by, threads)
