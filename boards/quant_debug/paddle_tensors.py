"""Intermediate tensors of a Paddle inference program, read with Paddle Inference: the program is copied with a fetch
op appended for each wanted variable, and run with IR optimization off so that no fusion pass removes them.

This is how the debugger sees PaddleSlim's quantized program as Paddle runs it (fake quantization in float), tensor by
tensor against the float model, so a loss present in ONNX but not in Paddle is pinned on the export."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

import numpy as np
import onnx
from paddle.base.proto import framework_pb2

from ...source.paddle_program import constant_variables, copies_its_input, find_model_files, only_observes, program_desc
from ...source.paddle_predictor import PaddlePredictor
from .graph import MADE_UP_NAME
from .paddle_local import FEED_SUFFIX, LocalPlan, add_local_copies, local_plans

_ONNX_TYPE = {"elementwise_add": "Add", "elementwise_sub": "Sub", "elementwise_mul": "Mul", "elementwise_div": "Div",
              "concat": "Concat", "matmul_v2": "MatMul"}  # Paddle ops paddle2onnx writes as one ONNX node of this type
_COMMUTATIVE = frozenset({"Add", "Mul"})


def _program(model_dir: Path) -> framework_pb2.ProgramDesc:
    return program_desc(find_model_files(model_dir).program)


def variables(model_dir: Path) -> FrozenSet[str]:
    """The names of the variables of a program's main block."""
    return frozenset(v.name for v in _program(model_dir).blocks[0].vars)


def _first_holders(ops: Sequence[framework_pb2.OpDesc]) -> Callable[[str], str]:
    """Variable -> the first variable holding its value, through the program's copies (assign, dropout, an observer's
    output)."""
    value: Dict[str, str] = {}

    def of(name: str) -> str:
        while name in value:
            name = value[name]
        return name

    for op in ops:
        if copies_its_input(op):
            source = of(next(a for slot in op.inputs if slot.parameter == "X" for a in slot.arguments))
            for out in (a for slot in op.outputs if slot.parameter in ("Out", "Y") for a in slot.arguments):
                if of(out) != source:
                    value[out] = source
    return of


def plans(model_dir: Path, targets: Sequence[str]) -> Dict[str, LocalPlan]:
    """How the program computes each target from float inputs, where a compute op writes it (paddle_local.py)."""
    return local_plans(_program(model_dir).blocks[0], targets)


def value_holder(model_dir: Path) -> Callable[[str], str]:
    """Variable -> the first variable of the program holding its value (through assign, dropout, an observer)."""
    return _first_holders(_program(model_dir).blocks[0].ops)


def rounded(model_dir: Path) -> FrozenSet[str]:
    """The variables whose value PaddleSlim's int8 program rounds: read, under its own name or a copy's (assign, dropout,
    an observer's output), by a quantize_linear that is not only an observer (one with `only_observer` records a scale,
    for an engine that quantizes there, but passes the value on as it is)."""
    ops = _program(model_dir).blocks[0].ops
    of = _first_holders(ops)
    held = {of(a) for op in ops if op.type == "quantize_linear" and not only_observes(op)
            for slot in op.inputs if slot.parameter == "X" for a in slot.arguments}
    names = {a for op in ops for slots in (op.inputs, op.outputs) for slot in slots for a in slot.arguments}
    return frozenset(name for name in names if of(name) in held)


def after_bias(block: framework_pb2.BlockDesc, names: Sequence[str]) -> Dict[str, str]:
    """Each name (a conv's output) -> the variable holding the same value as the ONNX tensor of that name: paddle2onnx
    gives an ONNX Conv the bias Paddle adds in a separate elementwise_add, under the name of the conv's output before
    the add (a MatMul keeps its add apart, so its name needs no mapping). `block`: the program's main block."""
    constant = constant_variables(block)
    readers: Dict[str, List[framework_pb2.OpDesc]] = {}
    for op in block.ops:
        for slot in op.inputs:
            for arg in slot.arguments:
                readers.setdefault(arg, []).append(op)
    mapped = {}
    for name in names:
        users = readers.get(name, [])
        add = users[0] if len(users) == 1 and users[0].type == "elementwise_add" else None
        operands = [a for slot in add.inputs for a in slot.arguments] if add else []
        if add and any(a in constant for a in operands if a != name):
            mapped[name] = next(a for slot in add.outputs if slot.parameter == "Out" for a in slot.arguments)
        else:
            mapped[name] = name
    return mapped


def _reads(op_type: str, inputs: Sequence[str]) -> Tuple[str, Tuple[str, ...]]:
    return op_type, tuple(sorted(inputs)) if op_type in _COMMUTATIVE else tuple(inputs)


