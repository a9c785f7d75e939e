"""What this CPU can do at most in onnxruntime's own kernels, measured in every bench run, so every engine's figure
says how far it is from it (the peak is onnxruntime's large GEMM, not the silicon's data-sheet figure). A shared
machine's GEMM rate moves by a third from one measurement to the next, so the peak is the fastest of several square
sizes, measured before and after the grid (`higher_peak`): a peak measured in a slow moment would flatter every share.
Both can be slow (seen once: the int8 GEMM at 55 % of the rate of the runs before and after), so the GEMM of the
pre-grid peak's size is also timed in each round of the cell the share goals judge (`probes`, `with_probe_rounds`) and
the peak is the highest of all, `source` saying which measurement gave it. A round's rate is not set against the
model's in that round: its few calls of a few milliseconds moved up to fourfold from round to round on an AMX machine,
more than any model's calls in the same rounds.

- Compute: large square matrix products in onnxruntime, fp32 (`MatMul`, GFLOP/s) and int8 (`MatMulInteger`, GOP/s,
  uint8 activations times int8 weights, what the int8 ONNX file made for any CPU runs, and times uint8 weights, what the
  thin runtime runs on x86 without VNNI), on all the threads of the run and on one.
- Memory: a large array copy in numpy (one thread), bytes read plus bytes written per second.

A model whose FLOPs per byte moved is below peak FLOP/s over bandwidth is bound by memory there, else by compute: the
roofline the report draws.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Sequence

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


def gemm_ops(n: int) -> int:
    """The operations of an n x n matrix product: 2 n^3, a multiply-add counting 2."""
    return 2 * n ** 3


def gemm_call(kind: str, threads: int, n: int) -> Callable[[], object]:
    """One n x n matrix product of `kind` (see GEMMS) in onnxruntime at `threads`, ready to call."""
    op, a_type, b_type = GEMMS[kind]
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(_gemm(op, a_type, b_type, n), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {name: (rng.standard_normal((n, n), np.float32) if t == TensorProto.FLOAT else
                    rng.integers(0, 128, (n, n)).astype(helper.tensor_dtype_to_np_dtype(t)))
             for name, t in (("a", a_type), ("b", b_type))}
    return lambda: session.run(None, feeds)


def gemm_rate(kind: str, threads: int, n: int, calls: int = CALLS) -> float:
    """Operations per second of an n x n matrix product of `kind`."""
    return gemm_ops(n) / _median_seconds(gemm_call(kind, threads, n), calls)


def copy_bandwidth(nbytes: int = COPY_BYTES, calls: int = CALLS) -> float:
    """Bytes per second a large copy moves (each byte read once and written once)."""
    source = np.ones(nbytes // 8, np.float64)
    target = np.empty_like(source)
    return 2 * nbytes / _median_seconds(lambda: np.copyto(target, source), calls)


def measure_peak(threads: Sequence[int], when: str) -> Dict[str, Any]:
    """This CPU's compute peaks (per kind of GEMM, per thread count of the run, and one thread: the fastest of the
    GEMM_SIZES) and memory bandwidth; `when` names the measurement in the peak's `source`."""
    counts = sorted(set(threads) | {1})
    rates = {kind: {str(t): {n: gemm_rate(kind, t, n) for n in GEMM_SIZES} for t in counts} for kind in GEMMS}
    return {"gemm_sizes": list(GEMM_SIZES), "engine": f"onnxruntime {ort.__version__}",
            "gops": {kind: {t: max(by_n.values()) / 1e9 for t, by_n in per.items()} for kind, per in rates.items()},
            "size": {kind: {t: max(by_n, key=by_n.get) for t, by_n in per.items()} for kind, per in rates.items()},
            "source": {kind: {t: when for t in per} for kind, per in rates.items()}, "memory_gbs": copy_bandwidth() / 1e9}


def higher_peak(first: Dict[str, Any], second: Dict[str, Any]) -> Dict[str, Any]:
    """The higher of two measurements of the same peaks, entry by entry (its size and source with it)."""
    def pick(kind: str, t: str) -> Dict[str, Any]:
        return first if first["gops"][kind][t] >= second["gops"][kind][t] else second
    return {**first, **{key: {kind: {t: pick(kind, t)[key][kind][t] for t in per} for kind, per in first["gops"].items()}
                        for key in ("gops", "size", "source")},
            "memory_gbs": max(first["memory_gbs"], second["memory_gbs"])}


def gemm_kind(precision: str, uint8_weights: bool) -> str:
    """The GEMM an engine of `precision` is measured against: fp32's, or the int8 file's the runtime picks for this CPU
    (uint8 weights where u8 x s8 kernels saturate, runtime/cpu.py)."""
    return "fp32" if precision == "fp32" else "int8_u8u8" if uint8_weights else "int8_u8s8"


def probe_name(kind: str, threads: int) -> str:
    """The name a GEMM probe is timed under among a cell's engines."""
    return f"gemm {kind} at {threads} thread(s)"


def probes(peak: Dict[str, Any], kinds: Sequence[str], threads: Sequence[int]) -> Dict[str, Callable[[], object]]:
    """The GEMMs of `kinds` at each of `threads`, each at the size that gave `peak`, ready to time in a cell's rounds
    beside its engines."""
    return {probe_name(kind, t): gemm_call(kind, t, peak["size"][kind][str(t)]) for kind in kinds for t in threads}


def with_probe_rounds(peak: Dict[str, Any], rounds: Dict[str, Sequence[np.ndarray]], sizes: Dict[str, Dict[str, int]]) -> Dict[str, Any]:
    """`peak` with each probe's per-round rates (its median call in each round, by probe_name; `sizes`: the sizes the
    probes ran at, those of the peak they were made from) recorded, and its entry raised to the fastest of them where
    that is higher (its size and source with it)."""
    raised = {key: {kind: dict(per) for kind, per in peak[key].items()} for key in ("gops", "size", "source")}
    per_round: Dict[str, Dict[str, list]] = {}
    in_rounds: Dict[str, Dict[str, int]] = {}
    for kind, per in sizes.items():
        for t, n in per.items():
            if probe_name(kind, int(t)) in rounds:
                rates = [gemm_ops(n) / float(np.median(r)) / 1e9 for r in rounds[probe_name(kind, int(t))]]
                per_round.setdefault(kind, {})[t] = rates
                in_rounds.setdefault(kind, {})[t] = n
                best = int(np.argmax(rates))
                if rates[best] > raised["gops"][kind][t]:
                    raised["gops"][kind][t], raised["size"][kind][t], raised["source"][kind][t] = rates[best], n, f"round {best + 1}"
    return {**peak, **raised, "gops_per_round": per_round, "size_in_rounds": in_rounds}


def peak_gops(peak: Dict[str, Any], precision: str, threads: int, uint8_weights: bool) -> float:
    """The peak an engine of `precision` at `threads` is measured against (gemm_kind)."""
    return peak["gops"][gemm_kind(precision, uint8_weights)][str(threads)]
