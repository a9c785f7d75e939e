"""`paddle-edge bench`: one run over engines x threads x batch sizes, its goals, and the JSON and table it writes."""
from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from ... import runtime
from ...runtime import backends as rt_backends
from ...runtime.cpu import cpu_info, has_int8_saturation
from ...runtime.errors import PaddleEdgeError
from ...runtime.tuning import ANY, Tuning
from ..checks import CheckedReport, judge_goals
from ..latency import Ratio, round_ratios
from ...export.evaluation import evaluation_set
from ..provenance import provenance
from .cold_start import TIMEOUT_S, ColdStart, ColdStartFailed, cold_start
from ...source.paddle_program import find_model_files
from .engines import BARE, ENGINES, PEER_PREFIXES, REFERENCE, TUNED, Engine, engines_for, is_peer, tuned_predictors, tuning_here
from .flops import Traffic, count_work
from .cores import merged, probe_cores, probe_cpus
from .peak import gemm_kind, higher_peak, measure_peak, peak_gops, probes, with_probe_rounds
from .grid import PICK_ROUNDS, ROUNDS, Cell, run_grid

SCHEMA = "paddle-edge.bench/12"  # 2: the CPU's peak, traffic, fastest peer; 3: the tuned runtime; 4: cells' precision, above_peak;
# 5: goals' ratios are medians of per-round ratios; the int8-vs-fp32 pair picked on the first rounds (best_engine);
# 6: each fastest pair's peers_left_out; 7: the cores probe (cores.py); 8: the probe's threads, CPUs, threshold, error;
# 9: the probe's CPUs fixed for the run, its job's seconds alone; 10: runtime_settings (bench --settings); 11: the peak
# also timed in the rounds of the share goals' cell (peak's size, size_in_rounds, gops_per_round; share_rule); 12: the
# peak's source (which measurement gave it)
SCHEMA_FILE = Path(__file__).with_name("bench.schema.json")
# The goals of the benchmarks issue, as (limit, "min" | "max"), judged at the goal thread count (the machine's cores).
GOALS = {
    "onnxruntime_int8_vs_fp32_b64_speedup": (1.0, "min"),
    "runtime_overhead_b1_ratio": (1.05, "max"),
    "onnxruntime_fp32_vs_reference_b1_speedup": (5.0, "min"),
    "onnxruntime_int8_vs_reference_b1_speedup": (5.0, "min"),
    # the thin runtime's faster precision against the fastest engine a user could pick instead (speed issue)
    "runtime_vs_fastest_peer_b1_ratio": (1.0, "max"),
    "runtime_vs_fastest_peer_largest_batch_ratio": (1.0, "max"),
    # the fastest int8 cell of any engine over the fastest fp32 one at the largest batch: 1.5 where VNNI sums int8
    # products in one instruction (goal_limits), else at least no slower; and the two cells' shares of the GEMM
    # peak of their precision (the speed issue's targets for PP-OCRv4 det at 640x640)
    "int8_vs_fp32_best_engine_largest_batch_speedup": (1.0, "min"),
    "fp32_best_engine_largest_batch_peak_share": (0.5, "min"),
    "int8_best_engine_largest_batch_peak_share": (0.35, "min"),
}
RUNTIME_ENGINES = ("onnxruntime_fp32", "onnxruntime_int8", TUNED)
# how the pairs of the runtime-vs-fastest-peer and best-engine goals were picked and measured, recorded in bench.json
FASTEST_RULE = (f"picked on the first {PICK_ROUNDS} of {ROUNDS} rounds; the ratio is the median of the per-round ratios on the other "
                f"{ROUNDS - PICK_ROUNDS}, its interval the order statistics of those rounds (a pair with a Paddle Lite cell, timed "
                "alone in its sidecar: the ratio of the medians of the calls after the same share, bootstrap interval)")
# how the peak-share goals are measured, recorded in bench.json (share_rule)
SHARE_RULE = (f"the median over the {ROUNDS - PICK_ROUNDS} measuring rounds of the cell's GFLOP/s in each (its median call) over the "
              "peak of its precision, the highest rate of the GEMM measured before the grid, after it and in each round of the "
              "cell, and its interval over those rounds (a Paddle Lite cell, timed alone: its measuring calls)")
