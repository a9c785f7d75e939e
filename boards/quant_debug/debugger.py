"""Run float and int8 side by side on the user's data and measure every compute op of the int8 model that ships.

Runs of the int8 ONNX per group of inputs, all matched to the float ONNX's tensors by name:
- global: the int8 model as written (graph optimizations off: exact QDQ), its error accumulated up to each op;
- local: the same model with each op's activation inputs taken from the float model, so each op's output carries only
  the error it adds itself (its quantizers' and its weights');
- gain: for each int8 op, the part of the int8 model from that op on, the op reading float inputs, fed the rest of
  the model's tensors by the global run: how much keeping that op's inputs in float would give the model's output;
- fused vs exact: the int8 file this CPU's runtime runs, with onnxruntime's fused int8 kernels, against the same file's
  exact semantics, in quantization steps: along the whole run, and op by op on identical input codes.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import onnx
import onnxruntime as ort
from tqdm import tqdm

from ... import runtime
from ...export.evaluation import EvaluationSet, first_samples
from ...export.onnx_float_affine import batch_norms_as_affines
from ...export.onnx_qdq_layout import COPY_SUFFIX
from ..bench.flops import node_flops
from ...source.model import SourceModel, int8_twin
from ...source.paddle_program import read_program
from ..provenance import provenance
from .export_steps import export_steps
from .graph import INT8, ActivationQuantizer, ComputeOp, Quantizer, activation_quantizers, match_networks
from .paddle_local import LocalPlan
from .paddle_tensors import PaddleTensors, plans, program_names, rounded, value_holder, variables
from .report import FusedVsExact, LayerRow, QuantDebugReport
from .kernels import KernelCases, KernelRuns
from .sessions import FLOAT_FEED, Session, exposing, float_input_part, rewired_to_float, with_float_inputs, without_rounding
from .tensor_stats import Agreement, Coverage, Histogram

FLOAT_ARTIFACT = "onnx-fp32"
INT8_ARTIFACT = "onnx-int8"
REFERENCE_ARTIFACT = "paddle-fp32-program"
GAIN_SAMPLES = 16  # each int8 op's gain is measured on the first groups until they hold this many samples; the rest on all


def _artifact_path(bundle: runtime.Bundle, name: str) -> Path:
    if name not in bundle.manifest.artifacts:
        raise runtime.BundleError(f"{bundle.root} has no {name} artifact",
                                  "export it with an int8 model: `paddle-edge export MODEL --int8 INT8_DIR --target onnx`")
    return bundle.path_of(name)


class _Runs:
    """The sessions of one debugger run and the running statistics they feed."""

    def __init__(self, float_model: onnx.ModelProto, int8_model: onnx.ModelProto, fused_model: onnx.ModelProto,
                 ops: List[ComputeOp], quantizers: List[ActivationQuantizer], threads: int, unrounded: Sequence[Quantizer] = (),
                 float_tensors: Sequence[str] = ()) -> None:
        """`unrounded`: quantizers a run of the whole model leaves out (neither rounding nor clipping), to measure their
        cost. `float_tensors`: more of the float model's tensors to return (what PaddleSlim's program is fed)."""
        self.ops = ops
        self.local_ops = [op for op in ops if all(s is not None for s in op.float_sources)]
        self.quantizers = [q for q in quantizers if q.reference is not None]
        self.model_output = int8_model.graph.output[0].name  # the same Paddle variable in both models
        wanted = sorted({op.reference for op in ops} | {s for op in self.local_ops for s in op.float_sources}
                        | {q.reference for q in self.quantizers} | {self.model_output} | set(float_tensors))
        # the int8 ops whose rest of the model is rerun with their activations in float: those reading a quantizer's
        # codes (an op reading only copies of codes, export's rewrite 6, has no input the part could give it in float)
        int8_ops = [op for op in ops if op.precision == INT8 and any(op.inputs)]
        inputs = {i.name for i in int8_model.graph.input}
        parts = {op.output: float_input_part(int8_model, op) for op in int8_ops}
        outputs = list(dict.fromkeys([op.output for op in ops] + [q.quantizer.codes for q in self.quantizers] + [self.model_output]
                                     + [t for part in parts.values() for t in part.feeds if t not in inputs]))
        self.float = Session(exposing(float_model, wanted), wanted, fused=False, threads=threads)
        self.exact = Session(exposing(int8_model, outputs), outputs, fused=False, threads=threads)
        self.local = Session(exposing(rewired_to_float(int8_model, self.local_ops), [op.output for op in self.local_ops]),
                             [op.output for op in self.local_ops], fused=False, threads=threads)
        self.kernels = KernelRuns(fused_model, ops, threads)
        self.output_base = Agreement()  # the int8 model's output against float's, on the samples gains are measured on
        self.output = Agreement()  # the same on every sample
        self.unrounded = Session(without_rounding(int8_model, unrounded), [self.model_output], fused=False, threads=threads) \
            if unrounded else None
        self.output_unrounded = Agreement()
        self.gain_samples = 0
        types = {a.name: a.type for a in self.exact.session.get_inputs() + self.exact.session.get_outputs()}
        downstream = {output: with_float_inputs(int8_model, part, types) for output, part in parts.items()}
        self.float_inputs = {output: Session(model, [self.model_output], fused=False, threads=threads)
                             for output, model in downstream.items() if self.model_output in {o.name for o in model.graph.output}}
        self.output_with_float_inputs = {op.output: Agreement() for op in int8_ops}
        self.global_ = {op.output: Agreement() for op in ops}
        self.histograms = {op.output: Histogram() for op in ops}
        self.local_ = {op.output: Agreement() for op in self.local_ops}
        self.coverage = {op.output: Coverage(*op.inputs[0].float_range) for op in self.local_ops if op.inputs and op.inputs[0]}
        self.q_local = {q.quantizer.codes: Agreement() for q in self.quantizers}
        self.q_global = {q.quantizer.codes: Agreement() for q in self.quantizers}
        self.q_coverage = {q.quantizer.codes: Coverage(*q.quantizer.float_range) for q in self.quantizers}
        self.histograms.update({q.quantizer.codes: Histogram() for q in self.quantizers})

    def add(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Measure one group of inputs; the float model's tensors for it, which everything here is measured against."""
        ref = self.float.run(feeds)
        exact = self.exact.run(feeds)
        for op in self.ops:
            self.global_[op.output].add(ref[op.reference], exact[op.output])
            self.histograms[op.output].add(ref[op.reference], exact[op.output])
            if op.output in self.coverage:
                self.coverage[op.output].add(ref[op.float_sources[0]])
        for q in self.quantizers:
            x, codes = ref[q.reference], q.quantizer.codes
            self.q_local[codes].add(x, _fake_quantized(x, q.quantizer))
            dequantized = _dequantized(exact[codes], q.quantizer)
            self.q_global[codes].add(x, dequantized)
            self.histograms[codes].add(x, dequantized)
            self.q_coverage[codes].add(x)
        self.output.add(ref[self.model_output], exact[self.model_output])
        if self.unrounded is not None:
            self.output_unrounded.add(ref[self.model_output], self.unrounded.run(feeds)[self.model_output])
        if self.gain_samples < GAIN_SAMPLES:  # a run of the model's rest per int8 op: the debugger's dearest measurement
            self.gain_samples += len(ref[self.model_output])
            self.output_base.add(ref[self.model_output], exact[self.model_output])
            for output, agreement in self.output_with_float_inputs.items():  # the part from the op on, fed by the global run
                session = self.float_inputs.get(output)
                after = session.run({**feeds, **exact})[self.model_output] if session else exact[self.model_output]
                agreement.add(ref[self.model_output], after)
        local = self.local.run({**feeds, **{FLOAT_FEED.format(s): ref[f] for op in self.local_ops
                                            for s, f in zip(op.activation_sources, op.float_sources)}})
        for op in self.local_ops:
            self.local_[op.output].add(ref[op.reference], local[op.output])
        self.kernels.add(feeds)
        return ref

    def row(self, op: ComputeOp, flops: Dict[str, int], paddle: Tuple[Optional[Agreement], Optional[Agreement]]) -> LayerRow:
        """`paddle`: PaddleSlim's program on the same tensor, along its run and from the float model's inputs."""
        total = sum(flops.values()) or 1
        paddle_global, paddle_local = paddle
        local = self.local_.get(op.output)
        cover = self.coverage.get(op.output)
        quantizer = op.inputs[0] if op.inputs else None
        fused = None
        if op.output in self.kernels.local:
            lo, gl = self.kernels.local[op.output], self.kernels.global_[op.output]
            fused = FusedVsExact(lo.max_steps, lo.differing_fraction, gl.max_steps, gl.differing_fraction)
        return LayerRow(
            kind="op", position=op.position, op=op.node, op_type=op.op_type, output=op.output, precision=op.precision, weight=op.weight,
            flops_share=flops.get(op.output, 0) / total,
            local_sqnr_db=local.sqnr_db if local else None, local_cosine=local.cosine if local else None,
            global_sqnr_db=self.global_[op.output].sqnr_db, global_cosine=self.global_[op.output].cosine,
            paddle_global_sqnr_db=paddle_global.sqnr_db if paddle_global else None,
            paddle_global_cosine=paddle_global.cosine if paddle_global else None,
            paddle_local_sqnr_db=paddle_local.sqnr_db if paddle_local else None,
            paddle_local_cosine=paddle_local.cosine if paddle_local else None,
            float_input_gain_db=(self.output_with_float_inputs[op.output].sqnr_db - self.output_base.sqnr_db
                                 if op.output in self.output_with_float_inputs else None),
            weight_range=op.weight_range, weight_scale=op.weight_scale,
            activation_range=(cover.seen_min, cover.seen_max) if cover and cover.count else None,
            activation_calibrated=quantizer.float_range if quantizer else None,
            clipped_fraction=cover.clipped_fraction if cover and cover.count else None, fused=fused,
            histogram=self.histograms[op.output].to_json())


    def quantizer_row(self, q: ActivationQuantizer) -> LayerRow:
        codes = q.quantizer.codes
        local, glob, cover = self.q_local[codes], self.q_global[codes], self.q_coverage[codes]
        return LayerRow(
            kind="quantizer", position=q.position, op=codes, op_type="QuantizeLinear", output=q.quantizer.source,
            precision=INT8, weight=q.weight, flops_share=0.0, local_sqnr_db=local.sqnr_db, local_cosine=local.cosine,
            global_sqnr_db=glob.sqnr_db, global_cosine=glob.cosine, paddle_global_sqnr_db=None, float_input_gain_db=None,
            weight_range=None, weight_scale=None,
            activation_range=(cover.seen_min, cover.seen_max), activation_calibrated=q.quantizer.float_range,
            clipped_fraction=cover.clipped_fraction, fused=None, histogram=self.histograms[codes].to_json())


