"""Fold QuantizeLinear on constant weights into int8 initializers: the int8 ONNX then stores int8 weights.

paddle2onnx 1.2.11 writes PaddleSlim's weights as float constants followed by QuantizeLinear -> DequantizeLinear, so
the int8 file is as large as the float one and every call quantizes the weights again. Quantizing them once here,
with ONNX's own arithmetic (divide by scale, round half to even, add zero point, saturate) and PaddleSlim's scales,
gives bit-identical outputs and a file about half the size.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import onnx
from onnx import numpy_helper


def constant_values(graph: onnx.GraphProto) -> Dict[str, np.ndarray]:
    """Every constant of a graph, initializers and Constant nodes alike, as arrays by tensor name."""
    found = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            found[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return found


def _quantize(w: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int) -> np.ndarray:
    """ONNX QuantizeLinear on a constant: saturate(round_half_even(w / scale) + zero), per tensor or along `axis`."""
    shape = [1] * w.ndim
    if scale.ndim:
        shape[axis % w.ndim] = -1
    info = np.iinfo(zero.dtype)
    scale = scale.reshape(shape)
    # a channel whose weights are all zero gets scale 0 from PaddleSlim's abs-max: any code dequantizes to 0 there, so it
    # stores its zero point (0 / 0 would be NaN, and casting NaN to an integer is undefined)
    q = np.round(w.astype(np.float32) / np.where(scale == 0, 1, scale)) + zero.reshape(shape).astype(np.int32)
    q = np.where(scale == 0, zero.reshape(shape).astype(np.int32), q)
    return np.clip(q, info.min, info.max).astype(zero.dtype)


def fold_weight_quantizers(model: onnx.ModelProto) -> Tuple[onnx.ModelProto, int]:
    """A copy of `model` whose QuantizeLinear nodes on constants are int8 initializers; and how many were folded."""
    folded = onnx.ModelProto.FromString(model.SerializeToString())
    graph = folded.graph
    constants = constant_values(graph)
    keep, initializers = [], []
    for node in graph.node:
        zero: Optional[np.ndarray] = constants.get(node.input[2]) if len(node.input) > 2 else None
        if node.op_type == "QuantizeLinear" and node.input[0] in constants and node.input[1] in constants and zero is not None:
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            q = _quantize(constants[node.input[0]], constants[node.input[1]], zero, axis)
            initializers.append(numpy_helper.from_array(q, node.output[0]))
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    graph.initializer.extend(initializers)
    drop_unused(graph)  # the float weights and scales the folded quantizers read
    return folded, len(initializers)


def dequantized(dq: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> np.ndarray:
    """What DequantizeLinear computes on constants: (q - zero point) * scale in float32, per tensor or along its axis."""
    q, scale = constants[dq.input[0]], constants[dq.input[1]]
    zero = constants[dq.input[2]] if len(dq.input) > 2 else np.zeros_like(scale, dtype=q.dtype)
    shape = [1] * q.ndim
    if scale.ndim:
        shape[next((a.i for a in dq.attribute if a.name == "axis"), 1) % q.ndim] = -1
    return ((q.astype(np.int32) - zero.reshape(shape).astype(np.int32)).astype(np.float32) * scale.reshape(shape)).astype(np.float32)


def drop_unused(graph: onnx.GraphProto) -> None:
    """Remove nodes and initializers nothing reads any more, until none is left."""
    while True:
        used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)

