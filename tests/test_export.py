"""Export: ONNX float and int8 (QDQ from PaddleSlim), op checks, bundles, and models brought from elsewhere."""
from __future__ import annotations

import json
import shutil
import tarfile

import numpy as np
import onnx
import pytest

from paddle_edge import runtime
from paddle_edge.boards.parity import run_parity
from paddle_edge.compress.ptq import quantize_ptq
from paddle_edge.compress.recipe import PtqRecipe
from paddle_edge.export.bundle import build_bundle
from paddle_edge.export.check import check_model
from paddle_edge.export.onnx import ExportError, check_onnx, export_onnx, op_histogram
from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.runtime.manifest import SCHEMA_VERSION
from paddle_edge.source.model import resolve_model
from user_models import save_mobilenet_v3_small, save_two_input_net


def test_int8_onnx_carries_paddleslim_scales(lenet_bundle):
    ops = op_histogram(lenet_bundle.directory / "model.int8.onnx")
    assert ops.get("QuantizeLinear", 0) >= 3 and ops.get("DequantizeLinear", 0) >= 4  # conv2's input, output and pooled output
    assert "QuantizeLinear" not in op_histogram(lenet_bundle.directory / "model.fp32.onnx")
    for name in ("model.fp32.onnx", "model.int8.onnx"):
        check_onnx(lenet_bundle.directory / name)


