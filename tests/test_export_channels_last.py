"""Export's channels-last rewrites of the int8 ONNX: a quantized nearest upsampling as a copy of codes, and a quantized
ConvTranspose whose kernel equals its stride as an int8 1x1 conv and a pixel shuffle (the PP-OCRv4 detector's FPN and
DB head), each checked against the original graph in onnxruntime on synthetic QDQ graphs."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from paddle_edge.export.onnx import op_histogram
from paddle_edge.export.onnx_conv_transpose import conv_transpose_as_conv
from paddle_edge.export.onnx_upsample import upsample_channels_last

n = helper.make_node


def _model(nodes: List[onnx.NodeProto], init: Dict[str, np.ndarray], channels: int, out_type: int = TensorProto.FLOAT) -> onnx.ModelProto:
    """A graph over uint8 codes [N, C, H, W] (N, H and W free) writing `out`."""
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("codes", TensorProto.UINT8, ["n", channels, "h", "w"])],
                              [helper.make_tensor_value_info("out", out_type, ["n", "c", "y", "x"])],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in init.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)


def _run(model: onnx.ModelProto, codes: np.ndarray, fused: bool, optimized: Optional[Path] = None) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    if not fused:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if optimized is not None:
        options.optimized_model_filepath = str(optimized)
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"]).run(None, {"codes": codes})[0]


def _conv(name: str, inp: str, out: str, init: Dict[str, np.ndarray], channels: int, rng: np.random.Generator) -> List[onnx.NodeProto]:
    """A QDQ 3x3 conv of uint8 activations (scale 0.05, zero point 128) to `channels`, quantized again: what onnxruntime
    fuses into a QLinearConv, run channels-last."""
    init.update({f"{name}_w": rng.integers(-127, 128, (channels, channels, 3, 3)).astype(np.int8), f"{name}_ws": np.full(channels, 0.01, np.float32),
                 f"{name}_wz": np.zeros(channels, np.int8), f"{name}_s": np.float32(0.05), f"{name}_z": np.uint8(128)})
    return [n("DequantizeLinear", [inp, "x_s", "x_z"], [f"{name}_x"]),
            n("DequantizeLinear", [f"{name}_w", f"{name}_ws", f"{name}_wz"], [f"{name}_wf"], axis=0),
            n("Conv", [f"{name}_x", f"{name}_wf"], [f"{name}_y"], pads=[1, 1, 1, 1]),
            n("QuantizeLinear", [f"{name}_y", f"{name}_s", f"{name}_z"], [out])]


def _upsampling(scales, mode=b"asymmetric", out_scale=0.05, convs=False) -> onnx.ModelProto:
    """codes -> [conv] -> DQ -> Resize(nearest, `scales`) -> Q -> [conv] -> DQ: the FPN's upsampling after export's rewrite 5."""
    rng = np.random.default_rng(0)
    init = {"x_s": np.float32(0.05), "x_z": np.uint8(128), "o_s": np.float32(out_scale), "o_z": np.uint8(128),
            "roi": np.zeros(0, np.float32), "scales": np.array(scales, np.float32)}
    nodes = _conv("first", "codes", "a", init, 8, rng) if convs else []
    nodes += [n("DequantizeLinear", ["a" if convs else "codes", "x_s", "x_z"], ["x"]),
              n("Resize", ["x", "roi", "scales"], ["up"], mode="nearest", coordinate_transformation_mode=mode, nearest_mode="floor"),
              n("QuantizeLinear", ["up", "o_s", "o_z"], ["q"])]
    nodes += _conv("second", "q", "q2", init, 8, rng) if convs else []
    nodes.append(n("DequantizeLinear", ["q2" if convs else "q", "o_s", "o_z"], ["out"]))
    return _model(nodes, init, 8)


@pytest.mark.parametrize("scales", [(1, 1, 2, 2), (1, 1, 8, 8), (1, 1, 2, 3)])
def test_a_quantized_upsampling_becomes_a_copy_of_its_codes_bit_for_bit(scales):
    """Every output equal to the Resize's, exact and fused, at two sizes and batches (N, H, W are free in the file)."""
    model = _upsampling(scales)
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert upsample_channels_last(rewritten) == 1
    onnx.checker.check_model(rewritten, full_check=True)
    kinds = [node.op_type for node in rewritten.graph.node]
    assert "Resize" not in kinds and "QuantizeLinear" not in kinds, kinds  # the copy replaces the Resize and its quantizer pair
    rng = np.random.default_rng(1)
    for shape in ((1, 8, 5, 7), (3, 8, 4, 4)):
        codes = rng.integers(0, 256, shape, dtype=np.uint8)
        want = _run(model, codes, fused=False)
        for fused in (False, True):
            np.testing.assert_array_equal(_run(rewritten, codes, fused), want)


