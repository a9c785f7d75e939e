"""Paddle inference model -> ONNX with paddle2onnx 1.2.11, float or PaddleSlim int8 (QDQ carrying PaddleSlim's scales).

paddle2onnx runs in a child process: its C++ core aborts the process on unsupported input, and the child's output
is what names the problem. Every file is checked with onnx.checker before it is renamed into place.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Callable, Collection, Dict, Iterator, Optional, Tuple, Union

import onnx

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_file
from ..source.model import SourceModel, as_source
from .onnx_conv_affine import foldable_conv_affines
from .onnx_float_affine import affines_as_batch_norms, has_quantizers
from .onnx_fold import drop_unused, fold_weight_quantizers
from .onnx_keep_float import keep_float_weights
from .onnx_matmul_qdq import matmul_quantizers, restore_matmul_quantizers
from .onnx_qdq_layout import layout_rewrites

OPSET = 13  # int8 QDQ needs >= 10; 13 gives per-channel QuantizeLinear/DequantizeLinear
REWRITES_KEY = "paddle_edge.int8_rewrites"


class ExportError(PaddleEdgeError):
    """paddle2onnx or onnx.checker refused the model."""


def paddle2onnx_graph(model: SourceModel, path: Path, opset: int = OPSET) -> onnx.ModelProto:
    """paddle2onnx's conversion of `model`, written to `path` and checked: the graph before any rewrite of export's."""
    files = model.files
    cmd = [sys.executable, "-m", "paddle2onnx.command", "--model_dir", str(files.program.parent),
           "--model_filename", files.program.name, "--params_filename", files.params.name,
           "--save_file", str(path), "--opset_version", str(opset), "--deploy_backend", "onnxruntime"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or not path.is_file() or path.stat().st_size == 0:
        tail = "\n".join(line for line in log.splitlines() if "Warning" not in line)[-1500:]
        raise ExportError(f"paddle2onnx could not convert {model.directory}:\n{tail}",
                          "run `paddle-edge check MODEL_DIR --target onnx` to see which ops ONNX export does not support")
    return check_onnx(path)


def rewritten(model: onnx.ModelProto, source: SourceModel, fold_weights: bool = True, ort_layout: bool = True,
              fold_quantizers: bool = False, recorded: Optional[Collection[str]] = None
              ) -> Iterator[Tuple[str, Dict[str, int], onnx.ModelProto]]:
    """paddle2onnx's graph of `source` through each rewrite export applies, in order (of the layout rewrites, only those
    named in `recorded` where given: a file's metadata, to replay a release that had fewer): the rewrite's name, how often it
    applied (by the names a file's metadata records), and the model after it (rewritten in place by the next: use it
    before asking for the next). Exhausting it leaves the model export writes."""
    yield "affine_constants", foldable_conv_affines(model), model
    kept = (source.card.quantization or {}).get("keep_float") if source.card else None
    if kept:
        model, count = keep_float_weights(model, kept)
        yield "float_weights_kept", {"float_weights_kept": count}, model
    matmuls = matmul_quantizers(source.files)
    if matmuls:
        restored, left = restore_matmul_quantizers(model, matmuls)
        yield "matmul_quantizers_restored", {"matmul_quantizers_restored": restored, "matmul_left_float": left}, model
    if not has_quantizers(model.graph):  # a float file (an int8 one has its MatMuls' quantizers by now)
        yield "affines_as_batch_norms", affines_as_batch_norms(model), model
    if not fold_weights:
        return
    model, folded = fold_weight_quantizers(model)
    yield "weights_folded", {"weights_folded": folded}, model
    if ort_layout and folded:
        for name, rewrite in layout_rewrites(fold_quantizers):
            if recorded is not None and name not in recorded:
                continue
            yield name, {name: rewrite(model)}, model
        drop_unused(model.graph)


def export_onnx(model: Union[Path, SourceModel], out_path: Path, opset: int = OPSET, fold_weights: bool = True,
                ort_layout: bool = True, fold_quantizers: bool = False) -> Path:
    """Convert a model (its directory, or the value resolved from it) to `out_path` (.onnx). A quantized program becomes a
    QDQ graph (its MatMuls' quantizers restored, export/onnx_matmul_qdq.py; the ops PaddleSlim kept in float left in float,
    export/onnx_keep_float.py) with int8 weights (`fold_weights`) laid out
    for ONNX Runtime's int8 kernels (`ort_layout`; `fold_quantizers`: with the folds that move values by a step,
    export/onnx_qdq_layout.py); every file gets the exact rewrite that lets ONNX Runtime fold a conv's
    scalar scale and shift into it (export/onnx_conv_affine.py); a float file also gets its other scalar affines as
    BatchNormalizations (export/onnx_float_affine.py). The rewrites applied are recorded in the file's metadata."""
    model_source = as_source(model)
    with atomic_file(out_path) as tmp:
        onnx_model = paddle2onnx_graph(model_source, tmp, opset)
        rewrites: Dict[str, int] = {}
        for _, counts, onnx_model in rewritten(onnx_model, model_source, fold_weights, ort_layout, fold_quantizers):
            rewrites.update(counts)
        if any(rewrites.values()):
            onnx.helper.set_model_props(onnx_model, {REWRITES_KEY: json.dumps(rewrites, sort_keys=True)})
            onnx.save(onnx_model, str(tmp))
            check_onnx(tmp)
    return Path(out_path)


def write_int8_variant(int8_path: Path, out_path: Path, rewrite: Callable[[onnx.ModelProto], Tuple[onnx.ModelProto, int]],
                       key: str) -> int:
    """Write the int8 ONNX at `int8_path` again through one exact re-encoding (`rewrite`: uint8 weights for CPUs whose
    u8 x s8 kernels saturate, int8 activations for OpenVINO) to `out_path`, recorded under `key` in its rewrites; return
    how many tensors changed (0: nothing written, there was nothing to re-encode)."""
    variant, changed = rewrite(onnx.load(str(int8_path)))
    if changed:
        rewrites = {**applied_rewrites(int8_path), key: changed}
        onnx.helper.set_model_props(variant, {REWRITES_KEY: json.dumps(rewrites, sort_keys=True)})
        with atomic_file(out_path) as tmp:
            onnx.save(variant, str(tmp))
            check_onnx(tmp)
    return changed


def applied_rewrites(path: Path) -> Dict[str, int]:
    """The rewrites export_onnx recorded in a file's metadata (a float model's too, under the same key)."""
    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return json.loads(props.get(REWRITES_KEY, "{}"))


def check_onnx(path: Path) -> onnx.ModelProto:
    """Load and run onnx.checker (full check, with shape inference); raise naming the file."""
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # protobuf DecodeError, onnx ValidationError or InferenceError: all mean a bad file
        raise ExportError(f"{path} is not a valid ONNX model ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
                          "export it again; if it was copied, the copy is truncated") from exc
    return model


def op_histogram(path: Path) -> Dict[str, int]:
    """Count of each ONNX op type, e.g. to confirm QuantizeLinear/DequantizeLinear in an int8 export."""
    return dict(Counter(node.op_type for node in onnx.load(str(path)).graph.node))
