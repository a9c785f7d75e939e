"""Paddle.js, the browser engine of Paddle's own family: the float Paddle model converted by paddlejsconverter (PyPI,
pinned) into Paddle.js's model.json and one parameter file, made runnable by paddlejs-core 2.2.0 (export/paddlejs_fixes.py).

The converter's wheel is fetched once with pip (no dependencies: the one it declares, paddlejslite, exists only for macOS
CPython 3.6, and serves an optional step) and checked against its pinned sha256; its modules are read out into the
cache and run in a process of their own (export/paddlejs_convert.py). Nothing is installed into the environment."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List, Tuple

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_dir, cache_dir
from ..source.fetch import pinned_wheel
from ..source.model import SourceModel
from ..source.published import Wheel
from .paddlejs_fixes import fix_for_paddlejs, not_runnable

CONVERTER = Wheel("paddlejsconverter==1.0.8", "paddlejsconverter-1.0.8-py3-none-any.whl", 15438,
                  "fb13dc16eb1807972b7ebf17bafa09e08f830e5063e8eff4b25e1bdb7ec53b0c")
MODULES = ("convertModel.py", "fuseOps.py", "pruningModel.py", "rnn.py")  # what convertModel imports
MODEL_JSON, PARAMS = "model.json", "chunk_1.dat"
CONVERT_SECONDS = 600
NOT_PADDLEJS = "export without the paddlejs target: the browser runs the bundle's ONNX files with onnxruntime-web"


def converter_dir() -> Path:
    """The converter's modules, read out of the pinned wheel into the cache once, and checked against it every call."""
    dest = cache_dir("paddlejsconverter-1.0.8")
    with zipfile.ZipFile(pinned_wheel(CONVERTER, None)) as archive:
        modules = {name: archive.read(name) for name in MODULES}
    if not all((dest / name).is_file() for name in MODULES):
        with atomic_dir(dest) as staging:
            for name, data in modules.items():
                (staging / name).write_bytes(data)
    changed = [name for name, data in modules.items() if (dest / name).read_bytes() != data]
    if changed:
        raise PaddleEdgeError(f"{dest / changed[0]} is not the module of {CONVERTER.requirement}", f"delete {dest} and run again")
    return dest


def input_shape(source: SourceModel) -> List[int]:
    """The one float32 image input [-1, C, H, W] the Paddle.js model is converted for: the program's own size, its open
    height and width (if any) taken from the fixed size the model's preprocessing gives every image (PaddleOCR's
    classifier: 48 x 192). Paddle.js fixes every tensor's shape at conversion and runs one sample at a time. Also refused
    here: outputs other than one of at most 2 dimensions (a 4-D output comes back in its WebGL textures' NHWC order)."""
    inputs, outputs = source.inputs, source.outputs
    if len(inputs) != 1 or inputs[0].dtype != "float32" or len(inputs[0].shape) != 4 or inputs[0].shape[0] not in (-1, 1):
        raise PaddleEdgeError("Paddle.js runs one float32 image [N, C, H, W]; " + f"{source.name} takes "
                              + ", ".join(f"{s.name} {s.dtype} {list(s.shape)}" for s in inputs), NOT_PADDLEJS)
    shape = list(inputs[0].shape)
    image = source.preprocess.image
    given = (image.channels, *image.resize.fixed_size) if image is not None and image.resize.fixed_size else None
    for axis, name in ((1, "channels"), (2, "height"), (3, "width")):
        if shape[axis] <= 0 and given:
            shape[axis] = given[axis - 1]
        elif shape[axis] <= 0 or (given and given[axis - 1] != shape[axis]):
            raise PaddleEdgeError(f"Paddle.js needs the input's size fixed at conversion; {source.name}'s {name} is {shape[axis]} "
                                  + (f"and its preprocessing gives {given[axis - 1]}" if given else "and its preprocessing gives no fixed size"),
                                  NOT_PADDLEJS)
    if len(outputs) != 1 or len(outputs[0].shape) > 2:
        raise PaddleEdgeError(f"paddle-edge runs Paddle.js models with one output of at most 2 dimensions (scores per sample); "
                              f"{source.name} gives " + ", ".join(f"{s.name} {list(s.shape)}" for s in outputs), NOT_PADDLEJS)
    return [-1, *shape[1:]]


def export_paddlejs(source: SourceModel, out_dir: Path) -> Tuple[Path, Path, List[str]]:
    """`source` as a Paddle.js model in the folder `out_dir` (written whole, or not at all): its model.json and its parameters in one
    file; also the changes made to the converter's model.json so paddlejs-core 2.2.0 runs it."""
    shape = input_shape(source)
    if source.files.program.parent != source.files.params.parent:
        raise PaddleEdgeError(f"paddlejsconverter needs the program and parameters in one folder: {source.files.program}, "
                              f"{source.files.params}", "put both files in one folder")
    slice_kb = source.files.params.stat().st_size // 1024 + 1  # one parameter file
    with atomic_dir(Path(out_dir)) as staging:
        command = [sys.executable, "-m", f"{__package__}.paddlejs_convert", str(converter_dir()), str(source.files.program),
                   str(source.files.params), str(staging), str(slice_kb), ",".join(map(str, shape))]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=CONVERT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            raise PaddleEdgeError(f"paddlejsconverter did not finish {source.directory} in {CONVERT_SECONDS} s", NOT_PADDLEJS) from exc
        if proc.returncode != 0 or not (staging / MODEL_JSON).is_file():
            said = [line for line in (proc.stdout + proc.stderr).splitlines() if "Error" in line or "error" in line][-3:]
            raise PaddleEdgeError(f"paddlejsconverter could not convert {source.directory}: " + (" / ".join(said) or proc.stdout[-400:]),
                                  NOT_PADDLEJS)
        model = json.loads((staging / MODEL_JSON).read_text())
        changes = fix_for_paddlejs(model)
        wrong = not_runnable(model)
        if wrong:
            raise PaddleEdgeError(f"paddlejs-core 2.2.0 would not run these ops of {source.directory} right: " + "; ".join(wrong), NOT_PADDLEJS)
        if model.get("chunkNum") != 1 or not (staging / PARAMS).is_file():
            raise PaddleEdgeError(f"paddlejsconverter wrote {model.get('chunkNum')} parameter files, not one", "report it to paddle-edge")
        (staging / MODEL_JSON).write_text(json.dumps(model, indent=1, sort_keys=True))
    return Path(out_dir) / MODEL_JSON, Path(out_dir) / PARAMS, changes
