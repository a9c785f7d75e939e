"""Which ops of an int8 ONNX compute in int8, what feeds them, and the float model's op of the same name.

paddle2onnx names an op's output tensor after the Paddle variable (`conv2d_186.tmp_0`), in the float export and in the
int8 export alike, so the two graphs are matched by the outputs of their compute ops (Conv, ConvTranspose, Gemm,
MatMul), in graph order; the float graph also keeps the Paddle name of each weight (`conv2d_158.w_0`), which is what
PaddleSlim's `skip_tensor_list` takes to keep that op in float.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx

from ...export.onnx_channels_last import CODE_COPIES
from ...export.onnx_conv_transpose import CONV_SUFFIX
from ...export.onnx_fold import constant_values
from ...export.onnx_graph import COMPUTE_OPS
from ...export.onnx_qdq_layout import COPY_SUFFIX
from ...runtime.errors import PaddleEdgeError

MADE_UP_NAME = re.compile(r"[A-Z][A-Za-z0-9]*\.\d+")  # a tensor name paddle2onnx made up (Add.141), numbered per export
INT8 = "int8"
ROUNDED_WEIGHTS = "float, int8-rounded weights"
ROUNDED_INPUTS = "float, int8-rounded inputs"  # a float weight: onnxruntime computes in float on dequantized inputs
FLOAT = "float"


class DifferentNetworks(PaddleEdgeError):
    """The float and int8 models are not the same network."""


@dataclasses.dataclass(frozen=True)
class Quantizer:
    """A QuantizeLinear on an activation: the float tensor it reads, its scale and zero point, its codes' range."""

    source: str
    codes: str
    scale: float
    zero_point: int
    qmin: int
    qmax: int

    @property
    def float_range(self) -> Tuple[float, float]:
        """The float values its codes can represent; anything outside is clipped."""
        return (self.qmin - self.zero_point) * self.scale, (self.qmax - self.zero_point) * self.scale

    @property
    def holds_relu(self) -> bool:
        """uint8 codes with zero point 0 clamp at 0: where export folded a ReLU into the quantizer, it computes it."""
        return self.qmin == self.zero_point == 0


@dataclasses.dataclass(frozen=True)
class ComputeOp:
    """One compute op of the int8 graph and its counterpart's facts in the float graph."""

    position: int  # in the int8 graph's node list
    op_type: str
    node: str
    output: str
    reference: str  # the float model's tensor holding the same value (its BatchNormalization's output where the int8 one folded it)
    precision: str
    inputs: Tuple[Optional[Quantizer], ...]  # per activation input: its quantizer, or None where it enters in float or as copied codes
    activation_sources: Tuple[str, ...]  # the float tensor each activation input is computed from, in the int8 graph
    float_sources: Tuple[Optional[str], ...]  # the same values' tensors in the float graph (None: it has none)
    output_codes: Optional[str]  # the QuantizeLinear output right after the op, where the int8 graph has one
    weight: Optional[str]  # the Paddle name of the op's weight in the float model
    weight_range: Optional[Tuple[float, float]]
    weight_scale: Optional[Tuple[float, float]]  # smallest and largest scale over its channels


@dataclasses.dataclass(frozen=True)
class ActivationQuantizer:
    """A Quantize/DequantizeLinear pair on an activation, wherever PaddleSlim put one (a conv's output before its
    activation function, a residual Add's inputs ...), and the Paddle weight whose op owns it, where one does."""

    position: int
    quantizer: Quantizer
    reference: Optional[str]  # the float model's tensor holding the value it quantizes (None: none found)
    consumers: Tuple[str, ...]  # op types reading its dequantized values
    weight: Optional[str]


