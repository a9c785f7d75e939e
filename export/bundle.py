"""Assemble a bundle: the exported models, the float Paddle reference, and manifest.json (schema in runtime/manifest.py).

The bundle directory is built in a temporary directory and renamed into place; the .tar.gz beside it likewise.
"""
from __future__ import annotations

import dataclasses
import shutil
import tarfile
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

from ..runtime import Bundle
from ..runtime.cpu import NO_VNNI_TARGET
from ..runtime.errors import PaddleEdgeError
from ..runtime.metrics import score
from ..runtime.files import atomic_dir, atomic_file, sha256_file
from ..runtime.manifest import MANIFEST_NAME, Artifact, Manifest, Preprocess
from ..train.card import ModelCard
from ..train.datasets import load_dataset
from ..train.inference_model import find_model_files, read_program
from .check import check_model
from .artifact_engines import NoEngineHere, engine_label, run_artifact
from .onnx import applied_rewrites, export_onnx, write_uint8_weight_variant
from .toolchain import toolchain_versions

TARGETS = ("onnx", "lite-arm", "lite-x86")


@dataclasses.dataclass(frozen=True)
class BundleResult:
    """Where the bundle went and what it says."""

    directory: Path
    archive: Path
    manifest: Manifest


def _card_or_program(model_dir: Path) -> ModelCard:
    """The card paddle-edge wrote, or one read off the program for a model brought from elsewhere."""
    card = ModelCard.load(model_dir)
    if card is not None:
        return card
    info = read_program(model_dir)
    return ModelCard(model=Path(model_dir).resolve().name, task="generic", inputs=info.inputs, outputs=info.outputs, preprocess=Preprocess())


def _artifact(root: Path, rel: str, fmt: str, precision: str, target: Optional[str] = None) -> Artifact:
    path = root / rel
    return Artifact(rel, fmt, precision, sha256_file(path), path.stat().st_size, target)


def _export_all(root: Path, float_dir: Path, int8_dir: Optional[Path], targets: Sequence[str],
                include_reference: bool, ort_layout: bool) -> Tuple[Dict[str, Artifact], Dict[str, str]]:
    """Every artifact asked for; an int8 Lite artifact whose ops Lite lacks is skipped up front, with the reason returned."""
    artifacts: Dict[str, Artifact] = {}
    skipped: Dict[str, str] = {}
    sources = [("fp32", float_dir)] + ([("int8", int8_dir)] if int8_dir else [])
    for precision, model_dir in sources:
        if "onnx" in targets:
            export_onnx(model_dir, root / f"model.{precision}.onnx", ort_layout=ort_layout)
            artifacts[f"onnx-{precision}"] = _artifact(root, f"model.{precision}.onnx", "onnx", precision)
            if precision == "int8" and write_uint8_weight_variant(root / "model.int8.onnx", root / "model.int8.u8w.onnx"):
                artifacts["onnx-int8-u8w"] = _artifact(root, "model.int8.u8w.onnx", "onnx", "int8", NO_VNNI_TARGET)
        for target in (t for t in targets if t.startswith("lite-")):
            from .lite import LITE_VERSION, export_lite

            if precision == "int8" and (lacking := check_model(model_dir, target).unsupported):
                skipped[f"{target}-int8"] = f"Paddle Lite {LITE_VERSION} has no {target[5:]} kernels for: {', '.join(lacking)}"
                print(f"note: no {target} int8 artifact: {skipped[f'{target}-int8']}", flush=True)
                continue
            arch = target.split("-", 1)[1]
            rel = f"model.{precision}.{arch}.nb"
            export_lite(model_dir, root / rel, arch)
            artifacts[f"{target}-{precision}"] = _artifact(root, rel, "nb", precision, arch)
    if include_reference:
        files = find_model_files(float_dir)
        (root / "reference").mkdir()
        for kind, src in (("program", files.program), ("params", files.params)):
            rel = f"reference/model{src.suffix}"
            shutil.copyfile(src, root / rel)
            artifacts[f"paddle-fp32-{kind}"] = _artifact(root, rel, f"paddle-{kind}", "fp32")
    return artifacts, skipped


