"""PaddleSlim's int8 program, each debugged op run again on the float model's own inputs ("local"), in the same Paddle run.

The program copy keeps the program as it is and adds, per compute op (conv2d, depthwise_conv2d, conv2d_transpose,
matmul_v2, matmul, mul) whose activations come from variables the float model holds: a feed per such variable, a copy
of the quantize and dequantize ops (and value copies) between it and the op, a copy of the op and of its bias add or
batch norm up to the variable the debugger compares. Where PaddleSlim rounds the op's output before that add or batch
norm, the copy reads it unrounded, as the ONNX op's output is measured before its output quantizer. So the copy's
output carries only the error the op's input quantizers and weights add, as the int8 ONNX's local run (sessions.py)
measures it, and the two representations can be compared op by op: an op that loses more in ONNX than in Paddle on the
same float inputs computes something else after export. The copies read every other name (a weight's dequantized value)
as the program's run leaves it.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

from paddle.base.proto import framework_pb2

from ...source.paddle_program import QUANTIZE_OPS, constant_variables, copies_its_input

# A compute op's input slots that may carry activations (the others, and an input computed from a parameter, are weights).
ACTIVATION_SLOTS = {"conv2d": ("Input",), "depthwise_conv2d": ("Input",), "conv2d_transpose": ("Input",),
                    "matmul_v2": ("X", "Y"), "matmul": ("X", "Y"), "mul": ("X", "Y")}
AFTER_OP = ("elementwise_add", "batch_norm")  # what may stand between a compute op and the variable compared (bias, BN)
FEED_SUFFIX = "@float"  # the feed holding the float model's value of a variable
COPY_SUFFIX = "@local"


@dataclasses.dataclass(frozen=True)
class LocalPlan:
    """What computes one compared variable from float inputs: the program's ops to copy, in order, and the float
    variables they read (fed)."""

    target: str
    ops: Tuple[int, ...]  # indices into the main block's ops
    sources: Tuple[str, ...]
    # (read, value): a variable an op after the compute op reads and the compute op's output it quantizes, where
    # PaddleSlim put a quantizer between the two; the copy reads the unrounded value, as the ONNX op's output is measured
    unrounded: Tuple[Tuple[str, str], ...] = ()


def _args(op: framework_pb2.OpDesc, slot: str) -> List[str]:
    return [a for s in op.inputs if s.parameter == slot for a in s.arguments]


class _Writers:
    """Which op writes a variable as an op reads it: PaddleSlim writes some names twice (a quantizer's output again
    for another reader), so the writer is the last one before the reader."""

    def __init__(self, block: framework_pb2.BlockDesc) -> None:
        self.block = block
        self.writes: Dict[str, List[int]] = {}
        for i, op in enumerate(block.ops):
            for slot in op.outputs:
                for arg in slot.arguments:
                    self.writes.setdefault(arg, []).append(i)

    def before(self, name: Optional[str], reader: int) -> Optional[int]:
        """The index of the op that wrote `name` last before the op at index `reader` (a reader index of len(ops): the
        value the run ends with)."""
        return max((i for i in self.writes.get(name or "", ()) if i < reader), default=None)

    def writer(self, name: Optional[str], reader: int, passes: Callable[[framework_pb2.OpDesc], bool]) -> Optional[int]:
        """`before`'s op, where `passes` takes it."""
        index = self.before(name, reader)
        return index if index is not None and passes(self.block.ops[index]) else None


def _is(*types: str) -> Callable[[framework_pb2.OpDesc], bool]:
    return lambda op: op.type in types


def _rounds_or_copies(op: framework_pb2.OpDesc) -> bool:
    return op.type in QUANTIZE_OPS or copies_its_input(op)


def _chain(writers: _Writers, constant: FrozenSet[str], name: str, reader: int) -> Tuple[List[int], Optional[str]]:
    """The quantize/dequantize ops (and value copies) that compute `name`, read by op `reader`, from one variable, and
    that variable; None where it is constant (a weight, a bias)."""
    chain: List[int] = []
    while (index := writers.writer(name, reader, _rounds_or_copies)) is not None:
        chain.insert(0, index)
        name, reader = _args(writers.block.ops[index], "X")[0], index
    return chain, None if name in constant else name