def _dequantized(codes: np.ndarray, q: Quantizer) -> np.ndarray:
    return (codes.astype(np.float32) - np.float32(q.zero_point)) * np.float32(q.scale)


def _fake_quantized(x: np.ndarray, q: Quantizer) -> np.ndarray:
    """What QuantizeLinear then DequantizeLinear give for float `x`: round half to even, saturate."""
    codes = np.clip(np.round(x / np.float32(q.scale)) + q.zero_point, q.qmin, q.qmax)
    return _dequantized(codes, q)


class _PaddleRuns:
    """PaddleSlim's int8 program in Paddle, on the variables holding the debugged ops' outputs (along its run, and each
    op computed again from the float model's own inputs: paddle_local.py), against the float ONNX's
    same tensors (the float program's own values: the bundle's float ONNX matches them within ~1e-5 relative, >100 dB
    on PP-OCRv4 rec, so the int8 program is held to the same reference as the int8 ONNX, at half the Paddle runs). A
    variable whose shape is not the ONNX tensor's is not compared (None). The model's output is compared too."""

    def __init__(self, float_dir: Path, int8_dir: Path, float_onnx: onnx.ModelProto, ops: List[ComputeOp], threads: int,
                 model_output: str) -> None:
        """`float_onnx`: the float program's export, whose tensors are the reference. `model_output`: the variable both
        models output."""
        self.shared = variables(float_dir) & variables(int8_dir)
        self.program_names = program_names(float_dir, float_onnx)
        self.rounded = rounded(int8_dir)
        self.ops = [op for op in ops if self.paddle_name(op.reference)]
        self.names = {op.output: self.paddle_name(op.reference) for op in self.ops}
        self.model_output = model_output if model_output in self.shared else None
        fetched = [*self.names.values(), *([self.model_output] if self.model_output else [])]
        planned = plans(int8_dir, list(self.names.values()))
        self.feeds = self._local_feeds(int8_dir, planned, float_onnx)
        self.int8 = PaddleTensors(int8_dir, list(dict.fromkeys(fetched)), threads,
                                  list({self.names[o]: planned[self.names[o]] for o in self.feeds}.values()))
        self.agreement = {op.output: Agreement() for op in self.ops}
        self.local = {op.output: Agreement() for op in self.ops if self.names[op.output] in self.int8.copies}
        self.output: Optional[Agreement] = Agreement() if self.model_output else None
        self.other_shape: Set[str] = set()
        self.first: Optional[Tuple[Dict[str, np.ndarray], Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]]]] = None

    def _local_feeds(self, int8_dir: Path, planned: Dict[str, LocalPlan], float_onnx: onnx.ModelProto) -> Dict[str, Dict[str, str]]:
        """For each op with a plan (`planned`, by program variable) whose float variables the float ONNX all holds:
        {program variable the plan reads: the float ONNX tensor holding its value}."""
        holder = value_holder(int8_dir)
        tensors = {i.name for i in float_onnx.graph.input} | {o for n in float_onnx.graph.node for o in n.output}
        # a tensor the export names after a variable holding another value (a Conv's output, bias added) is that other's
        onnx_of = {**{name: name for name in tensors if name not in self.program_names}, **{v: o for o, v in self.program_names.items()}}
        found: Dict[str, Dict[str, str]] = {}
        for op in self.ops:
            plan = planned.get(self.names[op.output])
            if plan is None:
                continue
            sources = {s: onnx_of.get(s, onnx_of.get(holder(s))) for s in plan.sources}
            if all(sources.values()):
                found[op.output] = sources
        return found

    @property
    def float_tensors(self) -> List[str]:
        """The float ONNX tensors the local copies are fed."""
        return sorted({source for names in self.feeds.values() for source in names.values()})

    def prime(self, largest: Dict[str, np.ndarray], reference: Dict[str, np.ndarray]) -> None:
        """Run the largest group of inputs first (`reference`: the float ONNX's tensors for it): Paddle sizes its
        buffers on the first run, and a larger input later sizes them all again (10 s of PP-OCRv4 rec's 20 s)."""
        self.first = (largest, self._run(largest, reference))

    def _run(self, feeds: Dict[str, np.ndarray], reference: Dict[str, np.ndarray]) -> Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]]:
        return self.int8.run(feeds, {name: reference[tensor] for names in self.feeds.values() for name, tensor in names.items()})

    def add(self, feeds: Dict[str, np.ndarray], reference: Dict[str, np.ndarray]) -> None:
        """Measure one group, `reference` holding the float ONNX's tensors for it."""
        got, local = self.first[1] if self.first is not None and feeds is self.first[0] else self._run(feeds, reference)
        for op in self.ops:
            mine, theirs = got[self.names[op.output]], reference[op.reference]
            if mine.shape != theirs.shape:
                self.other_shape.add(op.output)
            else:
                self.agreement[op.output].add(theirs, mine)
            alone = local.get(self.names[op.output])
            if op.output in self.local and alone is not None and alone.shape == theirs.shape:
                self.local[op.output].add(theirs, alone)
            elif op.output in self.local:
                del self.local[op.output]  # a copy fed another shape than the program's own: not comparable
        if self.output is not None:
            mine, theirs = got[self.model_output], reference[self.model_output]
            if mine.shape == theirs.shape:
                self.output.add(theirs, mine)
            else:
                self.output = None

    def paddle_name(self, reference: str) -> Optional[str]:
        """The int8 program's variable holding the value of the float ONNX's tensor `reference`, if it has one."""
        name = self.program_names.get(reference, reference)
        return name if name in self.shared else None

    def judged(self, quantizers: Sequence[ActivationQuantizer]) -> Tuple[List[ActivationQuantizer], int]:
        """The ONNX's activation quantizers whose value PaddleSlim's program does not round (it has no quantizer there, or
        one with only_observer): the ONNX quantizes what Paddle's run of the program passes on as it is; and how many
        could not be judged, their value having no variable of the program (a name paddle2onnx made up that no op of
        the program matches: `program_names`). The value of a quantizer holding a folded ReLU is that ReLU's output (its
        reference says so); a requantizer export put after a pool (on the pool's input grid) is not a quantizer of its
        own."""
        own = [q for q in quantizers if not q.quantizer.source.endswith(COPY_SUFFIX)]
        names = [(q, self.paddle_name(q.reference) if q.reference is not None else None) for q in own]
        return [q for q, name in names if name is not None and name not in self.rounded], sum(name is None for _, name in names)

    def output_sqnr_db(self) -> Optional[float]:
        """The program's model output against the float ONNX's (None: the ONNX's output is no variable of the program,
        or not of its shape)."""
        return self.output.sqnr_db if self.output is not None else None

    def compared(self, output: str) -> Tuple[Optional[Agreement], Optional[Agreement]]:
        """The program's value of the ONNX tensor `output` against the float ONNX's, along the run and computed from
        the float model's inputs (None: no variable of its shape; no local copy for the op that writes it)."""
        if output not in self.agreement or output in self.other_shape:
            return None, None
        return self.agreement[output], self.local.get(output)


