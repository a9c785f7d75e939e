"""The quantization debugger (`paddle-edge quant-debug`) and the accuracy search behind `compress --max-drop`, on real
models: the test LeNet and its PaddleSlim int8 twin, and PaddleOCR's recogniser in test_real_models.py."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil

import jsonschema
import numpy as np
import onnx
import pytest

from paddle_edge import runtime
from paddle_edge.accuracy_control import quantize_with_accuracy_control
from paddle_edge.boards.quant_debug import run_quant_debug
from paddle_edge.boards.quant_debug.debugger import debug_bundle, kernel_cases, matched_ops
from paddle_edge.boards.quant_debug.graph import INT8, DifferentNetworks, match_networks
from paddle_edge.boards.quant_debug.report import SCHEMA_FILE, format_table, kernel_fix
from paddle_edge.export import onnx_u8_weights as u8_weights
from paddle_edge.boards.report import run_dir
from paddle_edge.boards.report.page import make_report
from paddle_edge.cli import main
from paddle_edge.compress.accuracy_search import AccuracySearch, DropNotMet, SlowerThanFloat
from paddle_edge.compress.ptq import quantize_ptq
from paddle_edge.compress.recipe import PtqRecipe
from paddle_edge.export.evaluation import evaluation_set
from paddle_edge.runtime.cpu import cpu_info, has_int8_saturation
from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.source.fetch import fetch_published
from paddle_edge.source.model import resolve_model
from paddle_edge.source.paddle_program import ProgramInfo, find_model_files, network_difference, read_program
from user_models import save_batch_one_net
from paddle_edge.source.synthetic_text import render
from gain_cut import assert_cut_matches_whole


@pytest.fixture(scope="module")
def lenet_debug(lenet_bundle):
    return run_quant_debug(lenet_bundle.directory, limit=512)


def test_every_compute_op_and_quantizer_gets_a_row_in_graph_order(lenet_debug, lenet_bundle):
    float_model = onnx.load(str(lenet_bundle.directory / "model.fp32.onnx"))
    compute = [n.output[0] for n in float_model.graph.node if n.op_type in ("Conv", "MatMul", "Gemm")]
    ops = [r for r in lenet_debug.rows if r.kind == "op"]
    assert [r.output for r in ops] == compute
    assert any(r.kind == "quantizer" for r in lenet_debug.rows)
    assert [r.position for r in lenet_debug.rows] == sorted(r.position for r in lenet_debug.rows)
    assert abs(sum(r.flops_share for r in ops) - 1.0) < 1e-9
    int8 = [r for r in ops if r.precision == INT8]
    assert int8 and all(r.local_sqnr_db is not None and r.local_sqnr_db > 15 for r in int8), format_table(lenet_debug, 20)
    assert all(r.weight and r.weight.endswith(".w_0") for r in int8)


def test_the_ranking_puts_the_largest_measured_gain_first(lenet_debug):
    """Int8 ops first, by how much float inputs would help the model's output; then the rest by the error each adds."""
    ranked = lenet_debug.ranked
    gains = [r.float_input_gain_db for r in ranked if r.float_input_gain_db is not None]
    assert gains and gains == sorted(gains, reverse=True)
    assert all(r.float_input_gain_db is not None for r in ranked[:len(gains)])
    rest = [r.local_sqnr_db for r in ranked[len(gains):] if r.local_sqnr_db is not None]
    assert rest == sorted(rest)