# how each ratio goal is measured, recorded in bench.json (ratio_rule)
RATIO_RULE = (f"the median of per-round ratios over the grid's {ROUNDS} rounds (a picked pair's: over the rounds that did not pick it), "
              "its 95 % interval over rounds (the runtime's overhead: adjacent calls of one session, alternating)")


def default_threads() -> List[int]:
    """1, 2, 4 ... up to the machine's cores."""
    cores, n, found = os.cpu_count() or 1, 1, []
    while n <= cores:
        found.append(n)
        n *= 2
    return found


def goal_limits(vnni: bool) -> Dict[str, Tuple[float, str]]:
    """GOALS, with int8 over fp32 held to 1.5 on a CPU with VNNI."""
    return {**GOALS, **({"int8_vs_fp32_best_engine_largest_batch_speedup": (1.5, "min")} if vnni else {})}


def _runs_as(cell: Cell, tuning: Optional[Tuning], opened: Dict[int, Tuple[str, str, int]]) -> Tuple[str, int]:
    """The precision a cell's engine ran and the thread count its peak is read at: for the tuned runtime, what it opened
    for this batch size, at its own threads (the peak is measured at those too)."""
    if cell.engine != TUNED:
        return ENGINES[cell.engine].precision, cell.threads
    _, precision, threads = opened[tuning.choice("auto", cell.batch)[0]]
    return precision, threads


def _cell_row(cell: Cell, flops: int, traffic: Traffic, peak: Dict[str, Any], uint8_weights: bool,
              by_key: Dict[tuple, Cell], tuning: Optional[Tuning], opened: Dict[int, Tuple[str, str, int]]) -> Dict[str, Any]:
    t = cell.timing
    precision, threads = _runs_as(cell, tuning, opened)
    row = {"engine": cell.engine, "precision": precision, "threads": cell.threads, "runs_at_threads": threads, "batch": cell.batch,
           "calls": int(len(t.seconds)),
           "interleaved": cell.interleaved, "p50_us": t.p50_us, "p90_us": t.p90_us, "p99_us": t.percentile_us(99),
           "mean_us": float(t.seconds.mean() * 1e6), "throughput": t.throughput, "gflops": flops * t.throughput / 1e9,
           "samples_us": [round(float(s) * 1e6, 2) for s in t.seconds]}
    row["peak_fraction"] = row["gflops"] / peak_gops(peak, precision, threads, uint8_weights)
    moved = traffic.bytes_per_call(cell.batch, 4 if precision == "fp32" else 1)
    row["flops_per_byte"] = flops * cell.batch / moved if moved else 0.0
    for key, other in (("speedup_vs_reference", REFERENCE), ("ratio_vs_bare", BARE)):
        base = by_key.get((other, cell.threads, cell.batch))
        if base is not None:
            row[key] = base.timing.p50_us / t.p50_us if key.startswith("speedup") else t.p50_us / base.timing.p50_us
    return row


def _goals(by_key: Dict[tuple, Cell], overhead: Dict[int, Ratio], threads: int,
           tuning: Optional[Tuning] = None) -> Dict[str, Tuple[float, float, float]]:
    """Each goal's ratio with its 95 % interval, from the cells at the goal thread count (`tuning`: what the tuned
    runtime's cells followed, None where it was not timed)."""
    values = {}
    pairs = {"onnxruntime_int8_vs_fp32_b64_speedup": ("onnxruntime_fp32", "onnxruntime_int8", 64),
             "onnxruntime_fp32_vs_reference_b1_speedup": (REFERENCE, "onnxruntime_fp32", 1),
             "onnxruntime_int8_vs_reference_b1_speedup": (REFERENCE, "onnxruntime_int8", 1)}
    for goal, (slow, fast, batch) in pairs.items():
        slow_cell, fast_cell = by_key.get((slow, threads, batch)), by_key.get((fast, threads, batch))
        if slow_cell and fast_cell:
            values[goal] = measured_ratio(slow_cell, fast_cell, picked=False).triple()
    if threads in overhead:
        values["runtime_overhead_b1_ratio"] = overhead[threads].triple()
    for batch, (ours, peer) in fastest(by_key, threads, tuning).items():
        name = "b1" if batch == 1 else "largest_batch"
        values[f"runtime_vs_fastest_peer_{name}_ratio"] = measured_ratio(ours, peer, picked=True).triple()
    return values