def program_names(model_dir: Path, onnx_model: onnx.ModelProto) -> Dict[str, str]:
    """The tensors of the program's ONNX export whose value the program holds under another name -> that variable: a
    Conv's output, named before the bias add the export folded into it (`after_bias`), and the values paddle2onnx named
    itself (`Add.5`), where the program has one op of the same kind reading the same values (an affine block's
    elementwise_add of its scaled input and its bias parameter: `tmp_40`), or, for a layer norm, which the export writes
    as several nodes, the Add of its bias parameter. Parameters and most variables keep their Paddle names in the
    export, so the match goes through the graph in order, made-up inputs matched first, a copy the export drops
    (dropout) read as the value it copies. Values of other nodes the export adds (a scale by a constant it made, a
    product with a per-channel copy of a parameter) stay unmatched."""
    block = _program(model_dir).blocks[0]
    ops = block.ops
    of = _first_holders(ops)
    writers: Dict[Tuple[str, Tuple[str, ...]], Optional[str]] = {}
    layer_norm_of: Dict[str, str] = {}  # its bias parameter -> its output
    for op in ops:
        slots = {s.parameter: list(s.arguments) for s in (*op.inputs, *op.outputs)}
        if op.type in _ONNX_TYPE and len(slots.get("Out", [])) == 1:
            key = _reads(_ONNX_TYPE[op.type], [of(a) for slot in ("X", "Y") for a in slots.get(slot, [])])
            writers[key] = None if key in writers else slots["Out"][0]  # two ops alike: no match
        elif op.type == "layer_norm" and len(slots.get("Bias", [])) == 1 and len(slots.get("Y", [])) == 1:
            layer_norm_of[slots["Bias"][0]] = slots["Y"][0]
    convs = [n.output[0] for n in onnx_model.graph.node if n.op_type == "Conv"]
    written = {o for n in onnx_model.graph.node for o in n.output}  # a bias add the export kept writes its own output
    found = {name: variable for name, variable in after_bias(block, convs).items() if variable != name and variable not in written}
    for node in onnx_model.graph.node:
        if len(node.output) != 1 or not MADE_UP_NAME.fullmatch(node.output[0]):
            continue
        inputs = [of(found.get(name, name)) for name in node.input if name]
        biases = [name for name in inputs if name in layer_norm_of]
        if not any(MADE_UP_NAME.fullmatch(name) for name in inputs):
            variable = writers.get(_reads(node.op_type, inputs))
        elif node.op_type == "Add" and len(inputs) == 2 and len(biases) == 1:
            variable = layer_norm_of[biases[0]]
        else:
            variable = None
        if variable is not None:
            found[node.output[0]] = variable
    return found


def _with_fetches(model_dir: Path, names: Sequence[str], out_dir: Path, plans: Sequence[LocalPlan] = ()) -> Tuple[Path, Dict[str, str]]:
    """A copy of the program in `out_dir` that also computes each plan's target from float inputs (paddle_local.py) and
    fetches `names` and those copies, after its own outputs; and each plan's target -> its copy's variable."""
    desc = _program(model_dir)
    copies = add_local_copies(desc, plans)
    names = [*names, *copies.values()]
    block = desc.blocks[0]
    first = sum(op.type == "fetch" for op in block.ops)
    for col, name in enumerate(names, first):
        op = block.ops.add()
        op.type = "fetch"
        op.inputs.add(parameter="X", arguments=[name])
        op.outputs.add(parameter="Out", arguments=["fetch"])
        op.attrs.add(name="col", type=framework_pb2.AttrType.INT, i=col)
    files = find_model_files(model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.pdmodel").write_bytes(desc.SerializeToString())
    shutil.copy(files.params, out_dir / "model.pdiparams")
    return out_dir, copies


class PaddleTensors:
    """Runs a Paddle program and returns the wanted intermediate tensors by name, and, for each local plan, its target
    computed from float inputs, by target (`copies`: the plans copied)."""

    def __init__(self, model_dir: Path, names: Sequence[str], threads: int, plans: Sequence[LocalPlan] = ()) -> None:
        self.names = list(names)
        with tempfile.TemporaryDirectory(prefix="paddle-tensors-") as work:  # the predictor holds the program once made
            program, self.copies = _with_fetches(Path(model_dir), self.names, Path(work), plans)
            self.predictor = PaddlePredictor(program, threads, mkldnn=False, ir_optim=False)

    def run(self, feeds: Dict[str, np.ndarray], float_values: Optional[Dict[str, np.ndarray]] = None
            ) -> Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]]:
        """The wanted tensors for `feeds`, and each local plan's target computed from `float_values` (the float model's
        value of each variable the plans read, by its name in the program)."""
        fed = {name + FEED_SUFFIX: value for name, value in (float_values or {}).items()}
        by_name = dict(zip(self.predictor.output_names, self.predictor.run({**feeds, **fed})))
        return {name: by_name[name] for name in self.names}, {target: by_name[copy] for target, copy in self.copies.items()}
