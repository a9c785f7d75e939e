"""Floating-point operations per sample of an ONNX model, counted where the work is: Conv, Gemm and MatMul.

Each multiply-add counts as 2 FLOPs. Shapes are measured, not guessed: the model runs once in ONNX Runtime on one sample
of what is benchmarked (or a zero input with every dynamic dimension 1) with every intermediate tensor exposed as an
output, so reshapes computed at run time (paddle2onnx's Flatten is Shape-Slice-Concat-Reshape) are known too. Element-wise ops, pooling and
normalisation are left out.
"""
from __future__ import annotations

from pathlib import Path
import dataclasses
from typing import Dict, Optional, Tuple

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

from ...export.onnx_fold import constant_values

COUNTED = ("Conv", "Gemm", "MatMul")


def _all_shapes(model: onnx.ModelProto, sample: Optional[Dict[str, np.ndarray]]) -> Dict[str, Tuple[int, ...]]:
    """Shape of every tensor the counted nodes touch, from one batch-1 run on `sample` (else zeros, dynamic dims 1)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    initializers = {i.name: tuple(i.dims) for i in model.graph.initializer}
    wanted = {name for node in model.graph.node if node.op_type in COUNTED for name in (*node.input, *node.output)} - set(initializers)
    known = {o.name for o in model.graph.output}
    model.graph.output.extend(helper.make_empty_tensor_value_info(name) for name in sorted(wanted - known) if name)
    feeds = {name: np.ascontiguousarray(x[:1]) for name, x in sample.items()} if sample else {}
    for value in (v for v in model.graph.input if v.name not in feeds):
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in tensor.shape.dim]
        feeds[value.name] = np.zeros(shape, dtype=helper.tensor_dtype_to_np_dtype(tensor.elem_type))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return {**initializers, **{n: tuple(v.shape) for n, v in zip(names, session.run(names, feeds))}}


def node_flops(onnx_path: Path, sample: Optional[Dict[str, np.ndarray]] = None) -> Dict[str, int]:
    """FLOPs of one sample through each Conv, Gemm and MatMul node, keyed by the node's output tensor: of `sample`'s first
    row (what a benchmark feeds: a detector's FLOPs depend on the image size), else of an input with every dynamic
    dimension 1."""
    model = onnx.load(str(onnx_path))
    return _node_flops(model, _all_shapes(model, sample))


def _node_flops(model: onnx.ModelProto, shapes: Dict[str, Tuple[int, ...]]) -> Dict[str, int]:
    flops = {}
    for node in model.graph.node:
        if node.op_type not in COUNTED:
            continue
        out, weight = shapes[node.output[0]], shapes[node.input[1]]
        if node.op_type == "Conv":  # weight [M, C/group, kh, kw]: each output element takes C/group * kh * kw MACs
            macs_per_output = int(np.prod(weight[1:]))
        elif node.op_type == "Gemm":
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            macs_per_output = weight[1] if trans_b else weight[0]
        else:
            macs_per_output = weight[-2]
        flops[node.output[0]] = 2 * int(np.prod(out)) * macs_per_output
    return flops


def count_flops(onnx_path: Path, sample: Optional[Dict[str, np.ndarray]] = None) -> int:
    """FLOPs of one sample through the model's Conv, Gemm and MatMul nodes (see `node_flops`)."""
    return sum(node_flops(onnx_path, sample).values())


@dataclasses.dataclass(frozen=True)
class Traffic:
    """Elements the counted nodes read and write: weights once per call, activations per sample, each tensor once per
    node that touches it (no cache reuse counted, element-wise ops left out, as in the FLOP count): an estimate of what
    a call moves, in elements so each precision sets its bytes."""

    weight_elements: int
    activation_elements: int  # per sample

    def bytes_per_call(self, batch: int, bytes_per_element: int) -> int:
        """Bytes one call of `batch` samples moves at `bytes_per_element`."""
        return bytes_per_element * (self.weight_elements + batch * self.activation_elements)


def count_traffic(onnx_path: Path, sample: Optional[Dict[str, np.ndarray]] = None) -> Traffic:
    """The elements the model's Conv, Gemm and MatMul nodes read and write for one sample (see `Traffic`)."""
    return count_work(onnx_path, sample)[1]


def count_work(onnx_path: Path, sample: Optional[Dict[str, np.ndarray]] = None) -> Tuple[int, Traffic]:
    """FLOPs and traffic of one sample through the counted nodes, from one run measuring the shapes (what bench needs)."""
    model = onnx.load(str(onnx_path))
    shapes = _all_shapes(model, sample)
    return sum(_node_flops(model, shapes).values()), _traffic(model, shapes)


def _traffic(model: onnx.ModelProto, shapes: Dict[str, Tuple[int, ...]]) -> Traffic:
    constants = set(constant_values(model.graph))  # initializers and Constant nodes alike
    weights = activations = 0
    for node in (n for n in model.graph.node if n.op_type in COUNTED):
        for name in (*node.input, *node.output):
            if name:
                size = int(np.prod(shapes[name]))
                if name in constants:
                    weights += size
                else:
                    activations += size
    return Traffic(weights, activations)
