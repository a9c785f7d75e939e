"""Assemble a bundle: the exported models, the float Paddle reference, and manifest.json (schema in runtime/manifest.py).

The bundle directory is built in a temporary directory and renamed into place; the .tar.gz beside it likewise.
"""
from __future__ import annotations

import dataclasses
import shutil
import tarfile
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import onnx

from ..runtime import Bundle
from ..runtime.backends import OPENVINO_TARGET
from ..runtime.cpu import NO_VNNI_TARGET
from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir, atomic_file, sha256_file
from ..runtime.manifest import MANIFEST_NAME, PARAMETER_FORMATS, Artifact, Manifest, Preprocess
from ..source.card import ModelCard
from ..source.model import SourceModel, as_source, int8_twin
from .check import check_model
from .artifact_engines import NoEngineHere, artifact_runner, engine_label
from .evaluation import evaluation_set, run_groups, task_scores
from .onnx import applied_rewrites, export_onnx, write_int8_variant
from .onnx_openvino_layout import to_int8_activations
from . import onnx_u8_weights as u8_weights
from .toolchain import toolchain_versions

TARGETS = ("onnx", "lite-arm", "lite-x86", "paddlejs")


@dataclasses.dataclass(frozen=True)
class Int8Variant:
    """The int8 ONNX re-encoded, exactly (the same function), for where its layout runs slowly or wrongly."""

    artifact: str
    path: str
    rewrite: Callable[[onnx.ModelProto], Tuple[onnx.ModelProto, int]]
    key: str  # the rewrite's name in the file's metadata
    target: str  # the manifest target: what it is made for


# each is written only where its rewrite changes something
VARIANTS = (Int8Variant(u8_weights.ARTIFACT, u8_weights.FILE, u8_weights.to_uint8_weights, "uint8_weights", NO_VNNI_TARGET),
            Int8Variant("onnx-int8-openvino", "model.int8.openvino.onnx", to_int8_activations, "int8_activations", OPENVINO_TARGET))


@dataclasses.dataclass(frozen=True)
class BundleResult:
    """Where the bundle went and what it says."""

    directory: Path
    archive: Path
    manifest: Manifest


def _artifact(root: Path, rel: str, fmt: str, precision: str, target: Optional[str] = None) -> Artifact:
    path = root / rel
    return Artifact(rel, fmt, precision, sha256_file(path), path.stat().st_size, target)


def _no_lite_int8(source: SourceModel, target: str) -> Optional[str]:
    """Why export writes no int8 .nb for `target` ("lite-arm", "lite-x86"), if it does not."""
    from .lite import LITE_VERSION, UNSOUND_INT8

    if target in UNSOUND_INT8:
        return UNSOUND_INT8[target]
    lacking = check_model(source, target).unsupported
    return f"Paddle Lite {LITE_VERSION} has no {target[5:]} kernels for: {', '.join(lacking)}" if lacking else None


