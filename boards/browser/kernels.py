"""Which nodes of an ONNX model a backend of onnxruntime-web has no kernel for, asked of the page before the model loads:
one single-node model per distinct node signature (domain, op type, opset, input and output element types), each made
into a session on the backend with graph optimizations off, so that its kernel lookup is the node's own. A signature
onnxruntime-web answers with its "no kernel" error is named; any other error a lone node meets (a shape it cannot check
without its neighbours) is left for the model's own session to report."""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Tuple

import onnx
from onnx import helper

# onnxruntime-web's words for a node it has no kernel for: ONNX Runtime's kernel lookup (wasm, and WebGPU's CPU
# provider), and the JavaScript WebGL backend's op resolver
NO_KERNEL = re.compile(r"Could not find an implementation for \S+|cannot resolve operator '[^']+'")


@dataclasses.dataclass(frozen=True)
class Probe:
    """One node signature of a model, as a model of that node alone."""

    label: str
    model: bytes


@dataclasses.dataclass(frozen=True)
class Probes:
    """The probes of a model, and how many nodes of each op type were left unprobed (holding a subgraph, or with a value
    whose type ONNX's inference cannot tell)."""

    found: List[Probe]
    unchecked: Dict[str, int]


def _types(model: onnx.ModelProto) -> Dict[str, onnx.TypeProto]:
    """The tensor type (element type, and shape where known) of every value of the graph that ONNX's type inference can
    tell: the probes carry the shapes too, as onnxruntime-web's WebGL backend reads them when it makes a session."""
    graph = onnx.shape_inference.infer_shapes(model, data_prop=True).graph
    found = {t.name: helper.make_tensor_type_proto(t.data_type, list(t.dims)) for t in graph.initializer}
    for value in (*graph.input, *graph.value_info, *graph.output):
        if value.type.HasField("tensor_type") and value.type.tensor_type.elem_type:
            found.setdefault(value.name, value.type)
    return found


def _name(elem_type: int) -> str:
    """ONNX's own name of an element type (float, bfloat16, float8e4m3fn, ...); an absent optional input is "-"."""
    return onnx.TensorProto.DataType.Name(elem_type).lower() if elem_type else "-"


def probes(model: onnx.ModelProto, every_shape: bool = False) -> Probes:
    """A probe per distinct node signature of `model`, in graph order; nodes holding a subgraph, or with a value whose
    type inference cannot tell, are not probed (their model's own session speaks for them) but listed. With `every_shape` (for
    WebGL's loader, which reads every value's shape and checks none when it makes a session), a value whose shape
    inference cannot tell is declared a scalar; otherwise it is left without one, as ONNX Runtime checks shapes."""
    types = _types(model)
    if every_shape:
        types = {n: t if t.tensor_type.HasField("shape") else helper.make_tensor_type_proto(t.tensor_type.elem_type, [])
                 for n, t in types.items()}
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    seen: Dict[Tuple, Probe] = {}
    unchecked: Dict[str, int] = {}
    for node in model.graph.node:
        names = [n for n in (*node.input, *node.output) if n]
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute) or any(n not in types for n in names):
            unchecked[node.op_type] = unchecked.get(node.op_type, 0) + 1
            continue
        domain = node.domain or "ai.onnx"
        elem = {n: types[n].tensor_type.elem_type for n in names}
        key = (domain, node.op_type, tuple(elem[n] if n else 0 for n in node.input), tuple(elem[n] for n in node.output if n))
        if key in seen:
            continue
        single = helper.make_node(node.op_type, list(node.input), list(node.output), domain=node.domain)
        single.attribute.extend(node.attribute)
        inputs = list(dict.fromkeys(n for n in node.input if n))
        graph = helper.make_graph([single], "probe", [helper.make_value_info(n, types[n]) for n in inputs],
                                  [helper.make_value_info(n, types[n]) for n in node.output if n])
        imports = [helper.make_opsetid("" if d == "ai.onnx" else d, v) for d, v in opsets.items() if d in ("ai.onnx", domain)]
        probe = helper.make_model(graph, opset_imports=imports, ir_version=model.ir_version)
        signature = " -> ".join(filter(None, (", ".join(_name(t) for t in key[2]), ", ".join(_name(t) for t in key[3]))))
        label = f"{node.op_type} ({domain} opset {opsets.get(domain, '?')}: {signature})"
        seen[key] = Probe(label, probe.SerializeToString())
    return Probes(list(seen.values()), unchecked)


def lacking(found: List[Probe], errors: Dict[str, str]) -> List[str]:
    """Of the page's errors per probe (keyed by its index in `found`), the labels of those whose error is onnxruntime-web
    having no kernel for the node."""
    return [found[int(i)].label for i, error in errors.items() if NO_KERNEL.search(error)]


def unchecked_text(unchecked: Dict[str, int]) -> str:
    """The nodes the probes left out, for a person: op type and count."""
    return ", ".join(f"{op} x{n}" for op, n in unchecked.items()) + " (holding a subgraph, or of a type ONNX's inference cannot tell)"