def test_the_json_follows_its_published_schema(lenet_debug, tmp_path):
    path = tmp_path / "debug.json"
    lenet_debug.save(path)
    data = json.loads(path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    assert data["ranking"][0] == lenet_debug.ranked[0].output


def test_the_fused_kernels_are_held_to_the_exact_int8_semantics(lenet_bundle):
    """On x86 without VNNI onnxruntime's u8s8 kernels saturate: the int8-weight file's fused convs land more than one
    step from the exact result, which the debugger names; the uint8-weight file this CPU's runtime runs does not.
    With VNNI (or on ARM) both are within a step."""
    bundle = runtime.load_bundle(lenet_bundle.directory)
    evaluation = evaluation_set(bundle.manifest, None, 512, None)
    generic = debug_bundle(bundle, evaluation, fused_artifact="onnx-int8")
    chosen = debug_bundle(bundle, evaluation)
    assert not chosen.deviating_kernels, format_table(chosen, 10)
    assert bool(generic.deviating_kernels) == has_int8_saturation(), format_table(generic, 10)
    if generic.deviating_kernels:  # the fix named is one the toolkit applies: the other file, or compress's --keep-float
        table = format_table(generic, 10)
        assert "fused kernels land more than 1 step" in table and "the uint8-weight int8 file export writes for it (onnx-int8-u8w" in table
        assert all(f"--keep-float {r.weight}" in table for r in generic.deviating_kernels), table
    weighted = next(r for r in generic.rows if r.weight)
    unweighted = dataclasses.replace(weighted, weight=None, output="matmul_0.tmp_0")
    assert kernel_fix([weighted, unweighted], u8_weights.FILE) == (f"keep their ops in float: `paddle-edge compress ... --keep-float "
                                                                   f"{weighted.weight}`; matmul_0.tmp_0 has no weight for --keep-float to name")


def test_a_float_output_int8_matmul_is_judged_in_its_accumulators_unit(lenet_bundle):
    """LeNet's fc reads int8 codes and writes float (onnxruntime runs it as MatMulIntegerToFloat): its exact result is a
    whole number of steps, so a step is one unit of the int32 sum and a kernel's difference counts whole units."""
    bundle = runtime.load_bundle(lenet_bundle.directory)
    cases = kernel_cases(bundle, "onnx-int8-u8w")
    fc = next(op for op in cases.ops if op.op_type == "MatMul")
    assert fc.output_codes is None
    _, found = cases.run(evaluation_set(bundle.manifest, None, 64, None).groups[0])
    units = next(exact for op, _, exact in found if op is fc) / cases.step[fc.output]
    # whole numbers up to the float32 rounding of the exact run's sums, which grows with the partial sums' size, not the
    # result's, and depends on the CPU's summation order (0.16 of a unit seen on an AVX2 CPU): every value of 64 x 10
    # under half a unit from a whole number, and well under (by chance all 640 within 0.4: 0.8 ** 640)
    assert (np.abs(units - np.rint(units)) < 0.4).all() and np.abs(units).max() > 1000


def test_an_ops_gain_is_measured_on_the_part_of_the_graph_after_it_fed_by_the_int8_run(lenet_bundle):
    """Each op's gain runs only the part of the int8 model from the op on (LeNet's here; the recogniser's residual
    branches in test_real_models.py)."""
    bundle = runtime.load_bundle(lenet_bundle.directory)
    int8 = onnx.load(str(bundle.path_of("onnx-int8")))
    ops = [op for op in matched_ops(bundle) if op.precision == INT8]
    assert len(ops) >= 2
    assert_cut_matches_whole(int8, ops, evaluation_set(bundle.manifest, None, 16, None).groups[0])


def test_two_different_networks_are_refused_naming_the_first_difference(lenet_bundle, tmp_path):
    model = onnx.load(str(lenet_bundle.directory / "model.int8.onnx"))
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    renamed = conv.output[0]  # the int8 conv now writes a tensor the float model has no op for
    for node in model.graph.node:
        node.input[:] = ["other" if name == renamed else name for name in node.input]
    conv.output[0] = "other"
    with pytest.raises(DifferentNetworks, match="compute op 0 differs: the int8 model has Conv -> other, the float model no compute op writing other"):
        match_networks(onnx.load(str(lenet_bundle.directory / "model.fp32.onnx")), model)


def test_an_int8_model_of_another_network_is_refused_naming_the_first_difference(lenet_ptq, tmp_path, capsys):
    from paddle_edge.train.trainer import train_model

    mlp = train_model("mlp", tmp_path / "mlp", epochs=1, train_limit=500, verbose=0)
    with pytest.raises(SystemExit):
        main(["quant-debug", str(mlp.model_dir), str(lenet_ptq.model_dir), "--limit", "16", "--json", str(tmp_path / "qd.json")])
    assert re.search(r"was not quantized from .* \(its source sha256 differs; another network: \w+: \d+ in the float model, "
                     r"\d+ in the int8 model\)", capsys.readouterr().err)
    assert not (tmp_path / "qd.json").exists()


def test_the_same_ops_with_wider_layers_are_another_network(lenet, lenet_ptq, tmp_path):
    """Not only an op count: a weight both programs have with another shape names another network; PaddleSlim's int8
    program of the same network keeps every weight's shape."""
    narrow, wide = (read_program(save_batch_one_net(tmp_path / name, "x", [-1, 1, side, side])) for name, side in (("narrow", 14), ("wide", 28)))
    assert network_difference(narrow, wide) == "linear_0.w_0 is [196, 10] in the float model, [784, 10] in the int8 model"
    assert network_difference(read_program(lenet.model_dir), read_program(lenet_ptq.model_dir)) is None
    numbered = [ProgramInfo((), (), ("conv2d",), parameter_shapes=((f"conv2d_{i}.w_0", (8, 3, 3, 3)), ("scale", (1,)))) for i in (0, 4)]
    assert network_difference(*numbered) is None  # another save of one network numbers its weights otherwise
    fewer = ProgramInfo((), (), ("conv2d",), parameter_shapes=(("conv2d_0.w_0", (8, 3, 3, 3)), ("conv2d_0.w_1", (8, 3, 3, 3))))
    assert network_difference(fewer, numbered[0]) == "weights of shape [8, 3, 3, 3] (first conv2d_0.w_0): 2 in the float model, 1 in the int8 model"


def test_a_bundle_is_debugged_only_with_the_int8_model_it_was_exported_from(lenet, lenet_ptq, lenet_bundle, tmp_path, capsys):
    """Another calibration of the same network has the same variable names: compared with the bundle's ONNX, its own
    rounding would be blamed on the export. The manifest records the int8 model's sha256; anything else is refused."""
    manifest = runtime.load_bundle(lenet_bundle.directory).manifest
    assert manifest.source["int8_model_sha256"] == find_model_files(lenet_ptq.model_dir).sha256()
    again = quantize_ptq(lenet.model_dir, tmp_path / "again", PtqRecipe(algo="abs_max", batch_nums=1))
    with pytest.raises(SystemExit):
        main(["quant-debug", str(lenet_bundle.directory), "--int8-model", str(again.model_dir), "--limit", "8",
              "--json", str(tmp_path / "qd.json")])
    err = capsys.readouterr().err
    assert f"{again.model_dir} is not the int8 model {lenet_bundle.directory} was exported from" in err, err
    assert "paddle-edge export --int8" in err and not (tmp_path / "qd.json").exists()


def test_quant_debug_cli_prints_the_table_and_writes_json(lenet_bundle, tmp_path, capsys):
    out = tmp_path / "qd.json"
    main(["quant-debug", str(lenet_bundle.directory), "--limit", "128", "--top", "3", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "local dB" in printed and "rank" in printed and json.loads(out.read_text())["samples"] == 128


def test_quant_debug_takes_the_float_and_int8_paddle_models_without_a_bundle(lenet, lenet_ptq, lenet_debug, tmp_path, capsys):
    """FLOAT_MODEL INT8_MODEL: the same rows as the bundle made of them, plus PaddleSlim's program in Paddle."""
    out = tmp_path / "qd.json"
    main(["quant-debug", str(lenet.model_dir), str(lenet_ptq.model_dir), "--limit", "512", "--json", str(out)])
    found = json.loads(out.read_text())
    assert [r["output"] for r in found["rows"]] == [r.output for r in lenet_debug.rows] and found["paddle_int8_model"]
    compared = [r for r in found["rows"] if r["kind"] == "op"]
    assert all(r["paddle_global_sqnr_db"] is not None and 0.9 < r["paddle_global_cosine"] <= 1 for r in compared)
    # the cosine and the SQNR of one comparison: a noise power of 10^(-SQNR/10) of the signal's bounds 1 - cosine
    assert all(1 - r["paddle_global_cosine"] <= 10 ** (-r["paddle_global_sqnr_db"] / 10) + 1e-12 for r in compared), compared
    # each op of the program again, computed from the float model's own inputs (local): the first conv reads the model's
    # input, so that is its value along the run; on LeNet the export keeps the error each op adds on its own within
    # half a dB (the thin first conv runs in float in ONNX, rewrite 1, but with weights rounded as the program's)
    assert all(r["paddle_local_sqnr_db"] is not None and 0.9 < r["paddle_local_cosine"] <= 1 for r in compared), compared
    assert compared[0]["paddle_local_sqnr_db"] == compared[0]["paddle_global_sqnr_db"], compared[0]
    assert all(abs(r["paddle_local_sqnr_db"] - r["local_sqnr_db"]) < 0.5 for r in compared), compared
    assert found["lost_in_export_locally"] == [], found["lost_in_export_locally"]
    # the value the ONNX quantizes and the program only observes: the last conv's output (its ReLU folded in). On LeNet
    # it costs nothing: the flatten's quantizer, which the program has too, rounds the same values to the same grid
    extra = {k: found[k] for k in ("rounded_only_in_export", "output_sqnr_db", "output_sqnr_db_unrounded", "paddle_output_sqnr_db")}
    assert extra["rounded_only_in_export"] == ["conv2d_1.tmp_0"], extra
    assert abs(extra["output_sqnr_db_unrounded"] - extra["output_sqnr_db"]) < 0.01, extra
    assert abs(extra["output_sqnr_db_unrounded"] - extra["paddle_output_sqnr_db"]) < 0.5, extra
    # the program exported again step by step ends in the bundle's file; the rewrites export calls exact change no output
    steps = found["export_steps"]
    names = [step["step"] for step in steps["steps"]]
    assert steps["reproduces_bundle"] and names[0] == "paddle2onnx" and names.index("weights_folded") < names.index("uint8_activations"), steps
    for before, step in zip(steps["steps"], steps["steps"][1:]):
        if step["step"] in ("uint8_activations", "value_copies_requantized", "weights_folded", "upsampling_channels_last"):
            assert step["output_sqnr_db"] == before["output_sqnr_db"], steps
    assert "the export step by step" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["quant-debug", str(lenet.model_dir), str(lenet.model_dir), "--limit", "8"])
    assert "is not an int8 model written by `paddle-edge compress`" in capsys.readouterr().err


def _scored(score):
    """A float score of 1 and int8's `score`, the drop's interval a point either side of it."""
    drop = (1 - score) * 100
    return 1.0, score, (drop - 1, drop + 1)


def _measured(calibrated=None):
    """A measurement that improves as more ranked layers are kept in float: k layers give 0.95 + 0.01 k on top of the
    calibration's own score (`calibrated`, 0.95 for any algorithm not in it)."""
    calls = []

    def measure(algo, keep):
        calls.append((algo, len(keep)))
        return _scored((calibrated or {}).get(algo, 0.95) + 0.01 * len(keep))

    return measure, calls


def test_the_search_finds_the_fewest_float_layers_with_few_measurements():
    measure, calls = _measured()
    search = AccuracySearch(measure, max_drop=1.0)
    best = search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)])
    assert len(best.keep_float) == 4 and best.drop_points <= 1.0  # 0.95 + 0.04 = 0.99: the first k within a point
    assert [k for _, k in calls] == [0, 1, 2, 4, 3] and len(search.trials) == 5


