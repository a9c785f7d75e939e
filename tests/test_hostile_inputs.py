"""Hostile inputs to the runtime: each gets a clear error or a defined result, never a crash. Fuzzed with hypothesis."""
from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from robustness import TRIED

from paddle_edge import runtime
from paddle_edge.runtime.backends.onnxruntime import OnnxRuntimeBackend
from paddle_edge.runtime.errors import BackendError, InputError
from paddle_edge.runtime.manifest import ImageSpec, Resize
from paddle_edge.runtime.predictor import MAX_BATCH, Predictor
from paddle_edge.runtime.preprocess import load_image

SPEC = ImageSpec("L", Resize("stretch", 28, 28), invert_light_background=True)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module", params=["fp32", "int8"])
def predictor(request, lenet_bundle):
    return runtime.open(lenet_bundle.directory, backend="onnxruntime", precision=request.param, threads=2)


def _fresh(predictor: Predictor) -> Predictor:
    """A predictor on the same engine with nothing remembered: the first call's checks, not the cached ones."""
    return Predictor(predictor.manifest, predictor.backend, predictor.backend_name, predictor.precision)


def _digit() -> np.ndarray:
    d = np.zeros((28, 28), np.uint8)
    d[6:22, 12:16] = 255
    return d


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_non_finite_inputs_are_refused_naming_where(predictor, batch):
    for bad in (np.nan, np.inf, -np.inf):
        x = batch.copy()
        x[3, 0, 5, 7] = bad
        with pytest.raises(InputError, match=r"1 NaN or infinite values \(first at index \(3, 0, 5, 7\)\)"):
            predictor.predict(x)
        TRIED["fuzz cases"] += 1


def test_non_contiguous_huge_and_odd_batches_have_defined_results(predictor, mnist_test):
    x = mnist_test[0][:8]
    expected = predictor.predict(np.ascontiguousarray(x))[0]
    strided = np.zeros((16, 1, 28, 56), np.float32)[::2, :, :, ::2]
    strided[...] = x
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(predictor.predict(strided)[0], expected)
    fortran = np.asfortranarray(x)
    np.testing.assert_array_equal(predictor.predict(fortran)[0], expected)
    huge = np.ascontiguousarray(mnist_test[0][: MAX_BATCH * 2 + 37])  # runs in slices of MAX_BATCH
    out = predictor.predict(huge)[0]
    assert out.shape == (len(huge), 10)
    np.testing.assert_allclose(out[:8], expected, rtol=1e-5, atol=1e-5)
    for bad, match in ((x[:0], "empty batch"), (x.astype(np.float64), "dtype float64"), (x[0], "rank 3"),
                       (np.zeros((2, 3, 28, 28), np.float32), "channel count 3"), (x.tolist(), "not a numpy array")):
        with pytest.raises(InputError, match=match):
            predictor.predict(bad)
        TRIED["fuzz cases"] += 1


@FUZZ
@given(x=hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_]),
                    shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=30),
                    elements=None))
def test_predict_fuzz_raises_input_error_or_answers(predictor, x):
    """Both a predictor shared across examples (its remembered shapes) and a fresh one (its first call) are fuzzed."""
    for p in (predictor, _fresh(predictor)):
        TRIED["fuzz cases"] += 1
        try:
            out = p.predict(x)[0]
        except InputError:
            continue
        assert out.shape == (x.shape[0], 10) and np.isfinite(out).all()


@pytest.mark.parametrize("value", [np.float32(np.nan), np.float32(0.5)], ids=["nan", "finite"])
def test_a_0d_input_to_a_fresh_predictor_is_a_rank_error(predictor, value):
    """A fresh predictor once took a 0-d float32 for its remembered shape () and skipped every check."""
    with pytest.raises(InputError, match=r"rank 0 \(shape \(\)\), the model takes rank 4"):
        _fresh(predictor).predict(np.asarray(value))
    TRIED["fuzz cases"] += 1