def float_graph(bundle: runtime.Bundle) -> onnx.ModelProto:
    """The bundle's fp32 ONNX as paddle2onnx's graph has the scalar affines the int8 file keeps (export's
    BatchNormalizations for them undone: the same function), so the two match node by node."""
    model = onnx.load(str(_artifact_path(bundle, FLOAT_ARTIFACT)))
    batch_norms_as_affines(model)
    return model


def matched_ops(bundle: runtime.Bundle) -> List[ComputeOp]:
    """The compute ops of the bundle's int8 ONNX matched to its fp32 ONNX's (as `float_graph` reads it)."""
    return match_networks(float_graph(bundle), onnx.load(str(_artifact_path(bundle, INT8_ARTIFACT))))


def kernel_cases(bundle: runtime.Bundle, artifact: str, threads: int = 2) -> KernelCases:
    """The int8 ops of the int8 file `artifact`, each alone, to hold another machine's fused kernels to (board parity)."""
    return KernelCases(onnx.load(str(_artifact_path(bundle, artifact))), matched_ops(bundle), threads)


def kernel_steps(bundle: runtime.Bundle, evaluation: EvaluationSet, fused_artifact: str, threads: int = 2) -> KernelRuns:
    """Only the fused-vs-exact measurement of the int8 file `fused_artifact` on `evaluation`'s inputs (what parity gates)."""
    kernels = KernelRuns(onnx.load(str(_artifact_path(bundle, fused_artifact))), matched_ops(bundle), threads)
    for group in evaluation.groups:
        kernels.add(group)
    return kernels


