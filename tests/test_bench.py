"""paddle-edge bench on the test LeNet: real measurements, printed; the JSON's schema and the figures' consistency asserted."""
from __future__ import annotations

import json
import sys
from typing import List, Sequence

import jsonschema
import numpy as np
import pytest

from paddle_edge import runtime
from paddle_edge.boards.bench.cold_start import ColdStartFailed, cold_start
from paddle_edge.boards.bench.engines import ENGINES, engines_for
from paddle_edge.boards.bench.flops import count_flops, count_traffic
from paddle_edge.runtime.cpu import has_int8_saturation
from paddle_edge.boards.bench.grid import PICK_ROUNDS, ROUNDS, Cell, run_grid
from paddle_edge.boards.bench.peak import probe_name, with_probe_rounds
from paddle_edge.export.evaluation import evaluation_set
from paddle_edge.boards.latency import Ratio
from paddle_edge.boards.bench.runner import GOALS, SCHEMA_FILE, SHARE_RULE, _goals, fastest, measured_ratio, paired_by_round, run_bench, tuned_twin
from paddle_edge.runtime.tuning import ANY, Choice, Tuning
from paddle_edge.runtime.timing import Timing
from paddle_edge.boards.report import run_dir
from paddle_edge.boards.report.readme import peers_not_compared
from paddle_edge.cli import main
from paddle_edge.runtime import load_bundle
from paddle_edge.runtime.errors import PaddleEdgeError

from cpu_kinds import openvino_int8_file
from user_models import save_batch_one_net

# conv1 24x24x20 outputs x 25 MACs, conv2 8x8x50 x 500 MACs, fc 10 x 800 MACs; 2 FLOPs per MAC
LENET_FLOPS = 2 * (24 * 24 * 20 * 25 + 8 * 8 * 50 * 500 + 10 * 800)


# weights: conv1 20x1x5x5 + 20 bias, conv2 50x20x5x5 + 50 bias, fc 800x10; activations in and out of each of the three
LENET_WEIGHTS = 20 * 25 + 20 + 50 * 20 * 25 + 50 + 800 * 10
LENET_ACTIVATIONS = (28 * 28 + 20 * 24 * 24) + (20 * 12 * 12 + 50 * 8 * 8) + (800 + 10)


def test_flops_are_counted_from_the_graph(lenet_bundle):
    assert count_flops(lenet_bundle.directory / "model.fp32.onnx") == LENET_FLOPS


def test_the_bytes_a_call_moves_are_counted_from_the_graph(lenet_bundle):
    traffic = count_traffic(lenet_bundle.directory / "model.fp32.onnx")
    assert (traffic.weight_elements, traffic.activation_elements) == (LENET_WEIGHTS, LENET_ACTIVATIONS)
    assert traffic.bytes_per_call(8, 4) == 4 * (LENET_WEIGHTS + 8 * LENET_ACTIVATIONS)