def local_plans(block: framework_pb2.BlockDesc, targets: Sequence[str]) -> Dict[str, LocalPlan]:
    """The plan for each target variable (its value at the end of the run) that a compute op writes, directly or
    through what AFTER_OP lists, from at least one activation; targets written otherwise get none."""
    writers = _Writers(block)
    constant = constant_variables(block)
    plans: Dict[str, LocalPlan] = {}
    for target in dict.fromkeys(targets):
        after: List[int] = []
        unrounded: List[Tuple[str, str]] = []
        name: Optional[str] = target
        reader = len(block.ops)
        while (index := writers.writer(name, reader, _is(*AFTER_OP, *QUANTIZE_OPS))) is not None and len(after) < len(AFTER_OP):
            if block.ops[index].type in QUANTIZE_OPS:
                chain, source = _chain(writers, constant, name, reader)
                unrounded.append((name, source))
                name, reader = source, chain[0]
                continue
            computed = [a for s in block.ops[index].inputs for a in s.arguments if a not in constant]
            after.insert(0, index)
            name, reader = (computed[0] if len(computed) == 1 else None), index
        op_index = writers.writer(name, reader, _is(*ACTIVATION_SLOTS))
        if op_index is None:
            continue
        op = block.ops[op_index]
        chains, sources = [], []
        for slot in ACTIVATION_SLOTS[op.type]:
            for arg in _args(op, slot):
                chain, source = _chain(writers, constant, arg, op_index)
                if source is not None:
                    chains += chain
                    sources.append(source)
        declared = {v.name for v in block.vars}
        written = {a for i in (*chains, op_index, *after) for slot in block.ops[i].outputs for a in slot.arguments}
        if sources and set(sources) | written <= declared:
            plans[target] = LocalPlan(target, (*sorted(set(chains)), op_index, *after), tuple(dict.fromkeys(sources)), tuple(unrounded))
    return plans


def add_local_copies(desc: framework_pb2.ProgramDesc, plans: Sequence[LocalPlan]) -> Dict[str, str]:
    """Add each plan's feeds and op copies to the program's main block, in place; each target -> its copy's variable.
    The feeds are named source + FEED_SUFFIX (one per source, shared by the plans reading it)."""
    block = desc.blocks[0]
    var_of = {v.name: v for v in block.vars}
    col = sum(op.type == "feed" for op in block.ops)
    fed: Dict[str, str] = {}
    copied: Dict[str, str] = {}
    originals = list(block.ops)

    def new_var(like: str, name: str) -> None:
        var = block.vars.add()
        var.CopyFrom(var_of[like])
        var.name, var.persistable = name, False

    for number, plan in enumerate(plans):
        renamed: Dict[str, str] = {}
        for source in plan.sources:
            if source not in fed:
                fed[source] = source + FEED_SUFFIX
                new_var(source, fed[source])
                feed = block.ops.add()
                feed.type = "feed"
                feed.inputs.add(parameter="X", arguments=["feed"])
                feed.outputs.add(parameter="Out", arguments=[fed[source]])
                feed.attrs.add(name="col", type=framework_pb2.AttrType.INT, i=col)
                col += 1
            renamed[source] = fed[source]
        for index in plan.ops:
            renamed.update({read: renamed[value] for read, value in plan.unrounded if value in renamed})
            op = block.ops.add()
            op.CopyFrom(originals[index])
            for slot in op.inputs:
                slot.arguments[:] = [renamed.get(a, a) for a in slot.arguments]
            for slot in op.outputs:
                for i, arg in enumerate(slot.arguments):
                    if var_of[arg].persistable:  # a batch norm's running mean and variance, updated in place (not in a test run)
                        continue
                    renamed[arg] = f"{arg}{COPY_SUFFIX}.{number}"
                    new_var(arg, renamed[arg])
                    slot.arguments[i] = renamed[arg]
        renamed.update({read: renamed[value] for read, value in plan.unrounded if value in renamed})
        copied[plan.target] = renamed[plan.target]
    return copied