def test_calibration_is_tried_before_any_layer_goes_to_float():
    """The first algorithm within the limit wins with no float layers; when none is, the best one goes on to the
    layer search (and an earlier algorithm wins a tie)."""
    measure, calls = _measured({"avg": 0.95, "mse": 0.992, "hist": 0.999})
    search = AccuracySearch(measure, max_drop=1.0)
    best = search.keep_float(search.calibration(["avg", "mse", "hist"]), ["w0", "w1"])
    assert (best.algo, best.keep_float) == ("mse", ()) and calls == [("avg", 0), ("mse", 0)]
    measure, calls = _measured({"avg": 0.95, "mse": 0.97, "KL": 0.97})
    search = AccuracySearch(measure, max_drop=1.0)
    best = search.keep_float(search.calibration(["avg", "mse", "KL"]), [f"w{i}" for i in range(8)])
    assert (best.algo, len(best.keep_float)) == ("mse", 2) and calls[3:] == [("mse", 1), ("mse", 2)]


def test_within_interval_holds_the_upper_end_of_each_drop_to_the_limit():
    """The same measurements held to the drop's interval (here a point either side): mse's 0.8-point drop could be 1.8,
    so the search goes on to hist (0.1, up to 1.1), the best, and keeps one layer in float; a limit the interval can
    never meet says what it was held to."""
    measure, calls = _measured({"avg": 0.95, "mse": 0.992, "hist": 0.999})
    search = AccuracySearch(measure, max_drop=1.0, within_interval=True)
    best = search.keep_float(search.calibration(["avg", "mse", "hist"]), ["w0", "w1"])
    assert (best.algo, len(best.keep_float)) == ("hist", 1) and calls == [("avg", 0), ("mse", 0), ("hist", 0), ("hist", 1)]
    assert search.sure(best) and not search.sure(search.trials[1]) and search.met(search.trials[1]) is False
    search = AccuracySearch(lambda algo, keep: _scored(0.995), max_drop=1.0, within_interval=True)
    with pytest.raises(DropNotMet, match=r"\(limit 1, held to the upper end of its 95 % interval; at best 0.50, up to 1.50 "
                                         r"in its interval, with 0 kept in float\)"):
        search.keep_float(search.trial("avg", ()), ["a", "b"])


