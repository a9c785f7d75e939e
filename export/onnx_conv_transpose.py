"""Run a quantized ConvTranspose whose kernel equals its stride as an int8 1x1 conv and a channels-last pixel shuffle.

The PP-OCRv4 detector's DB head upsamples its 160 x 160 map twice with 2 x 2, stride 2 ConvTransposes (Paddle's
conv2d_transpose), the first followed by a bias Add, a BatchNormalization and an int8 quantizer. onnxruntime has no int8
ConvTranspose, so PaddleSlim's graph runs it in float from dequantized input (GEMM and col2im), then the Add and the
BatchNormalization as two more float passes: 5 of the detector's 30 ms int8 call at 640 x 640 (a scratch profile,
onnxruntime 1.31.1, two threads of an AMD EPYC). With the kernel equal to the stride the output blocks do not overlap,
and each input pixel's block is a matrix product:

    out[c, kh y + i, kw x + j] = sum_ci in[ci, y, x] W[ci, c, i, j]

which is a 1x1 conv to kh kw C channels, channel (i kw + j) C + c, followed by a pixel shuffle. The rewrite:

    DQ(x) -> ConvTranspose(W, b) [-> Add(b2)] [-> BatchNormalization] -> Q(S, z)
    =>  DQ(x) -> Conv 1x1 (int8 codes of W, per-channel scales times the normalization's) -> Q(S, z) -> codes
        -> Transpose to NHWC -> Reshape [N, H, W, kh, kw, C] -> Transpose -> Reshape -> Transpose back (pixel shuffle)

which onnxruntime runs as one QLinearConv and copies of uint8 codes (export/onnx_channels_last.py). Only where W lies on a
per-output-channel int8 grid (PaddleSlim's channel-wise abs-max: its codes are kept, so the weights do not move); the
bias Add and the normalization fold into the weight scales (a negative factor flips the codes) and an int32 bias in
units of input scale x weight scale. It changes float rounding and rounds the bias to that unit, so an output code can
move by one where the float value sat on a rounding boundary; it is one of `export --fold-quantizers`' rewrites,
judged by `paddle-edge parity` on the user's data.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
from onnx import helper

from .onnx_channels_last import blocks_to_pixels, to_channels_last
from .onnx_fold import constant_values, dequantized, drop_unused
from .onnx_graph import AXES_AS_INPUTS, GraphIndex, add_constant, attributes, opset, per_tensor, sort_topologically

CONV_SUFFIX = ".conv"  # the 1x1 conv's output: the ConvTranspose's output name with this (boards/quant_debug matches by it)
GRID_TOLERANCE = 1e-3  # in codes: how far from a whole code a weight may sit (float32 storage) and count as on the grid
INT8_MAX = 127


def conv_transpose_as_conv(model: onnx.ModelProto) -> int:
    """The rewrite, in place, after export's uint8 activations; how many ConvTranspose nodes it replaced."""
    graph = model.graph
    if opset(model) < AXES_AS_INPUTS:  # per-channel DequantizeLinear
        return 0
    constants = constant_values(graph)
    g = GraphIndex(graph)
    replaced = sum(_replace(graph, g, constants, node) for node in [n for n in graph.node if n.op_type == "ConvTranspose"])
    if replaced:
        sort_topologically(graph)
    drop_unused(graph)
    return replaced


def _replace(graph: onnx.GraphProto, g: GraphIndex, constants: Dict[str, np.ndarray], conv_t: onnx.NodeProto) -> bool:
    """Replace one ConvTranspose and the nodes up to its quantizer, where the rewrite applies; whether it did."""
    kernel = _stride_sized_kernel(conv_t)
    x_dq = g.producer.get(conv_t.input[0])
    if kernel is None or x_dq is None or x_dq.op_type != "DequantizeLinear" or not per_tensor(x_dq, constants):
        return False
    weights = _constant(g, conv_t.input[1], constants)
    own_bias = _constant(g, conv_t.input[2], constants) if len(conv_t.input) > 2 and conv_t.input[2] else np.zeros(1)
    chain = None if weights is None or own_bias is None else _affine_chain(g, conv_t, weights.shape[1], constants)
    if chain is None:
        return False
    gain, shift, q, absorbed = chain
    x_scale = np.float32(constants[x_dq.input[1]].reshape(()))
    quantized = _on_grid(weights, gain, shift + gain * own_bias.reshape(-1), x_scale)
    if quantized is None:
        return False
    graph.node.extend(_conv_and_shuffle(graph, conv_t, x_dq, q, quantized, x_scale, kernel))
    for node in (conv_t, *absorbed, q):
        graph.node.remove(node)
    return True


