"""The onnxruntime sessions the debugger reads tensors from: a model with chosen tensors exposed as outputs, the int8
model rewired so each compute op reads the float model's activations ("local"), the part of the int8 model from one op
on with that op reading float inputs ("gain"), and one compute op cut out of the int8 graph with its quantizers, to run
its fused int8 kernel and its exact QDQ semantics on the same input codes."""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

from ...export.onnx_fold import constant_values
from ...export.onnx_qdq_layout import COPY_SUFFIX
from .graph import ComputeOp, Quantizer

Feeds = Dict[str, np.ndarray]
FLOAT_FEED = "{}@float"  # the graph input a rewired activation is fed through


class Session:
    """An onnxruntime session over a model in memory, fetching `outputs` by name."""

    def __init__(self, model: onnx.ModelProto, outputs: Sequence[str], fused: bool, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # no worker left spinning after a run: the statistics and Paddle's runs in between need the cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if not fused:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = list(outputs)

    def run(self, feeds: Feeds) -> Dict[str, np.ndarray]:
        """The exposed tensors for `feeds` (extra feeds the model does not take are ignored)."""
        values = self.session.run(self.outputs, {name: feeds[name] for name in self.inputs})
        return dict(zip(self.outputs, values))


def exposing(model: onnx.ModelProto, tensors: Sequence[str]) -> onnx.ModelProto:
    """A copy of `model` with `tensors` among its outputs (onnxruntime keeps fusing around a fetched QuantizeLinear
    output, so the fused int8 kernels still run)."""
    copy = onnx.ModelProto.FromString(model.SerializeToString())
    known = {o.name for o in copy.graph.output}
    copy.graph.output.extend(helper.make_empty_tensor_value_info(t) for t in dict.fromkeys(tensors) if t not in known)
    return copy


def rewired_to_float(model: onnx.ModelProto, ops: Sequence[ComputeOp]) -> onnx.ModelProto:
    """A copy of the int8 `model` in which every activation input of `ops` (the tensor its quantizer reads, or the op
    itself where the input is not quantized) comes from a new graph input fed with the float model's tensor: each
    op's output is then its own error alone, on the float model's inputs."""
    copy = onnx.ModelProto.FromString(model.SerializeToString())
    quantizers = {q.codes for op in ops for q in op.inputs if q}
    float_inputs = {(op.output, source) for op in ops for q, source in zip(op.inputs, op.activation_sources) if q is None}
    fed = set()
    for node in copy.graph.node:
        slots = [0] if node.op_type == "QuantizeLinear" and node.output[0] in quantizers else []
        slots += [i for i, name in enumerate(node.input) if (node.output[0], name) in float_inputs]
        for i in slots:
            fed.add(node.input[i])
            node.input[i] = FLOAT_FEED.format(node.input[i])
    copy.graph.input.extend(helper.make_tensor_value_info(FLOAT_FEED.format(name), onnx.TensorProto.FLOAT, None)
                            for name in sorted(fed))
    return copy


def without_rounding(model: onnx.ModelProto, quantizers: Sequence[Quantizer]) -> onnx.ModelProto:
    """A copy of the int8 `model` in which the values `quantizers` quantize pass on as they are, neither rounded nor
    clipped, as a PaddleSlim observer passes them: each DequantizeLinear of their codes becomes Identity of the float
    tensor the quantizer reads (Relu where the quantizer holds a ReLU export folded into it). A requantizer export put
    after a pool of such a value (on the pool's input grid, so that it rounded nothing) passes its value on too."""
    copy = onnx.ModelProto.FromString(model.SerializeToString())
    by_codes = {q.codes: q for q in quantizers}
    producer = {o: n for n in copy.graph.node for o in n.output}
    passed = set()  # DequantizeLinear outputs that now carry unquantized values
    for node in [n for n in copy.graph.node if n.op_type == "DequantizeLinear"]:  # in graph order: a pool's input first
        q = by_codes.get(node.input[0])
        quantize = producer.get(node.input[0])
        source = quantize.input[0] if q is None and quantize is not None and quantize.op_type == "QuantizeLinear" else ""
        pool = producer.get(source) if source.endswith(COPY_SUFFIX) else None
        if q is not None:
            kind, source = ("Relu" if q.holds_relu else "Identity"), q.source
        elif pool is not None and pool.input[0] in passed:
            kind = "Identity"
        else:
            continue
        node.CopyFrom(helper.make_node(kind, [source], list(node.output), name=f"{node.name}.unrounded"))
        passed.add(node.output[0])
    return copy


def kernel_output(op: ComputeOp) -> str:
    """The tensor an int8 op's kernel is judged by: its output codes, or its float output where nothing quantizes it."""
    return op.output_codes or op.output


def single_op(model: onnx.ModelProto, op: ComputeOp) -> onnx.ModelProto:
    """The int8 `op` alone: inputs its activations' codes, then their DequantizeLinear, the weight's, the op and the
    QuantizeLinear after it, if any; output those codes (or the op's float output). Fused, onnxruntime runs it as its
    int8 kernel (QLinearConv, MatMulIntegerToFloat ...)."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    node = producer[op.output]
    codes = {q.codes for q in op.inputs if q}
    nodes = [producer[name] for name in node.input if name in producer and producer[name].op_type == "DequantizeLinear"]
    nodes += [node] + [n for n in g.node if n.op_type == "QuantizeLinear" and op.output_codes and n.output[0] == op.output_codes]
    constants = [producer[name] for n in nodes for name in n.input
                 if name in producer and producer[name].op_type == "Constant"]
    nodes = list({id(n): n for n in constants + nodes}.values())
    made = {o for n in nodes for o in n.output}
    needed = {name for n in nodes for name in n.input if name and name not in made and name not in codes}
    initializers = [i for i in g.initializer if i.name in needed]
    inputs = [helper.make_tensor_value_info(q.codes, onnx.TensorProto.UINT8 if q.qmin == 0 else onnx.TensorProto.INT8, None)
              for q in op.inputs if q]
    graph = helper.make_graph(nodes, f"{op.node}-alone", inputs, [helper.make_empty_tensor_value_info(kernel_output(op))],
                              initializers)
    return helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)


def accumulator_steps(model: onnx.ModelProto, ops: Sequence[ComputeOp]) -> Dict[str, Optional[Union[float, np.ndarray]]]:
    """Each op's step (see `accumulator_step`), keyed by its output, the graph indexed once."""
    producer = {o: n for n in model.graph.node for o in n.output}
    constants = constant_values(model.graph)
    return {op.output: accumulator_step(op, producer, constants) for op in ops}


def accumulator_step(op: ComputeOp, producer: Dict[str, onnx.NodeProto],
                     constants: Dict[str, np.ndarray]) -> Optional[Union[float, np.ndarray]]:
    """One quantization step of what the int8 `op`'s kernel is judged by (`producer`: the graph's node writing each
    tensor; `constants`: its constant values): 1 (a code) where its output is quantized,
    else one unit of its int32 accumulator, the product of its inputs' scales, per output channel where its weight has
    a scale per channel along the output's channels (a conv's weight axis 0; a MatMul's weight columns, or rows where
    the weight comes first). None where a per-channel scale lies along another axis: that op is not checked."""
    if op.output_codes:
        return 1.0
    step = float(np.prod([q.scale for q in op.inputs if q]))
    codes = {q.codes for q in op.inputs if q}
    for slot, name in enumerate(producer[op.output].input[:2]):
        dq = producer.get(name)
        if dq is None or dq.op_type != "DequantizeLinear" or dq.input[0] in codes or dq.input[0] not in constants:
            continue
        scale = np.asarray(constants[dq.input[1]], np.float64).reshape(-1)
        if scale.size == 1:
            return step * float(scale[0])
        axis = next((a.i for a in dq.attribute if a.name == "axis"), 1)
        rank = np.asarray(constants[dq.input[0]]).ndim
        if op.op_type == "Conv" and axis == 0:  # weight [M, C/group, k...] -> output [N, M, spatial...]
            return step * scale.reshape(-1, *[1] * (rank - 2))
        if op.op_type == "MatMul" and rank == 2 and (slot, axis) == (1, 1):  # x [..., K] @ W [K, N]
            return step * scale
        if op.op_type == "MatMul" and rank == 2 and (slot, axis) == (0, 0):  # W [M, K] @ x [K, N]
            return step * scale.reshape(-1, 1)
        return None
    return step


@dataclasses.dataclass(frozen=True)
class FloatInputPart:
    """The nodes of an int8 model from one op on, that op reading its activations unquantized, and the tensors they
    read from the rest of the model (`feeds`); `whole`: the model has subgraphs and runs whole, from its inputs."""

    nodes: Tuple[onnx.NodeProto, ...]
    feeds: Tuple[str, ...]
    whole: bool


def float_input_part(model: onnx.ModelProto, op: ComputeOp) -> FloatInputPart:
    """The part of the int8 `model` from `op` on, `op` reading its activations unquantized (its weights stay as they
    are): it, a Relu it reads, every node computed from their outputs that reaches the model's outputs, in graph order,
    and the Constants these read; fed the tensors they read from the rest of the model, whose values are the int8
    model's own (a model with subgraphs: all of it, from its inputs). A quantizer with a uint8 zero point of 0 also
    clamped at 0 (a ReLU folded into it), so the float input keeps that clamp."""
    producer = {o: n for n in model.graph.node for o in n.output}
    position = next(i for i, n in enumerate(model.graph.node) if op.output in n.output)
    node = onnx.NodeProto()
    node.CopyFrom(model.graph.node[position])
    first = []
    for quantizer in (q for q in op.inputs if q):
        for i, name in enumerate(node.input):
            dq = producer.get(name)
            if dq is None or dq.op_type != "DequantizeLinear" or dq.input[0] != quantizer.codes:
                continue
            source = quantizer.source
            if quantizer.qmin == quantizer.zero_point == 0:
                source = f"{quantizer.source}@relu"
                if all(n.output[0] != source for n in first):
                    first.append(helper.make_node("Relu", [quantizer.source], [source], name=source))
            node.input[i] = source
    first.append(node)
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in model.graph.node for a in n.attribute):
        # a subgraph (If, Loop, Scan) reads outer tensors its node does not list
        nodes = (*model.graph.node[:position], *first, *model.graph.node[position + 1:])
        return FloatInputPart(nodes, tuple(i.name for i in model.graph.input), whole=True)
    made = {o for n in first for o in n.output}
    kept = list(first)
    for n in model.graph.node[position + 1:]:  # topological: readers come after
        if any(name in made for name in n.input):
            kept.append(n)
            made.update(n.output)
    needed, reaching = {o.name for o in model.graph.output}, []
    for n in reversed(kept):  # only what reaches the model's outputs
        if any(o in needed for o in n.output):
            reaching.append(n)
            needed.update(n.input)
    kept = reaching[::-1]
    made = {o for n in kept for o in n.output}
    initializers = {i.name for i in model.graph.initializer}
    read = list(dict.fromkeys(name for n in kept for name in n.input if name and name not in made and name not in initializers))
    constants = [producer[name] for name in read if name in producer and producer[name].op_type == "Constant"]
    made.update(o for n in constants for o in n.output)
    return FloatInputPart(tuple(constants + kept), tuple(name for name in read if name not in made), whole=False)


def with_float_inputs(model: onnx.ModelProto, part: FloatInputPart, types: Dict[str, str]) -> onnx.ModelProto:
    """What keeping one op's activation inputs in float gives the int8 `model`'s outputs: its `part` from that op on as
    a model, fed `part.feeds` from the int8 model's own run; `types`: their onnxruntime types ("tensor(float)" ...). Its
    outputs: those of the model it computes."""
    made = {o for n in part.nodes for o in n.output}
    used = {name for n in part.nodes for name in n.input}
    inputs = [helper.make_tensor_value_info(name, onnx.TensorProto.DataType.Value(types[name][len("tensor("):-1].upper()), None)
              for name in part.feeds]
    graph = helper.make_graph(part.nodes, f"{model.graph.name}-float-inputs", inputs,
                              [o for o in model.graph.output if o.name in made],
                              [i for i in model.graph.initializer if part.whole or i.name in used])
    return helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version, functions=model.functions)