class _Index:
    def __init__(self, graph: onnx.GraphProto) -> None:
        self.producer: Dict[str, onnx.NodeProto] = {o: n for n in graph.node for o in n.output}
        self.consumers: Dict[str, List[onnx.NodeProto]] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.constants = constant_values(graph)

    def is_constant(self, name: str) -> bool:
        return name in self.constants

    def dequantizer(self, name: str) -> Optional[onnx.NodeProto]:
        node = self.producer.get(name)
        return node if node is not None and node.op_type == "DequantizeLinear" else None

    def uncopied(self, name: str) -> str:
        """The tensor `name` copies codes of, back through CODE_COPIES; `name` itself where it is no such copy."""
        node = self.producer.get(name)
        while node is not None and node.op_type in CODE_COPIES:
            name = node.input[0]
            node = self.producer.get(name)
        return name


def _scalar(index: _Index, name: str) -> float:
    return float(np.asarray(index.constants[name]).reshape(-1)[0])


def _quantizer(index: _Index, dq: onnx.NodeProto) -> Optional[Quantizer]:
    """The activation quantizer behind a DequantizeLinear (through copies of its codes), or None if it dequantizes a
    constant (a weight)."""
    q = index.producer.get(index.uncopied(dq.input[0]))
    if q is None or q.op_type != "QuantizeLinear" or index.is_constant(q.input[0]):
        return None
    zero = np.asarray(index.constants[q.input[2]]) if len(q.input) > 2 else np.zeros((), np.uint8)
    info = np.iinfo(zero.dtype)
    return Quantizer(q.input[0], q.output[0], _scalar(index, q.input[1]), int(zero.reshape(-1)[0]), info.min, info.max)


def _weight_stats(float_index: _Index, node: onnx.NodeProto, int8_index: _Index,
                  int8_node: onnx.NodeProto) -> Tuple[Optional[str], Optional[Tuple[float, float]], Optional[Tuple[float, float]]]:
    """The float weight's Paddle name and value range, and the int8 weight's scales (None where the weight is not a
    constant, e.g. the second operand of an attention MatMul)."""
    if len(node.input) < 2 or not float_index.is_constant(node.input[1]):
        return None, None, None
    w = float_index.constants[node.input[1]]
    dq = int8_index.dequantizer(int8_node.input[1])
    scale = None
    if dq is not None and int8_index.is_constant(dq.input[0]) and dq.input[1] in int8_index.constants:
        s = np.asarray(int8_index.constants[dq.input[1]], dtype=np.float64).reshape(-1)
        scale = (float(s.min()), float(s.max()))
    return node.input[1], (float(w.min()), float(w.max())), scale


def _folded(float_index: _Index, int8_index: _Index, op_type: str) -> Dict[str, str]:
    """Tensor -> the float graph's `op_type` output of it, where the int8 graph has no such op there: PaddleSlim folds a
    conv's BatchNormalization into its weights (the conv's output keeps the unfolded one's name), and export folds a
    ReLU into the quantizer after it (a uint8 zero point 0 clamps at 0)."""
    aliases = {}
    for tensor, users in float_index.consumers.items():
        if len(users) == 1 and users[0].op_type == op_type and not any(
                u.op_type == op_type for u in int8_index.consumers.get(tensor, [])):
            aliases[tensor] = users[0].output[0]
    return aliases