def _stride_sized_kernel(node: onnx.NodeProto) -> Optional[Tuple[int, int]]:
    """(kh, kw) for a 2-D, ungrouped, undilated ConvTranspose whose strides equal its kernel, with no padding or output
    size given: the case whose output blocks neither overlap nor leave gaps."""
    attrs = attributes(node)
    kernel = list(attrs.get("kernel_shape", []))
    if (len(kernel) != 2 or list(attrs.get("strides", [])) != kernel or attrs.get("group", 1) != 1 or "output_shape" in attrs
            or list(attrs.get("dilations", [1, 1])) != [1, 1] or any(attrs.get("pads", [0] * 4)) or any(attrs.get("output_padding", [0, 0]))
            or attrs.get("auto_pad", b"NOTSET") != b"NOTSET"):
        return None
    return kernel[0], kernel[1]


def _constant(g: GraphIndex, name: str, constants: Dict[str, np.ndarray]) -> Optional[np.ndarray]:
    """A weight or bias in float64: a constant, or a DequantizeLinear of constants; None where it is computed."""
    if name in constants:
        return constants[name].astype(np.float64)
    dq = g.producer.get(name)
    if dq is not None and dq.op_type == "DequantizeLinear" and all(i in constants for i in dq.input):
        return dequantized(dq, constants).astype(np.float64)
    return None


def _affine_chain(g: GraphIndex, conv_t: onnx.NodeProto, channels: int, constants: Dict[str, np.ndarray]
                  ) -> Optional[Tuple[np.ndarray, np.ndarray, onnx.NodeProto, List[onnx.NodeProto]]]:
    """(gain, shift, Q, the nodes between) for ConvTranspose [-> Add(constant)] [-> BatchNormalization] -> Q, each the
    only reader of the one before, Q per tensor: what reaches Q is gain * (ConvTranspose + its bias) + shift, per channel."""
    gain, shift = np.ones(channels), np.zeros(channels)
    tensor, absorbed = conv_t.output[0], []
    add = g.only_consumer(tensor, "Add")
    if add is not None:
        value = constants.get(add.input[1] if add.input[0] == tensor else add.input[0])
        if value is None or value.ndim > 4 or not (value.size == 1 or value.size == channels and value.shape[-3:] == (channels, 1, 1)):
            return None
        shift = shift + value.astype(np.float64).reshape(-1)
        tensor, absorbed = add.output[0], [add]
    norm = g.only_consumer(tensor, "BatchNormalization")
    if norm is not None:
        attrs = attributes(norm)
        params = [constants.get(name) for name in norm.input[1:5]]
        if attrs.get("training_mode", 0) or len(norm.output) != 1 or any(p is None or p.size != channels for p in params):
            return None
        scale, offset, mean, var = (p.astype(np.float64).reshape(-1) for p in params)
        factor = scale / np.sqrt(var + float(attrs.get("epsilon", 1e-5)))
        gain, shift = factor, factor * (shift - mean) + offset
        tensor, absorbed = norm.output[0], [*absorbed, norm]
    q = g.only_consumer(tensor, "QuantizeLinear")
    if q is None or not per_tensor(q, constants):
        return None
    return gain, shift, q, absorbed