def _export_all(root: Path, float_model: SourceModel, int8_model: Optional[SourceModel], targets: Sequence[str],
                include_reference: bool, ort_layout: bool, fold_quantizers: bool = False) -> Tuple[Dict[str, Artifact], Dict[str, str]]:
    """Every artifact asked for; an int8 Lite artifact is skipped up front, with the reason returned, where Lite lacks
    its ops or its target's int8 kernels are unsound (export/lite.py UNSOUND_INT8)."""
    artifacts: Dict[str, Artifact] = {}
    skipped: Dict[str, str] = {}
    sources = [("fp32", float_model)] + ([("int8", int8_model)] if int8_model else [])
    for precision, source in sources:
        if "onnx" in targets:
            export_onnx(source, root / f"model.{precision}.onnx", ort_layout=ort_layout, fold_quantizers=fold_quantizers)
            artifacts[f"onnx-{precision}"] = _artifact(root, f"model.{precision}.onnx", "onnx", precision)
            for v in (VARIANTS if precision == "int8" else ()):
                if write_int8_variant(root / "model.int8.onnx", root / v.path, v.rewrite, v.key):
                    artifacts[v.artifact] = _artifact(root, v.path, "onnx", "int8", v.target)
        for target in (t for t in targets if t.startswith("lite-")):
            from .lite import export_lite

            if precision == "int8" and (why := _no_lite_int8(source, target)):
                skipped[f"{target}-int8"] = why
                print(f"note: no {target} int8 artifact: {why}", flush=True)
                continue
            arch = target.split("-", 1)[1]
            rel = f"model.{precision}.{arch}.nb"
            export_lite(source, root / rel, arch)
            artifacts[f"{target}-{precision}"] = _artifact(root, rel, "nb", precision, arch)
    if "paddlejs" in targets:
        from .paddlejs import export_paddlejs

        model_json, params, changes = export_paddlejs(float_model, root / "paddlejs")
        print(f"Paddle.js: {len(changes)} change(s) to paddlejsconverter's model.json for paddlejs-core 2.2.0", flush=True)
        artifacts["paddlejs-fp32"] = _artifact(root, model_json.relative_to(root).as_posix(), "paddlejs-model", "fp32", "webgl")
        artifacts["paddlejs-fp32-params"] = _artifact(root, params.relative_to(root).as_posix(), "paddlejs-params", "fp32", "webgl")
    if include_reference:
        files = float_model.files
        (root / "reference").mkdir()
        for kind, src in (("program", files.program), ("params", files.params)):
            rel = f"reference/model{src.suffix}"
            shutil.copyfile(src, root / rel)
            artifacts[f"paddle-fp32-{kind}"] = _artifact(root, rel, f"paddle-{kind}", "fp32")
    return artifacts, skipped


def measure_accuracy(bundle: Bundle, data: Optional[Path] = None, threads: int = 2) -> Dict[str, Dict[str, Any]]:
    """Each artifact's own score, run by the engine that defines it (export/artifact_engines.py): what the manifest
    states. Scored on the dataset's full test split for a model trained here, on the user's labelled images (`data`) for
    one brought from elsewhere; empty when there is nothing labelled to score on."""
    manifest = bundle.manifest
    if not manifest.source.get("dataset") and data is None:
        return {}
    evaluation = evaluation_set(manifest, data, None, None)
    if evaluation.truth is None:
        return {}
    found: Dict[str, Dict[str, Any]] = {}
    for name in (n for n, a in manifest.artifacts.items() if a.format not in PARAMETER_FORMATS):
        try:
            engine = engine_label(bundle, name)
        except NoEngineHere as exc:
            found[name] = {"measured": False, "why": exc.problem}
            continue
        print(f"scoring {name} on {evaluation.description} with {engine}", flush=True)
        outputs = run_groups(artifact_runner(bundle, name, threads), evaluation)
        found[name] = {**task_scores(outputs, manifest, evaluation), "measured": True, "engine": engine,
                       "split": "test" if manifest.source.get("dataset") else "user data", "data": evaluation.description,
                       "samples": evaluation.samples}
    return found


def _inputs(task: str, preprocess: Preprocess) -> Dict[str, Any]:
    """How a model's inputs are made, flat (`image.resize.limit`), one scale and offset per channel however written."""
    image = preprocess.image
    channels = 1 if image is None or image.color == "L" else 3
    scale, offset = ([round(float(v), 9) for v in x] if isinstance(x, (list, tuple)) else [round(float(x), 9)] * channels
                     for x in (preprocess.scale, preprocess.offset))
    flat: Dict[str, Any] = {"task": task, "scale": scale, "offset": offset,
                            "inputs": "arrays (no image preprocessing)" if image is None else "images"}
    if image is not None:
        flat.update({f"image.{k}": v for k, v in dataclasses.asdict(image).items() if k != "resize"})
        flat.update({f"image.resize.{k}": v for k, v in dataclasses.asdict(image.resize).items()})
    return flat