def test_manifest_describes_the_bundle(lenet_bundle):
    manifest = json.loads((lenet_bundle.directory / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION and manifest["model"] == "lenet"
    assert manifest["inputs"][0] == {"name": "image", "shape": [-1, 1, 28, 28], "dtype": "float32", "layout": "NCHW"}
    assert manifest["preprocess"]["image"]["color"] == "L" and manifest["labels"][3] == "3"
    assert {a["precision"] for a in manifest["artifacts"].values()} == {"fp32", "int8"}
    assert manifest["quantization"]["method"] == "ptq"
    for name in ("onnx-fp32", "onnx-int8", "onnx-int8-u8w", "paddle-fp32-program"):  # each file's own score, by its own engine
        assert manifest["accuracy"][name]["measured"] and 0.5 < manifest["accuracy"][name]["top1"] <= 1
    assert manifest["accuracy"]["onnx-int8"]["top1"] == manifest["accuracy"]["onnx-int8-u8w"]["top1"]  # the same function
    assert manifest["artifacts"]["onnx-int8-u8w"]["target"] == "x86-64-no-vnni"
    assert manifest["quantization"]["onnx_rewrites"]["uint8_activations"] > 0  # what was done to PaddleSlim's graph, on record
    assert manifest["toolchain"]["paddle2onnx"] == "1.2.11" and len(manifest["source"]["float_model_sha256"]) == 64
    with tarfile.open(lenet_bundle.archive) as tar:
        assert "lenet/manifest.json" in tar.getnames()


def test_check_lists_ops_and_unsupported_ones(lenet):
    report = check_model(lenet.model_dir, "onnx")
    assert report.ok and report.ops["conv2d"] == 2
    assert "conv2d" in report.render()


def test_garbled_onnx_is_refused(tmp_path, lenet_bundle):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes((lenet_bundle.directory / "model.fp32.onnx").read_bytes()[:3000])
    with pytest.raises(ExportError, match="not a valid ONNX model"):
        check_onnx(bad)


def test_export_failure_leaves_no_file(tmp_path, lenet):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.pdmodel").write_bytes((lenet.model_dir / "model.pdmodel").read_bytes())
    (broken / "model.pdiparams").write_bytes(b"\x00" * 10)
    with pytest.raises(ExportError):
        export_onnx(broken, tmp_path / "out.onnx")
    assert list(tmp_path.glob("*onnx*")) == []


def test_int8_from_another_float_model_is_refused(tmp_path, lenet_ptq, lenet_bundle):
    other = save_two_input_net(tmp_path / "other")
    with pytest.raises(PaddleEdgeError, match="not quantized from"):
        build_bundle(other, tmp_path / "b", int8_dir=lenet_ptq.model_dir)


def test_int8_calibrated_on_other_inputs_than_the_bundle_feeds_is_refused(tmp_path, lenet, lenet_ptq, digit_png):
    """compress recorded the preprocessing its calibration images went through; an export that would feed the int8 model
    other inputs (no preprocessing found, or another file) is refused, and nothing is written."""
    bare = tmp_path / "bare"  # the same float files without their card: nothing says how images become inputs
    bare.mkdir()
    for name in ("model.pdmodel", "model.pdiparams"):
        shutil.copyfile(lenet.model_dir / name, bare / name)
    with pytest.raises(PaddleEdgeError, match=r"was calibrated on inputs made otherwise than .*bare is exported with \(preprocessing none "
                                              r"found\): task 'classification' there, 'generic' here; inputs 'images' there, 'arrays \(no image preprocessing\)' here\n"):
        build_bundle(bare, tmp_path / "b1", int8_dir=lenet_ptq.model_dir)
    other = tmp_path / "other.yml"
    other.write_text("PreProcess:\n  transform_ops:\n  - DecodeImage: {img_mode: GRAY}\n  - ResizeImage: {size: 28}\n"
                     "  - NormalizeImage: {mean: [0.5], std: [0.5]}\nPostProcess: {name: ClsPostProcess}\n")
    with pytest.raises(PaddleEdgeError, match=r"\(preprocessing from .*other.yml\): image.invert_light_background True there, False here; "
                                              r"image.resize.interpolation 'pillow' there, 'opencv' here\n"):
        build_bundle(resolve_model(lenet.model_dir, other), tmp_path / "b2", int8_dir=lenet_ptq.model_dir)
    assert not (tmp_path / "b1").exists() and not (tmp_path / "b2").exists()
    # the same file given to compress (calibrating on images through it) and to export is what ships
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    shutil.copyfile(digit_png, calibration / digit_png.name)
    int8 = quantize_ptq(resolve_model(lenet.model_dir, other), tmp_path / "int8", PtqRecipe(algo="avg", batch_nums=1), calibration=calibration)
    assert int8.card.preprocess.image.invert_light_background is False
    build_bundle(resolve_model(lenet.model_dir, other), tmp_path / "b3", int8_dir=int8.model_dir)


def test_two_inputs_with_dynamic_spatial_dims(tmp_path):
    bundle = build_bundle(save_two_input_net(tmp_path / "two"), tmp_path / "bundle")
    assert [i.shape for i in bundle.manifest.inputs] == [(-1, 3, -1, -1), (-1, 4)]
    predictor = runtime.open(bundle.directory, precision="fp32")
    rng = np.random.default_rng(0)
    for h, w in ((32, 48), (17, 9)):
        out = predictor.predict({"image": rng.standard_normal((2, 3, h, w), dtype=np.float32), "extra": np.ones((2, 4), np.float32)})
        assert out[0].shape == (2, 5)
    report = run_parity(bundle.directory, limit=8, shapes={"image": [8, 3, 40, 40]}, b1_calls=10, b64_calls=5)
    assert report.data["engines"]["onnx_fp32"]["vs_float"]["max_abs_diff"] <= 1e-4, report.render()


@pytest.mark.slow
def test_mobilenet_v3_small_goes_through(tmp_path):
    model_dir = save_mobilenet_v3_small(tmp_path / "mbv3")
    ops = check_model(model_dir, "onnx").ops
    assert {"depthwise_conv2d", "hard_swish", "batch_norm"} <= set(ops)
    bundle = build_bundle(model_dir, tmp_path / "bundle")
    report = run_parity(bundle.directory, limit=4, b1_calls=10, b64_calls=3)
    print(report.render())
    assert report.data["engines"]["onnx_fp32"]["vs_float"]["max_abs_diff"] <= 1e-4


def test_a_model_saved_by_paddle_2_6(tmp_path):
    """Legacy .pdmodel written by Paddle 2.6.2 with its defaults (tests/fixtures/make_paddle26_model.py made it)."""
    from fixtures.make_paddle26_model import OUT, fixed_input

    ops = check_model(OUT, "onnx").ops
    assert {"depthwise_conv2d", "hard_swish", "batch_norm", "hard_sigmoid"} <= set(ops)
    bundle = build_bundle(OUT, tmp_path / "bundle")
    out = runtime.open(bundle.directory, precision="fp32").predict(fixed_input())[0]
    np.testing.assert_allclose(out, np.load(OUT / "expected_output.npy"), atol=1e-5)
    report = run_parity(bundle.directory, limit=16, b1_calls=10, b64_calls=3)
    assert report.data["engines"]["onnx_fp32"]["vs_float"]["max_abs_diff"] <= 1e-4, report.render()


def test_int8_weights_are_stored_as_int8_and_outputs_do_not_change(tmp_path, lenet_ptq, batch):
    import onnxruntime as ort

    folded = export_onnx(lenet_ptq.model_dir, tmp_path / "folded.onnx", ort_layout=False)
    plain = export_onnx(lenet_ptq.model_dir, tmp_path / "plain.onnx", fold_weights=False)
    model = check_onnx(folded)
    weights = [init for init in model.graph.initializer if init.data_type == onnx.TensorProto.INT8 and len(init.dims) >= 2]
    assert len(weights) == 3  # INT8 weights of both convs and the fc (zero points are INT8 too, of one dim or none)
    assert op_histogram(folded)["QuantizeLinear"] < op_histogram(plain)["QuantizeLinear"]
    assert folded.stat().st_size < 0.6 * plain.stat().st_size
    run = lambda p: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"image": batch})[0]  # noqa: E731
    np.testing.assert_array_equal(run(folded), run(plain))


