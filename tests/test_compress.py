"""PaddleSlim int8: PTQ and QAT on a real trained LeNet; graph and accuracy both checked."""
from __future__ import annotations

from typing import List

import pytest
from paddle.base.proto import framework_pb2

from paddle_edge.compress.program_order import canonical_order
from paddle_edge.compress.qat import quantize_qat
from paddle_edge.compress.recipe import PtqRecipe, QatRecipe
from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.source.paddle_program import find_model_files, read_program


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
