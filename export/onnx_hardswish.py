"""Run PP-LCNetV3's quantized HardSwish on onnxruntime's int8 kernels: a requantizing lookup and an int8 multiply.

In PaddleSlim's int8 graph every HardSwish of PP-LCNetV3 (the PP-OCRv4 detector's and recogniser's backbone) sits
between two quantizers, often with the scalar affine block `y * s + b` after it: DQ(x) -> HardSwish -> Mul(s) ->
Add(b) -> Q(S, z). onnxruntime has no int8 kernel for HardSwish, so this is six float passes over the tensor
(it runs HardSwish as HardSigmoid and Mul); in onnxruntime's profile of the accuracy-controlled recogniser (batch 6,
two threads, AVX-512 VNNI) such float passes took twice the time of its int8 convs. HardSwish(x) = x * HardSigmoid(x), and HardSigmoid(x) = clip(x / 6 + 1/2, 0, 1) is a
quantization of x: its codes on the grid of step 1/255 are Q(x; 6/255, 127.5). The rewrite:

    DQ(x) -> LeakyRelu(alpha=1) -> Q(6/255, 128) -> DQ(1/255, 0) -> h      (HardSigmoid's codes)
    DQ(x), h -> Mul -> Q(S / s, z + round(b / S))                          (the product, its affine block folded in)

LeakyRelu with alpha 1 is the identity, there only so that onnxruntime fuses DQ -> LeakyRelu -> Q into its
QLinearLeakyRelu, a 256-entry lookup that requantizes in one pass; DQ -> Mul -> Q becomes QLinearMul. The readers of
the old quantizer keep their DequantizeLinear (S, z), so they read s * x * h + b as before, rounded once. What it
changes: HardSigmoid is rounded to a step of 1/255 with zero point 128 for 127.5 (up to one step high, half a step,
0.002, on average; not corrected),
the product is rounded once instead of being exact in float, and b / S is rounded to a whole code, whose mean error
(S (round(b / S) - b / S) on every value) the int32 biases of the convs that read the product take back. It is one of
`export --fold-quantizers`' folds, judged by `paddle-edge parity` on the user's data.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import onnx
from onnx import helper

from .onnx_affine_quantizers import affine_after
from .onnx_fold import constant_values, drop_unused
from .onnx_graph import GraphIndex, add_constant, per_tensor

HARD_SIGMOID_INPUT_SCALE = 6 / 255  # x's step for HardSigmoid's codes: x / 6 + 1/2 on a grid of 1/255
HARD_SIGMOID_ZERO_POINT = 128  # the code of x = 0 (127.5, one whole code up)


def _affine_after(g: GraphIndex, tensor: str, constants: Dict[str, np.ndarray]
                  ) -> Tuple[str, float, float, Tuple[onnx.NodeProto, ...]]:
    """(the tensor after it, s, b, its nodes) for the affine block that only `tensor` feeds (affine_after); (tensor, 1,
    0, ()) where there is none."""
    affine = affine_after(g, tensor, constants)
    if affine is None:
        return tensor, 1.0, 0.0, ()
    mul, add, s, b = affine
    return add.output[0], s, b, (mul, add)


def _uint8_per_tensor(node: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> bool:
    """A Q or DQ with a constant scalar scale and a uint8 zero point (an activation quantizer after export's rewrite 2)."""
    return per_tensor(node, constants) and constants[node.input[2]].dtype == np.uint8


def requantize_hardswish(model: onnx.ModelProto) -> int:
    """The rewrite, in place, after export's uint8 activations; how many HardSwish nodes it replaced."""
    graph = model.graph
    constants = constant_values(graph)
    g = GraphIndex(graph)
    replaced = 0
    for hard_swish in [n for n in graph.node if n.op_type == "HardSwish"]:
        dq = g.producer.get(hard_swish.input[0])
        if dq is None or dq.op_type != "DequantizeLinear" or not _uint8_per_tensor(dq, constants):
            continue
        tensor, s, b, affine = _affine_after(g, hard_swish.output[0], constants)
        q = g.only_consumer(tensor, "QuantizeLinear")
        if q is None or not _uint8_per_tensor(q, constants) or q.output[0] in g.outputs:
            continue
        scale = float(constants[q.input[1]].reshape(()))
        if scale <= 0:
            continue
        zero = int(constants[q.input[2]].reshape(())) + int(np.round(b / scale))
        if not 0 <= zero <= 255:
            continue
        name = hard_swish.output[0]
        x_scale, x_zero = dq.input[1], dq.input[2]
        nodes = [
            helper.make_node("LeakyRelu", [dq.output[0]], [f"{name}.x"], alpha=1.0, name=f"{name}.requantize"),
            helper.make_node("QuantizeLinear", [f"{name}.x", add_constant(graph, f"{name}.sigmoid_input_scale",
                                                                           np.array(HARD_SIGMOID_INPUT_SCALE, np.float32)),
                                                add_constant(graph, f"{name}.sigmoid_zero_point", np.array(HARD_SIGMOID_ZERO_POINT, np.uint8))],
                             [f"{name}.sigmoid_codes"], name=f"{name}.sigmoid_quantize"),
            helper.make_node("DequantizeLinear", [f"{name}.sigmoid_codes", add_constant(graph, f"{name}.sigmoid_scale", np.array(1 / 255, np.float32)),
                                                  add_constant(graph, f"{name}.zero", np.array(0, np.uint8))],
                             [f"{name}.sigmoid"], name=f"{name}.sigmoid_dequantize"),
            helper.make_node("DequantizeLinear", [dq.input[0], x_scale, x_zero], [f"{name}.input"], name=f"{name}.input_dequantize"),
            helper.make_node("Mul", [f"{name}.input", f"{name}.sigmoid"], [f"{name}.product"], name=f"{name}.multiply"),
        ]
        q.input[0] = f"{name}.product"
        q.input[1] = add_constant(graph, f"{name}.product_scale", np.array(scale / s, np.float32))
        q.input[2] = add_constant(graph, f"{name}.product_zero_point", np.array(zero, np.uint8))
        _correct_reading_convs(graph, g, q, scale * (np.round(b / scale) - b / scale), constants)
        at = list(graph.node).index(hard_swish)
        for offset, node in enumerate(nodes):
            graph.node.insert(at + offset, node)
        for node in (hard_swish, *affine):
            graph.node.remove(node)
        replaced += 1
    drop_unused(graph)
    return replaced


def _correct_reading_convs(graph: onnx.GraphProto, g: GraphIndex, q: onnx.NodeProto, mean_shift: float,
                           constants: Dict[str, np.ndarray]) -> None:
    """Take the mean error of b's rounding out of the convs that read the product: b / S rounded to whole codes moves
    every value by S (round(b / S) - b / S) on average, so each reading conv's output moves by that times the sum of
    its weights per output channel, which its int32 bias takes back (at the borders of a padded conv, where part of the
    kernel reads padding, by a little too much). Only where every reader is a conv with int8 weights and an int32 bias
    (PP-LCNetV3's are); elsewhere the mean error stays."""
    readers = [c for d in g.consumers.get(q.output[0], []) for c in g.consumers.get(d.output[0], [])]
    if not mean_shift or not readers or any(_int8_conv_parts(c, g, constants) is None for c in readers):
        return
    for conv in readers:
        w, w_scale, b_dq = _int8_conv_parts(conv, g, constants)
        bias, bias_scale = constants[b_dq.input[0]], constants[b_dq.input[1]]
        drift = mean_shift * w_scale.astype(np.float64) * w.reshape(len(w), -1).sum(axis=1)  # per output channel
        corrected = np.round(bias.astype(np.float64) - drift / bias_scale.astype(np.float64))
        if np.all(np.abs(corrected) < 2**31 - 1):
            b_dq.input[0] = add_constant(graph, f"{conv.output[0]}.rounding_corrected_bias", corrected.astype(np.int32))
            constants[b_dq.input[0]] = corrected.astype(np.int32)


def _int8_conv_parts(conv: onnx.NodeProto, g: GraphIndex, constants: Dict[str, np.ndarray]
                     ) -> Optional[Tuple[np.ndarray, np.ndarray, onnx.NodeProto]]:
    """(weight codes, per-channel weight scales, bias DequantizeLinear) of a conv whose weights are int8 constants with
    zero point 0 and whose bias is an int32 constant with a per-channel scale; None for anything else."""
    if conv.op_type != "Conv" or len(conv.input) != 3:
        return None
    w_dq, b_dq = g.producer.get(conv.input[1]), g.producer.get(conv.input[2])
    if any(d is None or d.op_type != "DequantizeLinear" or not all(i in constants for i in d.input) for d in (w_dq, b_dq)):
        return None
    w, w_scale, b_scale = constants[w_dq.input[0]], constants[w_dq.input[1]], constants[b_dq.input[1]]
    zero = constants[w_dq.input[2]] if len(w_dq.input) > 2 else np.zeros(1, np.int8)
    if w.dtype != np.int8 or np.any(zero) or constants[b_dq.input[0]].dtype != np.int32 or w_scale.size not in (1, len(w)) \
            or b_scale.size not in (1, len(w)):
        return None
    return w, np.broadcast_to(w_scale.reshape(-1), (len(w),)), b_dq