def test_paddleslim_matmul_quantizers_survive_export(tmp_path, lenet_ptq, mnist_test):
    """paddle2onnx 1.2.11 drops the Q/DQ of every MatMul (a missing comma in its list of op types to re-quantize);
    export puts PaddleSlim's back with PaddleSlim's scales, so the int8 ONNX computes what PaddleSlim's program does."""
    from paddle_edge.export.onnx import applied_rewrites
    from paddle_edge.source.paddle_predictor import PaddlePredictor

    path = export_onnx(lenet_ptq.model_dir, tmp_path / "int8.onnx", ort_layout=False)
    model = onnx.load(str(path))
    producer = {out: n.op_type for n in model.graph.node for out in n.output}
    matmuls = [n for n in model.graph.node if n.op_type == "MatMul"]
    assert len(matmuls) == 1 and all(producer.get(name) == "DequantizeLinear" for n in matmuls for name in n.input)
    assert applied_rewrites(path)["matmul_quantizers_restored"] == 1
    x = mnist_test[0][:256]
    exact = _session(model, fused=False).run(None, {"image": x})[0]
    paddle = PaddlePredictor(lenet_ptq.model_dir, threads=2, mkldnn=False, ir_optim=False).run({"image": x})[0]  # as written
    error = float(np.sum((exact - paddle) ** 2) / np.sum(paddle ** 2))
    assert error < 1e-3 and (exact.argmax(1) == paddle.argmax(1)).mean() >= 0.99, error  # SQNR over 30 dB


def _session(model, fused=True):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    if not fused:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model), options,
                                providers=["CPUExecutionProvider"])


def test_exact_layout_rewrites_change_no_output_bit(tmp_path, lenet_ptq, mnist_test):
    from paddle_edge.export.onnx_qdq_layout import requantize_value_copies, to_uint8_activations

    paddleslim = onnx.load(str(export_onnx(lenet_ptq.model_dir, tmp_path / "paddleslim.onnx", ort_layout=False)))
    rewritten = onnx.ModelProto.FromString(paddleslim.SerializeToString())
    assert to_uint8_activations(rewritten) > 0 and requantize_value_copies(rewritten) > 0
    onnx.checker.check_model(rewritten, full_check=True)
    x = mnist_test[0][:256]
    np.testing.assert_array_equal(_session(rewritten).run(None, {"image": x})[0], _session(paddleslim).run(None, {"image": x})[0])