def _check_int8_model(bundle: runtime.Bundle, int8_model: Path) -> SourceModel:
    """The int8 model must be the one the bundle's int8 ONNX was exported from: compress's, of the bundle's float model,
    and, where the manifest records it, the very same files (another calibration of the same network has the same
    names, and its gap to the ONNX would be blamed on the export)."""
    source = bundle.manifest.source or {}
    reference = bundle.path_of(REFERENCE_ARTIFACT).parent
    fix = f"pass the int8 model given to `paddle-edge export --int8` for {bundle.root}, or export a bundle from this one"
    int8 = int8_twin(int8_model, source.get("float_model_sha256", ""), read_program(reference), f"{bundle.root}'s float model", fix)
    recorded = source.get("int8_model_sha256")
    if recorded and recorded != int8.sha256:
        raise runtime.BundleError(f"{int8_model} is not the int8 model {bundle.root} was exported from (its sha256 differs: "
                                  "the same float model quantized again, or with another recipe?)", fix)
    return int8


def debug_bundle(bundle: runtime.Bundle, evaluation: EvaluationSet, threads: int = 2, fused_artifact: Optional[str] = None,
                 int8_model: Optional[Path] = None) -> QuantDebugReport:
    """Measure every compute op and activation quantizer of the bundle's int8 ONNX against its fp32 ONNX on
    `evaluation`'s inputs; with `int8_model` (PaddleSlim's int8 program) also that program in Paddle, tensor by tensor,
    against the same float ONNX tensors (the bundle's float Paddle program names them)."""
    start = time.perf_counter()
    float_path, int8_path = _artifact_path(bundle, FLOAT_ARTIFACT), _artifact_path(bundle, INT8_ARTIFACT)
    fused_artifact = fused_artifact or runtime.open(bundle, backend="onnxruntime", precision="int8", threads=threads).artifact
    fused_path = _artifact_path(bundle, fused_artifact)
    float_onnx, int8_onnx = float_graph(bundle), onnx.load(str(int8_path))
    ops = match_networks(float_onnx, int8_onnx)
    quantizers = activation_quantizers(float_onnx, int8_onnx, ops)
    paddle, unrounded, unjudged, steps = None, [], 0, None
    rewrites = (bundle.manifest.quantization or {}).get("onnx_rewrites", {})
    if int8_model is not None:
        if REFERENCE_ARTIFACT not in bundle.manifest.artifacts:
            raise runtime.BundleError(f"{bundle.root} has no float Paddle program to compare {int8_model} with",
                                      "export the bundle with its reference (the default)")
        int8 = _check_int8_model(bundle, Path(int8_model))
        steps = export_steps(int8, int8_onnx, float_onnx, rewrites, first_samples(evaluation, GAIN_SAMPLES, len(evaluation.groups)).groups,
                             threads)
        paddle = _PaddleRuns(bundle.path_of(REFERENCE_ARTIFACT).parent, Path(int8_model), float_onnx, ops, threads,
                             int8_onnx.graph.output[0].name)
        unrounded, unjudged = paddle.judged(quantizers)
    runs = _Runs(float_onnx, int8_onnx, onnx.load(str(fused_path)), ops, quantizers, threads, [q.quantizer for q in unrounded],
                 paddle.float_tensors if paddle is not None else ())
    if paddle is not None:
        largest = max(evaluation.groups, key=lambda group: sum(x.size for x in group.values()))
        paddle.prime(largest, runs.float.run(largest) if paddle.feeds else {})
    for group in tqdm(evaluation.groups, desc="quant-debug", unit="group", leave=False):
        float_tensors = runs.add(group)
        if paddle is not None:
            paddle.add(group, float_tensors)
    flops = node_flops(float_path, evaluation.groups[0])
    return QuantDebugReport(
        model=bundle.manifest.model, float_file=float_path.name, int8_file=int8_path.name, fused_file=fused_path.name,
        fused_engine=f"onnxruntime {ort.__version__} (fused int8 kernels)", samples=evaluation.samples, gain_samples=runs.gain_samples,
        paddle_int8_model=str(int8_model) if int8_model else None, output_sqnr_db=runs.output.sqnr_db,
        rounded_only_in_export=tuple(q.quantizer.source for q in unrounded), quantizers_not_judged=unjudged,
        output_sqnr_db_unrounded=runs.output_unrounded.sqnr_db if unrounded else None,
        paddle_output_sqnr_db=paddle.output_sqnr_db() if paddle else None,
        rewrites=rewrites, export_steps=dataclasses.asdict(steps) if steps else None,
        data=evaluation.description, rows=tuple(sorted([runs.row(op, flops, paddle.compared(op.output) if paddle else (None, None)) for op in ops]
                          + [runs.quantizer_row(q) for q in runs.quantizers], key=lambda r: r.position)),
        seconds=round(time.perf_counter() - start, 1), provenance=provenance())