def test_bench_json_follows_its_schema_and_covers_every_cell(lenet_run_dir):
    data = json.loads((lenet_run_dir / run_dir.BENCH).read_text())
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    engines = set(data["engines"])
    assert {"paddle_inference_fp32", "onnxruntime_fp32", "onnxruntime_int8", "bare_onnxruntime_fp32"} <= engines
    cells = {(c["engine"], c["threads"], c["batch"]) for c in data["cells"]}
    assert cells == {(e, t, b) for e in engines for t in data["threads"] for b in data["batches"]}
    assert data["flops_per_sample"] == LENET_FLOPS
    peak = data["peak"]  # measured in the same run: int8 and fp32 GEMM at every thread count of the grid, and one
    assert set(peak["gops"]) == {"fp32", "int8_u8s8", "int8_u8u8"} and all(set(v) == {"1", "2"} for v in peak["gops"].values())
    probed = data["cores"]  # the goals' 2 threads: probed before and after the grid, 3 times each
    assert probed["threads"] == data["goal_threads"] == 2 and len(probed["side_by_side"]) == 6 and "error" not in probed, probed
    assert len(set(probed["cpus"])) == 2 and set(probed["alone_s"]) == {*map(str, probed["cpus"]), *(f"{c} after" for c in probed["cpus"])}
    assert probed["shared"] == sum(r > probed["shared_above"] for r in probed["side_by_side"]) and min(probed["side_by_side"]) > 0.5
    for cell in data["cells"]:
        precision = ENGINES[cell["engine"]].precision
        assert cell["precision"] == precision
        kind = "fp32" if precision == "fp32" else "int8_u8u8" if has_int8_saturation() else "int8_u8s8"
        assert cell["peak_fraction"] == pytest.approx(cell["gflops"] / peak["gops"][kind][str(cell["threads"])])
        per_element = 4 if precision == "fp32" else 1
        moved = per_element * (LENET_WEIGHTS + cell["batch"] * LENET_ACTIVATIONS)
        assert cell["flops_per_byte"] == pytest.approx(LENET_FLOPS * cell["batch"] / moved)
        assert cell["p50_us"] <= cell["p90_us"] <= cell["p99_us"]
        assert cell["throughput"] == pytest.approx(cell["batch"] / cell["p50_us"] * 1e6)
        assert len(cell["samples_us"]) == cell["calls"]
        if cell["engine"] == "paddle_inference_fp32":
            assert cell["speedup_vs_reference"] == pytest.approx(1.0)
    not_measured = {k[len("goal "):] for k in data["skipped"] if k.startswith("goal ")}
    assert set(data["goals"]) | not_measured == set(GOALS) and not_measured == {"onnxruntime_int8_vs_fp32_b64_speedup"}  # no batch 64 here
    for batch in ("b1", "b8"):  # batch 1 and the grid's largest: the runtime's faster precision against the fastest peer
        ours, peer = data["fastest"][batch]["runtime"], data["fastest"][batch]["peer"]
        assert ours in ("onnxruntime_fp32", "onnxruntime_int8") and peer.startswith(("openvino", "paddle_inference"))
    at_largest = [c for c in data["cells"] if (c["threads"], c["batch"]) == (data["goal_threads"], 8)]
    assert all(c["interleaved"] for c in at_largest)  # ONNX engines only: every cell's calls are the grid's rounds
    rounds = {c["engine"]: np.split(np.array(c["samples_us"]), ROUNDS) for c in at_largest}
    picking = {name: np.median(np.concatenate(r[:PICK_ROUNDS])) for name, r in rounds.items()}
    best = {p: min((c for c in at_largest if c["precision"] == p), key=lambda c: picking[c["engine"]]) for p in ("fp32", "int8")}
    assert data["best_engine"] == {"fp32": best["fp32"]["engine"], "int8": best["int8"]["engine"], "batch": 8, "paired_by_round": True}
    kinds = {"fp32": "fp32", "int8": "int8_u8u8" if has_int8_saturation() else "int8_u8s8"}
    assert {k: set(v) for k, v in peak["gops_per_round"].items()} == {kinds["fp32"]: {"2"}, kinds["int8"]: {"2"}}  # the goal cell's
    for kind, per in peak["gops_per_round"].items():  # the GEMM at its peak's size, in each round; the peak is the highest of all
        assert len(per["2"]) == ROUNDS and peak["gops"][kind]["2"] >= max(per["2"]) and peak["size_in_rounds"][kind]["2"] in peak["gemm_sizes"]
        rounds_won = peak["source"][kind]["2"].startswith("round ")
        assert rounds_won == (peak["gops"][kind]["2"] == max(per["2"])) and peak["source"][kind]["1"] in ("before the grid", "after the grid")
    for precision, cell in best.items():  # the best engine of each precision at the largest batch, against its peak
        share = data["goals"][f"{precision}_best_engine_largest_batch_peak_share"]
        gflops = LENET_FLOPS * 8 / np.array([np.median(r) for r in rounds[cell["engine"]][PICK_ROUNDS:]]) / 1e3  # samples_us: us
        shares = gflops / peak["gops"][kinds[precision]]["2"]
        assert [share["value"], *share["interval"]] == pytest.approx(Ratio.of(shares).triple(), rel=1e-4)  # per measuring round
    assert data["share_rule"] == SHARE_RULE
    speedup = data["goals"]["int8_vs_fp32_best_engine_largest_batch_speedup"]  # on the rounds that did not pick the pair
    per_round = [np.median(f) / np.median(i) for f, i in zip(rounds[best["fp32"]["engine"]], rounds[best["int8"]["engine"]])][PICK_ROUNDS:]
    assert [speedup["value"], *speedup["interval"]] == pytest.approx(Ratio.of(np.array(per_round)).triple(), rel=1e-4)  # samples_us: to 0.01 us
    assert speedup["limit"] == (1.5 if data["host"]["cpu"]["vnni"] else 1.0)  # the speed issue's int8 target needs VNNI
    ort_int8 = [np.median(i) / np.median(f) for f, i in zip(rounds["onnxruntime_fp32"], rounds["onnxruntime_int8"])]  # every round
    assert data["int8_time_vs_fp32"]["onnxruntime"]["8"] == pytest.approx(Ratio.of(np.array(ort_int8)).triple(), rel=1e-4)
    assert set(data["int8_time_vs_fp32"]["onnxruntime"]) == {"1", "8"}
    assert data["checks"] == {}  # speed is reported as goals, never as a check that fails the run
    for goal in data["goals"].values():
        low, high = goal["interval"]
        assert low <= goal["value"] <= high
    assert set(data["runtime_overhead_b1"]) == {"1", "2"}
    assert data["host"]["cpu"]["int8_instructions"] is not None and "label" in data["host"]["cpu"]