def int8_time_vs_fp32(by_key: Dict[tuple, Cell], threads: int) -> Dict[str, Dict[str, List[float]]]:
    """Per engine timed in both precisions (the int8 engine named as the fp32 one with int8 for fp32) and batch, at
    `threads`: int8's time over fp32's with its 95 % interval, on every round (measured_ratio): what int8 is worth in
    that engine, below 1 where it is faster. A report, never a goal."""
    found: Dict[str, Dict[str, List[float]]] = {}
    for (engine, n, batch), fp32 in sorted(by_key.items()):
        int8 = by_key.get((engine.replace("fp32", "int8"), n, batch))
        if n == threads and "fp32" in engine and int8 is not None:
            found.setdefault(engine.replace("_fp32", ""), {})[str(batch)] = list(measured_ratio(int8, fp32, picked=False).triple())
    return found


def best_by_precision(by_key: Dict[tuple, Cell], rows: Sequence[Dict[str, Any]], threads: int) -> Dict[str, Cell]:
    """At `threads` and the largest batch timed there: the cell of each precision (as its row says: the tuned runtime's
    is what it opened) with the lowest median of its picking calls (split_calls), of any engine: the int8 targets' pair."""
    largest = max((r["batch"] for r in rows if r["threads"] == threads), default=0)
    best: Dict[str, Cell] = {}
    for precision in ("fp32", "int8"):
        pool = [by_key[(r["engine"], threads, largest)] for r in rows if (r["threads"], r["batch"], r["precision"]) == (threads, largest, precision)]
        if pool:
            best[precision] = min(pool, key=picking_p50)
    return best


def _best_engine_goals(best: Dict[str, Cell], rows: Sequence[Dict[str, Any]], flops: int, peak: Dict[str, Any],
                       uint8_weights: bool, skipped: Dict[str, str]) -> Dict[str, Tuple[float, float, float]]:
    """The `best` int8 cell against the best fp32 one (best_by_precision), and each one's share of the GEMM peak of its
    precision (the median of its per-round shares), both on the rounds that did not pick them; a share that cannot be
    judged is said why in `skipped`."""
    values: Dict[str, Tuple[float, float, float]] = {}
    for precision, cell in best.items():
        row = next(r for r in rows if (r["engine"], r["threads"], r["batch"]) == (cell.engine, cell.threads, cell.batch))
        name = f"{precision}_best_engine_largest_batch_peak_share"
        if not flops:
            skipped[f"goal {name}"] = "not measured: the bundle has no fp32 ONNX to count FLOPs in"
        elif row["peak_fraction"] > 1:
            skipped[f"goal {name}"] = f"not judged: {row['engine']} ran above the measured peak (see above_peak)"
        else:
            gops = peak_gops(peak, precision, row["runs_at_threads"], uint8_weights)
            values[name] = Ratio.of(flops * row["batch"] / measuring_times(cell) / 1e9 / gops).triple()
    if len(best) == 2:
        values["int8_vs_fp32_best_engine_largest_batch_speedup"] = measured_ratio(best["fp32"], best["int8"], picked=True).triple()
    return values


def split_calls(cell: Cell) -> Tuple[np.ndarray, np.ndarray]:
    """A cell's calls in the order they were timed, cut into those that pick the fastest cells (the first PICK_ROUNDS
    of the grid's ROUNDS; of a Paddle Lite cell, timed in one block in its sidecar, the same share of its calls) and
    those the picked cells' ratio is measured on (the rest)."""
    seconds = cell.timing.seconds
    cut = len(seconds) * PICK_ROUNDS // ROUNDS
    return seconds[:cut], seconds[cut:]


def picking_p50(cell: Cell) -> float:
    """The median of a cell's picking calls (split_calls): what the fastest cells are picked by."""
    return float(np.median(split_calls(cell)[0]))


def rounds_of(cell: Cell) -> List[np.ndarray]:
    """A cell's calls per round of the grid, in order (time_in_rounds times as many in each)."""
    seconds = cell.timing.seconds
    if not cell.interleaved or len(seconds) % ROUNDS:
        raise ValueError(f"{cell.engine} at batch {cell.batch}: {len(seconds)} calls{'' if cell.interleaved else ' timed alone'} "
                         f"are not {ROUNDS} rounds of the grid")
    return np.split(seconds, ROUNDS)


def measuring_times(cell: Cell) -> np.ndarray:
    """What a picked cell is judged on: its median call in each round after the picking ones, or, for a cell timed
    alone in its sidecar, its calls after the same share."""
    return np.array([np.median(r) for r in rounds_of(cell)[PICK_ROUNDS:]]) if cell.interleaved else split_calls(cell)[1]


