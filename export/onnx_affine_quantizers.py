"""Fold PP-LCNetV3's learnable affine blocks that follow a conv into the conv's int8 quantizer.

PP-LCNetV3 (the backbone of the PP-OCRv4 detector and recogniser) wraps each activation in scalar affine blocks:
conv -> `y * s1 + b1` -> HardSwish -> `y * s2 + b2`. In PaddleSlim's int8 graph the first block sits between the
conv's quantizer and the activation, the second in front of the next quantizer, and ONNX Runtime has no int8 kernel for
either: each is two float passes over the whole tensor (Mul, Add), a third of the detector's int8 call on a 2-core Xeon.
An affine map of a quantized tensor is another quantization of it: Conv(W, bias) -> Q(S, z) -> DQ -> Mul(s1) ->
Add(b1) becomes Conv(s1 W, s1 bias + b1) -> Q(s1 S, z - round(b1 / (s1 S))) -> DQ, the weights' and bias's scales
multiplied by s1 (their int8 and int32 codes kept, b1 added to the bias codes in the new bias unit). It moves a value by
at most one quantization step (b1 / scale is rounded to a whole code once) and keeps the saturation range within a
step; accuracy is measured on the rewritten file by `paddle-edge parity`. (The second block, in front of the next
quantizer, folds the same way into that quantizer's scale and zero point, but on the PP-OCRv4 detector that cost 1.5
points of box F1 more on the README's 12 pages, so it is not folded.) Only a positive scalar s (a negative one would
flip the grid) and a zero point that stays in its type's range are folded; a bias whose new codes would leave int32
(weight scales near zero), or with a channel of zero weights (scale 0), is left alone.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import onnx

from .onnx_fold import constant_values, drop_unused
from .onnx_graph import GraphIndex, add_constant


def _scalar(node: onnx.NodeProto, tensor: str, constants: Dict[str, np.ndarray]) -> Optional[float]:
    """The single-valued constant a Mul or Add applies to `tensor`, if it is one."""
    others = [name for name in node.input if name != tensor]
    if len(node.input) != 2 or len(others) != 1 or others[0] not in constants or constants[others[0]].size != 1:
        return None
    return float(constants[others[0]].reshape(()))


def _zero_point(zero: np.ndarray, shift: float) -> Optional[np.ndarray]:
    """`zero` moved by `shift` codes, if it stays in its type's range."""
    moved = int(zero.reshape(())) + int(np.round(shift))
    info = np.iinfo(zero.dtype)
    return np.array(moved, zero.dtype) if info.min <= moved <= info.max else None


def _affine_after(g: GraphIndex, tensor: str, constants: Dict[str, np.ndarray]
                  ) -> Optional[Tuple[onnx.NodeProto, onnx.NodeProto, float, float]]:
    """(Mul, Add, s, b) if `tensor` goes only to Mul by a positive scalar and that only to Add of a scalar (no graph
    output among them)."""
    mul = g.only_consumer(tensor, "Mul")
    add = mul and g.only_consumer(mul.output[0], "Add")
    if add and add.output[0] in g.outputs:
        return None
    s = _scalar(mul, tensor, constants) if mul else None
    b = _scalar(add, mul.output[0], constants) if add else None
    return None if s is None or b is None or not s > 0 else (mul, add, s, b)


def fold_affine_after_conv(model: onnx.ModelProto) -> int:
    """The rewrite, in place; how many blocks it folded."""
    graph = model.graph
    constants = constant_values(graph)
    g = GraphIndex(graph)
    folded = 0
    for conv in [n for n in graph.node if n.op_type == "Conv" and len(n.input) == 3]:
        q = g.only_consumer(conv.output[0], "QuantizeLinear")
        dq = q and g.only_consumer(q.output[0], "DequantizeLinear")
        affine = dq and _affine_after(g, dq.output[0], constants)
        w_dq, b_dq = g.producer.get(conv.input[1]), g.producer.get(conv.input[2])
        if not affine or any(d is None or d.op_type != "DequantizeLinear" or not all(i in constants for i in d.input[:2])
                             for d in (w_dq, b_dq)) or len(q.input) < 3 or any(i not in constants for i in q.input[1:]):
            continue
        mul, add, s, b = affine
        if not np.all(constants[b_dq.input[1]] > 0):  # a channel of zero weights (scale 0) cannot carry the shift
            continue
        scale = np.float32(constants[q.input[1]].reshape(()) * s)
        zero = _zero_point(constants[q.input[2]], -b / float(scale))
        bias_scale = (constants[b_dq.input[1]] * np.float32(s)).astype(np.float32)
        bias = constants[b_dq.input[0]].astype(np.int64) + np.round(b / bias_scale.astype(np.float64)).astype(np.int64)
        if zero is None or np.abs(bias).max() >= 2**31 - 1:
            continue
        name = conv.output[0]
        w_dq.input[1] = add_constant(graph, f"{name}.affine_weight_scale", (constants[w_dq.input[1]] * np.float32(s)).astype(np.float32))
        b_dq.input[1] = add_constant(graph, f"{name}.affine_bias_scale", bias_scale)
        b_dq.input[0] = add_constant(graph, f"{name}.affine_bias", bias.astype(np.int32))
        q.input[1] = dq.input[1] = add_constant(graph, f"{name}.affine_scale", np.array(scale, np.float32))
        q.input[2] = dq.input[2] = add_constant(graph, f"{name}.affine_zero_point", zero)
        for user in g.consumers.get(add.output[0], []):
            user.input[:] = [dq.output[0] if i == add.output[0] else i for i in user.input]
        graph.node.remove(mul)
        graph.node.remove(add)
        folded += 1
    drop_unused(graph)
    return folded
