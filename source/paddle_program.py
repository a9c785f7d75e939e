"""A Paddle inference model on disk (legacy ProgramDesc .pdmodel + .pdiparams): find its files, read its inputs, outputs and ops.

The program is parsed as protobuf, not executed, so this is safe on any file and fast.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from pathlib import Path
from typing import FrozenSet, Iterable, Optional, Sequence, Tuple

from google.protobuf.message import DecodeError
from paddle.base.proto import framework_pb2

from ..runtime.errors import PaddleEdgeError
from ..runtime.manifest import TensorSpec

_DTYPES = {"FP32": "float32", "FP64": "float64", "FP16": "float16", "INT64": "int64", "INT32": "int32",
           "INT8": "int8", "UINT8": "uint8", "BOOL": "bool", "BF16": "bfloat16"}
# Paddle 3 renamed VarType.lod_tensor to dense_tensor; the field number, and so every saved file, is unchanged.
TENSOR_FIELD = "dense_tensor" if "dense_tensor" in framework_pb2.VarType.DESCRIPTOR.fields_by_name else "lod_tensor"


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    """The program and parameter files of one model directory."""

    program: Path
    params: Path

    @property
    def prefix(self) -> Path:
        return self.program.with_suffix("")

    def sha256(self) -> str:
        """One digest of program and weights: the identity of the model."""
        digest = hashlib.sha256()
        for path in (self.program, self.params):
            digest.update(path.read_bytes())
        return digest.hexdigest()


QUANTIZE_OPS = ("quantize_linear", "dequantize_linear")  # what PaddleSlim adds to a program it quantizes


# Ops whose output is a fixed function of their inputs alone (no randomness, no sub-block): what a parameter's value
# may pass through and stay a constant
_PURE_OPS = ("reshape2", "reshape", "unsqueeze2", "unsqueeze", "squeeze2", "squeeze", "transpose2", "flatten_contiguous_range",
             "cast", "scale", "assign", *QUANTIZE_OPS)


def constant_variables(block: framework_pb2.BlockDesc) -> FrozenSet[str]:
    """The variables of a block whose value no input changes: its parameters, and what a pure op computes from
    parameters alone (a conv's bias reshaped for its add, as Paddle 3 saves a `paddle.nn.Conv2D`; PaddleSlim's
    quantizer on it)."""
    constant = {v.name for v in block.vars if v.persistable and v.name not in ("feed", "fetch")}
    for op in block.ops:
        inputs = [a for slot in op.inputs for a in slot.arguments]
        if op.type in _PURE_OPS and inputs and all(a in constant for a in inputs):
            constant.update(a for slot in op.outputs for a in slot.arguments)
    return frozenset(constant)


def only_observes(op: framework_pb2.OpDesc) -> bool:
    """A PaddleSlim quantizer with `only_observer`: it records a scale, for an engine that quantizes there, but passes
    the value on as it is."""
    return any(a.name == "only_observer" and a.b for a in op.attrs)


def copies_its_input(op: framework_pb2.OpDesc) -> bool:
    """An op whose output holds its input's value in an inference run (paddle2onnx writes no node for it)."""
    if op.type in ("assign", "dropout", "share_data") or (op.type in QUANTIZE_OPS and only_observes(op)):
        return True
    attrs = {a.name: a.f for a in op.attrs}
    return op.type == "scale" and attrs.get("scale") == 1.0 and attrs.get("bias") == 0.0


def op_count_difference(float_ops: Sequence[str], int8_ops: Sequence[str]) -> Optional[str]:
    """The first op type, in program order, that two programs hold a different number of, their quantize and dequantize
    ops left out (PaddleSlim adds those and may reorder others): how an int8 model of another network shows."""
    counts = [Counter(op for op in ops if op not in QUANTIZE_OPS) for ops in (float_ops, int8_ops)]
    for op in dict.fromkeys((*float_ops, *int8_ops)):
        if op not in QUANTIZE_OPS and counts[0][op] != counts[1][op]:
            return f"{op}: {counts[0][op]} in the float model, {counts[1][op]} in the int8 model"
    return None


def network_difference(float_program: "ProgramInfo", int8_program: "ProgramInfo") -> Optional[str]:
    """How an int8 model of another network shows: the first op type whose count differs (op_count_difference), else
    the first weight of the float model whose shape the int8 model has no weight of (the same ops, wider layers; weights
    are matched by shape, not name, which another save of one network may number differently; the scales PaddleSlim
    adds are extra weights); None where the ops and the weight shapes are the same (another training or another save)."""
    counted = op_count_difference(float_program.ops, int8_program.ops)
    if counted:
        return counted
    counts = [Counter(shape for _, shape in p.parameter_shapes) for p in (float_program, int8_program)]
    name, shape = next(((n, s) for n, s in float_program.parameter_shapes if counts[0][s] > counts[1][s]), (None, None))
    if name is None:
        return None
    same_name = dict(int8_program.parameter_shapes).get(name)
    if same_name is not None and same_name != shape:
        return f"{name} is {list(shape)} in the float model, {list(same_name)} in the int8 model"
    return f"weights of shape {list(shape)} (first {name}): {counts[0][shape]} in the float model, {counts[1][shape]} in the int8 model"


