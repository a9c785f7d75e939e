"""Spread each pixel of a 4-D tensor over a block of pixels, written channels-last so that whole pixels move at once.

onnxruntime's graph optimizer runs its int8 convs channels-last (NHWC): it wraps each in Transposes and cancels those
that meet. A layout-sensitive op between two such convs then runs channels-last too, and where onnxruntime has no
channels-last kernel for it, a slow general loop runs instead (its uint8 nearest Resize on NHWC: 2.2 ms for 96 x 80 x 80
by 2, 20x the same Resize channels-first, in a scratch timing with onnxruntime 1.31.1 on two threads of an AMD EPYC).
Written as Transpose to NHWC -> reshapes and a broadcast on [N, H, W, C] -> Transpose back to NCHW, the copy moves C
values at a time, and onnxruntime cancels the two Transposes against its own. Used by export/onnx_upsample.py and
export/onnx_conv_transpose.py.
"""
from __future__ import annotations

from typing import List

import numpy as np
import onnx
from onnx import helper

from .onnx_graph import add_constant

TO_NHWC = (0, 2, 3, 1)
TO_NCHW = (0, 3, 1, 2)
# the ops these copies are made of between a quantizer and its DequantizeLinear: they move codes, not values
# (boards/quant_debug follows a quantizer through them)
CODE_COPIES = ("Transpose", "Reshape", "Unsqueeze", "Expand")


def to_channels_last(tensor: str, prefix: str) -> onnx.NodeProto:
    """The Transpose of an NCHW `tensor` to NHWC, writing `{prefix}.nhwc`."""
    return helper.make_node("Transpose", [tensor], [f"{prefix}.nhwc"], perm=list(TO_NHWC), name=f"{prefix}.to_nhwc")


def blocks_to_pixels(graph: onnx.GraphProto, nhwc: str, blocks: str, kh: int, kw: int, out: str, prefix: str,
                     shuffled: bool) -> List[onnx.NodeProto]:
    """Nodes taking `blocks`, [N, H, kh, W, kw, C] (each of the N x H x W pixels of `nhwc` as a kh x kw block of C
    channels), to the NCHW tensor `out`, [N, C, H kh, W kw] (Reshape then Transpose back). `shuffled`: the blocks were
    cut from `nhwc`'s channels (C is its channels / (kh kw)), not broadcast from its pixels (C is its channels)."""
    grow = add_constant(graph, f"{prefix}.grow", np.array([1, kh, kw, 1], np.int64))
    nodes = [helper.make_node("Shape", [nhwc], [f"{prefix}.shape"], name=f"{prefix}.shape"),
             helper.make_node("Mul", [f"{prefix}.shape", grow], [f"{prefix}.grown"], name=f"{prefix}.grow")]
    target = f"{prefix}.grown"
    if shuffled:
        split = add_constant(graph, f"{prefix}.split", np.array([1, 1, 1, kh * kw], np.int64))
        nodes.append(helper.make_node("Div", [target, split], [f"{prefix}.target"], name=f"{prefix}.split"))
        target = f"{prefix}.target"
    nodes += [helper.make_node("Reshape", [blocks, target], [f"{prefix}.pixels"], name=f"{prefix}.pixels"),
              helper.make_node("Transpose", [f"{prefix}.pixels"], [out], perm=list(TO_NCHW), name=f"{prefix}.to_nchw")]
    return nodes
