"""ONNX Runtime's parallel=batch: the batch split over the threads, each slice run on one thread, refused where a model's
samples are not independent rows of its outputs; tried by tune and timed by bench through the same setting."""
from __future__ import annotations

import multiprocessing

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from paddle_edge import runtime
from paddle_edge.boards.bench.cold_start import ColdStartFailed, cold_start
from paddle_edge.boards.bench.engines import ENGINES, load
from paddle_edge.boards.bench.runner import run_bench
from paddle_edge.boards.tune import candidates
from paddle_edge.cli import main
from paddle_edge.runtime import backends
from paddle_edge.runtime.errors import BackendError, InputError


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_split_gives_the_whole_batchs_outputs_on_one_thread_per_slice(lenet_bundle, mnist_test, precision):
    x = mnist_test[0][:7]
    whole = runtime.open(lenet_bundle.directory, backend="onnxruntime", precision=precision, threads=2)
    split = runtime.open(lenet_bundle.directory, backend="onnxruntime", precision=precision, threads=2, settings={"parallel": "batch"})
    assert split.backend.callers == 2 and split.backend.session.get_session_options().intra_op_num_threads == 1
    assert whole.backend.callers == 1 and whole.backend.session.get_session_options().intra_op_num_threads == 2
    for rows in (7, 1, 2):  # 3 + 4 rows; one row, run whole; one row per slice
        np.testing.assert_allclose(split.predict(x[:rows])[0], whole.predict(x[:rows])[0], rtol=1e-5, atol=1e-6)
    assert split.backend._pool is not None and split.backend._pool._max_workers == 2


def _model(path, nodes, out_shape, inputs=(("x", ["n", 4]),)):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in inputs],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def test_a_model_whose_outputs_are_not_batch_major_or_whose_samples_interact_is_refused(tmp_path):
    transposed = _model(tmp_path / "t.onnx", [helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0])], [4, "n"])
    centred = _model(tmp_path / "c.onnx", [helper.make_node("ReduceMean", ["x"], ["m"], axes=[0], keepdims=1),
                                           helper.make_node("Sub", ["x", "m"], ["y"])], ["n", 4])
    scaled = _model(tmp_path / "s.onnx", [helper.make_node("Mul", ["x", "scale"], ["y"])], ["n", 4], (("x", ["n", 4]), ("scale", [1])))
    x = np.arange(24, dtype=np.float32).reshape(6, 4) ** 2
    for path, feeds, why in ((transposed, {"x": x}, "an output's first dimension is not the batch"),
                             (centred, {"x": x}, "output 'y' differs between the slices and the whole batch \\(samples interact\\)"),
                             (scaled, {"x": x, "scale": np.ones(1, np.float32)}, "its inputs' first dimensions differ")):
        engine = backends.create("onnxruntime", path, 2, {"parallel": "batch"})
        with pytest.raises(BackendError, match=f"cannot run with its batch split over threads: {why}(.|\n)*parallel=intra_op"):
            engine.run(feeds)
        expected = {transposed: x.T, centred: x - x.mean(axis=0), scaled: x}[path]
        np.testing.assert_allclose(backends.create("onnxruntime", path, 2).run(feeds)[0], expected)  # the default runs it


def test_a_wrong_input_stays_the_callers_error_under_the_split(lenet_bundle):
    split = runtime.open(lenet_bundle.directory, backend="onnxruntime", precision="int8", threads=2, settings={"parallel": "batch"})
    with pytest.raises(InputError, match="ONNX Runtime refused the inputs"):
        split.backend.run({split.backend.input_names[0]: np.zeros((4, 1, 27, 28), np.float32)})  # past the predictor's
        # own checks: ORT's refusal, from the whole batch run before any slice


def _split_in_child(engine, x, queue):
    queue.put(engine.run({"x": x})[0].shape)


def test_a_forked_child_runs_the_split_with_threads_of_its_own(tmp_path):
    """A process forked after a split call (a preloading server, multiprocessing's fork) inherits the pool object but
    none of its threads; it must not wait on them for ever."""
    engine = backends.create("onnxruntime", _model(tmp_path / "id.onnx", [helper.make_node("Relu", ["x"], ["y"])], ["n", 4]), 2,
                             {"parallel": "batch"})
    x = np.ones((6, 4), np.float32)
    assert engine.run({"x": x})[0].shape == (6, 4)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_split_in_child, args=(engine, x, queue))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung on the parent's pool")
    assert child.exitcode == 0 and queue.get(timeout=5) == (6, 4)


def test_tune_tries_the_split_only_where_it_can_differ(lenet_bundle):
    found, untuned = candidates(lenet_bundle.manifest, ["onnxruntime"], [1, 2], 2, "int8", 16)
    split = [c for c in found if c.settings.get("parallel") == "batch"]
    assert {c.threads for c in split} == {2} and all("allow_spinning" not in c.settings for c in split)  # spinning: no pool
    assert len(split) == 2 * 3 and len(found) == 2 * (2 * 6 + 3)  # 2 precisions x 3 optimization levels
    assert all(c.settings["parallel"] == "intra_op" for c in found if c.tag in untuned.values())
    assert "parallel=batch" in split[0].describe() and "allow_spinning" not in split[0].describe()
    at_one, _ = candidates(lenet_bundle.manifest, ["onnxruntime"], [1, 2], 2, "int8", 1)  # batch 1 only: a split is one thread
    assert len(at_one) == 2 * 2 * 6 and not [c for c in at_one if c.settings.get("parallel") == "batch"]


def test_bench_runs_the_thin_runtimes_onnxruntime_engines_with_the_settings_given(lenet_bundle):
    bundle = runtime.load_bundle(lenet_bundle.directory)
    int8 = load(ENGINES["onnxruntime_int8"], bundle, 2, settings={"parallel": "batch"})
    assert int8.__self__.backend.callers == 2
    peer = load(ENGINES["openvino_int8"], bundle, 2, settings={"parallel": "batch"})  # not the thin runtime's ORT: untouched
    assert peer.__self__.backend_name == "openvino"
    with pytest.raises(ColdStartFailed, match="parallel='both' is not one backend 'onnxruntime' takes"):  # the child got them
        cold_start(lenet_bundle.directory, "onnxruntime_int8", 2, settings={"parallel": "both"})
    report = run_bench(lenet_bundle.directory, backends=["onnxruntime_fp32", "onnxruntime_int8"], threads=[2], batches=[1, 8],
                       calls=10, settings={"parallel": "batch"})
    assert report.data["runtime_settings"] == {"parallel": "batch"}
    assert "the thin runtime's onnxruntime engines with parallel=batch" in report.render()
    assert {(c["engine"], c["batch"]) for c in report.data["cells"]} == {(e, b) for e in ("onnxruntime_fp32", "onnxruntime_int8") for b in (1, 8)}


def test_bench_refuses_settings_it_cannot_apply_before_any_work(lenet_bundle, capsys):
    with pytest.raises(BackendError, match="backend 'onnxruntime' has no setting 'streams'"):
        run_bench(lenet_bundle.directory, settings={"streams": "2"})
    with pytest.raises(SystemExit) as exc:
        main(["bench", str(lenet_bundle.directory), "--settings", "parallel"])
    assert exc.value.code == 2 and "not a comma-separated list of KEY=VALUE settings" in capsys.readouterr().err