def paired_by_round(a: Cell, b: Cell) -> bool:
    """Whether two cells were timed in the same rounds (both in process; Paddle Lite's sidecar times one block alone)."""
    return a.interleaved and b.interleaved


def measured_ratio(slow: Cell, fast: Cell, picked: bool) -> Ratio:
    """How much slower `slow` ran than `fast`: the median of their per-round ratios, each round's pair timed within
    seconds of each other (round_ratios), on every round, or where the pair was `picked` on the first PICK_ROUNDS, on
    the others. Calls are not independent on a shared machine (its load moves in blocks of rounds): the interval is the
    median's over rounds. With a cell timed alone (not paired_by_round), the ratio of the medians of the same calls."""
    if not paired_by_round(slow, fast):
        pick = (lambda c: split_calls(c)[1]) if picked else (lambda c: c.timing.seconds)
        return Ratio.of_medians(pick(slow), pick(fast))
    first = PICK_ROUNDS if picked else 0
    return Ratio.of(round_ratios(rounds_of(slow)[first:], rounds_of(fast)[first:]))


def tuned_twin(tuning: Optional[Tuning], batch: int, threads: int) -> Optional[str]:
    """The peer engine that is the tuned runtime's own configuration at `batch` (its backend and precision, at `threads`,
    with no settings of its own): not an engine a user would pick instead, and the tuned runtime against it is that
    engine against itself."""
    found = tuning.choice("auto", batch) if tuning is not None else None
    choice = found[1] if found else None
    if choice is None or choice.settings or choice.threads != threads:
        return None
    return next((e.name for e in ENGINES.values() if e.name.startswith(PEER_PREFIXES)
                 and (e.backend, e.precision) == (choice.backend, choice.precision)), None)


def fastest(by_key: Dict[tuple, Cell], threads: int, tuning: Optional[Tuning] = None) -> Dict[int, Tuple[Cell, Cell]]:
    """Per batch size at `threads` (batch 1 and the grid's largest): the thin runtime's fastest cell and the fastest
    peer's, by the median of their picking calls (split_calls), where both exist; with the `tuning` the tuned runtime's
    cells followed, its twin (tuned_twin) is not a peer. Picked on the calls their ratio is measured on, the fastest of
    several peers running the same engine would look faster than each of them is."""
    found: Dict[int, Tuple[Cell, Cell]] = {}
    batches = sorted({b for _, t, b in by_key if t == threads})
    for batch in dict.fromkeys([1, *batches[-1:]]):
        cells = [c for (_, t, b), c in by_key.items() if (t, b) == (threads, batch)]
        ours = [c for c in cells if c.engine in RUNTIME_ENGINES]
        twin = tuned_twin(tuning, batch, threads)
        peers = [c for c in cells if c.engine.startswith(PEER_PREFIXES) and c.engine != twin]
        if ours and peers:
            found[batch] = tuple(min(pool, key=picking_p50) for pool in (ours, peers))
    return found


