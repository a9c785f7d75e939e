"""paddle-edge report: the JSON behind the page follows its schema, every chart is there, and the page renders in Chromium."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from paddle_edge.boards.report import run_dir
from paddle_edge.boards.report.page import _flatten, make_report
from paddle_edge.boards.report.summary import SCHEMA_FILE
from paddle_edge.cli import main
from paddle_edge.boards.browser.chromium import headless_chromium

CHARTS = {"per_class_accuracy", "confusion_matrices", "latency_vs_accuracy", "throughput_grid", "latency_distributions", "roofline"}


@pytest.fixture(scope="module")
def report(lenet_run_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    for name in (run_dir.PARITY, run_dir.PREDICTIONS, run_dir.BENCH):
        shutil.copy(lenet_run_dir / name, root / name)
    return make_report(root)


def test_report_json_follows_its_schema_and_lists_every_chart(report):
    page, data_path = report
    data = json.loads(data_path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    assert set(data["charts"]) == CHARTS
    classes = data["classes"]
    assert sum(classes["support"]) == data["samples"] == 2000
    for engine, counts in classes["confusion"].items():  # the confusion matrix agrees with the per-class accuracy
        per_class = [row[i] / max(sum(row), 1) for i, row in enumerate(counts)]
        assert per_class == pytest.approx(classes["per_class_top1"][engine])
    assert {"paddle_inference_fp32", "onnxruntime_int8"} <= set(data["accuracy"])
    assert data["toolchain"]["paddlepaddle"] and data["toolchain"]["onnxruntime"]


def test_the_page_is_self_contained(report):
    page, _ = report
    text = page.read_text()
    ids = set(re.findall(r"<figure id='([a-z_]+)'><img alt='\1' src='data:image/png;base64,[A-Za-z0-9+/=]{1000,}'>", text))
    assert ids == CHARTS
    assert not re.search(r"(src|href)=['\"](?!data:)", text)  # nothing fetched from disk or network


def test_the_quantization_recipe_is_a_table_of_settings(report):
    page, data_path = report
    recipe = json.loads(data_path.read_text())["quantization"]
    section = page.read_text().split("<h2>Quantization</h2>", 1)[1].split("<h2>", 1)[0]
    rows = dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", section))
    assert rows["algo"] == recipe["algo"] and rows["weight_bits"] == str(recipe["weight_bits"])
    nested = {f"{key}.{sub}": str(value) for key, inner in recipe.items() if isinstance(inner, dict) for sub, value in inner.items()}
    assert nested and nested.items() <= rows.items()  # onnx_rewrites.relu_folded, float_metrics.top1, ...
    assert "{" not in section and "&quot;" not in section  # no JSON left


def test_nested_settings_flatten_to_dotted_keys_and_lists_join():
    recipe = {"tool": "paddleslim", "rewrites": {"relu_folded": 1, "deeper": {"x": 2.5}}, "ops": ["conv2d", "mul"], "seed": None}
    assert _flatten(recipe) == [("ops", "conv2d, mul"), ("rewrites.deeper.x", "2.5"), ("rewrites.relu_folded", "1"),
                                ("seed", ""), ("tool", "paddleslim")]


def test_the_page_renders_in_headless_chromium(report):
    page, _ = report
    with headless_chromium() as driver:
        driver.get(page.resolve().as_uri())
        images = driver.execute_script("return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
        quantization = driver.execute_script(
            "const h = [...document.querySelectorAll('h2')].find(e => e.textContent === 'Quantization');"
            "const t = h && h.nextElementSibling; return t && t.tagName === 'TABLE' ? [...t.rows].map(r => r.innerText) : []")
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1200, min(height, 8000))
        shot = Path(page.with_suffix(".png"))
        driver.save_screenshot(str(shot))
        title = driver.title
    print(f"screenshot: {shot} ({shot.stat().st_size:,} bytes), page height {height} px, images {images}")
    assert title == "paddle-edge report: lenet"
    assert {alt for alt, *_ in images} == CHARTS
    assert all(complete and width > 300 and h > 200 for _, complete, width, h in images)
    assert len(quantization) > 5 and any(row.startswith("algo\t") for row in quantization), quantization
    assert height > 2000 and shot.stat().st_size > 50_000


def test_a_run_dir_without_bench_names_the_command(lenet_run_dir, tmp_path, capsys):
    shutil.copy(lenet_run_dir / run_dir.PARITY, tmp_path / run_dir.PARITY)
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "bench.json" in err and "paddle-edge bench BUNDLE --json" in err
    assert not (tmp_path / run_dir.HTML).exists()
