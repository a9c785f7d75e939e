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
quantizer, folds into the quantizer of HardSwish's int8 product: export/onnx_hardswish.py.) Only a positive scalar s (a
negative one would flip the grid) and a zero point that stays in its type's range are folded. A channel of near-zero
weights, whose scale PaddleSlim's abs-max makes zero or denormal, has no bias unit the shift fits in int32: where its
weights cannot reach a thousandth of the output step it is dead, and gets zero codes under the median live scale (its
bias value kept); a block with a live channel whose shift does not fit is left alone.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import onnx

from .onnx_fold import constant_values, drop_unused
from .onnx_graph import GraphIndex, add_constant

DEAD_FRACTION = 1e-3  # of the output quantizer's step: a channel whose largest output stays below it is dead


def scalar_operand(node: onnx.NodeProto, tensor: str, constants: Dict[str, np.ndarray]) -> Optional[float]:
    """The single-valued constant a Mul or Add applies to `tensor` (either input order), if it is one."""
    others = [name for name in node.input if name != tensor]
    if len(node.input) != 2 or len(others) != 1 or others[0] not in constants or constants[others[0]].size != 1:
        return None
    return float(constants[others[0]].reshape(()))


def _zero_point(zero: np.ndarray, shift: float) -> Optional[np.ndarray]:
    """`zero` moved by `shift` codes, if it stays in its type's range."""
    moved = int(zero.reshape(())) + int(np.round(shift))
    info = np.iinfo(zero.dtype)
    return np.array(moved, zero.dtype) if info.min <= moved <= info.max else None


def affine_after(g: GraphIndex, tensor: str, constants: Dict[str, np.ndarray]
                 ) -> Optional[Tuple[onnx.NodeProto, onnx.NodeProto, float, float]]:
    """(Mul, Add, s, b) if `tensor` goes only to Mul by a positive scalar and that only to Add of a scalar (no graph
    output among them)."""
    mul = g.only_consumer(tensor, "Mul")
    add = mul and g.only_consumer(mul.output[0], "Add")
    if add and add.output[0] in g.outputs:
        return None
    s = scalar_operand(mul, tensor, constants) if mul else None
    b = scalar_operand(add, mul.output[0], constants) if add else None
    return None if s is None or b is None or not s > 0 else (mul, add, s, b)


