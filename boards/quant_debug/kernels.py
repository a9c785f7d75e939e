"""The fused int8 kernels a CPU runs against the exact QDQ semantics of the same int8 file, in output codes: along the
whole run (global), and op by op on identical input codes (local: a kernel that lands more than a step away computes
something else, as onnxruntime's u8s8 kernels do on x86 without VNNI when their int16 sums saturate)."""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import onnx

from .graph import INT8, ComputeOp
from .sessions import Session, exposing, single_op
from .tensor_stats import CodeAgreement


class KernelRuns:
    """Sessions of one int8 file fused and unfused, whole and op by op, and the code agreement they measure."""

    def __init__(self, int8_file: onnx.ModelProto, ops: List[ComputeOp], threads: int) -> None:
        self.ops = [op for op in ops if op.precision == INT8 and op.output_codes]
        codes = sorted({c for op in self.ops for c in [op.output_codes] + [q.codes for q in op.inputs if q]})
        self.fused = Session(exposing(int8_file, codes), codes, fused=True, threads=threads)
        self.exact = Session(exposing(int8_file, codes), codes, fused=False, threads=threads)
        self.alone = {op.output: (Session(single_op(int8_file, op), [op.output_codes], fused=True, threads=threads),
                                  Session(single_op(int8_file, op), [op.output_codes], fused=False, threads=threads))
                      for op in self.ops}
        self.local = {op.output: CodeAgreement() for op in self.ops}
        self.global_ = {op.output: CodeAgreement() for op in self.ops}

    def add(self, feeds: Dict[str, np.ndarray]) -> None:
        fused, exact = self.fused.run(feeds), self.exact.run(feeds)
        for op in self.ops:
            self.global_[op.output].add(exact[op.output_codes], fused[op.output_codes])
            alone_fused, alone_exact = self.alone[op.output]
            codes = {q.codes: exact[q.codes] for q in op.inputs if q}
            self.local[op.output].add(alone_exact.run(codes)[op.output_codes], alone_fused.run(codes)[op.output_codes])
