"""Session fixtures: small real models trained here (a subset, one epoch), and the real chain run on them."""
from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest

import paddle_edge  # noqa: F401  (sets the legacy save format before paddle is imported)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    from paddle_edge.train.datasets.mnist import fetch_mnist

    return fetch_mnist()


@pytest.fixture(scope="session")
def lenet(tmp_path_factory, mnist_dir):
    from paddle_edge.train.trainer import train_model

    return train_model("lenet", tmp_path_factory.mktemp("lenet"), epochs=1, train_limit=5000, verbose=0)


@pytest.fixture(scope="session")
def lenet_ptq(tmp_path_factory, lenet):
    from paddle_edge.compress.ptq import quantize_ptq
    from paddle_edge.compress.recipe import PtqRecipe

    return quantize_ptq(lenet.model_dir, tmp_path_factory.mktemp("ptq") / "int8", PtqRecipe(algo="avg", batch_nums=4))


@pytest.fixture(scope="session")
def lenet_bundle(tmp_path_factory, lenet, lenet_ptq):
    from paddle_edge.export.bundle import build_bundle

    return build_bundle(lenet.model_dir, tmp_path_factory.mktemp("bundle") / "lenet", int8_dir=lenet_ptq.model_dir)


@pytest.fixture(scope="session")
def digit_png(tmp_path_factory, mnist_dir) -> Path:
    from paddle_edge.pipeline import sample_digit

    return sample_digit(tmp_path_factory.mktemp("digits"), 3)


@pytest.fixture(scope="session")
def mnist_test(mnist_dir):
    from paddle_edge.train.datasets import load_dataset

    data = load_dataset("mnist")
    return data.x_test, data.y_test


@pytest.fixture()
def batch(mnist_test) -> np.ndarray:
    return mnist_test[0][:8].copy()


@pytest.fixture(scope="session")
def lenet_run_dir(tmp_path_factory, lenet_bundle) -> Path:
    """What `paddle-edge demo` leaves for a report, made from the test bundle: parity.json, predictions.npz, bench.json."""
    from paddle_edge.boards.bench.runner import run_bench
    from paddle_edge.boards.parity import run_parity
    from paddle_edge.boards.report import run_dir

    root = tmp_path_factory.mktemp("run")
    run_parity(lenet_bundle.directory, limit=2000, b1_calls=50, b64_calls=5, predictions=root / run_dir.PREDICTIONS).save(root / run_dir.PARITY)
    # every engine kind (OpenVINO under its latency hint; test_tune times its throughput hint), each costing 12 pauses a cell
    engines = ["paddle_inference_fp32", "onnxruntime_fp32", "onnxruntime_int8", "bare_onnxruntime_fp32", "openvino_fp32_paddle", "openvino_int8"]
    bench = run_bench(lenet_bundle.directory, backends=engines, threads=[1, 2], batches=[1, 8], calls=60)
    print(bench.render())
    bench.save(root / run_dir.BENCH)
    return root


def pytest_unconfigure(config) -> None:
    """The last line of `make test`, after pytest's own: what the robustness tests tried and whether every check held,
    judged from pytest's own reports (also saved as JSON; see tests/robustness.py). Nothing when none of them ran."""
    from robustness import report

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    session = config.pluginmanager.get_plugin("session")
    command = shlex.join(["python", "-m", "pytest", *config.invocation_params.args])
    line = report(reporter.stats if reporter else {}, int(session.exitstatus) if session else None, command)
    if line:
        print(line, flush=True)