def test_the_thin_runtime_holds_less_memory_than_paddle(lenet_run_dir):
    """Each engine's cold start runs in its own process; the ONNX Runtime ones never import paddle."""
    engines = json.loads((lenet_run_dir / run_dir.BENCH).read_text())["engines"]
    paddle_rss = engines["paddle_inference_fp32"]["cold"]["peak_rss_mb"]
    for name in ("onnxruntime_fp32", "onnxruntime_int8", "bare_onnxruntime_fp32"):
        print(f"{name}: peak RSS {engines[name]['cold']['peak_rss_mb']:.0f} MB (Paddle Inference: {paddle_rss:.0f} MB)")
        assert engines[name]["cold"]["peak_rss_mb"] < paddle_rss / 2


def test_engines_the_bundle_cannot_run_are_named(lenet_bundle):
    manifest = load_bundle(lenet_bundle.directory).manifest
    assert "paddlelite_x86_fp32" not in {e.name for e in engines_for(manifest)}  # the test bundle has ONNX only
    with pytest.raises(PaddleEdgeError, match="no artifacts for"):
        engines_for(manifest, ["paddlelite_x86_fp32"])
    with pytest.raises(PaddleEdgeError, match="unknown engine"):
        engines_for(manifest, ["tensorrt"])
    assert set(ENGINES) >= {"paddle_inference_fp32", "bare_onnxruntime_fp32"}
    skipped = {}
    assert "paddle_inference_int8" not in {e.name for e in engines_for(manifest, skipped=skipped)}
    assert "--paddle-int8 DIR" in skipped["paddle_inference_int8"]  # PaddleSlim's program is not in a bundle
    with pytest.raises(PaddleEdgeError, match="paddle_inference_int8 cannot run: give PaddleSlim's int8 model directory"):
        engines_for(manifest, ["paddle_inference_int8"])


def test_paddle_inference_runs_paddleslims_program_as_onednn_int8_beside_the_runtime(lenet_bundle, lenet_ptq):
    report = run_bench(lenet_bundle.directory, backends=["paddle_inference_int8", "onnxruntime_int8", "openvino_int8"],
                       threads=[2], batches=[1], calls=20, paddle_int8=lenet_ptq.model_dir)
    print(report.render())
    engines = report.data["engines"]
    assert engines["paddle_inference_int8"]["cold"]["peak_rss_mb"] > 0 and engines["paddle_inference_int8"]["bytes"] > 0
    assert {c["engine"] for c in report.data["cells"]} == {"paddle_inference_int8", "onnxruntime_int8", "openvino_int8"}
    manifest = runtime.load_bundle(lenet_bundle.directory).manifest
    for name, backend in (("onnxruntime_int8", "onnxruntime"), ("openvino_int8", "openvino")):  # the size of the file it opened
        assert engines[name]["bytes"] == manifest.artifacts[runtime.artifact_for(manifest, backend, "int8")].bytes
    assert runtime.artifact_for(manifest, "openvino", "int8") == openvino_int8_file(manifest.artifacts)  # the file this CPU suits
    assert "runtime_vs_fastest_peer_b1_ratio" in report.data["goals"] and report.data["checks"] == {}


