"""What this CPU can do at most in onnxruntime's own kernels, measured in every bench run, so every engine's figure
says how far it is from it (the peak is onnxruntime's large GEMM, not the silicon's data-sheet figure). A shared
machine's GEMM rate moves by a third from one measurement to the next, so the peak is the fastest of several square
sizes, measured before and after the grid (`higher_peak`): a peak measured in a slow moment would flatter every share.

- Compute: large square matrix products in onnxruntime, fp32 (`MatMul`, GFLOP/s) and int8 (`MatMulInteger`, GOP/s,
  uint8 activations times int8 weights, what the int8 ONNX file made for any CPU runs, and times uint8 weights, what the
  thin runtime runs on x86 without VNNI), on all the threads of the run and on one.
- Memory: a large array copy in numpy (one thread), bytes read plus bytes written per second.

A model whose FLOPs per byte moved is below peak FLOP/s over bandwidth is bound by memory there, else by compute: the
roofline the report draws.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Sequence

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

GEMM_SIZES = (512, 1024, 1536)  # 2 n^3 = 0.27 to 7.2 G operations per call: long enough to time, short enough to repeat
COPY_BYTES = 256 * 2 ** 20  # well beyond any cache of the boards and hosts this runs on
CALLS = 15
GEMMS = {"fp32": ("MatMul", TensorProto.FLOAT, TensorProto.FLOAT),
         "int8_u8s8": ("MatMulInteger", TensorProto.UINT8, TensorProto.INT8),
         "int8_u8u8": ("MatMulInteger", TensorProto.UINT8, TensorProto.UINT8)}


def _gemm(op: str, a_type: int, b_type: int, n: int) -> bytes:
    out = TensorProto.FLOAT if op == "MatMul" else TensorProto.INT32
    graph = helper.make_graph([helper.make_node(op, ["a", "b"], ["c"])], f"{op}-{n}",
                              [helper.make_tensor_value_info("a", a_type, [n, n]), helper.make_tensor_value_info("b", b_type, [n, n])],
                              [helper.make_tensor_value_info("c", out, [n, n])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8).SerializeToString()


def _median_seconds(run: Any, calls: int) -> float:
    run()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def gemm_rate(kind: str, threads: int, n: int, calls: int = CALLS) -> float:
    """Operations per second (2 n^3 per call, a multiply-add counting 2) of an n x n matrix product of `kind` (see GEMMS)."""
    op, a_type, b_type = GEMMS[kind]
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(_gemm(op, a_type, b_type, n), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {name: (rng.standard_normal((n, n), np.float32) if t == TensorProto.FLOAT else
                    rng.integers(0, 128, (n, n)).astype(helper.tensor_dtype_to_np_dtype(t)))
             for name, t in (("a", a_type), ("b", b_type))}
    return 2 * n ** 3 / _median_seconds(lambda: session.run(None, feeds), calls)


def copy_bandwidth(nbytes: int = COPY_BYTES, calls: int = CALLS) -> float:
    """Bytes per second a large copy moves (each byte read once and written once)."""
    source = np.ones(nbytes // 8, np.float64)
    target = np.empty_like(source)
    return 2 * nbytes / _median_seconds(lambda: np.copyto(target, source), calls)


def measure_peak(threads: Sequence[int]) -> Dict[str, Any]:
    """This CPU's compute peaks (per kind of GEMM, per thread count of the run, and one thread: the fastest of the
    GEMM_SIZES) and memory bandwidth."""
    counts = sorted(set(threads) | {1})
    return {"gemm_sizes": list(GEMM_SIZES), "engine": f"onnxruntime {ort.__version__}",
            "gops": {kind: {str(t): max(gemm_rate(kind, t, n) for n in GEMM_SIZES) / 1e9 for t in counts} for kind in GEMMS},
            "memory_gbs": copy_bandwidth() / 1e9}


def higher_peak(first: Dict[str, Any], second: Dict[str, Any]) -> Dict[str, Any]:
    """The higher of two measurements of the same peaks, entry by entry."""
    return {**first, "gops": {kind: {t: max(v, second["gops"][kind][t]) for t, v in per.items()} for kind, per in first["gops"].items()},
            "memory_gbs": max(first["memory_gbs"], second["memory_gbs"])}


def peak_gops(peak: Dict[str, Any], precision: str, threads: int, uint8_weights: bool) -> float:
    """The peak an engine of `precision` at `threads` is measured against: the fp32 GEMM for fp32; for int8 the GEMM of
    the int8 file the runtime picks for this CPU (uint8 weights where u8 x s8 kernels saturate, runtime/cpu.py)."""
    kind = "fp32" if precision == "fp32" else "int8_u8u8" if uint8_weights else "int8_u8s8"
    return peak["gops"][kind][str(threads)]