def _pplcnet_block(squeeze: bool) -> onnx.ModelProto:
    """A PP-LCNetV3-style int8 block as PaddleSlim and the layout rewrites leave it: uint8 activations, a conv with int8
    weights and int32 bias, the scalar affine blocks around HardSwish, and (`squeeze`) a float pooling beside the conv's
    quantizer."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    init = {"x_s": np.float32(0.02), "x_z": np.uint8(128), "w": rng.integers(-127, 128, (8, 4, 3, 3)).astype(np.int8),
            "w_s": rng.uniform(0.002, 0.01, 8).astype(np.float32), "b": rng.integers(-500, 500, 8).astype(np.int32),
            "y_s": np.float32(0.05), "y_z": np.uint8(120), "s1": np.array([1.3], np.float32), "b1": np.array([0.4], np.float32),
            "s2": np.array([0.8], np.float32), "b2": np.array([-0.1], np.float32), "o_s": np.float32(0.03), "o_z": np.uint8(100)}
    init["b_s"] = (init["x_s"] * init["w_s"]).astype(np.float32)
    n = helper.make_node
    nodes = [n("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"]), n("DequantizeLinear", ["xq", "x_s", "x_z"], ["xd"]),
             n("DequantizeLinear", ["w", "w_s"], ["wd"], axis=0), n("DequantizeLinear", ["b", "b_s"], ["bd"], axis=0),
             n("Conv", ["xd", "wd", "bd"], ["y"], pads=[1, 1, 1, 1]),
             n("QuantizeLinear", ["y", "y_s", "y_z"], ["yq"]), n("DequantizeLinear", ["yq", "y_s", "y_z"], ["yd"]),
             n("Mul", ["yd", "s1"], ["m1"]), n("Add", ["m1", "b1"], ["a1"]), n("HardSwish", ["a1"], ["h"]),
             n("Mul", ["h", "s2"], ["m2"]), n("Add", ["m2", "b2"], ["a2"]),
             n("QuantizeLinear", ["a2", "o_s", "o_z"], ["oq"]), n("DequantizeLinear", ["oq", "o_s", "o_z"], ["out"])]
    outputs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 8, 16, 16])]
    if squeeze:
        nodes.append(n("GlobalAveragePool", ["y"], ["pooled"]))
        outputs.append(helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [2, 8, 1, 1]))
    graph = helper.make_graph(nodes, "block", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 16, 16])], outputs,
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in init.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)


def test_affine_blocks_fold_into_their_quantizers_within_a_step():
    from paddle_edge.export.onnx_affine_quantizers import fold_affine_after_conv

    model = _pplcnet_block(squeeze=False)
    folded = onnx.ModelProto.FromString(model.SerializeToString())
    assert fold_affine_after_conv(folded) == 1
    onnx.checker.check_model(folded, full_check=True)
    assert [n.op_type for n in folded.graph.node].count("Mul") == 1 and [n.op_type for n in folded.graph.node].count("Add") == 1
    x = np.random.default_rng(4).uniform(-2, 2, (2, 4, 16, 16)).astype(np.float32)
    for m, block in ((model, "a1"), (folded, "yd")):  # the first block's result: what the conv's quantizer now returns
        m.graph.output.append(onnx.helper.make_value_info(block, onnx.helper.make_tensor_type_proto(onnx.TensorProto.FLOAT, None)))
    (out, a1), (folded_out, yd) = (_session(m, fused=False).run(["out", block], {"x": x}) for m, block in ((model, "a1"), (folded, "yd")))
    step = 0.05 * 1.3  # the conv's quantizer's step, times the block's scale
    # one step at most; on average half a step at most (the block's shift, rounded to whole codes once)
    assert np.abs(yd - a1).max() <= step + 1e-6 and np.abs(yd - a1).mean() <= step / 2
    # at the output: that step through HardSwish (slope <= 1.5) and the second block's scale, plus one output step
    assert np.abs(folded_out - out).max() <= step * 1.5 * 0.8 + 0.03 + 1e-6 and np.abs(folded_out - out).mean() <= 0.03 / 2


def test_float_readers_of_a_quantized_conv_read_its_dequantized_copy(tmp_path):
    from paddle_edge.export.onnx_qdq_layout import float_readers_read_dequantized

    model = _pplcnet_block(squeeze=True)
    assert float_readers_read_dequantized(model) == 1
    onnx.checker.check_model(model, full_check=True)
    optimized = tmp_path / "optimized.onnx"
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.optimized_model_filepath = str(optimized)
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    assert op_histogram(optimized).get("QLinearConv") == 1 and "Conv" not in op_histogram(optimized)  # no float conv left


def test_ort_layout_puts_wide_convs_in_int8_and_keeps_accuracy(tmp_path, lenet_ptq, mnist_test):
    import onnxruntime as ort

    from paddle_edge.export.onnx import applied_rewrites
    from paddle_edge.runtime.timing import time_calls

    paddleslim = export_onnx(lenet_ptq.model_dir, tmp_path / "paddleslim.onnx", ort_layout=False)
    laid_out = export_onnx(lenet_ptq.model_dir, tmp_path / "ort.onnx")
    rewrites = applied_rewrites(laid_out)
    assert rewrites["weights_folded"] == 3 and rewrites["float_thin_convs"] == 1  # conv1 reads 1 channel: float
    assert rewrites["uint8_activations"] >= 3 and rewrites["relu_folded"] == 1 and rewrites["value_copies_requantized"] == 1
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(laid_out), options, providers=["CPUExecutionProvider"])
    optimized = op_histogram(tmp_path / "optimized.onnx")
    assert optimized["QLinearConv"] == 1 and optimized["Conv"] == 1 and "Relu" not in optimized, optimized  # conv2 int8, conv1 float
    x, y = mnist_test[0][:2000], mnist_test[1][:2000]
    logits = {name: _session(path).run(None, {"image": x})[0] for name, path in (("paddleslim", paddleslim), ("ort", laid_out))}
    top1 = {name: float((v.argmax(1) == y).mean()) for name, v in logits.items()}
    agreement = float((logits["ort"].argmax(1) == logits["paddleslim"].argmax(1)).mean())
    x64 = np.ascontiguousarray(x[:64])
    p50 = {name: np.median(time_calls(lambda s=_session(path): s.run(None, {"image": x64}), 50)) * 1e6
           for name, path in (("paddleslim", paddleslim), ("ort", laid_out))}
    print(f"top-1 {top1}, argmax agreement {agreement:.4f}, batch-64 p50 us {p50}")
    # a 1-epoch test model (about 90 % top-1) has many near ties that one rounding fewer flips; the full LeNet agrees 99.87 %
    assert agreement >= 0.97 and top1["ort"] >= top1["paddleslim"] - 0.005


@pytest.mark.parametrize("spatial", [(16,), (16, 16)], ids=["conv1d", "conv2d"])
def test_a_convs_scalar_affine_is_left_for_onnxruntime_to_fold(tmp_path, spatial):
    """PP-LCNetV3's `Mul(scale, conv) -> Add(Mul, bias)` as paddle2onnx writes it: rewritten, the same function (bit for
    bit, unoptimized), and onnxruntime folds both into the conv."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from paddle_edge.export.onnx_conv_affine import foldable_conv_affines

    rng = np.random.default_rng(0)
    kernel = (3,) * len(spatial)
    const = lambda name, value: helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value, np.float32), name))  # noqa: E731
    nodes = [const("w", rng.normal(size=(8, 4, *kernel))), const("b", rng.normal(size=8)), const("scale", [1.3]), const("shift", [-0.2]),
             helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1] * 2 * len(spatial)), helper.make_node("Mul", ["scale", "y"], ["z"]),
             helper.make_node("Add", ["z", "shift"], ["o"]), helper.make_node("Relu", ["o"], ["out"])]
    graph = helper.make_graph(nodes, "lab", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, *spatial])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 8, *spatial])])
    written = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    rewritten = onnx.ModelProto.FromString(written.SerializeToString())
    assert foldable_conv_affines(rewritten) == {"affine_constants_second": 1, "affine_constants_per_channel": 2}
    onnx.checker.check_model(rewritten, full_check=True)
    x = rng.normal(size=(2, 4, *spatial)).astype(np.float32)
    np.testing.assert_array_equal(_session(rewritten, fused=False).run(None, {"x": x})[0], _session(written, fused=False).run(None, {"x": x})[0])

    def folded_ops(model: onnx.ModelProto) -> list:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
        ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return [n.op_type for n in onnx.load(str(tmp_path / "optimized.onnx")).graph.node]

    assert {"Mul", "Add"} <= set(folded_ops(written))  # as paddle2onnx writes it, onnxruntime folds neither
    assert not {"Mul", "Add"} & set(folded_ops(rewritten))