def test_a_drop_that_float_layers_cannot_meet_is_said_not_looped():
    search = AccuracySearch(lambda algo, keep: _scored(0.5 + 0.01 * len(keep)), max_drop=1.0)
    with pytest.raises(DropNotMet, match="47.00 points with avg calibration and all 3 ranked layers in float"):
        search.keep_float(search.trial("avg", ()), ["a", "b", "c"])
    assert [len(t.keep_float) for t in search.trials] == [0, 1, 2, 3]


def test_when_float_layers_stop_helping_every_ranked_layer_goes_to_float_at_once():
    """Scores that float layers do not improve for two doublings (noise on a small validation set, or PaddleSlim's new
    calibration of the rest) send every ranked layer to float in one trial rather than doubling on: if that meets the
    drop, the search bisects below it; if not, it says the limit cannot be met, naming the best trial."""
    scores = {0: 0.985, 1: 0.990, 2: 0.984, 4: 0.989, 40: 0.998, 22: 0.996, 13: 0.99, 17: 0.996, 15: 0.993, 16: 0.996}
    search = AccuracySearch(lambda algo, keep: _scored(scores[len(keep)]), max_drop=0.5)
    best = search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)])
    assert [len(t.keep_float) for t in search.trials] == [0, 1, 2, 4, 40, 22, 13, 17, 15, 16] and len(best.keep_float) == 16
    scores[40] = 0.99
    search = AccuracySearch(lambda algo, keep: _scored(scores[len(keep)]), max_drop=0.5)
    with pytest.raises(DropNotMet, match=r"1.00 points with avg calibration and all 40 ranked layers in float \(limit 0.5; "
                                         r"at best 1.00, with 1 kept in float\)"):
        search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)])
    assert [len(t.keep_float) for t in search.trials] == [0, 1, 2, 4, 40]


