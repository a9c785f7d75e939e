"""Lay PaddleSlim's QDQ graph out the way ONNX Runtime's int8 kernels want it, using only the scales already in it.

PaddleSlim quantizes almost every tensor symmetrically (int8, zero point 0), including a conv's output *before* its
ReLU. ONNX Runtime fuses DequantizeLinear -> Conv -> QuantizeLinear into QLinearConv only when the activations into
and out of the conv have the same type; it has no int8 ReLU, so ReLU stays in float between two Q/DQ pairs; and its
int8 conv is slower than its float one on a conv over one to four channels (LeNet's first conv at batch 64: 958 us int8,
236 us float). As PaddleSlim writes it, the int8 LeNet is 1.5x *slower* than float. Six rewrites, in this order:

1. thin convs in float (drops roundings): a Conv reading <= 4 channels per group takes its input unquantized and
   float weights equal to what its DequantizeLinear computes; the Q/DQ pairs after it go up to the next int8 op, so
   Conv + ReLU + pooling run fused in float.
2. activations to uint8 (exact): activation Q/DQ pairs move from int8 with zero point z to uint8 with z + 128: the same
   grid, rounding and saturation, so bit-identical values, in the type ONNX Runtime's x86 int8 kernels take.
3. ReLU into the following quantizer (drops a rounding): X -> Q(a) -> DQ(a) -> Relu -> Q(b) -> DQ(b) becomes
   X -> Q(b, uint8, zero point 0) -> DQ(b); the clamp at 0 is the ReLU. Values above 127 b now clip at 255 b.
4. (with `export --fold-quantizers`) float readers of a quantized tensor read its dequantized copy (one rounding more for them): a tensor quantized by one
   QuantizeLinear and also read in float (PP-LCNetV3's squeeze-and-excitation pooling beside its conv's quantizer, the
   FPN's Adds beside theirs). ONNX Runtime fuses Conv into QLinearConv only when the quantizer is the conv's only
   reader: otherwise the conv runs in float, dequantizing its weights on every call (a fifth of the PP-OCRv4
   detector's int8 call).
5. a Q/DQ pair after MaxPool where PaddleSlim left none (exact): the max of values on a grid is on the grid; and after a
   nearest-neighbour Resize (exact: it copies values), so ONNX Runtime runs the upsampling and the Concat after it in
   uint8 (the PP-OCRv4 detector's FPN).
6. a quantized nearest upsampling by whole factors becomes a channels-last copy of its codes (exact;
   export/onnx_upsample.py): ONNX Runtime's Resize is slow on the channels-last tensors between its int8 convs.

With `--fold-quantizers`, between 3 and 4, PP-LCNetV3's scalar affine blocks after a conv fold into the conv's
quantizer too (export/onnx_affine_quantizers.py), and then its HardSwish between two quantizers becomes a requantizing
lookup and an int8 multiply, the affine block after it folded into the product's quantizer (export/onnx_hardswish.py);
after 4, a quantized ConvTranspose whose kernel equals its stride (the DB head's) becomes an int8 1x1 conv and a pixel
shuffle, its bias and normalization folded in (export/onnx_conv_transpose.py). They are not the default (export
applies them when asked, or when the int8 model's accuracy control scored its candidates with them): on the README's
PaddleOCR sets they move answers by about the gates' resolution (its block folds), and parity should judge them on the
user's own data. Rewrites 1 and 3 drop roundings (towards the float model);
4, the affine folds, HardSwish's and ConvTranspose's move values by up to a step; accuracy is measured on the
rewritten file by `paddle-edge parity`, and `export --paddleslim-layout` keeps PaddleSlim's graph as it was.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Tuple

import numpy as np
import onnx
from onnx import helper

from .onnx_affine_quantizers import fold_affine_after_conv
from .onnx_conv_transpose import conv_transpose_as_conv
from .onnx_fold import constant_values, dequantized
from .onnx_hardswish import requantize_hardswish
from .onnx_graph import GraphIndex, add_constant, attributes, sort_topologically
from .onnx_upsample import upsample_channels_last

FLOAT_PASS_THROUGH = ("Relu", "MaxPool", "AveragePool", "BatchNormalization", "Clip")
# A conv over a grey or RGB image: onnxruntime's int8 conv over so few input channels is slower than its float one
# (to see it on a CPU: export with and without --paddleslim-layout and compare the two files' onnxruntime profiles per node).
THIN_CONV_CHANNELS = 4
COPY_SUFFIX = ".pooled"  # rewrite 5 renames a value copy's output to its name with this, its requantizer writing the name
# export --fold-quantizers' rewrites, in the order they apply and by the names files record them under
FOLD_REWRITES = ("affine_after_conv_folded", "hardswish_requantized", "float_readers_dequantized", "conv_transpose_as_conv")


def _is_activation_quantizer(q: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> bool:
    """A QuantizeLinear on a computed tensor (not a weight), per tensor, int8, with a constant scale and zero point."""
    return (q.op_type == "QuantizeLinear" and q.input[0] not in constants and len(q.input) == 3
            and q.input[1] in constants and q.input[2] in constants and constants[q.input[2]].dtype == np.int8
            and constants[q.input[1]].ndim == 0)


def to_uint8_activations(model: onnx.ModelProto) -> int:
    """Rewrite 2, in place: int8 activation Q/DQ (zero point z) -> uint8 (zero point z + 128). Returns how many quantizers."""
    graph = model.graph
    constants = constant_values(graph)
    pairs = GraphIndex(graph).quantizer_pairs(lambda q: _is_activation_quantizer(q, constants))
    for q, dqs in pairs:
        zero = add_constant(graph, f"{q.output[0]}.zero_point_u8", (constants[q.input[2]].astype(np.int16) + 128).astype(np.uint8))
        for node in (q, *dqs):
            node.input[2] = zero
    return len(pairs)


def fold_relu_into_quantizer(model: onnx.ModelProto) -> int:
    """Rewrite 3, in place, after rewrite 2: X -> Q(a) -> DQ(a) -> Relu -> Q(b) -> DQ(b) => X -> Q(b, zp 0) -> DQ(b, zp 0)."""
    graph = model.graph
    constants = constant_values(graph)
    g = GraphIndex(graph)
    drop: List[onnx.NodeProto] = []
    for q_a in list(graph.node):
        if q_a.op_type != "QuantizeLinear" or len(q_a.input) < 3 or constants.get(q_a.input[2], np.zeros(0, np.int8)).dtype != np.uint8:
            continue
        dq_a = g.only_consumer(q_a.output[0], "DequantizeLinear")
        relu = dq_a and g.only_consumer(dq_a.output[0], "Relu")
        q_b = relu and g.only_consumer(relu.output[0], "QuantizeLinear")
        if not q_b or len(q_b.input) < 3 or q_b.input[2] not in constants or constants[q_b.input[2]].dtype != np.uint8:
            continue
        zero = add_constant(graph, f"{q_b.output[0]}.zero_point_relu", np.array(0, np.uint8))
        q_b.input[0] = q_a.input[0]
        q_b.input[2] = zero
        for dq_b in g.consumers.get(q_b.output[0], []):
            dq_b.input[2] = zero
        drop += [q_a, dq_a, relu]
    for node in drop:
        graph.node.remove(node)
    return len(drop) // 3


def _copies_values(node: onnx.NodeProto) -> bool:
    """An op whose every output value is one of its input's values: MaxPool, or a nearest-neighbour Resize."""
    if node.op_type == "Resize":
        return attributes(node).get("mode", b"nearest") == b"nearest"
    return node.op_type == "MaxPool" and len(node.output) == 1


