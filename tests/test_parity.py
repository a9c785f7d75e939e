"""Parity: outputs, accuracy and latency against the float Paddle reference, with every check reported."""
from __future__ import annotations

import json

from paddle_edge.boards.parity import TOLERANCES, run_parity

REPORT_KEYS = {"model", "float", "int8", "parity", "latency_us", "runtime_overhead_ratio", "artifacts"}


def test_parity_on_the_full_test_set(lenet_bundle, lenet_ptq, tmp_path):
    report = run_parity(lenet_bundle.directory, threads=2, b1_calls=100, b64_calls=10)
    print(report.render())
    data = report.data
    assert REPORT_KEYS <= set(data) and data["samples"] == 10000
    assert data["parity"]["onnx_fp32_max_abs_diff"] <= TOLERANCES["onnx_fp32_max_abs_diff"][0]
    assert data["parity"]["onnx_fp32_argmax_agreement"] == 1.0
    assert abs(data["int8"]["top1"] - lenet_ptq.int8_metrics["top1"]) <= 0.002  # ONNX Runtime int8 vs Paddle's fake-quant int8
    assert data["int8"]["method"] == "ptq"
    assert {"paddle_inference_fp32_b1_p50", "onnxruntime_fp32_b1_p50", "onnxruntime_int8_b1_p50"} <= set(data["latency_us"])
    assert all(v > 0 for v in data["latency_us"].values())
    saved = json.loads(report.save(tmp_path / "report.json").read_text())
    assert saved["checks"]["onnx_fp32_max_abs_diff"]["passed"] is True


def test_a_failed_check_is_reported_not_hidden(lenet_bundle, monkeypatch):
    monkeypatch.setitem(TOLERANCES, "onnx_fp32_max_abs_diff", (0.0, "max"))
    report = run_parity(lenet_bundle.directory, limit=500, b1_calls=10, b64_calls=2)
    assert not report.ok and "FAIL" in report.render()