def test_a_scalar_affine_after_an_activation_becomes_a_batch_norm_with_the_same_outputs():
    """PP-LCNetV3's `HardSwish -> Mul(scale) -> Add(bias)`, constants first as paddle2onnx writes them, becomes one
    BatchNormalization per channel (mean 0, variance 1, epsilon 0): bit for bit the same outputs unoptimized (x86), up
    to rounding optimized; undone, the same tensors of the same names again, but for a BatchNormalization of the user's
    own that only looks like one; an int8 graph is refused."""
    from onnx import TensorProto, helper, numpy_helper

    from paddle_edge.export.onnx_float_affine import affines_as_batch_norms, batch_norms_as_affines

    rng = np.random.default_rng(0)
    const = lambda name, value: helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value, np.float32), name))  # noqa: E731
    nodes = [const("w1", rng.normal(size=(8, 4, 3, 3))), const("w2", rng.normal(size=(6, 8, 1, 1))), const("s", [1.7]), const("b", [-0.4]),
             helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]), helper.make_node("HardSwish", ["c1"], ["h"]),
             helper.make_node("Mul", ["s", "h"], ["m"]), helper.make_node("Add", ["b", "m"], ["a"]), helper.make_node("Conv", ["a", "w2"], ["out"])]
    graph = helper.make_graph(nodes, "lab", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 9, 9])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 6, 9, 9])])
    written = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    rewritten = onnx.ModelProto.FromString(written.SerializeToString())
    assert affines_as_batch_norms(rewritten) == {"affine_as_batch_norm": 1}
    onnx.checker.check_model(rewritten, full_check=True)
    assert [n.op_type for n in rewritten.graph.node if n.op_type != "Constant"] == ["Conv", "HardSwish", "BatchNormalization", "Conv"]
    x = rng.normal(size=(2, 4, 9, 9)).astype(np.float32) * 3
    want = _session(written, fused=False).run(None, {"x": x})[0]
    np.testing.assert_array_equal(_session(rewritten, fused=False).run(None, {"x": x})[0], want)
    np.testing.assert_allclose(_session(rewritten).run(None, {"x": x})[0], want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    look_alike = onnx.ModelProto.FromString(rewritten.SerializeToString())
    mean = next(i for i in look_alike.graph.initializer if i.name.endswith(".mean"))
    mean.CopyFrom(numpy_helper.from_array(np.full(8, 0.5, np.float32), mean.name))
    assert batch_norms_as_affines(look_alike) == 0  # not what the rewrite writes: left as it is
    assert batch_norms_as_affines(rewritten) == 1  # undone for the quantization debugger, which matches tensors by name
    undone = [(n.op_type, [i for i in n.input], [o for o in n.output]) for n in rewritten.graph.node if n.op_type in ("Mul", "Add")]
    assert undone == [("Mul", ["h", "s"], ["m"]), ("Add", ["m", "b"], ["a"])]
    np.testing.assert_array_equal(_session(rewritten, fused=False).run(None, {"x": x})[0], want)
    quantized = onnx.ModelProto.FromString(written.SerializeToString())
    quantized.graph.node.append(helper.make_node("QuantizeLinear", ["out", "s"], ["q"]))
    with pytest.raises(ValueError, match="float graphs only"):
        affines_as_batch_norms(quantized)


def test_the_openvino_layout_re_encodes_only_pairs_it_can_change_together():
    """uint8 zero point 128 -> int8 zero point 0 on a Q/DQ pair: the same values out; codes that leave the graph keep
    their type (a graph output's type is part of the model's contract)."""
    from onnx import TensorProto, helper, numpy_helper

    from paddle_edge.export.onnx_openvino_layout import to_int8_activations

    inits = [numpy_helper.from_array(np.array(0.05, np.float32), "s"), numpy_helper.from_array(np.array(128, np.uint8), "z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]), helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
             helper.make_node("Relu", ["d"], ["r"]), helper.make_node("QuantizeLinear", ["r", "s", "z"], ["codes"])]
    graph = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [64])],
                              [helper.make_tensor_value_info("r", TensorProto.FLOAT, [64]), helper.make_tensor_value_info("codes", TensorProto.UINT8, [64])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    rewritten, changed = to_int8_activations(model)
    assert changed == 1  # the pair; not the quantizer whose codes are an output
    onnx.checker.check_model(rewritten, full_check=True)
    x = np.linspace(-8, 8, 64, dtype=np.float32)
    for a, b in zip(_session(rewritten, fused=False).run(None, {"x": x}), _session(model, fused=False).run(None, {"x": x})):
        np.testing.assert_array_equal(a, b)


def _hardswish_between_quantizers(x_scale: float, s: float, b: float, out_scale: float, out_zero: int) -> onnx.ModelProto:
    """DQ -> HardSwish -> Mul(s) -> Add(b) -> Q -> DQ over every uint8 code of the input (zero point 128); with s = None,
    no affine block: DQ -> HardSwish -> Q -> DQ (MobileNetV3's)."""
    from onnx import TensorProto, helper, numpy_helper

    init = {"x_s": np.float32(x_scale), "x_z": np.uint8(128), "o_s": np.float32(out_scale), "o_z": np.uint8(out_zero),
            **({} if s is None else {"s": np.array([s], np.float32), "b": np.array([b], np.float32)})}
    n = helper.make_node
    affine = [] if s is None else [n("Mul", ["h", "s"], ["m"]), n("Add", ["m", "b"], ["a"])]
    nodes = [n("DequantizeLinear", ["codes", "x_s", "x_z"], ["x"]), n("HardSwish", ["x"], ["h"]), *affine,
             n("QuantizeLinear", ["a" if affine else "h", "o_s", "o_z"], ["q"]), n("DequantizeLinear", ["q", "o_s", "o_z"], ["out"])]
    graph = helper.make_graph(nodes, "hardswish", [helper.make_tensor_value_info("codes", TensorProto.UINT8, [1, 256])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 256])],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in init.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)


