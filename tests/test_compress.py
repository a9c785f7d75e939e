"""PaddleSlim int8: PTQ and QAT on a real trained LeNet; graph and accuracy both checked."""
from __future__ import annotations

from typing import List

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper
from paddle.base.proto import framework_pb2

from paddle_edge.boards.parity import run_parity
from paddle_edge.cli import main
from paddle_edge.export.bundle import build_bundle
from paddle_edge.pipeline import score_as_shipped
from paddle_edge.source.model import as_source

from paddle_edge.compress.program_order import canonical_order
from paddle_edge.compress.qat import quantize_qat
from paddle_edge.compress.recipe import PtqRecipe, QatRecipe
from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.source.paddle_program import find_model_files, read_program
from paddle_edge.train.datasets import load_dataset


def test_ptq_inserts_quant_ops_and_keeps_accuracy(lenet, lenet_ptq):
    ops = read_program(lenet_ptq.model_dir).ops
    assert ops.count("quantize_linear") >= 4 and ops.count("dequantize_linear") >= 4
    assert lenet_ptq.card.precision == "int8"
    assert lenet_ptq.card.source_sha256 == find_model_files(lenet.model_dir).sha256()
    drop = (lenet_ptq.float_metrics["top1"] - lenet_ptq.int8_metrics["top1"]) * 100
    print(f"PTQ(avg): float {lenet_ptq.float_metrics['top1']:.4f} int8 {lenet_ptq.int8_metrics['top1']:.4f} drop {drop:.2f} points")
    assert drop < 1.0


def test_qat_fine_tunes_and_quantizes(tmp_path, lenet, capfd):
    capfd.readouterr()
    result = quantize_qat(lenet.model_dir, tmp_path / "qat", QatRecipe(epochs=1), train_limit=2000, verbose=0)
    said = "".join(capfd.readouterr())
    assert ".partial" not in said, said  # PaddleSlim reloads the model from the temporary directory it is written into
    assert read_program(result.model_dir).ops.count("dequantize_linear") >= 4
    drop = (result.float_metrics["top1"] - result.int8_metrics["top1"]) * 100
    print(f"QAT: float {result.float_metrics['top1']:.4f} int8 {result.int8_metrics['top1']:.4f} drop {drop:.2f} points")
    assert drop < 1.0


def test_bad_recipes_are_refused_before_any_work():
    with pytest.raises(PaddleEdgeError, match="KL"):
        PtqRecipe(algo="magic")
    with pytest.raises(PaddleEdgeError, match="epoch"):
        QatRecipe(epochs=0)


def test_per_tensor_weights_from_the_cli_ship_one_scale_per_weight_and_pass_parity(tmp_path, lenet, capsys):
    """`compress --weights per-tensor` (PaddleSlim's abs_max weights) through export: every weight the int8 ONNX
    dequantizes has a single scale, and the bundle's gates pass."""
    main(["compress", str(lenet.model_dir), "--out", str(tmp_path / "int8"), "--algo", "avg", "--batch-nums", "4",
          "--weights", "per-tensor"])
    assert as_source(tmp_path / "int8").card.quantization["weight_quantize_type"] == "abs_max"
    bundle = build_bundle(lenet.model_dir, tmp_path / "bundle", int8_dir=tmp_path / "int8")
    model = onnx.load(str(bundle.directory / "model.int8.onnx"))
    constants = {**{i.name: numpy_helper.to_array(i) for i in model.graph.initializer},
                 **{n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in model.graph.node if n.op_type == "Constant"}}
    weights = [n for n in model.graph.node if n.op_type == "DequantizeLinear" and constants.get(n.input[0], np.zeros(0)).ndim >= 2]
    assert len(weights) == 2 and all(constants[n.input[1]].size == 1 for n in weights)  # conv2 and fc (conv1 stays float: one input channel)
    report = run_parity(bundle.directory, limit=2000, b1_calls=0)
    assert report.ok and report.data["checks"]["onnx_int8_top1_drop_points"]["passed"], report.render()


def test_hist_percent_without_a_hist_calibration_is_refused(lenet, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["compress", str(lenet.model_dir), "--out", str(tmp_path / "int8"), "--algo", "avg", "--hist-percent", "0.99"])
    assert "no hist calibration runs here" in capsys.readouterr().err
    with pytest.raises(PaddleEdgeError, match="fraction"):
        PtqRecipe(algo="hist", hist_percent=1.5)


def test_qat_refuses_a_model_it_cannot_rebuild(tmp_path, lenet_ptq):
    with pytest.raises(PaddleEdgeError, match="ptq"):
        quantize_qat(lenet_ptq.model_dir, tmp_path / "q")


def _op(kind: str, reads: List[str], writes: List[str]) -> framework_pb2.OpDesc:
    op = framework_pb2.OpDesc(type=kind)
    op.inputs.add(parameter="X", arguments=reads)
    op.outputs.add(parameter="Out", arguments=writes)
    return op


def test_program_order_is_canonical_and_keeps_every_dependency():
    """Two orders of the same dataflow (as PaddleSlim writes from run to run) come out the same; an in-place op and the
    readers before it keep their places."""
    feed, fetch = _op("feed", ["feed"], ["x"]), _op("fetch", ["y"], ["fetch"])
    qa, qb = _op("quantize_linear", ["x"], ["xq"]), _op("quantize_linear", ["w"], ["wq"])
    read_mean, bn = _op("scale", ["mean"], ["m2"]), _op("batch_norm", ["xq", "wq", "mean", "m2"], ["y", "mean"])
    one = [feed, qa, qb, read_mean, bn, fetch]
    two = [qb, feed, read_mean, qa, bn, fetch]
    ordered = canonical_order(one)
    assert [o.SerializeToString() for o in ordered] == [o.SerializeToString() for o in canonical_order(two)]
    position = {o.SerializeToString(): i for i, o in enumerate(ordered)}
    at = lambda op: position[op.SerializeToString()]  # noqa: E731
    assert at(feed) == 0 and at(fetch) == len(one) - 1
    assert at(feed) < at(qa) < at(bn) and at(qb) < at(bn) and at(read_mean) < at(bn)


def test_the_demo_scores_each_int8_candidate_as_the_file_it_would_ship(tmp_path, lenet, lenet_ptq, lenet_bundle):
    scores = score_as_shipped(lenet.model_dir, lenet_ptq, tmp_path / "candidate")
    assert scores["sha256"] == lenet_bundle.manifest.artifacts["onnx-int8"].sha256  # the file the bundle ships
    assert scores["top1"] == lenet_bundle.manifest.accuracy["onnx-int8"]["top1"]  # scored by its own engine
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # every Q/DQ as written
    session = ort.InferenceSession(str(lenet_bundle.directory / lenet_bundle.manifest.artifacts["onnx-int8"].path), options)
    data = load_dataset("mnist")
    logits = session.run(None, {session.get_inputs()[0].name: data.x_val})[0]
    assert scores["val_top1"] == pytest.approx(float(np.mean(logits.argmax(1) == data.y_val)), abs=1e-12)
    assert "graph optimizations off" in scores["engine"]