def measure_accuracy(bundle: Bundle, data: Optional[Path] = None, threads: int = 2) -> Dict[str, Dict[str, Any]]:
    """Each artifact's own score on its dataset's full test split, run by the engine that defines it
    (export/artifact_engines.py): what the manifest states. Empty for a model with no dataset to score on."""
    dataset_name = bundle.manifest.source.get("dataset")
    if not dataset_name:
        return {}
    dataset = load_dataset(dataset_name, data)
    feeds = {bundle.manifest.inputs[0].name: dataset.x_test}
    found: Dict[str, Dict[str, Any]] = {}
    for name in (n for n, a in bundle.manifest.artifacts.items() if a.format != "paddle-params"):
        try:
            engine = engine_label(bundle, name)
        except NoEngineHere as exc:
            found[name] = {"measured": False, "why": exc.problem}
            continue
        print(f"scoring {name} on {len(dataset.x_test):,} test samples with {engine}", flush=True)
        outputs = run_artifact(bundle, name, feeds, threads)
        found[name] = {**score(outputs[0], dataset.y_test, dataset.task), "measured": True, "engine": engine,
                       "split": "test", "samples": int(len(dataset.x_test))}
    return found


def build_bundle(float_dir: Path, out_dir: Path, int8_dir: Optional[Path] = None, targets: Sequence[str] = ("onnx",),
                 include_reference: bool = True, ort_layout: bool = True, data: Optional[Path] = None) -> BundleResult:
    """Export `float_dir` (and its int8 twin) for `targets` into the bundle `out_dir` and `out_dir`.tar.gz.

    With `ort_layout` the int8 ONNX is laid out for ONNX Runtime's int8 kernels (export/onnx_qdq_layout.py)."""
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise PaddleEdgeError(f"unknown export target(s) {unknown}", f"use some of: {', '.join(TARGETS)}")
    float_card = _card_or_program(float_dir)
    int8_card = ModelCard.load(int8_dir) if int8_dir else None
    if int8_dir and (int8_card is None or int8_card.precision != "int8"):
        raise PaddleEdgeError(f"{int8_dir} is not an int8 model written by `paddle-edge compress`", "pass the directory compress wrote")
    if int8_card and int8_card.source_sha256 != find_model_files(float_dir).sha256():
        raise PaddleEdgeError(f"{int8_dir} was not quantized from {float_dir} (its source sha256 differs)",
                              "pass the float model the int8 model was made from, or compress it again")
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as root:
        artifacts, skipped = _export_all(root, Path(float_dir), Path(int8_dir) if int8_dir else None, targets, include_reference, ort_layout)
        quantization = int8_card.quantization if int8_card else None
        if quantization and "onnx-int8" in artifacts:
            quantization = {**quantization, "onnx_rewrites": applied_rewrites(root / artifacts["onnx-int8"].path)}
        manifest = Manifest(
            model=float_card.model, task=float_card.task, inputs=float_card.inputs, outputs=float_card.outputs,
            preprocess=float_card.preprocess, labels=float_card.labels, artifacts=artifacts,
            source={"float_model_sha256": find_model_files(float_dir).sha256(), "dataset": float_card.dataset, "skipped": skipped},
            quantization=quantization, toolchain=toolchain_versions(),
        )
        manifest = dataclasses.replace(manifest, accuracy=measure_accuracy(Bundle(root, manifest), data))
        (root / MANIFEST_NAME).write_text(manifest.to_json())
    archive = out_dir.with_name(out_dir.name + ".tar.gz")
    with atomic_file(archive) as tmp, tarfile.open(tmp, "w:gz") as tar:
        tar.add(out_dir, arcname=out_dir.name)
    return BundleResult(out_dir, archive, manifest)