@pytest.mark.parametrize("x_scale,s,b,out_scale,out_zero", [(0.05, 0.8, -0.1, 0.03, 100), (0.02, 1.7, 0.33, 0.045, 12),
                                                           (0.1, 1.0, 0.0, 0.05, 40), (0.04, None, None, 0.03, 20)])
def test_hardswish_between_quantizers_runs_on_int8_kernels_within_a_step_and_a_half(tmp_path, x_scale, s, b, out_scale, out_zero):
    """Every input code: the requantized HardSwish returns the original's value to within 1.5 output steps (its
    product rounded once, b rounded to whole codes, HardSigmoid rounded to 1/255), and onnxruntime runs it as
    QLinearLeakyRelu and QLinearMul, with the same values as the file's exact QDQ semantics."""
    import onnxruntime as ort

    from paddle_edge.export.onnx_hardswish import requantize_hardswish

    model = _hardswish_between_quantizers(x_scale, s, b, out_scale, out_zero)
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert requantize_hardswish(rewritten) == 1
    onnx.checker.check_model(rewritten, full_check=True)
    codes = np.arange(256, dtype=np.uint8)[None]
    want, exact, fused = (_session(m, fused=f).run(None, {"codes": codes})[0] for m, f in ((model, False), (rewritten, False), (rewritten, True)))
    steps = np.abs(exact - want) / out_scale
    print(f"output steps moved: max {steps.max():.2f}, mean {steps.mean():.3f}")
    assert steps.max() <= 1.5 + 1e-4 and steps.mean() <= 0.5
    np.testing.assert_allclose(fused, exact, atol=out_scale * 1.001)  # the lookup and the int8 multiply: one step at most
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(rewritten.SerializeToString(), options, providers=["CPUExecutionProvider"])
    ops = op_histogram(tmp_path / "optimized.onnx")
    assert ops.get("QLinearLeakyRelu") == 1 and ops.get("QLinearMul") == 1, ops
    assert not {"HardSwish", "HardSigmoid", "Mul", "Add"} & set(ops), ops  # no float pass over the tensor left
    kinds = [n.op_type for n in rewritten.graph.node]
    assert kinds.count("Mul") == 1 and "Add" not in kinds and "HardSwish" not in kinds  # the product only: the affine block folded


