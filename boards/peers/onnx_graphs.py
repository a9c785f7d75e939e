"""Reading quantized ONNX graphs the same way for every toolkit: which compute ops an int8 graph leaves in float, and
which kernels onnxruntime's optimized graph computes with; and preparing paddle2onnx's float graph for NNCF.

paddle2onnx writes weights as Constant nodes, and NNCF 3.4.0 looks for weights in graph.initializer only: it then takes
every depthwise conv for a grouped one (its accuracy-control log names none of the ops it reverts) and keeps fp32
weights behind a QuantizeLinear. Constants read only by Conv, ConvTranspose, MatMul or Gemm become initializers first
(not every Constant: NNCF's eliminate_nop_cast pass fails on a Cast that reads an initializer). The ops NNCF leaves in
float are counted from the graph it returns, not from its log.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from ...export.onnx_graph import COMPUTE_OPS

WEIGHT_READERS = frozenset(COMPUTE_OPS)
QDQ = frozenset({"QuantizeLinear", "DequantizeLinear"})
MOVES = frozenset({"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity"})  # ops that only move values
# what onnxruntime's optimized graph computes with: its int8 kernels, and its float compute ops (NCHWc Conv included)
ORT_INT8_KERNELS = frozenset({"QLinearConv", "QLinearMatMul", "MatMulIntegerToFloat", "ConvInteger", "MatMulInteger",
                              "DynamicQuantizeMatMul", "QGemm", "QAttention"})
ORT_FLOAT_COMPUTE = frozenset({"Conv", "FusedConv", "ConvTranspose", "MatMul", "FusedMatMul", "Gemm", "FusedGemm"})


@dataclasses.dataclass(frozen=True)
class FloatOp:
    """A compute op an int8 graph does not run in int8: its node, type, the Paddle weight it reads (None for an attention
    MatMul of two activations) and how much of it is int8 (see float_compute_ops)."""

    node: str
    op_type: str
    weight: Optional[str]
    precision: str

    @property
    def label(self) -> str:
        """The Paddle weight where there is one: what both toolkits' graphs share (node names are numbered per export)."""
        return self.weight or self.node


def weights_as_initializers(model: onnx.ModelProto) -> Tuple[onnx.ModelProto, int]:
    """A copy of `model` whose Constant nodes read only by Conv, ConvTranspose, MatMul or Gemm are initializers (where
    NNCF looks for weights), and how many were moved."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    readers: Dict[str, set] = {}
    for node in out.graph.node:
        for name in node.input:
            readers.setdefault(name, set()).add(node.op_type)
    kept, moved = [], 0
    for node in out.graph.node:
        users = readers.get(node.output[0], set()) if node.output else set()
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value" \
                and users and users <= WEIGHT_READERS:
            tensor = onnx.TensorProto()
            tensor.CopyFrom(node.attribute[0].t)
            tensor.name = node.output[0]
            out.graph.initializer.append(tensor)
            moved += 1
        else:
            kept.append(node)
    del out.graph.node[:]
    out.graph.node.extend(kept)
    return out, moved


def _constants(graph: onnx.GraphProto) -> Dict[str, onnx.TensorProto]:
    found = {i.name: i for i in graph.initializer}
    found.update({n.output[0]: n.attribute[0].t for n in graph.node
                  if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value"})
    return found


def float_compute_ops(float_model: onnx.ModelProto, int8_model: onnx.ModelProto) -> Tuple[int, Tuple[FloatOp, ...]]:
    """How many compute ops `int8_model` has, and those not computing in int8, in graph order, read from the graph the
    same way for every toolkit: an input is int8 where it is a DequantizeLinear's output, also behind ops that only move
    values (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Identity: NNCF quantizes before a Reshape, PaddleSlim right
    at the op). "float": nothing is; "float, int8-rounded weights": only the weight is, or it is a float constant that
    differs from the float model's (a dequantized weight folded back); "partly int8": one of two activations is. Ops
    are named by the float model's weight of the op writing the same output (Paddle's name)."""
    graph = int8_model.graph
    producer = {o: n for n in graph.node for o in n.output}
    constants, float_constants = _constants(graph), _constants(float_model.graph)
    weights = {n.output[0]: n.input[1] for n in float_model.graph.node
               if n.op_type in COMPUTE_OPS and len(n.input) > 1 and n.input[1] in float_constants}

    def source(name: str) -> Tuple[str, bool]:
        """What an input is ("constant" or "activation") and whether it arrives dequantized."""
        node = producer.get(name)
        while node is not None and node.op_type in MOVES:
            name, node = node.input[0], producer.get(node.input[0])
        if node is not None and node.op_type == "DequantizeLinear":
            q = producer.get(node.input[0])
            raw = q.input[0] if q is not None and q.op_type == "QuantizeLinear" else node.input[0]
            return ("constant" if raw in constants else "activation"), True
        return ("constant" if name in constants else "activation"), False

    def rounded(node: onnx.NodeProto, weight: Optional[str]) -> bool:
        """Whether the op's float weight constant holds other values than the float model's weight (int8-rounded)."""
        mine = constants.get(node.input[1]) if len(node.input) > 1 else None
        return mine is not None and weight is not None and not np.array_equal(
            numpy_helper.to_array(mine), numpy_helper.to_array(float_constants[weight]))

    ops = [n for n in graph.node if n.op_type in COMPUTE_OPS]
    floats = []
    for node in ops:
        kinds = [source(name) for name in node.input[:2] if name]
        activations = [int8 for kind, int8 in kinds if kind == "activation"]
        weights_int8 = [int8 for kind, int8 in kinds if kind == "constant"]
        if all(activations) and all(weights_int8):
            continue
        weight = weights.get(node.output[0])
        precision = "partly int8" if any(activations) else \
            "float, int8-rounded weights" if any(weights_int8) or rounded(node, weight) else "float"
        floats.append(FloatOp(node.name, node.op_type, weight, precision))
    return len(ops), tuple(floats)


def is_qdq(model: onnx.ModelProto) -> bool:
    """Whether `model` has QuantizeLinear or DequantizeLinear nodes (a QDQ int8 graph)."""
    return any(node.op_type in QDQ for node in model.graph.node)


def ort_kernels(path: Path, work: Path) -> Dict[str, int]:
    """What onnxruntime's optimized graph (default optimizations, this CPU) computes with: its int8 kernels and its
    float compute ops, counted from the graph it saves."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3  # not the warning that an NCHWc-optimized graph is for this CPU only: it is counted here
    options.optimized_model_filepath = str(Path(work) / f"{Path(path).stem}.optimized.onnx")
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    nodes = onnx.load(options.optimized_model_filepath).graph.node
    return {"int8_kernels": sum(n.op_type in ORT_INT8_KERNELS for n in nodes),
            "float_compute": sum(n.op_type in ORT_FLOAT_COMPUTE for n in nodes),
            "quantize_linear": sum(n.op_type == "QuantizeLinear" for n in nodes),
            "dequantize_linear": sum(n.op_type == "DequantizeLinear" for n in nodes)}
