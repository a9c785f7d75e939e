"""Rewrite a Paddle program (legacy ProgramDesc) so that Paddle Lite 2.10's opt accepts it; weights are untouched.

Each rule closes one gap of Lite 2.10 with an exact equivalent:
- Extra attributes: Paddle >= 2.5 saves without "extra" attributes by default (clip_extra=True), but Lite 2.10 reads
  some unconditionally, e.g. dropout's fix_seed (lite/core/model/general/op_desc.h:118 aborts). The rule puts back every
  missing extra attribute with Paddle's own default (`core.get_op_extra_attrs`), and is_test=True, as Paddle's inference
  save sets it on every op (`Program._inference_optimize`): the program clip_extra=False would have written.
- XShape: Paddle >= 2.5 saves ops such as flatten_contiguous_range without their XShape output (clip_extra=True), but
  Lite 2.10 reads it unconditionally (lite/operators/flatten_op.cc:105, reshape_op.cc:120, squeeze_op.cc:121,
  unsqueeze_op.cc:145) and aborts at lite/core/model/general/op_desc.cc:63. The rule adds the output as a scratch variable.
- matmul_v2 on x86: Lite 2.10 has x86 kernels for matmul and mul but none for matmul_v2 (added in 2.12, PR #9137).
  With a 2-D Y (nn.Linear) and X of rank >= 2, matmul_v2(trans_x, trans_y) is matmul(transpose_X, transpose_Y, alpha=1);
  other shapes broadcast differently and are left for opt to report.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from paddle.base import core
from paddle.base.proto import framework_pb2

from ..runtime.errors import PaddleEdgeError
from ..source.paddle_program import TENSOR_FIELD, op_slot, program_desc

XSHAPE_OPS = ("flatten2", "flatten_contiguous_range", "reshape2", "squeeze2", "unsqueeze2")
Rule = Callable[[framework_pb2.BlockDesc, framework_pb2.OpDesc], Optional[str]]
_SCALAR_TYPES = ((bool, "BOOLEAN", "b"), (int, "INT", "i"), (float, "FLOAT", "f"), (str, "STRING", "s"))
_LIST_TYPES = ((bool, "BOOLEANS", "bools"), (int, "INTS", "ints"), (float, "FLOATS", "floats"), (str, "STRINGS", "strings"))


@dataclasses.dataclass(frozen=True)
class Change:
    """One op changed by one rule."""

    rule: str
    op: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.op}: {self.detail}"


def _var(block: framework_pb2.BlockDesc, name: str) -> Optional[framework_pb2.VarDesc]:
    return next((v for v in block.vars if v.name == name), None)


def _dims(var: framework_pb2.VarDesc) -> List[int]:
    return list(getattr(var.type, TENSOR_FIELD).tensor.dims)


def _set_attr(op: framework_pb2.OpDesc, name: str, value: Any) -> bool:
    """Add attribute `name`, its type taken from the Python value (bool before int: bool is an int); False if ambiguous."""
    is_list = isinstance(value, (list, tuple))
    if is_list and not value:
        return False
    sample = value[0] if is_list else value
    for kind, type_name, field in _LIST_TYPES if is_list else _SCALAR_TYPES:
        if isinstance(sample, kind):
            attr = op.attrs.add(name=name, type=framework_pb2.AttrType.Value(type_name))
            if is_list:
                getattr(attr, field).extend(value)
            else:
                setattr(attr, field, value)
            return True
    return False


def restore_extra_attrs(block: framework_pb2.BlockDesc, op: framework_pb2.OpDesc) -> Optional[str]:
    """Put back the extra attributes clip_extra removed, with Paddle's defaults (is_test: True, this is inference)."""
    present = {a.name for a in op.attrs}
    added = [name for name, value in sorted(core.get_op_extra_attrs(op.type).items())
             if name not in present and _set_attr(op, name, True if name == "is_test" else value)]
    return f"restored {', '.join(added)}" if added else None


def add_xshape(block: framework_pb2.BlockDesc, op: framework_pb2.OpDesc) -> Optional[str]:
    """Give a reshape-like op the XShape output Lite 2.10 requires: a new variable of shape [0] + shape(X)."""
    if op.type not in XSHAPE_OPS or op_slot(op.outputs, "XShape") is not None:
        return None
    x = _var(block, op_slot(op.inputs, "X") or "")
    out = op_slot(op.outputs, "Out")
    if x is None or out is None:
        return None
    names = {v.name for v in block.vars}
    name, i = f"{out}.xshape", 0
    while name in names:
        i += 1
        name = f"{out}.xshape{i}"
    var = block.vars.add()
    var.CopyFrom(x)
    var.name = name
    var.persistable = False
    getattr(var.type, TENSOR_FIELD).tensor.dims[:] = [0] + _dims(x)
    slot = op.outputs.add()
    slot.parameter = "XShape"
    slot.arguments.append(name)
    return f"added XShape output {name}"


def matmul_v2_to_matmul(block: framework_pb2.BlockDesc, op: framework_pb2.OpDesc) -> Optional[str]:
    """matmul_v2 with a 2-D Y and X of rank >= 2 becomes matmul with the same transposes and alpha 1."""
    if op.type != "matmul_v2":
        return None
    x, y = (_var(block, op_slot(op.inputs, p) or "") for p in ("X", "Y"))
    if x is None or y is None or len(_dims(y)) != 2 or len(_dims(x)) < 2:
        return None
    attrs = {a.name: a for a in op.attrs}
    flags = {"transpose_X": attrs["trans_x"].b if "trans_x" in attrs else False,
             "transpose_Y": attrs["trans_y"].b if "trans_y" in attrs else False}
    kept = [a for a in op.attrs if a.name not in ("trans_x", "trans_y")]
    del op.attrs[:]
    op.attrs.extend(kept)
    for name, value in flags.items():
        op.attrs.add(name=name, type=framework_pb2.AttrType.BOOLEAN, b=value)
    op.attrs.add(name="alpha", type=framework_pb2.AttrType.FLOAT, f=1.0)
    op.type = "matmul"
    return f"now matmul(transpose_X={flags['transpose_X']}, transpose_Y={flags['transpose_Y']}, alpha=1)"


RULES: Dict[str, Tuple[Rule, ...]] = {"arm": (restore_extra_attrs, add_xshape),
                                      "x86": (restore_extra_attrs, add_xshape, matmul_v2_to_matmul)}


def rewrite_for_lite(program: Path, target: str, out_path: Path) -> Tuple[Change, ...]:
    """Write `program` (.pdmodel) rewritten for Lite 2.10 on `target` to `out_path`; return what each rule changed."""
    if target not in RULES:
        raise PaddleEdgeError(f"unknown Lite target {target!r}", f"use one of: {', '.join(RULES)}")
    desc = program_desc(Path(program))
    changes: List[Change] = []
    for block in desc.blocks:
        for op in block.ops:
            label = f"{op.type} -> {', '.join(a for v in op.outputs for a in v.arguments)}"
            for rule in RULES[target]:
                detail = rule(block, op)
                if detail:
                    changes.append(Change(rule.__name__, label, detail))
    Path(out_path).write_bytes(desc.SerializeToString())
    return tuple(changes)
