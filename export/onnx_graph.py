"""An index over an ONNX graph's tensors for local pattern rewrites: who writes each tensor, who reads it, and the
quantizer pairs (QuantizeLinear -> DequantizeLinear) the int8 layout rewrites re-encode."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

COMPUTE_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")  # the ops that carry weights and do the arithmetic
AXES_AS_INPUTS = 13  # the opset from which Unsqueeze takes its axes, and DequantizeLinear per-axis scales, as written here


class GraphIndex:
    """Producers and consumers of a graph's tensors, as they were when the index was built."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.graph = graph
        self.producer: Dict[str, onnx.NodeProto] = {o: n for n in graph.node for o in n.output}
        self.consumers: Dict[str, List[onnx.NodeProto]] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.outputs = {o.name for o in graph.output}

    def only_consumer(self, tensor: str, op_type: str) -> Optional[onnx.NodeProto]:
        """The node reading `tensor` if it is the only one, of `op_type`, and `tensor` is not a graph output."""
        users = self.consumers.get(tensor, [])
        if len(users) == 1 and users[0].op_type == op_type and tensor not in self.outputs:
            return users[0]
        return None

    def quantizer_pairs(self, accept: Callable[[onnx.NodeProto], bool]) -> List[Tuple[onnx.NodeProto, List[onnx.NodeProto]]]:
        """Each QuantizeLinear that `accept`s, with the DequantizeLinear nodes reading it: only where every reader is one
        with the same scale and zero point and its codes are no graph output, so the pair can change encoding together."""
        pairs = []
        for q in (n for n in self.graph.node if n.op_type == "QuantizeLinear" and len(n.input) == 3 and accept(n)):
            dqs = self.consumers.get(q.output[0], [])
            if q.output[0] in self.outputs or not dqs or any(d.op_type != "DequantizeLinear" or d.input[1:] != q.input[1:] for d in dqs):
                continue
            pairs.append((q, dqs))
        return pairs


def sort_topologically(graph: onnx.GraphProto) -> None:
    """Reorder the graph's nodes, in place, so that each comes after the nodes writing its inputs (ONNX requires it), keeping
    the existing order wherever it already does: a rewrite that points a node at a tensor written later calls this."""
    ready: Set[str] = {"", *(i.name for i in graph.input), *(t.name for t in graph.initializer)}
    pending, ordered = list(graph.node), []
    while pending:
        waiting = []
        for node in pending:
            if all(name in ready for name in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                waiting.append(node)
        if len(waiting) == len(pending):
            raise ValueError(f"the graph has a cycle or reads a tensor nothing writes (at node {waiting[0].name!r})")
        pending = waiting
    del graph.node[:]
    graph.node.extend(ordered)


def add_constant(graph: onnx.GraphProto, name: str, value: np.ndarray) -> str:
    """Add `value` to the graph as an initializer called `name`; return the name, for a node's input."""
    graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    return name


def opset(model: onnx.ModelProto) -> int:
    """The model's version of the default ONNX domain."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def attributes(node: onnx.NodeProto) -> Dict[str, Any]:
    """A node's attributes by name, as Python values."""
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def per_tensor(node: onnx.NodeProto, constants: Dict[str, np.ndarray]) -> bool:
    """A QuantizeLinear or DequantizeLinear with one constant scale and one constant zero point."""
    return len(node.input) == 3 and all(name in constants and constants[name].size == 1 for name in node.input[1:])