def requantize_value_copies(model: onnx.ModelProto) -> int:
    """Rewrite 5, in place: DQ(s) -> MaxPool or nearest Resize -> (not Q) gets Q(s) -> DQ(s) after it."""
    graph = model.graph
    g = GraphIndex(graph)
    added = 0
    for pool in [n for n in graph.node if _copies_values(n)]:
        dq = g.producer.get(pool.input[0])
        users = g.consumers.get(pool.output[0], [])
        if dq is None or dq.op_type != "DequantizeLinear" or not users or any(u.op_type == "QuantizeLinear" for u in users):
            continue
        if pool.output[0] in g.outputs:
            continue
        pooled = pool.output[0]
        raw, quant = f"{pooled}{COPY_SUFFIX}", f"{pooled}.quantized"
        pool.output[0] = raw
        index = list(graph.node).index(pool) + 1
        graph.node.insert(index, helper.make_node("QuantizeLinear", [raw, *dq.input[1:]], [quant], name=f"{pooled}.requantize"))
        graph.node.insert(index + 1, helper.make_node("DequantizeLinear", [quant, *dq.input[1:]], [pooled], name=f"{pooled}.dequantize"))
        added += 1
    return added


def float_readers_read_dequantized(model: onnx.ModelProto) -> int:
    """Rewrite 4, in place: a computed tensor that one QuantizeLinear quantizes and other nodes read in float has those
    nodes read the quantizer's DequantizeLinear (of the same scale and zero point) instead. Returns how many reads."""
    graph = model.graph
    g = GraphIndex(graph)
    moved = 0
    for node in [n for n in graph.node if n.op_type not in ("QuantizeLinear", "DequantizeLinear", "Constant")]:
        for tensor in (t for t in node.output if t not in g.outputs):
            users = g.consumers.get(tensor, [])
            quantizers = [u for u in users if u.op_type in ("QuantizeLinear", "DequantizeLinear")]
            if len(quantizers) != 1 or len(users) == 1 or quantizers[0].op_type != "QuantizeLinear" or quantizers[0].input[0] != tensor:
                continue
            q = quantizers[0]
            dq = next((d for d in g.consumers.get(q.output[0], []) if d.op_type == "DequantizeLinear" and d.input[1:] == q.input[1:]), None)
            if dq is None:
                continue
            for user in (u for u in users if u is not q):
                user.input[:] = [dq.output[0] if name == tensor else name for name in user.input]
                moved += 1
    if moved:
        sort_topologically(graph)
    return moved