def _on_grid(weights: np.ndarray, gain: np.ndarray, bias: np.ndarray, x_scale: np.float32
             ) -> Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(int8 codes [C in, C out, kh, kw], per-channel scales, int32 bias codes) for gain * weights with the bias in
    units of x_scale x each scale, where the weights lie on a per-output-channel int8 grid; None where they do not, or
    the bias does not fit int32. A channel with no weight or no gain gets zero codes under the median live scale."""
    step = np.abs(weights).max(axis=(0, 2, 3)) / INT8_MAX
    live = (step > 0) & (gain != 0)
    if not live.any():
        return None
    codes = weights / np.where(step > 0, step, 1)[None, :, None, None]
    if np.abs(codes - np.round(codes)).max() > GRID_TOLERANCE:
        return None
    codes = np.round(codes) * np.where(live & (gain < 0), -1, 1)[None, :, None, None] * live[None, :, None, None]
    scales = np.where(live, step * np.abs(gain), np.median((step * np.abs(gain))[live])).astype(np.float32)
    bias_scales = x_scale * scales
    bias_codes = np.round(bias / bias_scales.astype(np.float64))
    if np.abs(bias_codes).max() >= 2 ** 31 - 1:
        return None
    return codes.astype(np.int8), scales, bias_codes.astype(np.int32)


def _conv_and_shuffle(graph: onnx.GraphProto, conv_t: onnx.NodeProto, x_dq: onnx.NodeProto, q: onnx.NodeProto,
                      quantized: Tuple[np.ndarray, np.ndarray, np.ndarray], x_scale: np.float32, kernel: Tuple[int, int]
                      ) -> List[onnx.NodeProto]:
    """The 1x1 QDQ conv to kh kw C channels (channel (i kw + j) C + c, so per-channel values repeat kh kw times) and
    the pixel shuffle writing Q's output."""
    codes, scales, bias = quantized
    (kh, kw), channels, prefix = kernel, codes.shape[1], conv_t.output[0]
    weights = codes.transpose(2, 3, 1, 0).reshape(kh * kw * channels, codes.shape[0], 1, 1)
    scales, bias = np.tile(scales, kh * kw), np.tile(bias, kh * kw)
    names = {
        "w": add_constant(graph, f"{prefix}.weight_codes", weights),
        "w_scale": add_constant(graph, f"{prefix}.weight_scale", scales),
        "w_zero": add_constant(graph, f"{prefix}.weight_zero", np.zeros(weights.shape[0], np.int8)),
        "b": add_constant(graph, f"{prefix}.bias_codes", bias),
        "b_scale": add_constant(graph, f"{prefix}.bias_scale", (scales * x_scale).astype(np.float32)),
        "b_zero": add_constant(graph, f"{prefix}.bias_zero", np.zeros(weights.shape[0], np.int32)),
        "cut": add_constant(graph, f"{prefix}.cut", np.array([0, 0, 0, kh, kw, channels], np.int64)),
    }
    nhwc = to_channels_last(f"{prefix}.codes", prefix)
    return [
        helper.make_node("DequantizeLinear", [names["w"], names["w_scale"], names["w_zero"]], [f"{prefix}.weight"], axis=0, name=f"{prefix}.weight"),
        helper.make_node("DequantizeLinear", [names["b"], names["b_scale"], names["b_zero"]], [f"{prefix}.bias"], axis=0, name=f"{prefix}.bias"),
        helper.make_node("Conv", [x_dq.output[0], f"{prefix}.weight", f"{prefix}.bias"], [prefix + CONV_SUFFIX], kernel_shape=[1, 1], name=f"{prefix}.conv"),
        helper.make_node("QuantizeLinear", [prefix + CONV_SUFFIX, *q.input[1:]], [f"{prefix}.codes"], name=f"{prefix}.quantize"),
        nhwc,
        helper.make_node("Reshape", [nhwc.output[0], names["cut"]], [f"{prefix}.cut_blocks"], name=f"{prefix}.cut"),
        helper.make_node("Transpose", [f"{prefix}.cut_blocks"], [f"{prefix}.blocks"], perm=[0, 1, 3, 2, 4, 5], name=f"{prefix}.blocks"),
        *blocks_to_pixels(graph, nhwc.output[0], f"{prefix}.blocks", kh, kw, q.output[0], prefix, shuffled=True),
    ]
