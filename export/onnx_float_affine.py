"""Keep ONNX Runtime's blocked conv layout through the scalar affines no conv precedes (float files only).

PP-LCNetV3 (the PP-OCRv4 detector's and recogniser's backbone) follows each activation with a learnable scalar
`y * scale + bias`: `Mul(y, scale) -> Add(., bias)`, one value each. After a conv ONNX Runtime folds them into it
(export/onnx_conv_affine.py); after a HardSwish it cannot, and at ORT_ENABLE_ALL on x86 its NCHWc layout (the blocked
convs it runs) stops at each: in its profile of the detector's fp32 file at 640x640 (two threads, a Xeon with AMX) the
reorders into and out of that layout took a sixth of the kernel time, the Mul and Add passes more. The rewrite: each
such `Mul -> Add` on a tensor of known channel count becomes one BatchNormalization with `scale` and `bias` for every
channel, mean 0, variance 1 and epsilon 0: the same function, bit for bit as ONNX Runtime runs it unoptimized
(x * scale / sqrt(1 + 0) + bias), which its NCHWc layout runs as a depthwise conv without leaving the layout (there
up to float rounding, as when it folds a BatchNormalization into a conv). Measured on that file, two sessions
alternating: the rewritten one 1.19x faster.

An int8 file is refused: there the affine sits between quantizers, and the int8 layout (export/onnx_qdq_layout.py)
decides what happens to it.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import onnx
from onnx import helper, shape_inference

from .onnx_fold import constant_values, drop_unused
from .onnx_graph import GraphIndex, add_constant

QUANTIZERS = ("QuantizeLinear", "DequantizeLinear")
# names this rewrite gives, so that it can be undone with paddle2onnx's names: a BatchNormalization is named after the
# Mul it replaces, its scale and bias after the Mul's and the Add's constants (Paddle's parameter names)
NODE_SUFFIX = ".affine"
PER_CHANNEL = ".per_channel"


def _scalar(constants: Dict[str, np.ndarray], node: onnx.NodeProto) -> Optional[float]:
    """The single value of a Mul/Add's constant second input, or None where it has none or more than one value."""
    value = constants.get(node.input[1]) if len(node.input) == 2 and node.input[0] not in constants else None
    return float(value.reshape(())) if value is not None and value.size == 1 and value.ndim <= 1 else None


def _affines(graph: onnx.GraphProto, index: GraphIndex, constants: Dict[str, np.ndarray]
             ) -> Dict[str, Tuple[onnx.NodeProto, onnx.NodeProto, float, float]]:
    """Each `Mul(x, scale) -> Add(., bias)` chain with scalar constants, the Mul read only by the Add, by its Add's output."""
    chains = {}
    for mul in (n for n in graph.node if n.op_type == "Mul"):
        add = index.only_consumer(mul.output[0], "Add")
        scale = _scalar(constants, mul)
        bias = _scalar(constants, add) if add is not None and add.input[0] == mul.output[0] else None
        if scale is not None and bias is not None:
            chains[add.output[0]] = (mul, add, scale, bias)
    return chains


def _channels(model: onnx.ModelProto) -> Dict[str, int]:
    """The channel count (axis 1) of every float32 tensor of rank 3 or more that shape inference gives one."""
    inferred = shape_inference.infer_shapes(model).graph
    channels = {}
    for info in (*inferred.value_info, *inferred.input, *inferred.output):
        dims = info.type.tensor_type.shape.dim
        if info.type.tensor_type.elem_type == onnx.TensorProto.FLOAT and len(dims) >= 3 and dims[1].dim_value > 0:
            channels[info.name] = dims[1].dim_value
    return channels


def affines_as_batch_norms(model: onnx.ModelProto) -> Dict[str, int]:
    """Apply the rewrite to a float `model` (no QuantizeLinear or DequantizeLinear) in place; how often it applied."""
    graph = model.graph
    if any(n.op_type in QUANTIZERS for n in graph.node):
        raise ValueError("affines_as_batch_norms rewrites float graphs only: this one has quantizers")
    counts = {"affine_as_batch_norm": 0}
    constants = constant_values(graph)
    index = GraphIndex(graph)
    channels = _channels(model)
    replaced: Dict[int, Optional[onnx.NodeProto]] = {}  # id of a chain's Mul -> its BatchNormalization; of its Add -> None
    taken = {*constants, *index.producer, *(i.name for i in graph.input)}
    for out, (mul, add, scale, bias) in _affines(graph, index, constants).items():
        names = {f"{mul.input[1]}{PER_CHANNEL}", f"{add.input[1]}{PER_CHANNEL}", f"{out}.mean", f"{out}.variance"}
        if mul.input[0] not in channels or len(names) < 4 or names & taken:  # a constant shared by two affines: left as it is
            continue
        taken |= names
        count = channels[mul.input[0]]
        params = [add_constant(graph, f"{mul.input[1]}{PER_CHANNEL}", np.full((count,), scale, np.float32)),
                  add_constant(graph, f"{add.input[1]}{PER_CHANNEL}", np.full((count,), bias, np.float32)),
                  add_constant(graph, f"{out}.mean", np.zeros((count,), np.float32)),
                  add_constant(graph, f"{out}.variance", np.ones((count,), np.float32))]
        replaced[id(mul)] = helper.make_node("BatchNormalization", [mul.input[0], *params], [out], name=f"{mul.output[0]}{NODE_SUFFIX}",
                                             epsilon=0.0)
        replaced[id(add)] = None
        counts["affine_as_batch_norm"] += 1
    nodes = [replaced.get(id(n), n) for n in graph.node]
    del graph.node[:]
    graph.node.extend(n for n in nodes if n is not None)
    drop_unused(graph)
    return counts


def batch_norms_as_affines(model: onnx.ModelProto) -> int:
    """Undo the rewrite in place: `Mul -> Add` again with paddle2onnx's names (the same function), for the tools that
    match the float file node by node to the int8 file and to the Paddle program (boards/quant_debug); how many."""
    graph = model.graph
    constants = constant_values(graph)
    undone = 0
    nodes = []
    for node in graph.node:
        names = node.input[1:3]
        if (node.op_type != "BatchNormalization" or not node.name.endswith(NODE_SUFFIX)
                or not all(name.endswith(PER_CHANNEL) for name in names)):
            nodes.append(node)
            continue
        scale, bias = (name[:-len(PER_CHANNEL)] for name in names)
        for name in (scale, bias):
            if name not in constants:  # the Mul's and Add's own constant, gone with them (still there: another node reads it)
                constants[name] = constants[f"{name}{PER_CHANNEL}"][:1]
                add_constant(graph, name, constants[name])
        product = node.name[:-len(NODE_SUFFIX)]
        nodes += [helper.make_node("Mul", [node.input[0], scale], [product]), helper.make_node("Add", [product, bias], [node.output[0]])]
        undone += 1
    del graph.node[:]
    graph.node.extend(nodes)
    drop_unused(graph)
    return undone