@FUZZ
@given(shape=st.tuples(st.integers(1, 40), st.integers(1, 1), st.just(28), st.just(28)),
       special=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([np.nan, np.inf, -np.inf, 3e38, -3e38, 0.0])), max_size=4),
       data=st.data())
def test_predict_fuzz_values(predictor, shape, special, data):
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(-3, 3, width=32)))
    for index, value in special:
        x.reshape(-1)[index % x.size] = value
    for p in (predictor, _fresh(predictor)):
        TRIED["fuzz cases"] += 1
        try:
            out = p.predict(x)[0]
        except InputError as exc:
            assert not np.isfinite(x).all(), exc
            continue
        assert np.isfinite(x).all() and out.shape == (shape[0], 10)


@pytest.mark.parametrize("make", [
    lambda d: Image.fromarray(d.astype(np.uint16) * 257),                     # 16-bit grey
    lambda d: Image.fromarray(np.dstack([np.zeros_like(d)] * 3 + [d]), "RGBA"),  # black ink, transparent background
    lambda d: Image.fromarray(d).convert("P"),                                 # palette
    lambda d: Image.fromarray(255 - d).convert("RGB"),                         # dark ink on white paper
    lambda d: Image.fromarray(d).convert("LA"),
    lambda d: Image.fromarray(d).convert("1"),
], ids=["16-bit", "rgba", "palette", "rgb-paper", "la", "1-bit"])
def test_image_modes_load_as_the_same_digit(make, tmp_path):
    path = tmp_path / "digit.png"
    path.write_bytes(_png(make(_digit())))
    pixels = load_image(path, SPEC)
    TRIED["fuzz cases"] += 1
    assert pixels.shape == (1, 28, 28) and pixels.dtype == np.float32
    np.testing.assert_allclose(pixels[0], _digit(), atol=2)  # ink bright on dark, as the model was trained


