"""`paddle-edge tune`: every engine configuration run and timed on a board, judged for parity on this host, the fastest
that passed written to the bundle's tuning file, and `runtime.open(backend="auto")` following it only where it applies."""
from __future__ import annotations

import json
import os
import shutil

import jsonschema
import numpy as np
import pytest

from paddle_edge import runtime
from paddle_edge.boards.bench.engines import engines_for
from paddle_edge.boards.bench.runner import SCHEMA_FILE, run_bench
from paddle_edge.boards.board_run import HostBoard, board_for_backends
from paddle_edge.boards.profile import PILLOW, get_profile
from paddle_edge.boards.tune import CONFIRM_ROUNDS, KEEP, MORE_ROUNDS, Fresh, by_round, decide, open_contests, pick, settle, tune
from paddle_edge.cli import main
from paddle_edge.runtime.errors import BackendError, PaddleEdgeError
from paddle_edge.runtime.tune_run import faster_half, halvings
from paddle_edge.runtime.tuning import ANY, SCHEMA, tuning_dir

CORES = os.cpu_count() or 1


@pytest.fixture(scope="module")
def tuned(lenet_bundle, tmp_path_factory):
    """A copy of the test bundle (a tuning file changes what `auto` opens) tuned on this host."""
    bundle = tmp_path_factory.mktemp("tuned") / "lenet"
    shutil.copytree(lenet_bundle.directory, bundle)
    report = tune(HostBoard(get_profile("x86-64")), bundle, names=("onnxruntime", "openvino"), threads=[CORES],
                  batches=(1, 16), calls=50, limit=500)
    print(report.render())
    return bundle, report


def test_every_candidate_is_timed_the_fastest_are_judged_and_the_choices_are_written(tuned):
    bundle, report = tuned
    assert report.ok
    rows = report.data["candidates"]
    split = 3 if CORES > 1 else 0  # the batch split at more than one thread, at each optimization level
    assert len(rows) == 2 * (6 + split) + 2  # onnxruntime: 2 precisions x 3 optimization levels x spinning on/off (the
    # untuned two among them), and the split; OpenVINO: 2
    for row in rows:
        assert row["error"] is None and set(row["latency_us"]) == {"1", "16"} and all(t["p50"] > 0 for t in row["latency_us"].values())
        assert isinstance(row["passed"], bool) == (row["dropped_at_rung"] is None)  # judged: the halving's survivors
    for race, racers in (("fp32 on onnxruntime", 6 + split), ("int8 on onnxruntime", 6 + split), ("fp32 on openvino", 1),
                         ("int8 on openvino", 1)):
        judged = [r for r in rows if r["race"] == race and r["passed"] is not None]  # each race's fastest, and the untuned
        # configuration (never dropped), are judged
        assert len([r for r in rows if r["race"] == race]) == racers
        assert len(judged) == min(KEEP, racers - 1) + 1 if "onnxruntime" in race else len(judged) == 1
    first, *_, last = report.data["rungs"]
    assert first["candidates"] == 2 * (6 + split) + 2 and last["candidates"] == 2 * (KEEP + 1) + 2
    assert all(last["calls"][b] > first["calls"][b] for b in ("1", "16"))
    tuning = json.loads((tuning_dir(bundle) / "x86-64.json").read_text())
    assert tuning["schema"] == SCHEMA and tuning["emulated"] is False and tuning["machine"]["cores"] == CORES
    assert set(tuning["choices"]) == {"1", "16"} and set(tuning["choices"]["1"]) == {"fp32", "int8", ANY}
    passed = {r["tag"] for r in rows if r["passed"]}
    for per in report.data["confirmation"].values():  # every choice passed parity; a move off the untuned one was confirmed
        for e in per.values():
            assert e["chosen"] in passed and (not e["switched"] or e["untuned_over_pick"]["interval"][0] > 1)
    assert "tuning file" in report.render() and "untuned rule" in report.render()