@dataclasses.dataclass(frozen=True)
class ProgramInfo:
    """What a Paddle program takes, gives and does."""

    inputs: Tuple[TensorSpec, ...]
    outputs: Tuple[TensorSpec, ...]
    ops: Tuple[str, ...]
    parameters: Tuple[str, ...] = ()  # its persistable variables: weights, biases, batch-norm statistics
    parameter_shapes: Tuple[Tuple[str, Tuple[int, ...]], ...] = ()  # each of them with its shape, in block order


def find_model_files(model_dir: Path) -> ModelFiles:
    """The single .pdmodel and its .pdiparams in `model_dir`, or an error that says what is missing."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise PaddleEdgeError(f"{model_dir} is not a directory", "pass the directory that holds model.pdmodel and model.pdiparams")
    programs = sorted(model_dir.glob("*.pdmodel"))
    inner = sorted(model_dir.glob("*/*.pdmodel"))
    if not programs and len(inner) == 1:  # e.g. a training run directory, whose model is RUN/model
        raise PaddleEdgeError(f"{model_dir} is not a model directory (a training run directory?): its model is in "
                              f"{inner[0].parent.name}/", f"point at the model directory inside it: {inner[0].parent}")
    if not programs:
        hint = " (it holds a PIR .json program: re-save it with FLAGS_enable_pir_api=0 set before `import paddle`)" \
            if list(model_dir.glob("*.json")) and list(model_dir.glob("*.pdiparams")) else ""
        raise PaddleEdgeError(f"no .pdmodel file in {model_dir}{hint}",
                              "save the model with paddle.jit.save or paddle.static.save_inference_model (legacy format)")
    if len(programs) > 1:
        raise PaddleEdgeError(f"{model_dir} holds several programs: {[p.name for p in programs]}", "keep one model per directory")
    params = programs[0].with_suffix(".pdiparams")
    if not params.is_file():
        raise PaddleEdgeError(f"{programs[0].name} has no parameter file {params.name} beside it",
                              "copy the .pdiparams saved with the program into the same directory")
    return ModelFiles(programs[0], params)


def _spec(block: framework_pb2.BlockDesc, name: str, layout_hint: bool) -> TensorSpec:
    var = next((v for v in block.vars if v.name == name), None)
    if var is None:
        return TensorSpec(name, ())
    tensor = getattr(var.type, TENSOR_FIELD).tensor
    shape = tuple(int(d) for d in tensor.dims)
    dtype = _DTYPES.get(framework_pb2.VarType.Type.Name(tensor.data_type), "float32")
    return TensorSpec(name, shape, dtype, "NCHW" if layout_hint and len(shape) == 4 else None)


def program_desc(program: Path) -> framework_pb2.ProgramDesc:
    """A .pdmodel parsed (not executed), or an error naming the file when it is not a Paddle program."""
    desc = framework_pb2.ProgramDesc()
    try:
        desc.ParseFromString(Path(program).read_bytes())
    except (DecodeError, RuntimeWarning) as exc:
        raise PaddleEdgeError(f"{program} is not a Paddle program ({exc})", "the file is damaged or not a .pdmodel; save the model again") from exc
    if not desc.blocks:
        raise PaddleEdgeError(f"{program} is not a Paddle program (no blocks)", "the file is damaged or not a .pdmodel; save the model again")
    return desc


def op_slot(slots: Iterable[framework_pb2.OpDesc.Var], parameter: str) -> Optional[str]:
    """The (first) variable an op reads or writes through `parameter` ("X", "Out", ...), None if it has none."""
    return next((v.arguments[0] for v in slots if v.parameter == parameter and v.arguments), None)


def int_attr(op: framework_pb2.OpDesc, name: str, default: int) -> int:
    """An op's integer attribute, `default` where the op does not set it."""
    return next((a.i for a in op.attrs if a.name == name), default)


def read_program(model_dir: Path) -> ProgramInfo:
    """Inputs (in feed order), outputs (in fetch order) and the op types of the main block."""
    files = find_model_files(model_dir)
    block = program_desc(files.program).blocks[0]

    def ordered(op_type: str, slot: str) -> Tuple[str, ...]:
        ops = sorted((op for op in block.ops if op.type == op_type), key=lambda op: int_attr(op, "col", 0))
        return tuple(next(v.arguments[0] for v in (op.outputs if op_type == "feed" else op.inputs) if v.parameter == slot) for op in ops)

    inputs = tuple(_spec(block, n, True) for n in ordered("feed", "Out"))
    outputs = tuple(_spec(block, n, False) for n in ordered("fetch", "X"))
    if not inputs or not outputs:
        raise PaddleEdgeError(f"{files.program} has no feed or fetch ops: it is a training program, not an inference model",
                              "save it with paddle.jit.save(layer, prefix, input_spec=[...])")
    persistable = [v for v in block.vars if v.persistable and v.name not in ("feed", "fetch")]
    return ProgramInfo(inputs, outputs, tuple(op.type for op in block.ops if op.type not in ("feed", "fetch")),
                       tuple(v.name for v in persistable),
                       tuple((v.name, tuple(int(d) for d in getattr(v.type, TENSOR_FIELD).tensor.dims)) for v in persistable
                             if v.type.HasField(TENSOR_FIELD)))