class BenchReport(CheckedReport):
    """Cold start, size, latency and throughput of one bundle per engine, with the goals judged."""

    def cores_lines(self) -> List[str]:
        """What the core probes just before and after the grid saw (cores.py), where the goals' thread count is
        above 1; and why a probe could not run."""
        cores = self.data["cores"]
        ratios = cores["side_by_side"]
        lines = [f"CPUs {cores['cpus']} side by side (cores.py, just before and after the grid): "
                 f"{', '.join(f'{r:.2f}' for r in ratios)} the time of one alone"
                 + (f"; {cores['shared']} of {len(ratios)} probes over {cores['shared_above']}: the CPUs shared a core at "
                    "times in this run, so figures at more than one thread can move with it" if cores["shared"] else "")] if ratios else []
        return lines + ([f"core probe failed: {cores['error']}"] if cores.get("error") else [])

    def render(self) -> str:
        d = self.data
        peak = d["peak"]
        lines = [f"{d['model']}: {d['flops_per_sample'] / 1e6:,.2f} MFLOP/sample, {d['host']['cores']} cores {d['host']['cpu']['label']}",
                 f"this CPU's GEMM peak in {peak['engine']} (fastest of {'/'.join(map(str, peak['gemm_sizes']))}^3, "
                 f"{d['goal_threads']} thread(s)): fp32 {peak['gops']['fp32'][str(d['goal_threads'])]:.0f} GFLOP/s, int8 "
                 + ", ".join(f"{k[5:]} {v[str(d['goal_threads'])]:.0f} GOP/s" for k, v in peak["gops"].items() if k.startswith("int8"))
                 + f"; memory copy {peak['memory_gbs']:.1f} GB/s",
                 *[f"  the {kind} GEMM at {t} thread(s) in the rounds of the share goals' cell: {min(rates):.0f} to {max(rates):.0f}, "
                   f"median {np.median(rates):.0f} G(FL)OP/s" for kind, per in peak.get("gops_per_round", {}).items() for t, rates in per.items()],
                 *self.cores_lines(),
                 *([f"the thin runtime's onnxruntime engines with {', '.join(f'{k}={v}' for k, v in d['runtime_settings'].items())}"]
                   if d["runtime_settings"] else []), "",
                 f"{'engine':<26}{'size KB':>9}{'import s':>10}{'load ms':>9}{'first ms':>10}{'peak RSS MB':>13}"]
        for name, e in d["engines"].items():
            c = e.get("cold") or {}
            lines.append(f"{name:<26}{e['bytes'] / 1024:>9,.0f}" + (f"{c['import_s']:>10.2f}{c['load_s'] * 1e3:>9.1f}{c['first_inference_s'] * 1e3:>10.2f}"
                                                                    f"{c['peak_rss_mb']:>13.0f}" if c else f"{'(in its sidecar)':>42}"))
        lines += ["", f"{'threads':>7}{'batch':>6}  {'engine':<26}{'p50 us':>10}{'p90 us':>10}{'p99 us':>10}{'samples/s':>11}{'GFLOP/s':>9}"
                  f"{'% peak':>7}{'x ref':>7}{'/ bare':>8}"]
        for r in d["cells"]:
            lines.append(f"{r['threads']:>7}{r['batch']:>6}  {r['engine']:<26}{r['p50_us']:>10,.1f}{r['p90_us']:>10,.1f}{r['p99_us']:>10,.1f}"
                         f"{r['throughput']:>11,.0f}{r['gflops']:>9.2f}{100 * r['peak_fraction']:>7.1f}"
                         f"{r.get('speedup_vs_reference', float('nan')):>7.2f}"
                         f"{r.get('ratio_vs_bare', float('nan')):>8.3f}" + ("" if r["interleaved"] else "  (sidecar, timed alone)"))
        lines += ["", f"goals at {d['goal_threads']} threads:"] + [f"  {k:<44} {v}" for k, v in self.goal_rows()]
        lines += [f"  the fastest peer at batch {key[1:]} is of those timed; left out (see skipped): {', '.join(pair['peers_left_out'])}"
                  for key, pair in d["fastest"].items() if pair.get("peers_left_out")]
        lines += [f"skipped {k}: {v}" for k, v in d["skipped"].items()]
        if d.get("above_peak"):
            lines.append(f"above 100 % of the measured peak: {', '.join(d['above_peak'])}: the peak was measured while the machine "
                         "was busy, or these kernels beat onnxruntime's GEMM; their shares of the peak compare with nothing")
        return "\n".join(lines)


def _engine_bytes(engine: Engine, manifest: runtime.Manifest, paddle_int8: Optional[Path], opened: Dict[int, Tuple[str, str, int]]) -> int:
    """What the engine loads: the file the runtime opens for its backend on this CPU, its other bundle artifacts,
    PaddleSlim's int8 program and params, or the files of the tuned choices."""
    if engine.paddle_int8:
        files = find_model_files(Path(paddle_int8))
        return files.program.stat().st_size + files.params.stat().st_size
    if engine.tuned:
        names = {artifact for artifact, _, _ in opened.values()}
    else:
        names = {runtime.artifact_for(manifest, engine.backend, engine.precision)} if engine.backend else set(engine.artifacts)
    return sum(manifest.artifacts[a].bytes for a in names)