def _same_inputs(model: SourceModel, int8_card: ModelCard, int8_dir: Path) -> None:
    """The int8 model's scales were fit to inputs made by the preprocessing compress recorded: a bundle that feeds it
    others (export without the --preprocess compress had, or with another) would ship int8 calibrated on other data."""
    then, now = _inputs(int8_card.task, int8_card.preprocess), _inputs(model.task, model.preprocess)
    keys = ("task", "inputs") if then["inputs"] != now["inputs"] else sorted(then)
    differ = [k for k in keys if then[k] != now[k]]
    if differ:
        origin = f"from {model.config}" if model.config else "from its card" if model.card else "none found"
        # an int8 model compressed before schema 4, whose card says Pillow
        resized_only = differ == ["image.resize.interpolation"] and then["image.resize.interpolation"] == "pillow"
        raise PaddleEdgeError(
            f"{int8_dir} was calibrated on inputs made otherwise than {model.directory} is exported with (preprocessing "
            f"{origin}): " + "; ".join(f"{k} {then[k]!r} there, {now[k]!r} here" for k in differ),
            f"compress {model.directory} again: its int8 scales were fit to images resized with Pillow (as paddle-edge "
            "did before manifest schema 4), and the bundle resizes as the model's own preprocessing does" if resized_only else
            "export with the preprocessing file compress had (`paddle-edge export MODEL --int8 INT8 --preprocess FILE`), "
            "or compress again with this one")


def scored_with_folds(card: Optional[ModelCard]) -> bool:
    """Whether an int8 model's accuracy control scored and timed its candidates exported with `--fold-quantizers`."""
    control = ((card.quantization if card else None) or {}).get("accuracy_control") or {}
    return bool((control.get("export") or {}).get("fold_quantizers"))


def build_bundle(float_model: Union[Path, SourceModel], out_dir: Path, int8_dir: Optional[Path] = None,
                 targets: Sequence[str] = ("onnx",), include_reference: bool = True, ort_layout: bool = True,
                 data: Optional[Path] = None, fold_quantizers: Optional[bool] = None) -> BundleResult:
    """Export the float model (its directory, or the value resolved with its preprocessing) and its int8 twin for
    `targets` into the bundle `out_dir` and `out_dir`.tar.gz, each artifact scored on `data` (see measure_accuracy).

    With `ort_layout` the int8 ONNX is laid out for ONNX Runtime's int8 kernels (export/onnx_qdq_layout.py), and with
    `fold_quantizers` also its folds that move values by a step (rewrite 4, the affine blocks, HardSwish); None: as
    the int8 model's accuracy control scored its candidates (`compress --max-drop --fold-quantizers`), else without."""
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise PaddleEdgeError(f"unknown export target(s) {unknown}", f"use some of: {', '.join(TARGETS)}")
    model = as_source(float_model)
    int8 = int8_twin(int8_dir, model.sha256, model.program, str(model.directory)) if int8_dir else None
    int8_card = int8.card if int8 else None
    if int8_card is not None:
        _same_inputs(model, int8_card, Path(int8_dir))
    if fold_quantizers is None:
        fold_quantizers = scored_with_folds(int8_card)
    if fold_quantizers and int8_card is not None and scored_with_folds(int8_card) and not ort_layout:
        raise PaddleEdgeError(f"{int8_dir}'s accuracy control scored its int8 ONNX with export's layout and folds, and "
                              "--paddleslim-layout would ship another file than the one it scored",
                              "export without --paddleslim-layout, or compress again without --fold-quantizers")
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as root:
        artifacts, skipped = _export_all(root, model, int8, targets, include_reference, ort_layout, fold_quantizers)
        quantization = int8_card.quantization if int8_card else None
        if quantization and "onnx-int8" in artifacts:
            quantization = {**quantization, "onnx_rewrites": applied_rewrites(root / artifacts["onnx-int8"].path)}
        manifest = Manifest(
            model=model.name, task=model.task, inputs=model.inputs, outputs=model.outputs,
            preprocess=model.preprocess, labels=model.labels, postprocess=model.postprocess, artifacts=artifacts,
            source={"float_model_sha256": model.sha256, **({"int8_model_sha256": int8.sha256} if int8 else {}),
                    "dataset": model.dataset, "skipped": skipped},
            quantization=quantization, toolchain=toolchain_versions(),
        )
        manifest = dataclasses.replace(manifest, accuracy=measure_accuracy(Bundle(root, manifest), data))
        (root / MANIFEST_NAME).write_text(manifest.to_json())
    archive = out_dir.with_name(out_dir.name + ".tar.gz")
    with atomic_file(archive) as tmp, tarfile.open(tmp, "w:gz") as tar:
        tar.add(out_dir, arcname=out_dir.name)
    return BundleResult(out_dir, archive, manifest)
