"""Parity: every artifact gated on its own against the float Paddle reference, int8 also against its exact semantics."""
from __future__ import annotations

import json

from paddle_edge.boards.parity import TOLERANCES, run_parity
from paddle_edge.runtime import load_bundle
from paddle_edge.runtime.cpu import has_int8_saturation

from cpu_kinds import openvino_int8_file

REPORT_KEYS = {"schema", "model", "engines", "checks", "goals", "latency_us", "runtime_overhead", "artifacts", "cpu"}


def test_parity_gates_every_artifact_on_the_full_test_set(lenet_bundle, tmp_path):
    report = run_parity(lenet_bundle.directory, threads=2, b1_calls=100, b64_calls=10)
    print(report.render())
    data = report.data
    assert report.ok, report.render()
    assert REPORT_KEYS <= set(data) and data["samples"] == 10000
    engines = data["engines"]
    assert {"paddle_fp32", "onnx_fp32", "onnx_int8_exact", "onnx_int8"} <= set(engines)
    assert engines["onnx_int8"]["artifact"] == ("onnx-int8-u8w" if has_int8_saturation() else "onnx-int8")
    gated = {c for c in data["checks"]}
    assert {"onnx_fp32_sqnr_db", "onnx_int8_exact_top1_drop_points", "onnx_int8_top1_drop_points",
            "onnx_int8_vs_exact_argmax_agreement", "onnx_int8_variants_max_abs_diff", "onnx_int8_kernel_max_steps"} <= gated
    assert engines["onnx_int8"]["kernels"]["checked"] > 0 and not engines["onnx_int8"]["kernels"]["deviating"]
    assert {"openvino_fp32_sqnr_db", "openvino_int8_top1_drop_points", "openvino_int8_argmax_agreement"} <= gated  # the
    assert engines["openvino_int8"]["artifact"] == openvino_int8_file(data["artifacts"])
    assert "runtime_overhead_ratio" not in gated and "runtime_overhead_ratio" in data["goals"]  # speed never gates
    assert data["checks"]["onnx_int8_vs_exact_argmax_agreement"]["value"] >= 0.999
    assert all(v > 0 for v in data["latency_us"].values())
    saved = json.loads(report.save(tmp_path / "report.json").read_text())
    assert saved["checks"]["onnx_fp32_sqnr_db"]["passed"] is True
    assert saved["engines"]["onnx_fp32"]["vs_float"]["max_abs_diff"] <= 1e-4  # reported, and small on LeNet


def test_the_manifest_states_what_parity_measures_on_each_artifact(lenet_bundle):
    """Every accuracy the manifest states for an artifact equals parity's measurement of that artifact by the same engine."""
    manifest = load_bundle(lenet_bundle.directory).manifest
    report = run_parity(lenet_bundle.directory, threads=2, b1_calls=10, b64_calls=2)
    measured = {e["artifact"]: e["scores"] for key, e in report.data["engines"].items() if not key.startswith("openvino")
                and e["gated"] and e["artifact"] and (e["precision"] == "fp32" or e["title"].startswith("int8 exact"))}
    stated = {name: acc for name, acc in manifest.accuracy.items() if acc.get("measured")}
    assert set(measured) <= set(stated)
    for name, scores in measured.items():
        assert stated[name]["top1"] == scores["top1"], name
    assert stated["onnx-int8-u8w"]["top1"] == stated["onnx-int8"]["top1"]


def test_a_failed_check_is_reported_not_hidden(lenet_bundle):
    strict = {**TOLERANCES, "onnx_fp32_sqnr_db": (1000.0, "min")}
    report = run_parity(lenet_bundle.directory, limit=500, b1_calls=10, b64_calls=2, tolerances=strict)
    assert not report.ok and "FAIL" in report.render()


def test_the_console_shows_int8_agreement_drop_and_units(lenet_bundle):
    report = run_parity(lenet_bundle.directory, limit=500, b1_calls=10, b64_calls=2)
    lines = report.render().splitlines()
    int8 = report.data["engines"]["onnx_int8"]
    row = next(line for line in lines if line.startswith(int8["title"]))
    low, high = int8["top1_drop_interval"]  # resampled with the reference's outputs on the same 500 images
    assert low <= int8["top1_drop_points"] <= high and high - low <= 2, (low, high)
    assert (f"top-1 {int8['scores']['top1'] * 100:.2f} % (drop {int8['top1_drop_points']:+.2f} points (95 % interval "
            f"[{low:+.2f}, {high:+.2f}]))") in row, row
    assert f"vs float: argmax agreement {int8['vs_float']['argmax_agreement'] * 100:.2f} %" in row, row
    assert f"vs exact int8: argmax agreement {int8['vs_exact_int8']['argmax_agreement'] * 100:.2f} %" in row, row
    timed = [line for line in lines if line.startswith(("latency ", "throughput "))]
    assert len(timed) == len(report.data["latency_us"]) + len(report.data["throughput"])
    assert all(line.split("  ")[0].endswith("(us)") or line.endswith("samples/s") for line in timed), timed