def test_hardswish_with_a_negative_scale_after_it_is_left_alone():
    from paddle_edge.export.onnx_hardswish import requantize_hardswish

    model = _hardswish_between_quantizers(0.05, -0.8, 0.1, 0.03, 100)
    assert requantize_hardswish(model) == 0 and "HardSwish" in [n.op_type for n in model.graph.node]


def test_a_pplcnet_block_with_its_folds_runs_in_int8_from_conv_to_quantizer(tmp_path):
    """Conv -> affine -> HardSwish -> affine, after the affine fold and the HardSwish rewrite: onnxruntime fuses all of it
    into QLinearConv, QLinearLeakyRelu and QLinearMul (the block's readers keep the quantizer the conv after reads)."""
    import onnxruntime as ort

    from paddle_edge.export.onnx_affine_quantizers import fold_affine_after_conv
    from paddle_edge.export.onnx_hardswish import requantize_hardswish

    model = _pplcnet_block(squeeze=False)
    assert fold_affine_after_conv(model) == 1 and requantize_hardswish(model) == 1
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    ops = op_histogram(tmp_path / "optimized.onnx")
    assert ops.get("QLinearConv") == ops.get("QLinearLeakyRelu") == ops.get("QLinearMul") == 1, ops
    assert not {"Conv", "HardSwish", "HardSigmoid", "Mul", "Add"} & set(ops), ops


def _with_channel_scale(model: onnx.ModelProto, weight_scale: float) -> onnx.ModelProto:
    """The block with its conv's first channel at `weight_scale` (its bias scale to match, its bias codes 0)."""
    from paddle_edge.export.onnx_fold import constant_values

    inits = {i.name: i for i in model.graph.initializer}
    for name, value in (("w_s", weight_scale), ("b_s", np.float32(0.02) * np.float32(weight_scale)), ("b", 0)):
        array = constant_values(model.graph)[name].copy()
        array[0] = np.asarray(value).astype(array.dtype)
        inits[name].CopyFrom(onnx.numpy_helper.from_array(array, name))
    return model


