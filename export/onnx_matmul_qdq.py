"""Put back the quantizers PaddleSlim gave every MatMul, which paddle2onnx 1.2.11 drops.

paddle2onnx's onnxruntime processor removes all of Paddle's quantize ops and re-inserts Q/DQ only in front of the op
types it lists, `{"Add", "Conv", "LeakyRelu" "MatMul", "Mul", ...}`: a missing comma joins two names into
"LeakyReluMatMul" (paddle2onnx/mapper/quantize/ort_quantize_processor.cc, 1.2.11 and later), so every MatMul (a
transformer's linear layers and attention products) is exported float although PaddleSlim calibrated it. This reads
each matmul_v2's input quantizers from PaddleSlim's int8 program (scale, axis, bits) and inserts the QuantizeLinear ->
DequantizeLinear pair ONNX defines for them (scale / (2^(bits-1) - 1), zero point 0) in front of the MatMul that writes
the same output, so the int8 ONNX computes what PaddleSlim's program computes.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Sequence, Set, Tuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..source.paddle_program import ModelFiles, int_attr, op_slot, program_desc
from .onnx_fold import constant_values


@dataclasses.dataclass(frozen=True)
class PaddleQuantizer:
    """A dequantize_linear of PaddleSlim's program: the tensor it restores, its abs-max scale (per tensor, or per
    channel along `axis`) and its bit width."""

    source: str
    scale: np.ndarray
    axis: int
    bits: int

    def onnx_scale(self) -> np.ndarray:
        """ONNX's scale: PaddleSlim's abs-max over the largest code, per channel or as a scalar."""
        scale = (self.scale.astype(np.float32) / (2 ** (self.bits - 1) - 1)).ravel()
        return scale if self.per_channel else np.array(scale[0], np.float32)

    @property
    def per_channel(self) -> bool:
        return self.axis >= 0 and self.scale.size > 1


def matmul_quantizers(files: ModelFiles) -> Dict[str, Tuple[Optional[PaddleQuantizer], Optional[PaddleQuantizer]]]:
    """Each matmul_v2 of a PaddleSlim int8 program, by its output tensor: the quantizers of its X and Y inputs (None where
    an input is not quantized). Empty for a float program. The scales are read from the program's parameters by Paddle."""
    block = program_desc(files.program).blocks[0]
    producer = {name: op for op in block.ops for v in op.outputs for name in v.arguments}
    wanted: Dict[str, Tuple[Optional[Tuple[str, str, int, int]], ...]] = {}
    for op in block.ops:
        if op.type != "matmul_v2":
            continue
        found = []
        for slot in ("X", "Y"):
            dq = producer.get(op_slot(op.inputs, slot) or "")
            if dq is None or dq.type != "dequantize_linear":
                found.append(None)
                continue
            source = op_slot(dq.inputs, "X") or ""
            q = producer.get(source)
            if q is not None and q.type == "quantize_linear":  # an activation: the float tensor the quantizer read
                source = op_slot(q.inputs, "X") or ""
            found.append((source, op_slot(dq.inputs, "Scale") or "", int_attr(dq, "quant_axis", -1), int_attr(dq, "bit_length", 8)))
        if any(found):
            wanted[op_slot(op.outputs, "Out") or ""] = tuple(found)
    if not wanted:
        return {}
    values = _parameters(files, {f[1] for pair in wanted.values() for f in pair if f})
    return {out: tuple(PaddleQuantizer(f[0], values[f[1]], f[2], f[3]) if f else None for f in pair)  # type: ignore[misc]
            for out, pair in wanted.items()}


def _parameters(files: ModelFiles, names: Set[str]) -> Dict[str, np.ndarray]:
    """The values of the named persistable variables of a Paddle inference model."""
    import paddle

    was_dynamic = paddle.in_dynamic_mode()
    paddle.enable_static()
    try:
        scope = paddle.static.Scope()
        with paddle.static.scope_guard(scope):
            paddle.static.load_inference_model(str(files.program.parent), paddle.static.Executor(paddle.CPUPlace()),
                                               model_filename=files.program.name, params_filename=files.params.name)
            return {name: np.array(scope.find_var(name).get_tensor()) for name in names}
    finally:
        if was_dynamic:
            paddle.disable_static()


def _fits(node: onnx.NodeProto, pair: Sequence[Optional[PaddleQuantizer]], constants: Dict[str, np.ndarray]) -> bool:
    """A per-channel quantizer fits only the weight it was calibrated on, read by the MatMul as it is (not transposed)."""
    return all(q is None or not q.per_channel
               or (node.input[i] == q.source and q.source in constants and constants[q.source].shape[q.axis] == q.scale.size)
               for i, q in enumerate(pair))


def restore_matmul_quantizers(model: onnx.ModelProto,
                              quantizers: Dict[str, Tuple[Optional[PaddleQuantizer], Optional[PaddleQuantizer]]]) -> Tuple[int, int]:
    """In place: a QuantizeLinear -> DequantizeLinear pair in front of each input of every float MatMul whose Paddle
    op PaddleSlim quantized (matched by output name). A per-channel weight quantizer goes only on the weight itself (a
    transposed copy would change its axis). Returns how many MatMuls got their quantizers back, and how many stay float
    because a per-channel weight does not reach them as it was calibrated."""
    graph = model.graph
    constants = constant_values(graph)
    producer = {out: n for n in graph.node for out in n.output}
    nodes = list(graph.node)
    restored = left_float = 0
    for node in [n for n in nodes if n.op_type == "MatMul" and n.output[0] in quantizers]:
        pair = quantizers[node.output[0]]
        if any(producer.get(name) is not None and producer[name].op_type == "DequantizeLinear" for name in node.input):
            continue  # already quantized
        if not _fits(node, pair, constants):
            left_float += 1
            continue
        inserted = []
        for i, q in enumerate(pair):
            if q is None:
                continue
            name, scale = node.input[i], q.onnx_scale()
            prefix = f"{node.output[0]}.input{i}"
            zero = np.zeros(scale.shape, np.int8)
            graph.initializer.extend([numpy_helper.from_array(scale, f"{prefix}.scale"), numpy_helper.from_array(zero, f"{prefix}.zero_point")])
            axis = {"axis": q.axis} if q.per_channel else {}
            inserted += [helper.make_node("QuantizeLinear", [name, f"{prefix}.scale", f"{prefix}.zero_point"], [f"{prefix}.quantized"],
                                          name=f"{prefix}.quantize", **axis),
                         helper.make_node("DequantizeLinear", [f"{prefix}.quantized", f"{prefix}.scale", f"{prefix}.zero_point"],
                                          [f"{prefix}.dequantized"], name=f"{prefix}.dequantize", **axis)]
            node.input[i] = f"{prefix}.dequantized"
        if inserted:
            at = nodes.index(node)
            nodes[at:at] = inserted
            restored += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return restored, left_float