class _FloatNames:
    """The float graph's tensor holding the value an int8 graph tensor approximates, or None.

    Paddle's variable names are shared by both exports; the names paddle2onnx makes up (`Add.141`) are numbered per
    export and are not, so such a tensor is matched by structure: the float node of the same type reading the matched
    inputs. A quantizer's codes stand for the tensor it reads (a ReLU folded into it: for that ReLU's output), and a
    conv whose batch norm PaddleSlim folded stands for the batch norm's output; codes copied on their way (CODE_COPIES)
    are another tensor, matched by their dequantized name."""

    def __init__(self, float_index: _Index, int8_index: _Index, float_model: onnx.ModelProto) -> None:
        self.fi, self.qi = float_index, int8_index
        self.batch_norm = _folded(float_index, int8_index, "BatchNormalization")
        self.relu = _folded(float_index, int8_index, "Relu")
        self.known = {o for n in float_model.graph.node for o in n.output} | {i.name for i in float_model.graph.input}
        self.by_inputs: Dict[Tuple[str, Tuple[str, ...]], Optional[onnx.NodeProto]] = {}
        for node in float_model.graph.node:
            key = (node.op_type, tuple(i for i in node.input if i and not float_index.is_constant(i)))
            self.by_inputs[key] = None if key in self.by_inputs else node  # two nodes alike: no structural match
        self.memo: Dict[str, Optional[str]] = {}

    def __call__(self, name: str) -> Optional[str]:
        if name not in self.memo:
            self.memo[name] = self._match(name)
        return self.memo[name]

    def _match(self, name: str) -> Optional[str]:
        producer = self.qi.producer.get(name)
        if producer is not None and producer.op_type == "DequantizeLinear" and self.qi.uncopied(producer.input[0]) == producer.input[0]:
            q = self.qi.producer.get(producer.input[0])
            if q is None or q.op_type != "QuantizeLinear":
                return None
            source = self(q.input[0])
            quantizer = _quantizer(self.qi, producer)
            return self.relu.get(source, source) if source and quantizer and quantizer.holds_relu else source
        base = name[:-len(COPY_SUFFIX)] if name.endswith(COPY_SUFFIX) else name  # a pool's output before export requantized it
        if producer is None or not MADE_UP_NAME.fullmatch(base):
            return self.batch_norm.get(base, base) if base in self.known else None
        inputs = tuple(self(i) for i in producer.input if i and not self.qi.is_constant(i))
        node = None if None in inputs else self.by_inputs.get((producer.op_type, inputs))
        if node is None or len(node.output) != len(producer.output):
            return None
        return node.output[list(producer.output).index(name)]


def _compute_nodes(graph: onnx.GraphProto) -> List[onnx.NodeProto]:
    return [n for n in graph.node if n.op_type in COMPUTE_OPS]


def _replaced_conv_transpose(node: onnx.NodeProto, float_nodes: Dict[str, onnx.NodeProto]) -> Optional[str]:
    """The output of the float ConvTranspose that `node` replaces (export's 1x1 conv named after it), or None."""
    name = node.output[0]
    replaced = name[:-len(CONV_SUFFIX)] if node.op_type == "Conv" and name.endswith(CONV_SUFFIX) else None
    return replaced if replaced is not None and getattr(float_nodes.get(replaced), "op_type", None) == "ConvTranspose" else None


