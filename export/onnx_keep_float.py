"""Keep in float what PaddleSlim kept in float: paddle2onnx 1.2.11 quantizes the weight of a conv whose input is
quantized, computing per-channel scales itself, even where PaddleSlim's `skip_tensor_list` left that conv's weight in
float (its input stays quantized where the tensor also feeds a quantized op). onnxruntime would then run the op as an
int8 kernel while the int8 model's card says it is kept in float. This rewrite feeds such an op its float weight again
(a bias paddle2onnx stored as int32 steps behind a lone DequantizeLinear stays as it is: the steps are far finer)."""
from __future__ import annotations

from typing import Collection, Dict, Optional, Set, Tuple

import onnx

from .onnx_fold import drop_unused
from .onnx_graph import COMPUTE_OPS


def _quantized_constant(name: str, producer: Dict[str, onnx.NodeProto], constants: Set[str]) -> Optional[str]:
    """The float constant behind `name` where `name` is DequantizeLinear(QuantizeLinear(constant)), else None."""
    dq = producer.get(name)
    q = producer.get(dq.input[0]) if dq is not None and dq.op_type == "DequantizeLinear" else None
    return q.input[0] if q is not None and q.op_type == "QuantizeLinear" and q.input[0] in constants else None


def keep_float_weights(model: onnx.ModelProto, weights: Collection[str]) -> Tuple[onnx.ModelProto, int]:
    """A copy of `model` in which every compute op whose weight is one of `weights` (Paddle names) reads its float
    constants (weight, and bias where one has a quantize-dequantize pair) instead of their quantize-dequantize; and how
    many ops were changed."""
    kept = onnx.ModelProto.FromString(model.SerializeToString())
    graph = kept.graph
    producer = {o: n for n in graph.node for o in n.output}
    constants = {i.name for i in graph.initializer} | {n.output[0] for n in graph.node if n.op_type == "Constant"}
    changed = 0
    for node in graph.node:
        if node.op_type not in COMPUTE_OPS or len(node.input) < 2:
            continue
        if _quantized_constant(node.input[1], producer, constants) not in weights:
            continue
        for i in range(1, len(node.input)):
            source = _quantized_constant(node.input[i], producer, constants)
            if source is not None:
                node.input[i] = source
        changed += 1
    drop_unused(graph)
    return kept, changed