def float_thin_convs(model: onnx.ModelProto, max_channels: int = THIN_CONV_CHANNELS) -> int:
    """Rewrite 1, in place: an ungrouped Conv reading at most `max_channels` channels (a grey or RGB image) runs in
    float. Depthwise and other grouped convs stay int8: onnxruntime has int8 kernels made for them.

    Its activation input skips its Q/DQ pair (one rounding fewer) and its weights and bias become float initializers
    holding exactly what DequantizeLinear would compute. Returns how many convs."""
    graph = model.graph
    constants = constant_values(graph)
    g = GraphIndex(graph)
    changed = 0
    for conv in [n for n in graph.node if n.op_type == "Conv"]:
        feeds = [g.producer.get(name) for name in conv.input]
        weight_dq = feeds[1]
        if not all(f is not None and f.op_type == "DequantizeLinear" for f in feeds[:2]) or weight_dq.input[0] not in constants:
            continue
        if constants[weight_dq.input[0]].shape[1] > max_channels or attributes(conv).get("group", 1) != 1:
            continue
        x_q = g.producer.get(feeds[0].input[0])
        if x_q is None or x_q.op_type != "QuantizeLinear" or len(g.consumers[feeds[0].output[0]]) != 1:
            continue
        conv.input[0] = x_q.input[0]
        for i, dq in enumerate(feeds[1:], start=1):
            if dq is not None and dq.op_type == "DequantizeLinear" and all(name in constants for name in dq.input):
                conv.input[i] = add_constant(graph, f"{dq.output[0]}.float", dequantized(dq, constants))
        _stay_float_until_quantized_op(g, conv.output[0])
        changed += 1
    return changed


def _stay_float_until_quantized_op(g: GraphIndex, tensor: str) -> None:
    """Drop the Q/DQ pairs after a float conv up to the next int8 compute op: ReLU and pooling then run fused in float.

    Each dropped pair is one rounding fewer; the pair in front of the next Conv/MatMul/Gemm/Add stays."""
    while True:
        q = g.only_consumer(tensor, "QuantizeLinear")
        dq = q and g.only_consumer(q.output[0], "DequantizeLinear")
        if dq is None:
            users = g.consumers.get(tensor, [])
            if len(users) != 1 or users[0].op_type not in FLOAT_PASS_THROUGH:
                return
            tensor = users[0].output[0]
            continue
        after = g.consumers.get(dq.output[0], [])
        if len(after) != 1 or after[0].op_type not in FLOAT_PASS_THROUGH:
            return
        after[0].input[list(after[0].input).index(dq.output[0])] = tensor
        g.graph.node.remove(q)
        g.graph.node.remove(dq)
        tensor = after[0].output[0]


def layout_rewrites(fold_quantizers: bool = False) -> List[Tuple[str, Callable[[onnx.ModelProto], int]]]:
    """The rewrites in the order they apply (4 and the folds only with `fold_quantizers`), each working in place
    and returning how often it applied, named as a file's metadata records them."""
    steps: List[Tuple[str, Callable[[onnx.ModelProto], int]]] = [
        ("float_thin_convs", float_thin_convs), ("uint8_activations", to_uint8_activations), ("relu_folded", fold_relu_into_quantizer)]
    if fold_quantizers:
        folds = {"affine_after_conv_folded": fold_affine_after_conv, "hardswish_requantized": requantize_hardswish,
                 "float_readers_dequantized": float_readers_read_dequantized, "conv_transpose_as_conv": conv_transpose_as_conv}
        steps += [(name, folds[name]) for name in FOLD_REWRITES]
    return steps + [("value_copies_requantized", requantize_value_copies), ("upsampling_channels_last", upsample_channels_last)]
