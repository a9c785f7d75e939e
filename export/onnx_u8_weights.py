"""The int8 ONNX for x86-64 CPUs without VNNI: the same model with uint8 weights (w + 128, zero point 128).

On x86-64 without VNNI (AVX2 only, AVX-512 without VNNI) onnxruntime's fused u8 x s8 kernels sum pairs of products
in int16 (`vpmaddubsw`) and saturate, so their outputs leave the model's int8 semantics (runtime/cpu.py). With uint8
weights onnxruntime takes its u8 x u8 kernels, which widen to 16 bits before multiplying and do not saturate. The rewrite
is exact: DequantizeLinear computes (w + 128 - 128) * scale = w * scale for every weight, so the QDQ model is the same
function, and onnxruntime still fuses it into QLinearConv. Only per-tensor or per-channel symmetric weights (zero point 0,
what PaddleSlim writes) are rewritten; anything else is left as it is.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import onnx
from onnx import numpy_helper

from .onnx_fold import constant_values, drop_unused

ZERO_POINT = 128
ARTIFACT, FILE = "onnx-int8-u8w", "model.int8.u8w.onnx"  # its name in a bundle's manifest, and its file there


def to_uint8_weights(model: onnx.ModelProto) -> Tuple[onnx.ModelProto, int]:
    """A copy of `model` whose constant int8 weights (zero point 0) are uint8 with zero point 128; and how many were."""
    out = onnx.ModelProto.FromString(model.SerializeToString())
    graph = out.graph
    constants = constant_values(graph)
    initializers = {init.name: init for init in graph.initializer}
    done = set()
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in initializers or len(node.input) < 2:
            continue
        weights = constants[node.input[0]]
        scale = constants.get(node.input[1])
        zero = constants.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if weights.dtype != np.int8 or scale is None or (zero is not None and zero.any()):
            continue
        zero_name = f"{node.input[0]}.zero_point_u8"
        if node.input[0] not in done:
            initializers[node.input[0]].CopyFrom(numpy_helper.from_array((weights.astype(np.int16) + ZERO_POINT).astype(np.uint8), node.input[0]))
            graph.initializer.append(numpy_helper.from_array(np.full(scale.shape, ZERO_POINT, np.uint8), zero_name))
            done.add(node.input[0])
        if len(node.input) < 3:
            node.input.append(zero_name)
        else:
            node.input[2] = zero_name
    drop_unused(graph)  # the int8 zero points no node reads any more
    return out, len(done)
