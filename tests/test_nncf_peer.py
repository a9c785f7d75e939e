"""NNCF's accuracy control beside paddle-edge's, for real: the PP-OCR direction classifier, rendered lines, NNCF 3.4.0
and onnxruntime (boards/peers/). About a minute on two cores."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from paddle_edge import runtime
from paddle_edge.accuracy_control import quantize_with_accuracy_control
from paddle_edge.boards.peers.nncf_run import NncfSettings, _import_nncf, quantize_with_nncf
from paddle_edge.boards.peers.onnx_graphs import float_compute_ops, weights_as_initializers
from paddle_edge.boards.peers.validation import Validation
from paddle_edge.cli import main
from paddle_edge.compress.recipe import PtqRecipe
from paddle_edge.export.bundle import build_bundle
from paddle_edge.export.evaluation import EvaluationSet, evaluation_set, run_groups, task_scores
from paddle_edge.runtime.backends.onnxruntime import UnfusedOnnxRuntimeBackend
from paddle_edge.runtime.cpu import onnx_target
from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.source.fetch import fetch_published
from paddle_edge.source.model import resolve_model
from paddle_edge.source.synthetic_text import render

pytestmark = pytest.mark.slow
COMPUTE = ("Conv", "ConvTranspose", "MatMul", "Gemm")
MAX_DROP = 0.5  # points: one image of the 200 validation lines


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """The classifier's float bundle and paddle-edge's accuracy-controlled int8 bundle of it, with their images."""
    root = tmp_path_factory.mktemp("peer")
    val = render("cls", root / "val", 200, seed=2)
    test = render("cls", root / "test", 64, seed=0)
    calibration = render("cls", root / "calibration", 32, seed=1).parent
    model = resolve_model(fetch_published("ppocr-cls"))
    ours = quantize_with_accuracy_control(model, root / "int8", PtqRecipe(algo="avg", batch_nums=2, batch_size=16),
                                          calibration, val, MAX_DROP)
    return {"float": build_bundle(model, root / "float", targets=("onnx",), include_reference=False).directory,
            "ours": build_bundle(model, root / "ours", int8_dir=ours.model_dir, targets=("onnx",), include_reference=False).directory,
            "val": val, "test": test, "calibration": calibration, "root": root}


@pytest.fixture(scope="module")
def peer(case):
    """`paddle-edge peer nncf`, run as a user runs it. One calibration image (NNCF's subset size 1) makes NNCF's
    plain PTQ lose a point on the validation lines, so its accuracy control has to rank and revert quantizers."""
    out = case["root"] / "peer.json"
    main(["peer", "nncf", str(case["float"]), "--ours", str(case["ours"]), "--calibration", str(case["calibration"]),
          "--data", str(case["val"]), "--test", str(case["test"]), "--max-drop", str(MAX_DROP), "--subset-size", "1",
          "--threads", "1", "--calls", "6", "--onnx", str(case["root"] / "nncf.onnx"), "--json", str(out)])
    return json.loads(out.read_text())


def test_nncfs_int8_file_runs_and_holds_quantizers(peer, case):
    path = Path(peer["nncf"]["onnx"])
    model = onnx.load(str(path))
    ops = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    constants = {o for node in model.graph.node if node.op_type == "Constant" for o in node.output}
    weight_readers = [n for n in model.graph.node if n.op_type in (*COMPUTE, "QuantizeLinear") and constants & set(n.input[:2])]
    assert not weight_readers  # every weight an initializer: int8 in the file, not quantized at run time
    feeds = evaluation_set(runtime.load_bundle(case["float"]).manifest, case["test"], 8, None).groups[0]
    for level in (ort.GraphOptimizationLevel.ORT_DISABLE_ALL, ort.GraphOptimizationLevel.ORT_ENABLE_ALL):
        options = ort.SessionOptions()
        options.graph_optimization_level, options.intra_op_num_threads = level, 1
        (probs,) = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run(None, feeds)
        assert probs.shape == (8, 2) and np.allclose(probs.sum(axis=1), 1, atol=1e-3)


def _dequantized(model: onnx.ModelProto, name: str) -> bool:
    """Whether `name` comes from a DequantizeLinear, directly or through a Reshape/Flatten (NNCF quantizes before those)."""
    producer = {o: n for n in model.graph.node for o in n.output}
    node = producer.get(name)
    while node is not None and node.op_type in ("Reshape", "Flatten"):
        node = producer.get(node.input[0])
    return node is not None and node.op_type == "DequantizeLinear"


def test_the_float_ops_counted_are_what_the_graph_shows(peer):
    model = onnx.load(peer["nncf"]["onnx"])
    compute = [n for n in model.graph.node if n.op_type in COMPUTE]
    in_float = {n.name for n in compute if not _dequantized(model, n.input[0])}
    row = peer["rows"]["nncf"]
    assert row["compute_ops"] == len(compute) == peer["rows"]["fp32"]["compute_ops"]
    assert {op["node"] for op in row["float_ops"]} == in_float and row["float_op_count"] == len(in_float)
    assert peer["nncf"]["float_ops"] == row["float_ops"]
    assert 0 < len(in_float) < len(compute)
    assert all(op["weight"] and op["weight"].endswith(".w_0") for op in row["float_ops"])  # named by the Paddle weight


def test_nncf_ranked_and_met_its_drop_as_our_scorer_measures_it(peer):
    nncf = peer["nncf"]
    assert nncf["settings"]["subset_size"] == 1 and nncf["settings"]["weight_constants_moved_to_initializers"] > 0
    assert nncf["validation"]["samples"] == 200 and nncf["seconds"] > 0
    assert nncf["validation"]["calls"] > 3  # initial, quantized and mode probe only would be 3: it ranked quantizers
    assert nncf["drop_points"] <= MAX_DROP


def test_both_int8_models_are_scored_on_the_same_samples(peer):
    rows = peer["rows"]
    assert {"fp32", "nncf", "paddle-edge"} <= set(rows) and peer["ok"]
    u8w = rows.get("paddle-edge onnx-int8-u8w")  # what the thin runtime opens on a CPU whose u8s8 kernels saturate
    assert (u8w is not None) == (onnx_target() is not None)
    if u8w:
        assert u8w["exact"]["scores"] == rows["paddle-edge"]["exact"]["scores"]  # uint8 weights: the same int8 function
    assert peer["test"]["samples"] == 64
    for key in ("nncf", "paddle-edge"):
        row = peer["rows"][key]
        for engine in ("exact", "fused"):
            assert row[engine]["samples"] == 64 and 0.5 <= row[engine]["scores"]["top1"] <= 1
            assert "top1_drop_points" in row[engine]
        assert row["latency"]["vs_fp32"]["pairs"] == 6 and row["latency"]["median_ms"] > 0
    assert peer["rows"]["paddle-edge"]["title"].startswith("paddle-edge accuracy control")
    assert peer["ours"]["max_drop_points"] == MAX_DROP and peer["ours"]["trials"] >= 1
    assert peer["cpu"] == peer["provenance"]["cpu"]["label"] and {"command", "date", "commit"} <= set(peer["provenance"])


def test_validation_scores_any_subset_in_parity_groups(case, peer, tmp_path):
    """NNCF's validation_fn: the whole set scores exactly as task_scores scores it, split into groups as the lines come,
    and a subset of items gets the per-item values the whole run gave them."""
    manifest = runtime.load_bundle(case["float"]).manifest
    whole = evaluation_set(manifest, case["val"], None, None)
    x, truth = whole.single[manifest.inputs[0].name], whole.truth
    split = EvaluationSet(tuple({manifest.inputs[0].name: x[i:i + 70]} for i in range(0, 200, 70)), truth, (), 200, "split")
    path = Path(peer["nncf"]["onnx"])  # NNCF's QDQ model: scored with graph optimizations off
    model = onnx.load(str(path))
    expected = task_scores(run_groups(UnfusedOnnxRuntimeBackend(path, 1).run, whole), manifest, whole)["top1"]
    validation = Validation(manifest, split, "top1", tmp_path, 1)
    metric, per_item = validation(model, validation.items)
    assert metric == expected and len(per_item) == 200 and np.mean(per_item) == pytest.approx(metric)
    subset = validation.items[5::9]
    part, part_items = validation(model, subset)
    assert part_items == [per_item[validation.items.index(item)] for item in subset]
    assert part == pytest.approx(np.mean(part_items)) and validation.calls == 2 and validation.seen == 200 + len(subset)


def test_only_weight_constants_become_initializers(case):
    model = onnx.load(str(runtime.load_bundle(case["float"]).path_of("onnx-fp32")))
    moved, count = weights_as_initializers(model)
    readers = {}
    for node in moved.graph.node:
        for name in node.input:
            readers.setdefault(name, set()).add(node.op_type)
    assert count == len(moved.graph.initializer) - len(model.graph.initializer) > 0
    assert all(readers[i.name] <= set(COMPUTE) for i in moved.graph.initializer[len(model.graph.initializer):])
    assert len(moved.graph.node) == len(model.graph.node) - count
    onnx.checker.check_model(moved)
    total, floats = float_compute_ops(model, moved)  # still float: nothing quantized
    assert total == len(floats) and {op.precision for op in floats} == {"float"}


def test_telemetry_is_off_and_the_environment_kept():
    before = os.environ.get("CI")
    _import_nncf()
    assert os.environ.get("CI") == before and os.environ["NNCF_CI"] == "1"


def test_bad_requests_are_refused_before_nncf_runs(case, tmp_path):
    with pytest.raises(PaddleEdgeError, match="preset"):
        quantize_with_nncf(case["float"], case["calibration"], case["val"], 1.0, tmp_path / "x.onnx", settings=NncfSettings(preset="fast"))
    with pytest.raises(PaddleEdgeError, match="judged by top1"):
        quantize_with_nncf(case["float"], case["calibration"], case["val"], 1.0, tmp_path / "x.onnx", metric="char_acc")
    with pytest.raises(PaddleEdgeError, match="beat float"):
        quantize_with_nncf(case["float"], case["calibration"], case["val"], -1, tmp_path / "x.onnx")
    with pytest.raises(SystemExit) as exit_code:  # the float bundle has no int8 model to stand for paddle-edge's
        main(["peer", "nncf", str(case["float"]), "--ours", str(case["float"]), "--calibration", str(case["calibration"]),
              "--data", str(case["val"]), "--test", str(case["test"]), "--max-drop", "1", "--json", str(tmp_path / "x.json")])
    assert exit_code.value.code == 2 and not (tmp_path / "x.json").exists()