@pytest.mark.parametrize("weight_scale", [5.7e-44, 0.0])
def test_an_affine_block_after_a_conv_with_a_dead_channel_folds_within_a_step(weight_scale):
    """A channel of near-zero weights gets a zero or denormal scale from PaddleSlim's abs-max, in whose bias units no
    shift fits int32 (it once overflowed int64 and wrote a wrong bias). Its weights reach less than a thousandth of the
    output step, so they become 0 with a live scale, and the block folds like any other."""
    from paddle_edge.export.onnx_affine_quantizers import fold_affine_after_conv

    model = _with_channel_scale(_pplcnet_block(squeeze=False), weight_scale)
    folded = onnx.ModelProto.FromString(model.SerializeToString())
    assert fold_affine_after_conv(folded) == 1
    onnx.checker.check_model(folded, full_check=True)
    x = np.random.default_rng(4).uniform(-2, 2, (2, 4, 16, 16)).astype(np.float32)
    for m, block in ((model, "a1"), (folded, "yd")):
        m.graph.output.append(onnx.helper.make_value_info(block, onnx.helper.make_tensor_type_proto(onnx.TensorProto.FLOAT, None)))
    (a1,), (yd,) = (_session(m, fused=False).run([block], {"x": x}) for m, block in ((model, "a1"), (folded, "yd")))
    assert np.abs(yd - a1).max() <= 0.05 * 1.3 + 1e-6  # one step of the folded quantizer, the dead channel included


def test_an_affine_block_after_a_conv_whose_shift_does_not_fit_a_live_channel_is_left_alone():
    from paddle_edge.export.onnx_affine_quantizers import fold_affine_after_conv

    model = _with_channel_scale(_pplcnet_block(squeeze=False), 5e-9)  # live (just over a thousandth of a step), bias unit too fine
    assert fold_affine_after_conv(model) == 0
    assert [n.op_type for n in model.graph.node].count("Mul") == 2


def test_an_affine_block_after_a_conv_of_float_input_with_a_dead_channel_is_left_alone():
    """A dead channel is revived only where the conv reads a quantized input (its bias unit needs the input's scale)."""
    from paddle_edge.export.onnx_affine_quantizers import fold_affine_after_conv

    model = _with_channel_scale(_pplcnet_block(squeeze=False), 5.7e-44)
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    conv.input[0] = "x"  # the float input, as export's rewrite 1 leaves a conv over an image
    assert fold_affine_after_conv(model) == 0


def test_the_rounded_shift_of_hardswish_s_affine_block_is_taken_out_of_the_conv_that_reads_it():
    """b / S = 3.4 codes rounds to 3: every value of the product reads 0.4 of a step low on average, a drift the 1x1
    conv after it sums over its 16 input channels; its int32 bias takes the mean back."""
    from onnx import TensorProto, helper, numpy_helper

    from paddle_edge.export.onnx_hardswish import requantize_hardswish

    rng = np.random.default_rng(5)
    out_scale, b = 0.05, 3.4 * 0.05
    weights = rng.integers(0, 60, (8, 16, 1, 1)).astype(np.int8)  # positive sums: the drift adds up
    init = {"x_s": np.float32(0.04), "x_z": np.uint8(128), "s": np.array([0.9], np.float32), "b": np.array([b], np.float32),
            "o_s": np.float32(out_scale), "o_z": np.uint8(30), "w": weights, "w_s": np.full(8, 0.01, np.float32),
            "bias": np.zeros(8, np.int32), "b_s": np.full(8, out_scale * 0.01, np.float32)}
    n = helper.make_node
    nodes = [n("DequantizeLinear", ["codes", "x_s", "x_z"], ["x"]), n("HardSwish", ["x"], ["h"]), n("Mul", ["h", "s"], ["m"]),
             n("Add", ["m", "b"], ["a"]), n("QuantizeLinear", ["a", "o_s", "o_z"], ["q"]), n("DequantizeLinear", ["q", "o_s", "o_z"], ["y"]),
             n("DequantizeLinear", ["w", "w_s"], ["wd"], axis=0), n("DequantizeLinear", ["bias", "b_s"], ["bd"], axis=0),
             n("Conv", ["y", "wd", "bd"], ["out"])]
    graph = helper.make_graph(nodes, "read", [helper.make_tensor_value_info("codes", TensorProto.UINT8, [4, 16, 8, 8])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [4, 8, 8, 8])],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in init.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert requantize_hardswish(rewritten) == 1
    codes = rng.integers(40, 256, (4, 16, 8, 8)).astype(np.uint8)
    want, got = (_session(m, fused=False).run(None, {"codes": codes})[0] for m in (model, rewritten))
    drift = 0.4 * out_scale * (weights.reshape(8, -1).sum(axis=1) * 0.01)  # what the rounding alone would move each channel by
    mean_error = (got - want).mean(axis=(0, 2, 3))
    print(f"mean error per channel {np.abs(mean_error).max():.4f}, uncorrected drift {drift.min():.4f}-{drift.max():.4f}")
    assert np.all(np.abs(mean_error) < 0.25 * drift)