def test_the_all_layers_trial_may_be_slower_than_fp32_and_the_bisection_below_it_finds_one_that_is_not():
    """Where the speed rule applies, every ranked layer in float at once is the likeliest to be surely slower: it does
    not end the search, a smaller k below it that meets the drop in time does; if none does, the search says so."""
    def measure(algo, keep):
        return _scored({0: 0.985, 1: 0.990, 2: 0.984, 4: 0.989}.get(len(keep), 0.996 if len(keep) >= 16 else 0.99))

    fast, slow = (0.7, 0.6, 0.8), (1.3, 1.2, 1.4)
    search = AccuracySearch(measure, max_drop=0.5, speed=lambda algo, keep: slow if len(keep) > 30 else fast)
    assert len(search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)]).keep_float) == 16
    assert [len(t.keep_float) for t in search.trials] == [0, 1, 2, 4, 40, 22, 13, 17, 15, 16]
    search = AccuracySearch(measure, max_drop=0.5, speed=lambda algo, keep: slow if len(keep) > 16 else fast)
    assert len(search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)]).keep_float) == 16  # 22 met, slower:
    assert [len(t.keep_float) for t in search.trials] == [0, 1, 2, 4, 40, 22, 13, 17, 15, 16]  # looked below it
    search = AccuracySearch(measure, max_drop=0.5, speed=lambda algo, keep: slow if len(keep) > 10 else fast)
    with pytest.raises(SlowerThanFloat, match=r"with 40 layers in float \(avg calibration\) the int8 file takes 1.30x "
                                              r"\[1.20, 1.40\] fp32's time on .*, though it meets the drop"):
        search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)])