def test_auto_opens_the_tuned_choice_and_says_so(tuned):
    bundle, report = tuned
    tuning = json.loads((tuning_dir(bundle) / "x86-64.json").read_text())
    for precision, batch, key in (("int8", None, ("1", "int8")), ("fp32", 16, ("16", "fp32")), ("auto", 12, ("16", ANY))):
        want = tuning["choices"][key[0]][key[1]]
        predictor = runtime.open(bundle, precision=precision, batch=batch)
        assert (predictor.backend_name, predictor.precision, predictor.artifact) == (want["backend"], want["precision"], want["artifact"])
        assert predictor.chosen_by.startswith(f"tuned on x86-64 for batch {key[0]}")
        named = runtime.open(bundle, backend=want["backend"], precision=want["precision"], threads=want["threads"],
                             settings=want["settings"])
        x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
        np.testing.assert_array_equal(predictor.predict(x)[0], named.predict(x)[0])
    assert runtime.open(bundle, backend="onnxruntime", precision="int8").chosen_by == "named by the caller"
    assert runtime.open(bundle, backend="onnxruntime").chosen_by.startswith("named by the caller; int8: ")


def test_a_tuning_never_opens_by_default_an_int8_file_its_bundle_shows_losing_too_much(lenet_bundle, tmp_path):
    """The bundle's own scores rule int8 out of precision "auto" whether or not a tuning exists: tune's choice for either
    precision is then fp32's, and `open` takes the tuning's fp32 choice (int8, asked for by name, is still its own)."""
    bundle = tmp_path / "lenet"
    shutil.copytree(lenet_bundle.directory, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    int8 = runtime.artifact_for(lenet_bundle.manifest, "onnxruntime", "int8")
    manifest["accuracy"][int8]["top1"] = manifest["accuracy"]["paddle-fp32-program"]["top1"] - 0.006  # 0.6 points of top-1
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    report = tune(HostBoard(get_profile("x86-64")), bundle, names=("onnxruntime",), threads=[CORES], batches=(1,), calls=20,
                  limit=200, keep=None)
    assert report.ok, report.render()
    either = report.data["confirmation"]["1"][ANY]
    fp32 = {r["tag"] for r in report.data["candidates"] if r["precision"] == "fp32"}
    assert either["contenders"] and {c["pick"] for c in either["contenders"]} <= fp32, either  # no int8 choice contends
    predictor = runtime.open(bundle)
    assert predictor.precision == "fp32" and predictor.chosen_by.startswith("tuned on x86-64 for batch 1"), predictor.chosen_by
    assert f"fp32, because the bundle's {int8} lost 0.60 points of top-1" in predictor.chosen_by
    assert runtime.open(bundle, precision="int8").chosen_by.startswith("tuned on x86-64 for batch 1")


def test_a_tuning_from_elsewhere_is_passed_over_with_the_reason(tuned, tmp_path):
    bundle, _ = tuned
    copy = tmp_path / "lenet"
    shutil.copytree(bundle, copy)
    path = tuning_dir(copy) / "x86-64.json"
    good = json.loads(path.read_text())
    other_file = next(n for n in runtime.load_bundle(copy).manifest.artifacts if n != good["choices"]["1"][ANY]["artifact"])
    for change, reason in (({"machine": {**good["machine"], "cores": CORES + 1}}, f"cores {CORES + 1} there, {CORES} here"),
                           ({"machine": {**good["machine"], "engines": {**good["machine"]["engines"], "onnxruntime": "1.0.0"}}},
                            "engines {"),  # parity was judged on other kernels
                           ({"emulated": True}, "measured under emulation"),
                           ({"bundle_sha256": "0" * 64}, "measured on another bundle"),
                           ({"schema": "paddle-edge.tuning/0"}, "not a tuning file this release reads"),
                           ({"choices": {"1": {"int8": {**good["choices"]["1"]["int8"], "backend": "tensorrt"}}}},
                            "mistypes a field: unknown backend 'tensorrt'"),
                           ({"choices": {"1": {ANY: {**good["choices"]["1"][ANY], "artifact": other_file}}}},
                            f"on {other_file}, which is not the file it opens here")):  # judged on another file than
        # the one this release would run for that choice (its rule for this CPU changed since, say)
        path.write_text(json.dumps({**good, **change}))
        predictor = runtime.open(copy)
        assert predictor.chosen_by.startswith("untuned (") and reason in predictor.chosen_by
        assert (predictor.backend_name, predictor.precision) == ("onnxruntime", "int8")
    path.write_text("{not json")  # a damaged file never stops the runtime: it is passed over, and said so
    assert "x86-64.json: cannot read tuning file" in runtime.open(copy).chosen_by


def _row(tag, precision, p50, passed=True):
    return {"tag": tag, "precision": precision, "passed": passed, "latency_us": {"1": {"p50": p50}}}


def test_a_pick_leaves_the_untuned_configuration_only_for_a_speedup_confirmed_on_fresh_rounds():
    rows = [_row("default", "int8", 1e6), _row("noise", "int8", 0.999e6), _row("fast", "fp32", 0.7e6),
            _row("broken", "int8", 0.5e6, passed=False)]
    picks = pick(rows, [1])
    assert picks == {1: {"int8": "noise", "fp32": "fast"}}  # the fastest that passed; the failing one never
    rng = np.random.default_rng(0)
    confirm = {tag: {1: rng.normal(mean, mean * 0.05, CONFIRM_ROUNDS * 20)} for tag, mean in
               (("default", 1.0), ("noise", 1.0), ("fast", 0.7))}
    decided = decide(picks, {"int8": "default", ANY: "default"}, ["default", "noise", "fast"], Fresh(by_round(confirm, CONFIRM_ROUNDS)))[1]
    assert decided["int8"]["chosen"] == "default" and not decided["int8"]["switched"]  # no faster on fresh rounds: it stays
    assert decided[ANY]["chosen"] == "fast" and decided[ANY]["untuned_over_pick"]["interval"][0] > 1  # 30 % faster
    assert decided["fp32"]["chosen"] == "fast" and decided["fp32"]["untuned_over_pick"] is None  # no untuned fp32 to beat
    kept = decide(picks, {ANY: "broken"}, ["noise", "fast"], Fresh(by_round(confirm, CONFIRM_ROUNDS)))[1][ANY]
    assert kept["chosen"] == "fast" and kept["switched"]  # an untuned configuration that failed parity is never kept


def test_either_precision_takes_a_precisions_own_choice_never_one_it_was_preferred_to():
    # the int8 pick (fastest when picking) is no faster than the untuned int8 on fresh rounds, where fp32 is: auto runs fp32
    rows = [_row("default", "int8", 1e6), _row("lucky", "int8", 0.6e6), _row("fp32", "fp32", 0.8e6)]
    rng = np.random.default_rng(1)
    confirm = {tag: {1: rng.normal(mean, mean * 0.05, CONFIRM_ROUNDS * 20)} for tag, mean in
               (("default", 1.0), ("lucky", 1.0), ("fp32", 0.7))}
    decided = decide(pick(rows, [1]), {"int8": "default", ANY: "default"}, ["default", "lucky", "fp32"], Fresh(by_round(confirm, CONFIRM_ROUNDS)))[1]
    assert decided["int8"]["chosen"] == "default" and decided["fp32"]["chosen"] == "fp32"
    assert decided[ANY]["chosen"] == "fp32" and decided[ANY]["untuned_over_pick"]["interval"][0] > 1
    confirm["fp32"][1] = confirm["default"][1] * rng.normal(1.0, 0.05, CONFIRM_ROUNDS * 20)  # fp32 no faster: auto's rule stays
    still = decide(pick(rows, [1]), {"int8": "default", ANY: "default"}, ["default", "lucky", "fp32"], Fresh(by_round(confirm, CONFIRM_ROUNDS)))[1][ANY]
    assert still["chosen"] == "default" and not still["switched"] and still["pick"] == "fp32"


def _rounds(times):
    """Fresh rounds of one configuration at batch 1: each round 5 calls of the time given for it (seconds)."""
    return {1: [np.full(5, t) for t in times]}


def _drifting(n, seed):
    """The untuned configuration's time in each of n rounds: the machine's speed moves from round to round."""
    return 1.0 + 0.5 * np.random.default_rng(seed).random(n)


def test_a_contest_the_fresh_rounds_leave_open_gets_more_rounds_once_and_all_of_them_decide():
    rows = [_row("default", "int8", 1e6), _row("noise", "int8", 0.99e6), _row("fp32", "fp32", 0.9e6)]
    untuned, passed = {"int8": "default", ANY: "default"}, ["default", "noise", "fp32"]
    machine = _drifting(CONFIRM_ROUNDS, 0)
    won = np.array([0.9] * 7 + [1.1] * 3)  # fp32 faster in 7 of 10 rounds: the median says faster, its interval reaches 1
    first = {"default": _rounds(machine), "noise": _rounds(machine * 1.02), "fp32": _rounds(machine * won)}
    decided = decide(pick(rows, [1]), untuned, passed, Fresh(first))[1]
    assert decided["int8"]["chosen"] == "default" and decided[ANY]["chosen"] == "default"
    assert open_contests({1: decided}) == [(1, "default", "fp32")]  # int8's pick is slower by the median: not open
    asked = []

    def more(tags, wins):
        asked.append(list(tags))
        later = _drifting(MORE_ROUNDS, 1)
        return {"default": _rounds(later), "fp32": _rounds(later * np.array([0.9] * wins + [1.1] * (MORE_ROUNDS - wins)))}

    settled, again = settle(pick(rows, [1]), untuned, passed, first, lambda tags: more(tags, 18))
    assert asked == [["default", "fp32"]] and again["contests"] == [(1, "default", "fp32")]  # once, that contest's two
    assert settled[1][ANY]["chosen"] == "fp32" and settled[1][ANY]["untuned_over_pick"]["pairs"] == CONFIRM_ROUNDS + MORE_ROUNDS
    assert settled[1]["int8"]["untuned_over_pick"]["pairs"] == CONFIRM_ROUNDS  # closed on the first rounds: decided on them
    assert settled[1][ANY]["p50_us"] == pytest.approx(np.median(machine * won) * 1e6)  # the first run's, as every row's
    still, _ = settle(pick(rows, [1]), untuned, passed, first, lambda tags: more(tags, 12))  # 19 of 30: not clear of 1
    assert still[1][ANY]["chosen"] == "default" and still[1][ANY]["untuned_over_pick"]["pairs"] == 30

    def board_gone(tags):
        raise PaddleEdgeError("the board went away", "run tune again")

    failed, again = settle(pick(rows, [1]), untuned, passed, first, board_gone)
    assert failed[1] == decided and "the board went away" in again["error"]  # the first rounds' decision stands
    slower = {**first, "fp32": _rounds(machine * np.array([1.1] * 7 + [0.9] * 3))}  # slower by the median: nothing is open
    kept, again = settle(pick(rows, [1]), untuned, passed, slower, lambda tags: pytest.fail(f"more rounds for {tags}"))
    assert kept[1][ANY]["chosen"] == "default" and again is None


def test_the_halving_keeps_the_fastest_at_the_batch_size_where_each_ranks_best():
    medians = {"a": [1.0, 9.0], "b": [2.0, 8.0], "c": [3.0, 1.0], "d": [4.0, 7.0], "e": [5.0, 6.0]}  # c: slow at b1, fastest at b64
    assert set(faster_half(medians, keep=2)) == {"a", "b", "c"}  # ceil(5 / 2): a and c rank first somewhere, b second
    assert set(faster_half(medians, keep=4)) == {"a", "b", "c", "e"}  # e ranks second at b64, d third at best
    assert set(faster_half({"a": [1.0, 3.0, 3.0], "b": [2.0, 1.0, 2.0], "c": [3.0, 2.0, 1.0]}, keep=1)) == {"a", "b", "c"}
    # a tie in rank goes to the one closer to the fastest: OpenVINO fp32 on the recogniser (ms at batch 1 and 6), where the
    # throughput hint at 2 threads, second at batch 6 by 5 %, once lost to the one at 1 thread, second at batch 1 by 70 %
    openvino = {"latency 2t": [19.8, 100.0], "throughput 1t": [33.7, 207.0], "latency 1t": [34.0, 206.0], "throughput 2t": [35.0, 104.6]}
    assert faster_half(openvino, keep=2) == ["latency 2t", "throughput 2t"]
    # never fewer than the batch sizes: the fastest at each stays
    assert halvings([17, 17], keep=3) == 3 and halvings([6, 2], keep=3) == 1 and halvings([3], keep=3) == 0
    assert halvings([34], keep=None) == 0  # no halving: every candidate timed with the full calls and evaluated


def test_settings_a_backend_does_not_take_are_refused(lenet_bundle):
    with pytest.raises(BackendError, match="backend 'onnxruntime' has no setting 'spin'(.|\n)*allow_spinning"):
        runtime.open(lenet_bundle.directory, backend="onnxruntime", settings={"spin": "0"})
    with pytest.raises(BackendError, match="graph_optimization_level='fast'(.|\n)*all, extended, basic"):
        runtime.open(lenet_bundle.directory, backend="onnxruntime", settings={"graph_optimization_level": "fast"})


def test_the_command_line_tunes_and_run_says_which_engine(lenet_bundle, digit_png, tmp_path, capsys):
    bundle = tmp_path / "lenet"
    shutil.copytree(lenet_bundle.directory, bundle)
    main(["tune", str(bundle), "--backends", "onnxruntime", "--threads", str(CORES), "--batch", "1", "--calls", "20", "--limit", "200"])
    out = capsys.readouterr().out
    assert "check passing_candidates" in out and (tuning_dir(bundle) / "x86-64.json").is_file()
    main(["run", str(bundle), str(digit_png), "--precision", "auto"])
    captured = capsys.readouterr()
    assert "engine: onnxruntime" in captured.err and "tuned on x86-64 for batch 1" in captured.err
    with pytest.raises(SystemExit) as exc:
        main(["tune", str(bundle), "--backends", "nope"])
    assert exc.value.code == 2 and "unknown backend 'nope'" in capsys.readouterr().err


@pytest.mark.board
def test_tuning_on_the_emulated_board_judges_parity_there_and_is_never_used(lenet_bundle, tmp_path):
    bundle = tmp_path / "lenet"
    shutil.copytree(lenet_bundle.directory, bundle)
    board = board_for_backends(get_profile("rpi4"), ("onnxruntime", "openvino"))  # `tune --board rpi4 --backends ...`:
    assert board.site.name.endswith("openvino-2026.4.1")  # the site with OpenVINO's aarch64 wheel, only when it is named
    assert board_for_backends(get_profile("rpi4"), ("onnxruntime",)).site.name.endswith(f"Pillow-{PILLOW}")
    report = tune(board, bundle, names=("onnxruntime", "openvino"), threads=[1], batches=(1,), calls=20, limit=100, keep=None)
    print(report.render())
    assert report.ok and report.data["emulated"] and "EMULATED" in report.render()
    rows = {(r["backend"], r["precision"]): r for r in report.data["candidates"]}
    assert not rows[("openvino", "fp32")]["error"] and rows[("openvino", "fp32")]["passed"]  # OpenVINO on arm: the host's fp32
    ort = [r for r in report.data["candidates"] if r["backend"] == "onnxruntime"]
    assert len(ort) == 12 + 2 and all(r["passed"] for r in ort)  # 1 thread, and the untuned two on the board's cores:
    # the arm kernels of every configuration hold parity
    assert report.data["board_info"]["machine"] == "aarch64" and len(report.data["untuned"]) == 3
    assert report.data["board_cpu"].endswith("(aarch64; int8: asimd)")  # cortex-a72's, not the host's x86 flags
    tuning = json.loads((tuning_dir(bundle) / "rpi4.emulated.json").read_text())  # apart from a real rpi4's
    assert tuning["emulated"] is True
    assert "rpi4.emulated.json: measured under emulation" in runtime.open(bundle).chosen_by


def test_bench_times_the_tuned_runtime_beside_the_engines_it_chose_from(tuned, lenet_bundle):
    bundle, report = tuned
    threads = sorted({1, CORES})
    bench = run_bench(bundle, backends=["onnxruntime_int8", "runtime_tuned", "openvino_fp32", "openvino_fp32_throughput"],
                      threads=threads, batches=[1, 16], calls=20)
    print(bench.render())
    data = bench.data
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    tuning = json.loads((tuning_dir(bundle) / "x86-64.json").read_text())
    assert data["tuned"]["board"] == "x86-64" and set(data["tuned"]["choices"]) == set(tuning["choices"])
    assert {c["threads"] for c in data["cells"] if c["engine"] == "runtime_tuned"} == {CORES}  # at its tuning's threads, once
    assert data["engines"]["runtime_tuned"]["cold"]["first_inference_s"] > 0
    assert data["fastest"]["b1"]["runtime"] in ("onnxruntime_int8", "runtime_tuned")
    for pair in data["fastest"].values():  # OpenVINO under either hint may be the tuned configuration itself: never its peer
        assert pair["peer"] != pair["tuned_twin"]
    with pytest.raises(PaddleEdgeError, match="runtime_tuned cannot run: no tuning of this bundle on this machine"):
        engines_for(runtime.load_bundle(lenet_bundle.directory).manifest, ["runtime_tuned"])