def match_networks(float_model: onnx.ModelProto, int8_model: onnx.ModelProto) -> List[ComputeOp]:
    """Every compute op of `int8_model` in graph order, matched to `float_model`'s op of the same output (parallel
    branches may come in another order), but a ConvTranspose export rewrote; refuses two models that are not the same
    network, naming the first difference."""
    float_nodes = {n.output[0]: n for n in _compute_nodes(float_model.graph)}
    int8_nodes = _compute_nodes(int8_model.graph)
    # a ConvTranspose that export made a 1x1 conv and a pixel shuffle (export/onnx_conv_transpose.py) computes its value in
    # another layout, which no tensor of the float model holds: left out of the ops compared, on both sides
    rewritten = {n.output[0]: _replaced_conv_transpose(n, float_nodes) for n in int8_nodes}
    int8_nodes = [n for n in int8_nodes if rewritten[n.output[0]] is None]
    gone = set(rewritten.values())
    float_nodes = {name: n for name, n in float_nodes.items() if name not in gone}
    fix = "give the int8 model quantized from this float model (a bundle's: export the bundle again from the two)"
    for i, q in enumerate(int8_nodes):
        f = float_nodes.get(q.output[0])
        if f is None or f.op_type != q.op_type:
            has = f"{f.op_type} -> {f.output[0]}" if f else f"no compute op writing {q.output[0]}"
            raise DifferentNetworks(f"compute op {i} differs: the int8 model has {q.op_type} -> {q.output[0]}, the float model {has}", fix)
    extra = [name for name in float_nodes if name not in {q.output[0] for q in int8_nodes}]
    if extra:
        raise DifferentNetworks(f"the float model has compute ops the int8 model lacks, first {float_nodes[extra[0]].op_type} -> {extra[0]}", fix)
    fi, qi = _Index(float_model.graph), _Index(int8_model.graph)
    float_name = _FloatNames(fi, qi, float_model)
    position = {id(n): i for i, n in enumerate(int8_model.graph.node)}
    ops = []
    for q in int8_nodes:
        f = float_nodes[q.output[0]]
        quantizers: List[Optional[Quantizer]] = []
        sources: List[str] = []
        rounded = False
        for name in q.input[:2]:
            if qi.is_constant(name):
                continue
            dq = qi.dequantizer(name)
            quantizer = _quantizer(qi, dq) if dq is not None else None
            if dq is not None and quantizer is None:
                continue  # a dequantized weight
            rounded = rounded or quantizer is not None
            # codes copied on their way (export's rewrite 6, the pixel shuffle): the input is int8, but the op-alone runs
            # feed a quantizer's own codes, so it counts as entering in float there
            copied = dq is not None and qi.uncopied(dq.input[0]) != dq.input[0]
            quantizers.append(None if copied else quantizer)
            sources.append(quantizer.source if quantizer and not copied else name)
        weight, w_range, w_scale = _weight_stats(fi, f, qi, q)
        if rounded:
            precision = ROUNDED_INPUTS if any(qi.is_constant(name) for name in q.input[:2]) else INT8
        elif weight is not None and not np.array_equal(fi.constants[weight], _dequantized_weight(qi, q)):
            precision = ROUNDED_WEIGHTS
        else:
            precision = FLOAT
        after = [c for c in qi.consumers.get(q.output[0], []) if c.op_type == "QuantizeLinear"]
        ops.append(ComputeOp(position[id(q)], q.op_type, q.name, q.output[0], float_name(q.output[0]) or q.output[0], precision,
                             tuple(quantizers), tuple(sources), tuple(float_name(s) for s in sources),
                             after[0].output[0] if len(after) == 1 else None, weight, w_range, w_scale))
    return ops


def activation_quantizers(float_model: onnx.ModelProto, int8_model: onnx.ModelProto,
                          ops: List[ComputeOp]) -> List[ActivationQuantizer]:
    """Every activation quantizer of `int8_model` in graph order, with the float tensor it quantizes and the weight of
    the compute op producing or reading it (what keeping that op in float removes)."""
    fi, qi = _Index(float_model.graph), _Index(int8_model.graph)
    float_name = _FloatNames(fi, qi, float_model)
    by_output = {op.output: op for op in ops}
    by_codes = {q.codes: op for op in ops for q in op.inputs if q}
    found = []
    for position, node in enumerate(int8_model.graph.node):
        if node.op_type != "QuantizeLinear" or qi.is_constant(node.input[0]):
            continue
        # its DequantizeLinear readers; one reading copies of its codes (export's rewrite 6) is not unrounded by the
        # debugger's runs, so a quantizer read only so is not listed
        dqs = [c for c in qi.consumers.get(node.output[0], []) if c.op_type == "DequantizeLinear"]
        quantizer = _quantizer(qi, dqs[0]) if dqs else None
        if quantizer is None:
            continue
        users = tuple(sorted({u.op_type for dq in dqs for u in qi.consumers.get(dq.output[0], [])}))
        owner = by_output.get(node.input[0]) or by_codes.get(node.output[0])
        found.append(ActivationQuantizer(position, quantizer, float_name(dqs[0].output[0]), users, owner.weight if owner else None))
    return found


def _dequantized_weight(index: _Index, node: onnx.NodeProto) -> Optional[np.ndarray]:
    """The weight value the int8 graph computes with where it is a plain constant (a thin conv's folded float weight)."""
    return index.constants.get(node.input[1]) if len(node.input) > 1 else None