def test_float_layers_that_would_make_int8_slower_than_fp32_stop_the_search():
    """Where int8 with no layer in float is surely faster than fp32, each float-layer candidate is timed, and the first
    surely slower one ends the search, saying so, before the drop is met; every timed trial keeps its ratio."""
    measure, _ = _measured()
    ratios = {0: (0.6, 0.55, 0.7), 1: (0.9, 0.8, 1.05), 2: (1.2, 1.1, 1.3)}
    timed = []
    search = AccuracySearch(measure, max_drop=1.0, speed=lambda algo, keep: timed.append(len(keep)) or ratios[len(keep)])
    with pytest.raises(SlowerThanFloat, match=r"with 2 layers in float \(avg calibration\) the int8 file takes 1.20x "
                                              r"\[1.10, 1.30\] fp32's time on " + re.escape(cpu_info()["label"]) + ", before it meets the drop"):
        search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)])
    assert timed == [0, 1, 2] and search.speed_rule.startswith("applied: with no layer in float int8 takes 0.60x")
    assert [t.time_vs_fp32 for t in search.trials] == [ratios[0], ratios[1], ratios[2]]


def test_a_surely_slower_candidate_while_bisecting_is_no_answer_not_an_end():
    """Bisecting below a candidate that met the drop and passed the speed rule, a smaller one that meets the drop but
    times surely slower (noise: it has fewer float layers) is no answer; the search keeps the larger one."""
    scores = {0: 0.95, 1: 0.96, 2: 0.97, 3: 0.995, 4: 0.995}
    fast, slow = (0.7, 0.6, 0.8), (1.3, 1.2, 1.4)
    search = AccuracySearch(lambda algo, keep: _scored(scores[len(keep)]), max_drop=1.0,
                            speed=lambda algo, keep: slow if len(keep) == 3 else fast)
    best = search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(8)])
    assert len(best.keep_float) == 4 and best.time_vs_fp32 == fast
    assert [(len(t.keep_float), t.time_vs_fp32) for t in search.trials] == [(0, fast), (1, fast), (2, fast), (4, fast), (3, slow)]


def test_the_speed_rule_is_not_applied_where_int8_is_not_faster_to_begin_with():
    """On a CPU where int8 with no layer in float is not surely faster than fp32 (AVX2 without int8 dot products), the
    rule cannot apply: the search says so, times nothing more, and meets the drop as without it."""
    measure, _ = _measured()
    timed = []
    search = AccuracySearch(measure, max_drop=1.0, speed=lambda algo, keep: timed.append(len(keep)) or (1.4, 0.98, 1.6))
    best = search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)])
    assert len(best.keep_float) == 4 and timed == [0]
    assert search.speed_rule.startswith("not applied: with no layer in float int8 already takes 1.40x [0.98, 1.60]")
    search = AccuracySearch(measure, max_drop=1.0, speed=lambda algo, keep: (0.5, 0.4, 0.6))
    assert search.keep_float(search.trial("avg", ()), [f"w{i}" for i in range(40)]).keep_float == ("w0", "w1", "w2", "w3")
    assert all(t.time_vs_fp32 == (0.5, 0.4, 0.6) for t in search.trials)