@pytest.mark.parametrize("content, match", [
    (lambda: (lambda b: b[:len(b) // 2])(_png(Image.fromarray(_digit()))), "truncated|not a readable image"),  # cut in IDAT
    (lambda: b"", "not a readable image"),
    (lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a readable image"),
    (lambda: b"GIF89a" + b"\xff" * 10, "not a readable image"),
], ids=["truncated", "empty-file", "header-only", "garbage-gif"])
def test_broken_image_files_raise_input_error(content, match, tmp_path):
    path = tmp_path / "bad.png"
    path.write_bytes(content())
    with pytest.raises(InputError, match=match):
        load_image(path, SPEC)
    TRIED["fuzz cases"] += 1


def test_bad_image_arrays_raise_input_error():
    for bad in (np.zeros((0, 0), np.uint8), np.zeros((28, 28, 2), np.uint8), np.full((28, 28), np.nan), np.full((28, 28), 300.0),
                np.zeros((2, 28, 28, 1), np.uint8), np.array("x")):
        with pytest.raises(InputError):
            load_image(bad, SPEC)
        TRIED["fuzz cases"] += 1


@FUZZ
@given(blob=st.binary(max_size=2048), keep=st.integers(0, 400))
def test_image_loader_fuzz_bytes(blob, keep, tmp_path):
    TRIED["fuzz cases"] += 1
    path = tmp_path / "fuzz.png"
    path.write_bytes(_png(Image.fromarray(_digit()))[:keep] + blob)
    try:
        pixels = load_image(path, SPEC)
    except InputError:
        return
    assert pixels.shape == (1, 28, 28) and np.isfinite(pixels).all() and 0 <= pixels.min() <= pixels.max() <= 255


@FUZZ
@given(mode=st.sampled_from(["L", "RGB", "RGBA", "P", "I;16", "I", "F", "1", "LA", "CMYK", "YCbCr"]),
       size=st.tuples(st.integers(1, 64), st.integers(1, 64)), seed=st.integers(0, 2**32 - 1))
def test_image_loader_fuzz_modes(mode, size, seed):
    TRIED["fuzz cases"] += 1
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB").convert(mode)
    pixels = load_image(image, SPEC)
    assert pixels.shape == (1, 28, 28) and np.isfinite(pixels).all() and 0 <= pixels.min() <= pixels.max() <= 255


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino-throughput"])
def test_one_predictor_serves_8_threads(lenet_bundle, mnist_test, backend):
    """8 threads x 1,000 predictions on one predictor, each checked against the single-threaded answer (OpenVINO's
    throughput backend splits each batch across its requests: one call owns them at a time)."""
    predictor = runtime.open(lenet_bundle.directory, backend=backend, precision="int8", threads=2)
    samples = [np.ascontiguousarray(mnist_test[0][i:i + 1 + i % 3]) for i in range(50)]
    expected = [predictor.predict(x)[0] for x in samples]
    wrong, errors = [], []

    def serve(worker: int) -> None:
        try:
            for call in range(1000):
                i = (worker * 7 + call) % len(samples)
                if not np.array_equal(predictor.predict(samples[i])[0], expected[i]):
                    wrong.append((worker, call))
        except Exception as exc:  # noqa: BLE001 - any failure in a worker is the test's finding
            errors.append(repr(exc))

    threads = [threading.Thread(target=serve, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    TRIED["threads x calls"] += 8 * 1000
    TRIED["data lost"] += len(wrong) + len(errors)
    assert not errors and not wrong, (errors[:3], wrong[:3])


def test_inputs_the_engine_refuses_become_input_errors(predictor):
    """What passes the manifest's checks but not ONNX Runtime's kernels still arrives as InputError, not an ORT type."""
    with pytest.raises(InputError, match="ONNX Runtime refused the inputs"):
        predictor.backend.run({"image": np.zeros((1, 1, 3, 3), np.float32)})
    TRIED["fuzz cases"] += 1


def _gather_model(path) -> OnnxRuntimeBackend:
    """A real one-node ONNX model, x[N, 4] -> x[:, 7]: every run fails inside the model, whatever the input."""
    from onnx import TensorProto, helper, save

    graph = helper.make_graph([helper.make_node("Gather", ["x", "index"], ["y"], axis=1)], "gather",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [helper.make_tensor("index", TensorProto.INT64, [1], [7])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, str(path))
    return OnnxRuntimeBackend(path, threads=1)


def test_engine_failures_that_are_not_the_inputs_keep_their_own_message(tmp_path):
    """ORT refusing an input's type, rank, dims or name is an InputError; a failure inside the model is a BackendError
    carrying ORT's words, never "give every input the shape"."""
    engine = _gather_model(tmp_path / "gather.onnx")
    with pytest.raises(BackendError, match=r"failed while running the model .*indices element out of data bounds, idx=7") as caught:
        engine.run({"x": np.zeros((2, 4), np.float32)})
    assert "give every input the shape" not in str(caught.value)
    for feeds, words in (({"x": np.zeros((2, 4), np.float64)}, "Unexpected input data type"),
                         ({"x": np.zeros((2, 4, 1), np.float32)}, "Invalid rank for input: x Got: 3 Expected: 2"),
                         ({"y": np.zeros((2, 4), np.float32)}, "missing from input feed")):
        with pytest.raises(InputError, match=f"ONNX Runtime refused the inputs .*{words}"):
            engine.run(feeds)
    TRIED["fuzz cases"] += 4


def test_wrong_dims_the_engine_refuses_name_the_index(predictor):
    """A multi-line ORT message keeps its detail (which index, what came, what was expected)."""
    with pytest.raises(InputError, match=r"invalid dimensions for input: image .*index: 1 Got: 3 Expected: 1"):
        predictor.backend.run({"image": np.zeros((1, 3, 28, 28), np.float32)})
    TRIED["fuzz cases"] += 1
