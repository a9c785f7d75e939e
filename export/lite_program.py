"""Rewrite a Paddle program (legacy ProgramDesc) so that Paddle Lite's opt (2.13-rc) accepts it; weights are untouched.

Each rule closes one gap of Lite with an exact equivalent:
- Extra attributes: Paddle >= 2.5 saves without "extra" attributes by default (clip_extra=True), but Lite 2.13-rc reads
  some unconditionally, e.g. swish's beta (lite/operators/activation_ops.cc:54; op_desc.h's GetAttr aborts without it).
  The rule puts back every missing extra attribute with Paddle's own default (`core.get_op_extra_attrs`), and
  is_test=True, as Paddle's inference save sets it on every op (`Program._inference_optimize`): the program
  clip_extra=False would have written.
- XShape: Paddle >= 2.5 saves ops such as reshape2 without their XShape output (clip_extra=True), but Lite 2.13-rc
  still reads it unconditionally for flatten2 and reshape2 (lite/operators/flatten_op.cc:97, reshape_op.cc:210) and
  aborts (a PaddleSlim int8 LeNet for x86 does). The rule adds the output as a scratch variable.
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
    """Give a reshape-like op the XShape output Lite requires: a new variable of shape [0] + shape(X)."""
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


RULES: Dict[str, Tuple[Rule, ...]] = {"arm": (restore_extra_attrs, add_xshape), "x86": (restore_extra_attrs, add_xshape)}


def rewrite_for_lite(program: Path, target: str, out_path: Path) -> Tuple[Change, ...]:
    """Write `program` (.pdmodel) rewritten for Lite on `target` to `out_path`; return what each rule changed."""
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