def test_bench_cli_rejects_a_malformed_list(lenet_bundle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", str(lenet_bundle.directory), "--threads", "1,two"])
    assert exc.value.code == 2 and "1,2,4" in capsys.readouterr().err


def test_an_engine_that_cannot_run_the_model_keeps_its_row_as_not_runnable(lenet_bundle, tmp_path):
    broken = tmp_path / "int8"
    broken.mkdir()
    (broken / "model.pdmodel").write_bytes(b"not a program")
    (broken / "model.pdiparams").write_bytes(b"")
    report = run_bench(lenet_bundle.directory, backends=["paddle_inference_int8", "onnxruntime_int8"], threads=[1], batches=[1],
                       calls=10, paddle_int8=broken)
    assert report.data["skipped"]["paddle_inference_int8"].startswith("not runnable here: ")
    assert {c["engine"] for c in report.data["cells"]} == {"onnxruntime_int8"} and "paddle_inference_int8" not in report.data["engines"]


def test_a_peer_that_fails_at_a_larger_batch_is_timed_below_it_and_named(lenet_bundle, tmp_path):
    """Issue 12: an engine that crashes or hangs on a model runs in a child process first, at every batch size the bench
    times, and never takes the bench down. A program that fixes its batch to 1 inside runs at 1 and fails at 8."""
    spec = load_bundle(lenet_bundle.directory).manifest.inputs[0]
    batch_one = save_batch_one_net(tmp_path, spec.name, list(spec.shape))
    report = run_bench(lenet_bundle.directory, backends=["paddle_inference_int8", "onnxruntime_int8", "openvino_int8"], threads=[1],
                       batches=[1, 8, 64], calls=10, paddle_int8=batch_one)
    why = report.data["skipped"]["paddle_inference_int8 from batch 8"]
    assert why.startswith("not runnable here at batch 8 (ran at 1; larger sizes not tried): ") and "1, 6272" in why, why  # 8 x 784 in one row
    timed = {(c["engine"], c["batch"]) for c in report.data["cells"]}
    assert timed == {("paddle_inference_int8", 1), *((e, b) for e in ("onnxruntime_int8", "openvino_int8") for b in (1, 8, 64))}
    # the fastest-peer goal at batch 64 is of the peers that ran there, and says which one did not
    assert report.data["fastest"]["b64"]["peers_left_out"] == ["paddle_inference_int8"] and report.data["fastest"]["b1"]["peers_left_out"] == []
    assert "the fastest peer at batch 64 is of those timed; left out (see skipped): paddle_inference_int8" in report.render()
    readme = " ".join(peers_not_compared({"lenet": report.data}))  # the README says it ran part of the grid, not that it never ran
    assert "Peers that ran, then failed at a batch size or thread count, so left out of the cells from there up: lenet: paddle_inference_int8 from batch 8" in readme
    assert "Peers that could not run" not in readme
    jsonschema.validate(report.data, json.loads(SCHEMA_FILE.read_text()))
    assert report.data["engines"]["paddle_inference_int8"]["cold"]["first_inference_s"] > 0


def test_a_peer_is_said_to_have_run_part_way_only_where_it_timed_a_cell():
    """A Lite peer failing at its first cell, or a peer failing to load, names where in its key but never ran."""
    bench = {"model": "m", "cells": [{"engine": "openvino_int8"}], "skipped": {
        "paddlelite_x86_fp32 at 1 thread(s), batch 1": "not runnable here at 1 thread(s), batch 1: SidecarError: ...",
        "openvino_int8 from batch 8": "not runnable here at batch 8 (ran at 1; larger sizes not tried): ...",
        "paddle_inference_int8": "give PaddleSlim's int8 model directory with --paddle-int8 DIR", "onnxruntime_fp32": "not chosen"}}
    never, part_way, left_out = peers_not_compared({"m": bench})
    assert never.startswith("Peers that could not run: m: paddlelite_x86_fp32 at 1 thread(s), batch 1 (") and "openvino" not in never
    assert part_way.startswith("Peers that ran, then failed") and "m: openvino_int8 from batch 8" in part_way and "lite" not in part_way
    assert left_out.startswith("Peers left out of a run") and "paddle_inference_int8" in left_out and "onnxruntime" not in left_out


def test_a_child_that_ends_without_an_exception_is_named_by_its_signal():
    from paddle_edge.boards.bench.cold_start import _what_it_said

    assert _what_it_said("", -11) == "killed by SIGSEGV, nothing on stderr"
    assert _what_it_said("W1206 a warning\n", -9) == "killed by SIGKILL: W1206 a warning"
    assert _what_it_said("Traceback ...\nValueError: bad shape\n[operator < fc > error]\n", 1) == "ValueError: bad shape [operator < fc > error]"
    assert _what_it_said("ValueError: x", 1, hung="no answer within 300 s") == "no answer within 300 s"


def test_a_peer_that_fails_in_the_grid_is_left_out_from_there_and_named(lenet_bundle, tmp_path):
    """What the cold-start process did not find (another thread count, the real inputs) the grid catches for a peer: the
    bench goes on without it from that batch size up."""
    bundle = load_bundle(lenet_bundle.directory)
    spec = bundle.manifest.inputs[0]
    batch_one = save_batch_one_net(tmp_path, spec.name, list(spec.shape))
    engines = engines_for(bundle.manifest, ["paddle_inference_int8", "onnxruntime_int8"], batch_one)
    skipped = {}
    cells, _, _ = run_grid(bundle, engines, evaluation_set(bundle.manifest, None, 8, None).single, [1], [1, 8], 10, skipped, paddle_int8=batch_one)
    assert skipped["paddle_inference_int8 at 1 thread(s), batch 8"].startswith("not runnable here at 1 thread(s), batch 8: ValueError: ")
    assert {(c.engine, c.batch) for c in cells} == {("paddle_inference_int8", 1), ("onnxruntime_int8", 1), ("onnxruntime_int8", 8)}


def test_an_engine_that_hangs_is_stopped_and_named(lenet_bundle):
    """Each step of a cold start gets its timeout: Paddle's import alone takes longer than a tenth of a second."""
    with pytest.raises(ColdStartFailed, match=r"no answer within 0.1 s") as exc:
        cold_start(lenet_bundle.directory, "paddle_inference_fp32", 1, timeout=0.1)
    assert exc.value.last_line == "no answer within 0.1 s"  # what a bench row says: the hang, not the last log line
    assert f"run it by hand to see the whole error: {sys.executable} -m paddle_edge.boards.bench.cold_start" in exc.value.fix


def _cell(engine: str, per_round_ms: Sequence[float], interleaved: bool = True) -> Cell:
    """A cell of 5 calls per round at each round's time, in the grid's order."""
    return Cell(engine, 2, 1, Timing(1, np.repeat(np.asarray(per_round_ms, dtype=float), 5) / 1e3), interleaved)


def _picked_then(picking_ms: float, measured_ms: float) -> List[float]:
    return [picking_ms] * PICK_ROUNDS + [measured_ms] * (ROUNDS - PICK_ROUNDS)


def test_the_fastest_pair_is_picked_on_the_first_rounds_and_measured_on_the_others():
    """Picked on the calls its ratio is measured on, the luckiest of several equal peers would look faster than each is:
    the first PICK_ROUNDS of ROUNDS pick, the rest measure."""
    cells = [_cell("onnxruntime_fp32", _picked_then(10, 10)), _cell("runtime_tuned", _picked_then(10.5, 9.0)),
             _cell("openvino_fp32", _picked_then(9, 11)),  # the fastest peer on the picking rounds, slower than ours after
             _cell("openvino_fp32_throughput", _picked_then(9.5, 9.5))]  # the fastest over all calls: not picked
    by_key = {(c.engine, c.threads, c.batch): c for c in cells}
    (ours, peer), = fastest(by_key, 2).values()
    assert (ours.engine, peer.engine) == ("onnxruntime_fp32", "openvino_fp32")
    ratio = _goals(by_key, {}, 2)["runtime_vs_fastest_peer_b1_ratio"]
    assert ratio[0] == pytest.approx(10 / 11)
    # where the tuning chose OpenVINO fp32 at 2 threads, that peer is the tuned runtime's own engine and does not count
    tuning = Tuning("x86-64", False, "sha", {}, {1: {ANY: Choice("openvino", "fp32", 2, {}, 9000.0)}})
    assert tuned_twin(tuning, 1, 2) == "openvino_fp32" and tuned_twin(tuning, 1, 1) is None
    (ours, peer), = fastest(by_key, 2, tuning).values()
    assert peer.engine == "openvino_fp32_throughput"
    assert _goals(by_key, {}, 2, tuning)["runtime_vs_fastest_peer_b1_ratio"][0] == pytest.approx(10 / 9.5)
    onnxruntime = Tuning("x86-64", False, "sha", {}, {1: {ANY: Choice("onnxruntime", "fp32", 2, {"allow_spinning": "1"}, 9000.0)}})
    assert tuned_twin(onnxruntime, 1, 2) is None  # the runtime's own backend has no twin among the peers


def test_a_ratio_is_paired_by_round_and_its_interval_is_over_rounds():
    """The machine's load moves in blocks of rounds: each round's pair shares it, and the interval is over rounds, so
    a pair whose order flips in a block of rounds is not called settled however many calls each round has."""
    load = np.array([1.0] * 6 + [1.7] * 6)  # the machine slows down half way through
    peer = _cell("openvino_fp32", 10 * load)
    steady = _cell("onnxruntime_fp32", 9 * load)  # 0.9 of the peer in every round, whatever the load
    ratio = measured_ratio(steady, peer, picked=True)
    assert (ratio.median, ratio.low, ratio.high, ratio.pairs) == (pytest.approx(0.9), pytest.approx(0.9), pytest.approx(0.9), ROUNDS - PICK_ROUNDS)
    flips = _cell("onnxruntime_fp32", 10 * load * np.where(np.arange(ROUNDS) < 8, 0.9, 1.3))  # slower in its last 4 rounds
    ratio = measured_ratio(flips, peer, picked=True)
    assert ratio.median == pytest.approx(0.9) and ratio.high == pytest.approx(1.3)  # not clear of 1
    assert measured_ratio(flips, peer, picked=False).pairs == ROUNDS  # a fixed pair: every round measures
    alone = _cell("paddlelite_x86_fp32", 10 * load, interleaved=False)  # timed alone in its sidecar: no rounds to pair
    assert not paired_by_round(steady, alone)
    assert measured_ratio(steady, alone, picked=True).median == pytest.approx(np.median(steady.timing.seconds[10:]) / np.median(alone.timing.seconds[10:]))


def test_a_gemm_timed_in_the_rounds_is_rated_at_the_size_it_ran_at():
    """The rounds' GEMM runs at the size of the peak measured before the grid; the peak after it can be of another size,
    and rating the rounds' calls at that one would scale them by the cube of the sizes' ratio."""
    peak = {"gops": {"fp32": {"2": 60.0}}, "size": {"fp32": {"2": 1536}}, "source": {"fp32": {"2": "after the grid"}}}
    rounds = {probe_name("fp32", 2): [np.array([0.02, 0.03, 0.04]), np.array([0.02, 0.025, 0.03])]}  # the probe's own 1024^3
    rated = with_probe_rounds(peak, rounds, {"fp32": {"2": 1024}})
    assert rated["gops_per_round"]["fp32"]["2"] == pytest.approx([2 * 1024 ** 3 / s / 1e9 for s in (0.03, 0.025)])
    assert rated["size_in_rounds"] == {"fp32": {"2": 1024}}
    # 71.6 and 85.9 GFLOP/s in the rounds: the second round's is the peak now, of its size
    assert (rated["gops"]["fp32"]["2"], rated["size"]["fp32"]["2"], rated["source"]["fp32"]["2"]) == (pytest.approx(85.9, abs=0.1), 1024, "round 2")
    assert peak["gops"]["fp32"]["2"] == 60.0  # the peak given is left as it was