def _dead_channels_revived(w: np.ndarray, w_scale: np.ndarray, bias: np.ndarray, bias_scale: np.ndarray, x_scale: float,
                           x_reach: float, out_step: float) -> Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(weight codes, weight scales, bias codes, bias scales) with each dead channel's weight codes made 0 and its scale
    the median of the live ones' (its bias value kept), or None where no channel is dead (or every one is).

    PaddleSlim's abs-max gives a channel of near-zero weights a scale of zero or of denormals, in whose bias units no
    affine shift fits. A channel is dead where the largest output its weights can make (127 codes times its scale, its
    fan-in and the input's largest magnitude) is under a thousandth of the output quantizer's step: zeroing it moves
    that channel's output by less than that."""
    reach = 127 * w_scale.astype(np.float64) * (w.size // w.shape[0]) * x_reach
    dead = reach < DEAD_FRACTION * out_step
    if not dead.any() or dead.all():
        return None
    live = float(np.median(w_scale[~dead]))
    new_scale = np.where(dead, live, w_scale).astype(np.float32)
    new_bias_scale = (np.float32(x_scale) * new_scale).astype(np.float32)
    old_bias = bias.astype(np.float64) * bias_scale.astype(np.float64)
    new_bias = np.where(dead, np.round(old_bias / new_bias_scale.astype(np.float64)), bias).astype(np.int32)
    new_bias_scale = np.where(dead, new_bias_scale, bias_scale).astype(np.float32)
    codes = w.copy()
    codes[dead] = 0
    return codes, new_scale, new_bias, new_bias_scale


def fold_affine_after_conv(model: onnx.ModelProto) -> int:
    """The rewrite, in place; how many blocks it folded."""
    graph = model.graph
    constants = constant_values(graph)
    g = GraphIndex(graph)
    folded = 0
    for conv in [n for n in graph.node if n.op_type == "Conv" and len(n.input) == 3]:
        q = g.only_consumer(conv.output[0], "QuantizeLinear")
        dq = q and g.only_consumer(q.output[0], "DequantizeLinear")
        affine = dq and affine_after(g, dq.output[0], constants)
        x_dq, w_dq, b_dq = (g.producer.get(name) for name in conv.input)
        if not affine or any(d is None or d.op_type != "DequantizeLinear" or not all(i in constants for i in d.input[:2])
                             for d in (w_dq, b_dq)) or len(q.input) < 3 or any(i not in constants for i in q.input[1:]):
            continue
        mul, add, s, b = affine
        w, w_scale = constants[w_dq.input[0]], constants[w_dq.input[1]]
        bias_codes, bias_scale = constants[b_dq.input[0]], constants[b_dq.input[1]]
        step = float(constants[q.input[1]].reshape(()))
        scale = np.float32(step * s)
        zero = _zero_point(constants[q.input[2]], -b / float(scale))
        if zero is None:
            continue
        if not _shift_fits(bias_codes, bias_scale, s, b):
            revived = _revivable(x_dq, w_dq, constants) and _dead_channels_revived(
                w, w_scale, bias_codes, bias_scale, *_input_range(x_dq, constants), step)
            if not revived or not _shift_fits(revived[2], revived[3], s, b):
                continue
            w, w_scale, bias_codes, bias_scale = revived
            w_dq.input[0] = add_constant(graph, f"{conv.output[0]}.live_weight", w)
        name = conv.output[0]
        new_bias_scale = (bias_scale * np.float32(s)).astype(np.float32)
        w_dq.input[1] = add_constant(graph, f"{name}.affine_weight_scale", (w_scale * np.float32(s)).astype(np.float32))
        b_dq.input[1] = add_constant(graph, f"{name}.affine_bias_scale", new_bias_scale)
        b_dq.input[0] = add_constant(graph, f"{name}.affine_bias", _shifted(bias_codes, new_bias_scale, b).astype(np.int32))
        q.input[1] = dq.input[1] = add_constant(graph, f"{name}.affine_scale", np.array(scale, np.float32))
        q.input[2] = dq.input[2] = add_constant(graph, f"{name}.affine_zero_point", zero)
        for user in g.consumers.get(add.output[0], []):
            user.input[:] = [dq.output[0] if i == add.output[0] else i for i in user.input]
        graph.node.remove(mul)
        graph.node.remove(add)
        folded += 1
    drop_unused(graph)
    return folded


def _shifted(bias: np.ndarray, bias_scale: np.ndarray, b: float) -> np.ndarray:
    """The bias codes with b added in units of `bias_scale`, in float64 (checked by _shift_fits before any cast)."""
    return bias.astype(np.float64) + np.round(b / bias_scale.astype(np.float64))


def _shift_fits(bias: np.ndarray, bias_scale: np.ndarray, s: float, b: float) -> bool:
    """Whether the bias codes with b added, in the units the fold gives them (bias scale times s), stay in int32: not
    where a channel's scale is zero or near it (its weights all near zero)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        shifted = _shifted(bias, (bias_scale * np.float32(s)).astype(np.float32), b)
    return bool(np.all(bias_scale > 0) and np.all(np.abs(shifted) < 2**31 - 1))


def _revivable(x_dq: Optional[onnx.NodeProto], w_dq: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> bool:
    """Whether the conv reads a per-tensor dequantized input and per-channel int8 weights of zero point 0."""
    zero = constants.get(w_dq.input[2]) if len(w_dq.input) > 2 else None
    return (x_dq is not None and x_dq.op_type == "DequantizeLinear" and len(x_dq.input) == 3
            and all(i in constants for i in x_dq.input[1:]) and constants[x_dq.input[1]].size == 1
            and constants[w_dq.input[0]].dtype == np.int8 and constants[w_dq.input[1]].ndim == 1
            and (zero is None or not np.any(zero)))


def _input_range(x_dq: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> Tuple[float, float]:
    """The conv input's scale and the largest magnitude its codes can dequantize to."""
    scale, zero = float(constants[x_dq.input[1]].reshape(())), int(constants[x_dq.input[2]].reshape(()))
    info = np.iinfo(constants[x_dq.input[2]].dtype)
    return scale, scale * max(zero - info.min, info.max - zero)
