"""Run a quantized nearest-neighbour upsampling by whole factors as a channels-last copy of its codes.

The PP-OCRv4 detector's FPN upsamples its int8 maps by 2, 4 and 8 (Paddle's nearest_interp_v2: ONNX Resize, nearest,
asymmetric coordinates, floor). After export's rewrite 5 each sits between a DequantizeLinear and a QuantizeLinear of one
scale and zero point, which onnxruntime runs as a Resize of the uint8 codes; but between its channels-last int8 convs that
Resize runs channels-last, in a per-element loop (export/onnx_channels_last.py): the six took 4.7 of the detector's
30 ms int8 call at 640 x 640 (a scratch profile, onnxruntime 1.31.1, two threads of an AMD EPYC). The rewrite:

    DQ(s, z) -> Resize(nearest, [1, 1, kh, kw]) -> Q(s, z)
    =>  codes -> Transpose to NHWC -> Unsqueeze -> Expand (each pixel over a kh x kw block) -> Reshape -> Transpose back

Exact: with asymmetric coordinates and floor rounding, output pixel (y, x) is input pixel (y // kh, x // kw), which is
what the broadcast copies; a copy commutes with (de)quantization, and Q(DQ(c)) = c for one scale and zero point, so the
codes are copied and the quantizer pair goes. Other coordinate modes, roundings, fractional scales, sizes instead of
scales, or a Resize not between two such quantizers are left alone.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import onnx
from onnx import helper

from .onnx_channels_last import blocks_to_pixels, to_channels_last
from .onnx_fold import constant_values, drop_unused
from .onnx_graph import AXES_AS_INPUTS, GraphIndex, add_constant, attributes, opset, per_tensor


def upsample_channels_last(model: onnx.ModelProto) -> int:
    """The rewrite, in place, after export's rewrite 5; how many Resize nodes it replaced."""
    graph = model.graph
    if opset(model) < AXES_AS_INPUTS:
        return 0
    constants = constant_values(graph)
    g = GraphIndex(graph)
    replaced = 0
    for resize in [n for n in graph.node if n.op_type == "Resize"]:
        factors = _whole_factors(resize, constants)
        dq = g.producer.get(resize.input[0])
        q = g.only_consumer(resize.output[0], "QuantizeLinear")
        if factors is None or dq is None or dq.op_type != "DequantizeLinear" or q is None or not _same_quantizer(dq, q, constants):
            continue
        kh, kw = factors
        prefix = resize.output[0]
        nhwc = to_channels_last(dq.input[0], prefix)
        axes = add_constant(graph, f"{prefix}.block_axes", np.array([2, 4], np.int64))
        spread = add_constant(graph, f"{prefix}.block", np.array([1, 1, kh, 1, kw, 1], np.int64))
        nodes = [nhwc, helper.make_node("Unsqueeze", [nhwc.output[0], axes], [f"{prefix}.unsqueezed"], name=f"{prefix}.unsqueeze"),
                 helper.make_node("Expand", [f"{prefix}.unsqueezed", spread], [f"{prefix}.blocks"], name=f"{prefix}.blocks"),
                 *blocks_to_pixels(graph, nhwc.output[0], f"{prefix}.blocks", kh, kw, q.output[0], prefix, shuffled=False)]
        at = list(graph.node).index(resize)
        for offset, node in enumerate(nodes):
            graph.node.insert(at + offset, node)
        graph.node.remove(resize)
        graph.node.remove(q)
        replaced += 1
    drop_unused(graph)
    return replaced


def _whole_factors(resize: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> Optional[Tuple[int, int]]:
    """(kh, kw) for a 4-D nearest Resize with asymmetric coordinates and floor rounding by constant whole scales
    [1, 1, kh, kw] (not both 1); None for any other Resize."""
    attrs = attributes(resize)
    if (attrs.get("mode", b"nearest"), attrs.get("coordinate_transformation_mode"), attrs.get("nearest_mode")) != (
            b"nearest", b"asymmetric", b"floor") or "axes" in attrs or len(resize.input) != 3:
        return None
    scales = constants.get(resize.input[2])
    if scales is None or scales.shape != (4,) or not np.array_equal(scales, np.round(scales)) or (scales[:2] != 1).any():
        return None
    kh, kw = int(scales[2]), int(scales[3])
    return (kh, kw) if min(kh, kw) >= 1 and kh * kw > 1 else None


def _same_quantizer(dq: onnx.NodeProto, q: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> bool:
    """Whether a DequantizeLinear and a QuantizeLinear have one constant per-tensor scale and zero point of one type."""
    if not (per_tensor(dq, constants) and per_tensor(q, constants)):
        return False
    (s1, z1), (s2, z2) = ((constants[n.input[1]], constants[n.input[2]]) for n in (dq, q))
    return s1.dtype == s2.dtype and z1.dtype == z2.dtype and float(s1.flat[0]) == float(s2.flat[0]) and int(z1.flat[0]) == int(z2.flat[0])