def test_between_int8_convs_the_copy_runs_channels_last_with_no_transpose_left(tmp_path):
    """onnxruntime runs the convs channels-last: it cancels the copy's two Transposes against its own, so its optimized
    graph has no Resize and no Transpose between the two QLinearConvs, and the outputs are the original's."""
    model = _upsampling((1, 1, 2, 2), convs=True)
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert upsample_channels_last(rewritten) == 1
    codes = np.random.default_rng(2).integers(0, 256, (1, 8, 6, 6), dtype=np.uint8)
    np.testing.assert_array_equal(_run(rewritten, codes, True, tmp_path / "new.onnx"), _run(model, codes, True, tmp_path / "old.onnx"))
    before, after = op_histogram(tmp_path / "old.onnx"), op_histogram(tmp_path / "new.onnx")
    assert before.get("Resize") == 1 and after.get("QLinearConv") == 2 and "Resize" not in after, after
    assert after.get("Transpose", 0) <= before.get("Transpose", 0), (before, after)


@pytest.mark.parametrize("change", ["half_pixel", "fractional", "other_quantizer", "opset_12"])
def test_an_upsampling_that_is_not_a_whole_copy_between_one_quantizer_is_left_alone(change):
    model = _upsampling((1, 1, 1.5, 1.5) if change == "fractional" else (1, 1, 2, 2),
                        mode=b"half_pixel" if change == "half_pixel" else b"asymmetric", out_scale=0.1 if change == "other_quantizer" else 0.05)
    if change == "opset_12":  # Unsqueeze takes its axes as an input from 13
        model.opset_import[0].version = 12
    assert upsample_channels_last(model) == 0 and "Resize" in [node.op_type for node in model.graph.node]


def _conv_transpose(kernel=(2, 2), stride=(2, 2), on_grid=True, quantized_out=True, computed_bias=False, seed=0) -> onnx.ModelProto:
    """codes -> DQ -> ConvTranspose(W, b) -> Add -> BatchNormalization -> Q -> DQ: the DB head's first upsampling, with
    PaddleSlim's channel-wise weights (on a per-output-channel int8 grid), a negative and a zero gain, a dead channel."""
    rng = np.random.default_rng(seed)
    c_in, c_out = 6, 5
    step = rng.uniform(0.002, 0.02, c_out).astype(np.float32)
    step[3] = 0
    codes = rng.integers(-127, 128, (c_in, c_out, *kernel))
    codes[0, :, 0, 0] = 127  # abs-max: each channel's largest weight is its scale times 127
    weights = (codes * step[None, :, None, None]).astype(np.float32)
    if not on_grid:
        weights += rng.normal(0, 1e-3, weights.shape).astype(np.float32)
    gamma = rng.uniform(0.5, 2, c_out).astype(np.float32)
    gamma[1], gamma[2] = -gamma[1], 0
    init = {"x_s": np.float32(0.04), "x_z": np.uint8(0), "w": weights, "b": rng.normal(0, 0.3, c_out).astype(np.float32),
            "add": rng.normal(0, 0.3, (1, c_out, 1, 1)).astype(np.float32), "gamma": gamma, "beta": rng.normal(0, 0.5, c_out).astype(np.float32),
            "mean": rng.normal(0, 0.5, c_out).astype(np.float32), "var": rng.uniform(0.5, 2, c_out).astype(np.float32),
            "o_s": np.float32(0.03), "o_z": np.uint8(128), "one": np.ones(c_out, np.float32)}
    nodes = [n("DequantizeLinear", ["codes", "x_s", "x_z"], ["x"]),
             *([n("Mul", ["b", "one"], ["b_computed"])] if computed_bias else []),
             n("ConvTranspose", ["x", "w", "b_computed" if computed_bias else "b"], ["t"], kernel_shape=list(kernel), strides=list(stride)),
             n("Add", ["t", "add"], ["a"]), n("BatchNormalization", ["a", "gamma", "beta", "mean", "var"], ["bn"], epsilon=1e-5)]
    nodes += [n("QuantizeLinear", ["bn", "o_s", "o_z"], ["q"]), n("DequantizeLinear", ["q", "o_s", "o_z"], ["out"])] if quantized_out else [
        n("Identity", ["bn"], ["out"])]
    return _model(nodes, init, c_in)


