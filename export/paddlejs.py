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
from .paddlejs_fixes import fix_for_paddlejs, unreachable_ops

CONVERTER = Wheel("paddlejsconverter==1.0.8", "paddlejsconverter-1.0.8-py3-none-any.whl", 15438,
                  "fb13dc16eb1807972b7ebf17bafa09e08f830e5063e8eff4b25e1bdb7ec53b0c")
MODULES = ("convertModel.py", "fuseOps.py", "pruningModel.py", "rnn.py")  # what convertModel imports
MODEL_JSON, PARAMS = "model.json", "chunk_1.dat"
CONVERT_SECONDS = 600


def converter_dir() -> Path:
    """The converter's modules, read out of the pinned wheel into the cache once."""
    dest = cache_dir("paddlejsconverter-1.0.8")
    if not all((dest / name).is_file() for name in MODULES):
        wheel = pinned_wheel(CONVERTER, None)
        with zipfile.ZipFile(wheel) as archive, atomic_dir(dest) as staging:
            for name in MODULES:
                (staging / name).write_bytes(archive.read(name))
    return dest


def export_paddlejs(source: SourceModel, out_dir: Path) -> Tuple[Path, Path, List[str]]:
    """`source` as a Paddle.js model in the folder `out_dir` (written whole, or not at all): its model.json and its parameters in one
    file; also the changes made to the converter's model.json so paddlejs-core 2.2.0 runs it."""
    if source.files.program.parent != source.files.params.parent:
        raise PaddleEdgeError(f"paddlejsconverter needs the program and parameters in one folder: {source.files.program}, "
                              f"{source.files.params}", "put both files in one folder")
    slice_kb = source.files.params.stat().st_size // 1024 + 1  # one parameter file
    with atomic_dir(Path(out_dir)) as staging:
        proc = subprocess.run([sys.executable, "-m", f"{__package__}.paddlejs_convert", str(converter_dir()), str(source.files.program),
                               str(source.files.params), str(staging), str(slice_kb)], capture_output=True, text=True, timeout=CONVERT_SECONDS)
        if proc.returncode != 0 or not (staging / MODEL_JSON).is_file():
            said = [line for line in (proc.stdout + proc.stderr).splitlines() if "Error" in line or "error" in line][-3:]
            raise PaddleEdgeError(f"paddlejsconverter could not convert {source.directory}: " + (" / ".join(said) or proc.stdout[-400:]),
                                  f"run `paddle-edge export {source.directory} --target onnx`: the browser runs its ONNX with onnxruntime-web")
        model = json.loads((staging / MODEL_JSON).read_text())
        changes = fix_for_paddlejs(model)
        unreachable = unreachable_ops(model)
        if unreachable:
            raise PaddleEdgeError(f"Paddle.js core would never run these ops of {source.directory} (their inputs are all parameters): "
                                  + "; ".join(unreachable), "export --target onnx: the browser runs its ONNX with onnxruntime-web")
        if model.get("chunkNum") != 1 or not (staging / PARAMS).is_file():
            raise PaddleEdgeError(f"paddlejsconverter wrote {model.get('chunkNum')} parameter files, not one", "report it to paddle-edge")
        (staging / MODEL_JSON).write_text(json.dumps(model, indent=1, sort_keys=True))
    return Path(out_dir) / MODEL_JSON, Path(out_dir) / PARAMS, changes
