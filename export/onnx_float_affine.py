"""Keep ONNX Runtime's blocked conv layout through scalar affines it cannot fold into a conv (float files only).

PP-LCNetV3 (the PP-OCRv4 detector's and recogniser's backbone) follows each activation with a learnable scalar
`y * scale + bias`: `Mul(y, scale) -> Add(., bias)`, one value each. After a conv ONNX Runtime folds them into it
(export/onnx_conv_affine.py); after a HardSwish it cannot, and at ORT_ENABLE_ALL on x86 its NCHWc layout (the blocked
convs it runs) stops at each, reordering the tensor out of the layout and back around the Mul and the Add. The rewrite:
every such `Mul -> Add` left (either input order, scalars of rank 0 or 1) on a float32 tensor of rank 3 or more with a
known size on axis 1 becomes one BatchNormalization with `scale` and `bias` repeated along that axis, mean 0, variance
1 and epsilon 0, which computes x * scale / sqrt(1 + 0) + bias: the same function (every element gets the same
scale and bias, whichever axis holds the channels); in ONNX Runtime on x86 with optimizations off, bit for bit. Its
NCHWc layout runs a BatchNormalization inside the layout as a depthwise conv (up to float rounding, as when it folds
one into a conv). `paddle-edge bench` times the file against its peers.

A graph with quantizers is refused: in an int8 file the affine sits between quantizers, and the int8 layout
(export/onnx_qdq_layout.py) decides what happens to it.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
from onnx import helper, shape_inference

from .onnx_affine_quantizers import scalar_operand
from .onnx_fold import constant_values, drop_unused
from .onnx_graph import GraphIndex, add_constant

QUANTIZERS = ("QuantizeLinear", "DequantizeLinear")
# names this rewrite gives, so that it can be undone with the tensor names paddle2onnx gave: a BatchNormalization is
# named after the Mul's output, its scale and bias after the Mul's and the Add's constants (Paddle's parameter names)
NODE_SUFFIX = ".affine"
PER_CHANNEL = ".per_channel"


def _affines(graph: onnx.GraphProto, index: GraphIndex, constants: Dict[str, np.ndarray]
             ) -> List[Tuple[str, onnx.NodeProto, onnx.NodeProto, float, float]]:
    """Each `Mul(x, scale) -> Add(., bias)` chain with scalar constants (either input order), the Mul read only by the
    Add: (x, Mul, Add, scale, bias)."""
    chains = []
    for mul in (n for n in graph.node if n.op_type == "Mul" and len(n.input) == 2):
        x = next((name for name in mul.input if name not in constants), None)
        add = index.only_consumer(mul.output[0], "Add")
        scale = scalar_operand(mul, x, constants) if x is not None else None
        bias = scalar_operand(add, mul.output[0], constants) if add is not None else None
        if scale is None or bias is None:
            continue
        if all(constants[_constant(n, t)].ndim <= 1 for n, t in ((mul, x), (add, mul.output[0]))):  # no rank raised
            chains.append((x, mul, add, scale, bias))
    return chains


def _constant(node: onnx.NodeProto, tensor: str) -> str:
    """The name of the other input of a two-input node reading `tensor`: its constant."""
    return next(name for name in node.input if name != tensor)


def _channels(model: onnx.ModelProto) -> Dict[str, int]:
    """The channel count (axis 1) of every float32 tensor of rank 3 or more that shape inference gives one."""
    inferred = shape_inference.infer_shapes(model).graph
    channels = {}
    for info in (*inferred.value_info, *inferred.input, *inferred.output):
        dims = info.type.tensor_type.shape.dim
        if info.type.tensor_type.elem_type == onnx.TensorProto.FLOAT and len(dims) >= 3 and dims[1].dim_value > 0:
            channels[info.name] = dims[1].dim_value
    return channels


def has_quantizers(graph: onnx.GraphProto) -> bool:
    """Whether the graph holds a QuantizeLinear or DequantizeLinear (an int8 file's graph, not a float one)."""
    return any(n.op_type in QUANTIZERS for n in graph.node)


def affines_as_batch_norms(model: onnx.ModelProto) -> Dict[str, int]:
    """Apply the rewrite to a float `model` (no QuantizeLinear or DequantizeLinear) in place; how often it applied."""
    graph = model.graph
    if has_quantizers(graph):
        raise ValueError("affines_as_batch_norms rewrites float graphs only: this one has quantizers")
    counts = {"affine_as_batch_norm": 0}
    constants = constant_values(graph)
    index = GraphIndex(graph)
    channels = _channels(model)
    replaced: Dict[str, Optional[onnx.NodeProto]] = {}  # a chain's Mul's output -> its BatchNormalization; its Add's -> None
    taken = {*constants, *index.producer, *(i.name for i in graph.input)}
    for x, mul, add, scale, bias in _affines(graph, index, constants):
        out = add.output[0]
        scale_name, bias_name = f"{_constant(mul, x)}{PER_CHANNEL}", f"{_constant(add, mul.output[0])}{PER_CHANNEL}"
        names = {scale_name, bias_name, f"{out}.mean", f"{out}.variance"}
        if x not in channels or len(names) < 4 or names & taken:  # a constant shared by two affines: left as it is
            continue
        taken |= names
        params = [add_constant(graph, name, np.full((channels[x],), value, np.float32))
                  for name, value in ((scale_name, scale), (bias_name, bias), (f"{out}.mean", 0.0), (f"{out}.variance", 1.0))]
        replaced[mul.output[0]] = helper.make_node("BatchNormalization", [x, *params], [out],
                                                   name=f"{mul.output[0]}{NODE_SUFFIX}", epsilon=0.0)
        replaced[out] = None
        counts["affine_as_batch_norm"] += 1
    nodes = [replaced.get(n.output[0], n) if len(n.output) == 1 else n for n in graph.node]
    del graph.node[:]
    graph.node.extend(n for n in nodes if n is not None)
    drop_unused(graph)
    return counts


def _written_here(node: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> bool:
    """Whether `node` is a BatchNormalization this rewrite wrote: its names, epsilon 0, mean 0, variance 1, and one
    value of scale and one of bias on every channel (anything else is left to be what it is)."""
    if node.op_type != "BatchNormalization" or not node.name.endswith(NODE_SUFFIX) or len(node.input) != 5:
        return False
    if not all(name.endswith(PER_CHANNEL) for name in node.input[1:3]) or any(name not in constants for name in node.input[1:]):
        return False
    scale, bias, mean, variance = (constants[name] for name in node.input[1:])
    epsilon = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
    return (epsilon == 0 and not mean.any() and bool((variance == 1).all()) and scale.size > 0
            and bool((scale == scale.flat[0]).all()) and bool((bias == bias.flat[0]).all()))


def batch_norms_as_affines(model: onnx.ModelProto) -> int:
    """Undo the rewrite in place: `Mul -> Add` again, writing and reading the tensors of the names they had (the same
    function), for the tools that match the float file by tensor names to the int8 file and to the Paddle program
    (boards/quant_debug); how many."""
    graph = model.graph
    constants = constant_values(graph)
    undone = 0
    nodes = []
    for node in graph.node:
        if not _written_here(node, constants):
            nodes.append(node)
            continue
        scale, bias = (name[:-len(PER_CHANNEL)] for name in node.input[1:3])
        for name in (scale, bias):
            if name not in constants:  # the Mul's and Add's own constant, gone with them (still there: another node reads it)
                constants[name] = constants[f"{name}{PER_CHANNEL}"][:1]
                add_constant(graph, name, constants[name])
        product = node.name[:-len(NODE_SUFFIX)]
        nodes += [helper.make_node("Mul", [node.input[0], scale], [product]),
                  helper.make_node("Add", [product, bias], [node.output[0]])]
        undone += 1
    del graph.node[:]
    graph.node.extend(nodes)
    drop_unused(graph)
    return undone