@pytest.mark.parametrize("kernel", [(2, 2), (2, 3)])
def test_a_stride_sized_conv_transpose_runs_as_an_int8_conv_within_a_step(tmp_path, kernel):
    """The rewrite's output codes equal the original's but where a float value sat on a rounding boundary (at most one
    step), exact and fused; onnxruntime runs it as a QLinearConv with no ConvTranspose, Add or BatchNormalization left."""
    model = _conv_transpose(kernel, kernel)
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert conv_transpose_as_conv(rewritten) == 1
    onnx.checker.check_model(rewritten, full_check=True)
    codes = np.random.default_rng(3).integers(0, 256, (2, 6, 9, 7), dtype=np.uint8)
    want = _run(model, codes, fused=False)
    for fused in (False, True):
        got = _run(rewritten, codes, fused, tmp_path / "optimized.onnx" if fused else None)
        steps = np.abs(got - want) / 0.03
        assert got.shape == want.shape == (2, 5, 9 * kernel[0], 7 * kernel[1]) and steps.max() <= 1 + 1e-3 and (steps > 0.5).mean() < 0.01, (steps.max(), (steps > 0.5).mean())
    ops = op_histogram(tmp_path / "optimized.onnx")
    assert ops.get("QLinearConv") == 1 and not {"ConvTranspose", "Conv", "Add", "BatchNormalization"} & set(ops), ops


@pytest.mark.parametrize("change", ["overlapping", "off_grid", "float_output", "computed_bias", "opset_12"])
def test_a_conv_transpose_that_is_not_stride_sized_on_a_grid_and_quantized_is_left_alone(change):
    model = _conv_transpose(kernel=(3, 3) if change == "overlapping" else (2, 2), on_grid=change != "off_grid",
                            quantized_out=change != "float_output", computed_bias=change == "computed_bias")
    if change == "opset_12":  # per-channel DequantizeLinear needs 13
        model.opset_import[0].version = 12
    assert conv_transpose_as_conv(model) == 0 and "ConvTranspose" in [node.op_type for node in model.graph.node]


def test_the_debuggers_matching_leaves_out_a_rewritten_conv_transpose_and_refuses_other_differences():
    """The int8 file's 1x1 conv holds the ConvTranspose's value in another layout, which no float tensor holds:
    quant-debug and board parity's kernel cases match the other ops and leave that one out, on both sides."""
    from paddle_edge.boards.quant_debug.graph import DifferentNetworks, match_networks

    int8 = _conv_transpose()
    float_model = onnx.ModelProto.FromString(int8.SerializeToString())
    del float_model.graph.node[:]
    float_model.graph.node.extend([n("Cast", ["codes"], ["x"], to=TensorProto.FLOAT),
                                   *[node for node in int8.graph.node if node.op_type in ("ConvTranspose", "Add", "BatchNormalization")],
                                   n("Identity", ["bn"], ["out"])])
    assert [op.op_type for op in match_networks(float_model, int8)] == ["ConvTranspose"]
    rewritten = onnx.ModelProto.FromString(int8.SerializeToString())
    assert conv_transpose_as_conv(rewritten) == 1
    assert match_networks(float_model, rewritten) == []
    renamed = onnx.ModelProto.FromString(rewritten.SerializeToString())
    next(node for node in renamed.graph.node if node.op_type == "Conv").output[0] = "other.conv"
    with pytest.raises(DifferentNetworks, match="the int8 model has Conv -> other.conv"):
        match_networks(float_model, renamed)