def _failed_at(engine: Engine, cold: ColdStart, first_failing: Dict[str, int], skipped: Dict[str, str]) -> None:
    """A peer that started cold (at batch 1) but failed at a benchmarked batch size in its cold-start process is left out
    of the cells from that size up (its process ended there); any other engine failing is a broken bundle."""
    batch = cold.failed_batch
    ran = ", ".join(map(str, sorted({1, *cold.ran})))  # its cold start's call is at batch 1
    hung = cold.failure.startswith("no answer within")
    if not is_peer(engine.name):
        raise PaddleEdgeError(f"{engine.name} failed at batch {batch} in its cold-start process: {cold.failure}",
                              "give it longer with --timeout SECONDS" if hung else
                              f"look at the model's batch dimension; `paddle-edge bench BUNDLE --batch {ran.replace(', ', ',')}` times what runs")
    first_failing[engine.name] = batch
    skipped[f"{engine.name} from batch {batch}"] = (f"not runnable here at batch {batch} (ran at {ran}; larger sizes not tried"
                                                    + ("; --timeout gives it longer" if hung else "") + f"): {cold.failure}")


def run_bench(bundle_path: Path, backends: Optional[Sequence[str]] = None, threads: Optional[Sequence[int]] = None,
              batches: Sequence[int] = (1, 8, 64), calls: int = 200, data: Optional[Path] = None,
              shapes: Optional[Dict[str, Sequence[int]]] = None, paddle_int8: Optional[Path] = None, timeout: float = TIMEOUT_S,
              settings: Optional[Dict[str, str]] = None) -> BenchReport:
    """Measure every engine the bundle can run on (or those named) over threads x batches, then judge the goals.
    Inputs are the dataset's test samples for a model trained here, else seeded random inputs of `shapes` (a
    detector's 1x3x640x640, a recogniser's 1x3x48x320: the batch dim is the grid's). `paddle_int8` (PaddleSlim's int8
    model directory) adds Paddle Inference's oneDNN int8. `timeout`: seconds for each step of an engine's cold-start
    process (cold_start). `settings` (runtime/backends SETTINGS of onnxruntime, e.g. parallel=batch) apply to the thin
    runtime's two onnxruntime engines, as runtime.open(settings=...) does."""
    settings = dict(settings or {})
    rt_backends.check_settings(runtime.DEFAULT_BACKEND, settings)
    bundle = runtime.load_bundle(Path(bundle_path))
    manifest = bundle.manifest
    skipped: Dict[str, str] = {}
    tuning = tuning_here(bundle)
    engines = engines_for(manifest, list(backends) if backends else None, paddle_int8, skipped, tuned=tuning is not None)
    # the peers this run meant to compare: those chosen, and those left out for a reason named in `skipped`
    meant = {e.name for e in engines if is_peer(e.name)} | {name for name in skipped if name in ENGINES and is_peer(name)}
    # per tuned batch size, the file, precision and threads the tuned runtime opens (the untuned rule's where it falls back)
    opened = {b: (p.artifact, p.precision, p.threads) for b, p in tuned_predictors(bundle, tuning).items()} \
        if tuning is not None and any(e.tuned for e in engines) else {}
    threads = list(threads or default_threads())
    goal_threads = max(n for n in threads if n <= (os.cpu_count() or 1)) if min(threads) <= (os.cpu_count() or 1) else min(threads)
    feeds = evaluation_set(manifest, data if manifest.source.get("dataset") else None, max(batches), shapes).single
    flops, traffic = count_work(bundle.path_of("onnx-fp32"), feeds) if "onnx-fp32" in manifest.artifacts else (0, Traffic(0, 0))
    peak_threads = sorted(set(threads) | {n for _, _, n in opened.values()})  # the tuned runtime's threads too
    peak = measure_peak(peak_threads, "before the grid")
    uint8_weights = has_int8_saturation()  # the int8 file the runtime picks here: its GEMM is the int8 peak
    # the share goals' cell (the goal threads, the grid's largest batch): its rounds time the GEMMs of both precisions at
    # the goal threads and the tuned runtime's, so a peak caught in a slow moment before and after the grid is not the only one
    goal_cell, probed_sizes = (goal_threads, max(batches)), peak["size"]  # the probes run at the sizes of this peak
    in_rounds = {goal_cell: probes(peak, ("fp32", gemm_kind("int8", uint8_weights)),
                                   sorted({goal_threads} | {n for _, _, n in opened.values()}))}
    engine_rows: Dict[str, Dict[str, Any]] = {}
    first_failing: Dict[str, int] = {}  # an engine's first batch size that failed in its cold-start process
    for e in tqdm(list(engines), desc="cold start (one process each)", unit="engine"):
        try:
            cold = cold_start(bundle.root, e.name, goal_threads, batches, timeout, paddle_int8=paddle_int8,
                              shapes={k: x.shape for k, x in feeds.items()}, settings=settings) if e.in_process else None
        except ColdStartFailed as exc:  # a peer that cannot run this model here keeps its row, as not runnable
            if not is_peer(e.name):
                raise  # the runtime's own engines and the reference must run: that is a broken bundle, not a finding
            skipped[e.name] = f"not runnable here: {exc.last_line}"
            engines.remove(e)
            continue
        if cold is not None and cold.failed_batch is not None:
            _failed_at(e, cold, first_failing, skipped)
        engine_rows[e.name] = {"label": e.label, "precision": e.precision, "bytes": _engine_bytes(e, manifest, paddle_int8, opened),
                               "cold": cold.figures if cold else None}
    cpus = probe_cpus(goal_threads)
    cores = probe_cores(goal_threads, cpus)
    with tqdm(total=len(threads) * len(batches), desc="latency grid (threads x batch)", unit="cell") as bar:
        cells, overhead, probed = run_grid(bundle, engines, feeds, threads, batches, calls, skipped, bar, paddle_int8, goal_threads,
                                           first_failing, settings, in_rounds)
    by_key = {(c.engine, c.threads, c.batch): c for c in cells}
    timed = tuning if any(e.tuned for e in engines) else None  # the tuning the tuned runtime's cells followed
    cores = merged(cores, probe_cores(goal_threads, cpus))
    peak = with_probe_rounds(higher_peak(peak, measure_peak(peak_threads, "after the grid")),
                             {name: np.split(t.seconds, ROUNDS) for name, t in probed.get(goal_cell, {}).items()}, probed_sizes)
    data = {"schema": SCHEMA, "model": manifest.model, "bundle": str(bundle.root), "flops_per_sample": flops, "provenance": provenance(),
            "host": {"cpu": cpu_info(), "machine": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
                     "processor": platform.processor() or platform.machine()},
            "toolchain": manifest.toolchain, "quantization": manifest.quantization, "threads": threads, "batches": list(batches),
            "goal_threads": goal_threads, "runtime_settings": settings, "engines": engine_rows, "peak": peak, "cores": cores,
            "traffic": {"weight_elements": traffic.weight_elements, "activation_elements_per_sample": traffic.activation_elements},
            "cells": [_cell_row(c, flops, traffic, peak, uint8_weights, by_key, tuning, opened) for c in cells],
            "above_peak": [],
            "tuned": None if tuning is None else {"board": tuning.board, "choices": {str(b): c[ANY].describe() for b, c in tuning.choices.items() if ANY in c}},
            "runtime_overhead_b1": {str(k): v.to_dict() for k, v in overhead.items()}, "skipped": skipped,
            "fastest": {f"b{b}": {"runtime": ours.engine, "peer": peer.engine, "tuned_twin": tuned_twin(timed, b, goal_threads),
                                  "paired_by_round": paired_by_round(ours, peer),
                                  "peers_left_out": sorted(meant - {e for e, t, n in by_key if (t, n) == (goal_threads, b)})}
                        for b, (ours, peer) in fastest(by_key, goal_threads, timed).items()},
            "fastest_rule": FASTEST_RULE, "ratio_rule": RATIO_RULE, "share_rule": SHARE_RULE, "int8_time_vs_fp32": int8_time_vs_fp32(by_key, goal_threads)}
    data["above_peak"] = [f"{r['engine']} at {r['threads']} thread(s), batch {r['batch']}" for r in data["cells"] if r["peak_fraction"] > 1]
    best = best_by_precision(by_key, data["cells"], goal_threads)
    data["best_engine"] = {**{p: c.engine for p, c in best.items()}, "batch": next((c.batch for c in best.values()), None),
                           "paired_by_round": paired_by_round(best["fp32"], best["int8"]) if len(best) == 2 else None}
    goals = {**_goals(by_key, overhead, goal_threads, timed),
             **_best_engine_goals(best, data["cells"], flops, peak, uint8_weights, skipped)}
    skipped.update({f"goal {g}": f"not measured: the grid lacks an engine, thread count ({goal_threads}) or batch size it needs"
                    for g in GOALS if g not in goals and f"goal {g}" not in skipped})
    return BenchReport.of(data, (), judge_goals(goals, goal_limits(bool(data["host"]["cpu"]["vnni"]))))
