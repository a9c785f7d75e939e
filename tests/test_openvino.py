"""The OpenVINO backend (optional extra `paddle-edge[openvino]`): the same bundle and predictor as onnxruntime, on
the test LeNet, run for real."""
from __future__ import annotations

import os

import numpy as np
import pytest

from paddle_edge import runtime
from paddle_edge.export.evaluation import evaluation_set
from paddle_edge.runtime.errors import InputError, PaddleEdgeError
from paddle_edge.runtime.quiet_import import import_quietly

from cpu_kinds import openvino_int8_file


@pytest.fixture(scope="module")
def images(lenet_bundle):
    return evaluation_set(runtime.load_bundle(lenet_bundle.directory).manifest, None, 256, None).groups[0]


def test_openvino_runs_its_files_and_agrees_in_fp32(lenet_bundle, images):
    for precision in ("fp32", "int8"):
        ort = runtime.open(lenet_bundle.directory, backend="onnxruntime", precision=precision, threads=2)
        ov = runtime.open(lenet_bundle.directory, backend="openvino", precision=precision, threads=2)
        assert ov.backend_name == "openvino"
        assert ov.artifact == (openvino_int8_file(ov.manifest.artifacts) if precision == "int8" else "onnx-fp32")
        a, b = ort.predict(images)[0], ov.predict(images)[0]
        assert a.shape == b.shape == (256, 10)
        if precision == "fp32":  # float32 sums in another order: SQNR far above parity's 80 dB, the same classes
            assert 10 * np.log10(np.sum(a ** 2) / np.sum((a - b) ** 2)) > 80 and (a.argmax(1) == b.argmax(1)).all()


def test_the_throughput_hint_splits_a_batch_across_requests_and_keeps_its_order(lenet_bundle, images):
    latency = runtime.open(lenet_bundle.directory, backend="openvino", precision="fp32", threads=2)
    throughput = runtime.open(lenet_bundle.directory, backend="openvino-throughput", precision="fp32", threads=2)
    assert len(throughput.backend.requests) >= 2  # two streams on two threads, or more
    odd = {name: x[:7] for name, x in images.items()}  # not a multiple of the requests
    np.testing.assert_allclose(throughput.predict(odd)[0], latency.predict(odd)[0], rtol=1e-5, atol=1e-5)


def test_each_call_owns_its_outputs(lenet_bundle, images):
    """The next call reuses the requests' buffers: what a call returned stays as it was, with one request or several."""
    for backend in ("openvino", "openvino-throughput"):
        predictor = runtime.open(lenet_bundle.directory, backend=backend, precision="fp32", threads=2)
        first = predictor.predict({name: x[:4] for name, x in images.items()})[0]
        kept = first.copy()
        second = predictor.predict({name: x[4:8] for name, x in images.items()})[0]
        assert np.array_equal(first, kept) and not np.array_equal(first, second)


def test_a_missing_input_is_named(lenet_bundle):
    from paddle_edge.runtime.backends.openvino import OpenVinoBackend

    backend = OpenVinoBackend(lenet_bundle.directory / "model.fp32.onnx", 1)
    with pytest.raises(InputError, match=r"OpenVINO needs inputs \['image'\]"):
        backend.run({"x": np.zeros((1, 1, 28, 28), np.float32)})


def test_a_batch_the_model_cannot_take_is_a_clear_error_on_every_request(lenet_bundle):
    from paddle_edge.runtime.backends.openvino import OpenVinoThroughputBackend

    backend = OpenVinoThroughputBackend(lenet_bundle.directory / "model.fp32.onnx", 2)
    with pytest.raises(PaddleEdgeError, match="OpenVINO"):
        backend.run({"image": np.zeros((4, 1, 7, 7), np.float32)})  # too small for LeNet's convs and fc
    assert backend.run({"image": np.zeros((4, 1, 28, 28), np.float32)})[0].shape == (4, 10)  # and the requests still work


def test_importing_openvino_leaves_the_environment_as_it_was(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    import_quietly("openvino")
    assert "CI" not in os.environ
    monkeypatch.setenv("CI", "false")
    import_quietly("openvino")
    assert os.environ["CI"] == "false"