def _upsampling_between_convs() -> Tuple[onnx.ModelProto, onnx.ModelProto, onnx.ModelProto]:
    """The float model, its int8 QDQ graph (conv, upsampling, conv) and that graph after rewrite 6."""
    int8 = _upsampling((1, 1, 2, 2), convs=True)
    weights = {t.name: numpy_helper.to_array(t).astype(np.float32) * 0.01 for t in int8.graph.initializer if t.name in ("first_w", "second_w")}
    float_model = _model([n("Cast", ["codes"], ["x0"], to=TensorProto.FLOAT), n("Conv", ["x0", "first_w"], ["first_y"], pads=[1, 1, 1, 1]),
                          n("Resize", ["first_y", "roi", "scales"], ["up"], mode="nearest", coordinate_transformation_mode="asymmetric",
                            nearest_mode="floor"),
                          n("Conv", ["up", "second_w"], ["second_y"], pads=[1, 1, 1, 1]), n("Identity", ["second_y"], ["out"])],
                         {**weights, "roi": np.zeros(0, np.float32), "scales": np.array([1, 1, 2, 2], np.float32)}, 8)
    rewritten = onnx.ModelProto.FromString(int8.SerializeToString())
    assert upsample_channels_last(rewritten) == 1
    return float_model, int8, rewritten


def test_the_debugger_reads_copied_codes_as_int8_inputs():
    """After rewrite 6 the second conv's DequantizeLinear reads codes the copy moved: the op still counts as int8 (its
    input is the first conv's quantizer), and the debugger's op-alone runs, which feed a quantizer's own codes, leave
    that input out (None), as they do a float input; without the rewrite the quantizer is the input's."""
    from paddle_edge.boards.quant_debug.graph import INT8, activation_quantizers, match_networks

    float_model, int8, rewritten = _upsampling_between_convs()
    before, after = match_networks(float_model, int8), match_networks(float_model, rewritten)
    assert [op.precision for op in after] == [op.precision for op in before] and before[1].precision == INT8, after
    assert before[1].inputs[0].codes == "q" and after[1].inputs == (None,) and after[1].activation_sources == ("second_x",), after
    assert "a" in {q.quantizer.codes for q in activation_quantizers(float_model, int8, before)}


def test_the_debugger_measures_no_float_input_gain_for_an_op_reading_only_copied_codes():
    """The gain of feeding an int8 op its input in float reruns the model from the op with the quantizer's source in place
    of its codes; an op that reads only copies of codes (after rewrite 6) has no such input, so its gain is not measured
    (None), where rerunning the same int8 values would report a gain of 0 dB."""
    from paddle_edge.boards.quant_debug.debugger import _Runs
    from paddle_edge.boards.quant_debug.graph import activation_quantizers, match_networks

    float_model, int8, rewritten = _upsampling_between_convs()
    codes = np.random.default_rng(1).integers(100, 156, (2, 8, 6, 6)).astype(np.uint8)
    gains = {}
    for name, model in (("before", int8), ("after", rewritten)):
        ops = match_networks(float_model, model)
        runs = _Runs(float_model, model, model, ops, activation_quantizers(float_model, model, ops), threads=1)
        runs.add({"codes": codes})
        gains[name] = [runs.row(op, {}, (None, None)).float_input_gain_db for op in ops]
    assert gains["before"][1] is not None and gains["after"][1] is None, gains
    assert gains["before"][0] == pytest.approx(gains["after"][0]), gains  # the first conv reads the model's input codes alike