def test_the_report_shows_where_int8_loses(lenet_bundle, lenet_ptq, lenet_run_dir, tmp_path):
    """With PaddleSlim's program compared (--int8-model), the section also says where the ONNX parts from it."""
    for name in (run_dir.PARITY, run_dir.PREDICTIONS, run_dir.BENCH):
        shutil.copy(lenet_run_dir / name, tmp_path / name)
    debug = run_quant_debug(lenet_bundle.directory, limit=128, int8_model=lenet_ptq.model_dir)
    debug.save(tmp_path / run_dir.QUANT_DEBUG)
    page, _ = make_report(tmp_path)
    text = page.read_text()
    assert "Where int8 loses (quant-debug)" in text and debug.ranked[0].output in text
    assert "id='sqnr_along_graph'" in text and "id='worst_histograms'" in text
    assert "Against PaddleSlim's program: the ONNX quantizes 1 value the program does not" in text


def test_accuracy_control_refuses_what_it_cannot_measure(tmp_path):
    """Before any quantization: unlabelled validation images, a metric that is not the task's, a weight the model lacks."""
    model = resolve_model(fetch_published("ppocr-cls"))
    images = render("cls", tmp_path / "lines", 4, seed=0).parent / "images"  # a plain folder: no labels
    recipe = PtqRecipe(algo="avg", batch_nums=1, batch_size=4)
    with pytest.raises(PaddleEdgeError, match="has no labels, so top1 cannot be measured on it"):
        quantize_with_accuracy_control(model, tmp_path / "out", recipe, images, images, max_drop=0.5)
    with pytest.raises(PaddleEdgeError, match=r"is judged by top1 \(or cosine\), not char_acc"):
        quantize_with_accuracy_control(model, tmp_path / "out", recipe, images, images, max_drop=0.5, metric="char_acc")
    with pytest.raises(PaddleEdgeError, match=r"has no weights named \['nope.w_0'\]"):
        quantize_ptq(model, tmp_path / "out", dataclasses.replace(recipe, keep_float=("nope.w_0",)), calibration=images)
    assert not (tmp_path / "out").exists()
    det = resolve_model(fetch_published("ppocr-det"))
    pages = render("det", tmp_path / "pages", 2, seed=0).parent / "images"
    with pytest.raises(PaddleEdgeError, match=r"has no labels, so f1 cannot be measured on it(.|\n)*fix: give labelled validation "
                                              r"images: `path<TAB>\[\{\"transcription\": \.\.\., \"points\""):
        quantize_with_accuracy_control(det, tmp_path / "out", recipe, pages, pages, max_drop=1.0)
    nothing_to_find = tmp_path / "pages" / "none_gt.txt"  # every page's list empty or don't-care: F1 is 0 for any model
    nothing_to_find.write_text("images/000000.png\t[]\nimages/000001.png\t"
                               '[{"transcription": "###", "points": [[0, 0], [9, 0], [9, 9], [0, 9]]}]\n')
    with pytest.raises(PaddleEdgeError, match=r"labels no text box to find .* so f1 cannot be measured on it"):
        quantize_with_accuracy_control(det, tmp_path / "out", recipe, pages, nothing_to_find, max_drop=1.0)
    assert not (tmp_path / "out").exists()


