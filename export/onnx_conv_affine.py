"""Let onnxruntime fold a conv's scalar scale and shift into the conv (PP-LCNetV3's learnable affine blocks).

PP-LCNetV3, the backbone of the PP-OCRv4 detector and recogniser, follows convs with a learnable affine block,
`y * scale + bias` with one scalar of each. paddle2onnx writes it as `Mul(scale, y)` and `Add(Mul, bias)` with the
constant first and of shape [1]. onnxruntime's ConvMulFusion and ConvAddFusion fold a Mul or Add after a Conv into its
weights and bias only when the constant is the second input, and the Add's only when it is shaped per output channel
[C, 1, 1]; so none was folded, and on the detector at 640x640 these elementwise passes took a fifth of an fp32 call.
Two rewrites, both the same function (a product or sum of two floats does not depend on their order, and a scalar
broadcast over channels is the same as its value repeated per channel):

1. a Mul or Add with a constant first input and a computed second one gets its inputs swapped;
2. a single-valued constant of a Mul or Add that directly follows a Conv (its only consumer, chained Mul then Add) is
   repeated per output channel ([C, 1, 1] after a 2-D conv).

onnxruntime then does the folding itself, as it folds BatchNormalization, which changes float rounding only.
"""
from __future__ import annotations

from typing import Dict

import numpy as np
import onnx
from onnx import numpy_helper

from .onnx_fold import constant_values, drop_unused
from .onnx_graph import GraphIndex

AFFINE_OPS = ("Mul", "Add")


def constants_second(graph: onnx.GraphProto) -> int:
    """Rewrite 1, in place: Mul/Add(constant, computed) -> Mul/Add(computed, constant). Returns how many."""
    constants = constant_values(graph)
    swapped = 0
    for node in graph.node:
        if node.op_type in AFFINE_OPS and len(node.input) == 2 and node.input[0] in constants and node.input[1] not in constants:
            node.input[0], node.input[1] = node.input[1], node.input[0]
            swapped += 1
    return swapped


def per_channel_after_conv(graph: onnx.GraphProto) -> int:
    """Rewrite 2, in place, after rewrite 1: Conv -> Mul(scalar) -> Add(scalar) gets its scalars per output channel.
    Returns how many constants."""
    constants = constant_values(graph)
    g = GraphIndex(graph)
    expanded = 0
    for conv in [n for n in graph.node if n.op_type == "Conv" and len(n.input) > 1 and n.input[1] in constants]:
        weights = constants[conv.input[1]]
        per_channel = (weights.shape[0],) + (1,) * (weights.ndim - 2)  # [C, 1, 1] for a 2-D conv: the output's channel axis
        tensor = conv.output[0]
        for op in AFFINE_OPS:
            node = g.only_consumer(tensor, op)
            value = constants.get(node.input[1]) if node is not None and node.input[0] == tensor else None
            if value is None or value.size != 1 or value.ndim > weights.ndim:  # a higher rank would widen the output
                break
            name = f"{node.output[0]}.per_channel"
            graph.initializer.append(numpy_helper.from_array(np.full(per_channel, value.reshape(()), value.dtype), name))
            node.input[1] = name
            expanded += 1
            tensor = node.output[0]
    drop_unused(graph)
    return expanded


def foldable_conv_affines(model: onnx.ModelProto) -> Dict[str, int]:
    """Apply both rewrites to `model` in place; how often each applied."""
    return {"affine_constants_second": constants_second(model.graph), "affine_constants_per_channel": per_channel_after_conv(model.graph)}
