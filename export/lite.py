"""Paddle inference model -> Paddle Lite .nb, with Lite's opt (2.13rc0) run in the sidecar (export/lite_sidecar.py).

The program is first rewritten where Lite cannot read what Paddle 3 writes (export/lite_program.py); opt reads the
rewritten program with the original weights. Its .nb is renamed into place only when opt succeeds, and a failure names
the ops the target lacks, from opt's own report.
"""
from __future__ import annotations

import functools
import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import FrozenSet, List, Sequence, Tuple, Union

from ..runtime.errors import PaddleEdgeError
from ..runtime.files import atomic_file
from ..source.model import SourceModel, as_source
from ..source.paddle_program import program_desc
from .lite_program import RULES, Change, rewrite_for_lite
from .lite_sidecar import LITE_VERSION, Sidecar, ensure_sidecar

TARGETS = tuple(RULES)
# Lite 2.13-rc's opt turns a PaddleSlim QDQ program into int8 kernels for both targets, but its x86 int8 kernels (conv2d,
# fc) compute wrong outputs, other ones at other batch sizes (a PTQ LeNet's first MNIST test image: 0.7 from Paddle
# Inference's int8 logits at batch 1, 1.5 at batch 4; 3e29 at batch 300; tests/test_lite.py shows it on random inputs).
# Bundles get no x86 int8 .nb; the arm one is judged on an ARM board.
UNSOUND_INT8 = {"lite-x86": f"Paddle Lite {LITE_VERSION}'s x86 int8 kernels give wrong outputs that change with the batch "
                            "size (tests/test_lite.py); the lite-arm int8 .nb is judged on an ARM board"}
# How opt names ops it cannot place: its support check, then its kernel picker (quantization ops it failed to fuse).
_MISSING = (re.compile(r"These unsupported ops are: (.+?)\.?\s*$", re.MULTILINE),
            re.compile(r"[Nn]o kernels? (?:found )?for (\w+)"))


class LiteExportError(PaddleEdgeError):
    """Lite's opt refused the model."""


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise LiteExportError(f"unknown Paddle Lite target {target!r}", f"use one of: {', '.join(TARGETS)}")


def _opt(sidecar: Sidecar, program: Path, params: Path, target: str, out_prefix: Path) -> Tuple[int, str]:
    """Run Lite's opt; return its exit code and its whole output."""
    proc = sidecar.run([str(sidecar.opt_tool), "--model_file", str(program), "--param_file", str(params),
                        "--valid_targets", target, "--optimize_out_type", "naive_buffer", "--optimize_out", str(out_prefix)])
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _missing_ops(log: str) -> List[str]:
    """Op types opt's output says have no kernel on the target."""
    named = [op for pattern in _MISSING for found in pattern.finditer(log)
             for op in re.findall(r"'([^']+)'", found.group(1)) or [found.group(1)]]
    return list(dict.fromkeys(named))


def _opt_error(model_dir: Path, target: str, code: int, log: str, changes: Sequence[Change]) -> LiteExportError:
    """The error for a failed opt run: the ops it lacks if it named them, else the end of its output."""
    by_rule = Counter(change.rule for change in changes)
    rewritten = f"\n(program rewritten first: {', '.join(f'{rule} on {n} ops' for rule, n in by_rule.items())})" if changes else ""
    ops = _missing_ops(log)
    if ops:
        return LiteExportError(f"Paddle Lite {LITE_VERSION} has no {target} kernels for: {', '.join(ops)}{rewritten}",
                               f"run `paddle-edge check {model_dir} --target lite-{target}` (it names the targets that "
                               "run them); replace those layers, or export to one of those targets")
    tail = "\n".join(log.splitlines()[-25:])
    return LiteExportError(f"Paddle Lite {LITE_VERSION} opt could not convert {model_dir} for {target} (exit {code}):\n{tail}{rewritten}",
                           "check that it is an inference model saved with FLAGS_enable_pir_api=0; the output above is opt's")


def export_lite(model: Union[Path, SourceModel], out_path: Path, target: str) -> Path:
    """Convert a model (its directory, or the value resolved from it) into the Lite model `out_path` (.nb) for
    `target` ("arm" or "x86")."""
    _check_target(target)
    model = as_source(model)
    files, model_dir = model.files, model.directory
    sidecar = ensure_sidecar()
    with tempfile.TemporaryDirectory(prefix="paddle-edge-lite-") as tmp, atomic_file(Path(out_path)) as partial:
        program = Path(tmp) / files.program.name
        changes = rewrite_for_lite(files.program, target, program)
        code, log = _opt(sidecar, program, files.params, target, Path(tmp) / "model")
        written = Path(tmp) / "model.nb"
        if code != 0 or not written.is_file() or written.stat().st_size == 0:
            raise _opt_error(model_dir, target, code, log, changes)
        os.replace(written, partial)
    return Path(out_path)


@functools.cache
def _opt_supported_ops(target: str) -> FrozenSet[str]:
    """Ops opt lists for `target`, cached in the sidecar directory when it is writable."""
    sidecar = ensure_sidecar()
    cache = sidecar.root / f"supported-ops-{target}.txt"
    if cache.is_file():
        return frozenset(cache.read_text().split())
    proc = sidecar.run([str(sidecar.opt_tool), "--print_supported_ops=true", "--valid_targets", target])
    lines = proc.stdout.splitlines()
    header = next((i for i, line in enumerate(lines) if "OP_name" in line), None)
    if proc.returncode != 0 or header is None:
        raise LiteExportError(f"Paddle Lite {LITE_VERSION} opt could not list its {target} ops:\n{(proc.stdout + proc.stderr)[-1500:]}",
                              f"delete {sidecar.root} to have the sidecar built again")
    ops = frozenset(row.split()[0] for row in lines[header + 1:] if "Y" in row.split()[1:])
    if os.access(sidecar.root, os.W_OK):
        with atomic_file(cache) as tmp:
            tmp.write_text("\n".join(sorted(ops)) + "\n")
    return ops


def lite_unsupported_ops(model: Union[Path, SourceModel], target: str) -> FrozenSet[str]:
    """The op types of `model` export_lite cannot take to `target`: those opt does not list for it, after lite_program's
    rewrites (opt lists PaddleSlim's quantize_linear and dequantize_linear: it fuses them into int8 kernels)."""
    _check_target(target)
    with tempfile.TemporaryDirectory(prefix="paddle-edge-check-") as tmp:
        program = Path(tmp) / "model.pdmodel"
        rewrite_for_lite(as_source(model).files.program, target, program)
        ops = {op.type for block in program_desc(program).blocks for op in block.ops} - {"feed", "fetch"}
    return frozenset(ops - _opt_supported_ops(target))