def test_accuracy_control_refuses_data_the_float_model_scores_nothing_on(tmp_path):
    """Labels that are not what the model reads (every text line's angle flipped): float scores 0, so any drop would
    look met. Refused after the first trial, nothing written."""
    model = resolve_model(fetch_published("ppocr-cls"))
    truth = render("cls", tmp_path / "lines", 4, seed=0)
    flipped = truth.with_name("flipped_gt.txt")
    flipped.write_text("".join(f"{path}\t{'180' if angle == '0' else '0'}\n"
                               for path, angle in (line.split("\t") for line in truth.read_text().splitlines())))
    recipe = PtqRecipe(algo="avg", batch_nums=1, batch_size=4)
    with pytest.raises(PaddleEdgeError, match=r"the float model scores top1 = 0 on .*flipped_gt.txt(.|\n)*fix: check that the labels"):
        quantize_with_accuracy_control(model, tmp_path / "out", recipe, truth.parent / "images", flipped, max_drop=0.5, algos=("avg",))
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("accuracy-control-*"))


@pytest.mark.parametrize("flag,says", [("--allow-slower", "--allow-slower lifts accuracy control's speed rule"),
                                        ("--fold-quantizers", "--fold-quantizers has accuracy control score its candidates"),
                                        ("--within-interval", "--within-interval holds accuracy control's limit to the drop's")])
def test_accuracy_control_flags_without_accuracy_control_are_refused(tmp_path, capsys, flag, says):
    with pytest.raises(SystemExit):
        main(["compress", str(fetch_published("ppocr-cls")), flag, "--out", str(tmp_path / "out")])
    assert says in capsys.readouterr().err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("fold", [False, True], ids=["default-layout", "fold-quantizers"])
def test_accuracy_control_on_cosine_needs_no_labels_and_measures_the_file_it_keeps(tmp_path, fold):
    """With --fold-quantizers the candidates are scored as folded files, and the bundle exported from the result
    without naming the flag is that file (the classifier's HardSwishes and its pooled convs' readers fold)."""
    from paddle_edge.accuracy_control import output_cosine
    from paddle_edge.export.bundle import build_bundle
    from paddle_edge.export.onnx_qdq_layout import FOLD_REWRITES

    model = resolve_model(fetch_published("ppocr-cls"))
    images = render("cls", tmp_path / "lines", 16, seed=1).parent / "images"  # a plain folder: no labels
    recipe = PtqRecipe(algo="avg", batch_nums=1, batch_size=8)
    result = quantize_with_accuracy_control(model, tmp_path / "runs" / "int8", recipe, images, images, max_drop=1.0,
                                            metric="cosine", algos=("avg",), fold_quantizers=fold)  # into a folder not there yet
    control = result.card.quantization["accuracy_control"]
    assert control["export"] == {"fold_quantizers": fold}
    assert control["metric"] == "cosine" and control["float_score"] == 1.0
    kept = control["trials"][-1]
    assert control["speed_rule"] == "not needed: no layer went to float" if not kept["keep_float"] else \
        control["speed_rule"].startswith(("applied: ", "not applied: "))
    assert kept["drop_points"] <= 1.0 and kept["drop_points"] == round((1 - kept["score"]) * 100, 9)
    low, high = control["drop_interval"]  # over the 16 lines: int8's outputs resampled with fp32's on the same ones
    assert control["validation_samples"] == 16 and low <= kept["drop_points"] <= high and list(kept["drop_interval"]) == [low, high]
    assert control["within_limit_across_interval"] == (high <= 1.0)
    bundle = build_bundle(model, tmp_path / "bundle", int8_dir=result.model_dir, targets=("onnx",), include_reference=False)
    assert output_cosine(bundle.directory, images) == pytest.approx(kept["score"], abs=1e-9)  # the kept file's own figure
    rewrites = bundle.manifest.quantization["onnx_rewrites"]
    assert all(rewrites.get(name, 0) > 0 for name in ("hardswish_requantized", "float_readers_dequantized")) == fold
    assert any(rewrites.get(name) for name in FOLD_REWRITES) == fold
    if fold:  # PaddleSlim's layout would ship another file than the one scored
        with pytest.raises(PaddleEdgeError, match="--paddleslim-layout would ship another file"):
            build_bundle(model, tmp_path / "other", int8_dir=result.model_dir, targets=("onnx",), include_reference=False,
                         ort_layout=False)
        assert not (tmp_path / "other").exists()
