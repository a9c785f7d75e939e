"""The fused int8 kernels a CPU runs against the exact QDQ semantics of the same int8 file, in quantization steps:
along the whole run (global), and op by op on identical input codes (local: a kernel that lands more than a step away
computes something else, as onnxruntime's u8s8 kernels do on x86 without VNNI when their int16 sums saturate).

An op with a quantized output (QLinearConv ...) is compared in its output codes. An op whose output stays float (a
MatMul onnxruntime runs as MatMulIntegerToFloat, a model's last layer) is compared in its accumulator's step: the
product of its inputs' scales (per output channel for a per-channel weight), one unit of the int32 sum it computes."""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import onnx

from .graph import INT8, ComputeOp
from .sessions import Session, accumulator_steps, exposing, kernel_output, single_op
from .tensor_stats import CodeAgreement


Case = Tuple[ComputeOp, Dict[str, np.ndarray], np.ndarray]  # an op, the input codes it read, its exact output


class KernelCases:
    """Each int8 op of one file whose activation inputs are all quantized, cut out alone (`models`), its step (`step`),
    and for each input the exact run gives: the codes every op read, and the op's exact output on them (the unfused
    whole-model run computes each op exactly as the op alone would); what a fused kernel, here or on a board, is held to."""

    def __init__(self, int8_file: onnx.ModelProto, ops: List[ComputeOp], threads: int) -> None:
        candidates = [op for op in ops if op.precision == INT8 and op.inputs and all(op.inputs)]
        steps = accumulator_steps(int8_file, candidates)
        self.ops = [op for op in candidates if steps[op.output] is not None]
        self.step = {output: step for output, step in steps.items() if step is not None}
        self.tensors = sorted({t for op in self.ops for t in [kernel_output(op)] + [q.codes for q in op.inputs if q]})
        self.exact = Session(exposing(int8_file, self.tensors), self.tensors, fused=False, threads=threads)
        self.models = {op.output: single_op(int8_file, op) for op in self.ops}

    def run(self, feeds: Dict[str, np.ndarray]) -> Tuple[Dict[str, np.ndarray], List[Case]]:
        """The exact run's tensors, and every op's case on them."""
        exact = self.exact.run(feeds)
        return exact, [(op, {q.codes: exact[q.codes] for q in op.inputs if q}, exact[kernel_output(op)]) for op in self.ops]


class KernelRuns:
    """This CPU's fused kernels of one int8 file against its exact semantics, whole and op by op, and the code agreement
    they measure."""

    def __init__(self, int8_file: onnx.ModelProto, ops: List[ComputeOp], threads: int) -> None:
        self.cases = KernelCases(int8_file, ops, threads)
        self.ops = self.cases.ops
        self.fused = Session(exposing(int8_file, self.cases.tensors), self.cases.tensors, fused=True, threads=threads)
        self.alone = {op.output: Session(self.cases.models[op.output], [kernel_output(op)], fused=True, threads=threads)
                      for op in self.ops}
        self.local = {op.output: CodeAgreement() for op in self.ops}
        self.global_ = {op.output: CodeAgreement() for op in self.ops}

    def add(self, feeds: Dict[str, np.ndarray]) -> None:
        exact, cases = self.cases.run(feeds)
        fused = self.fused.run(feeds)
        for op, codes, exact_output in cases:
            out, step = kernel_output(op), self.cases.step[op.output]
            self.global_[op.output].add(exact[out], fused[out], step)
            self.local[op.output].add(exact_output, self.alone[op.output].run(codes)[out], step)
