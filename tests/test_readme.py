"""The README's figures come from runs: every measured table is what `paddle-edge readme` writes from the committed JSON
(boards/report/figures/), each names the run that made it, and no measured figure stands outside a generated block."""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

from paddle_edge.boards.board_parity import BOARD_TOLERANCES, PEER_INT8
from paddle_edge.runtime.timing import PAUSE_S
from paddle_edge.boards.bench.cold_start import TIMEOUT_S as COLD_START_TIMEOUT_S
from paddle_edge.boards.bench.runner import GOALS, goal_limits
from paddle_edge.boards.parity import TOLERANCES
from paddle_edge.boards.report import readme
from paddle_edge.cli import main
from paddle_edge.runtime.bundle import MAX_UNPACKED_BYTES
from paddle_edge.runtime.manifest import MAX_MANIFEST_BYTES, READABLE_SCHEMAS, SCHEMA_VERSION
from paddle_edge.runtime.onnx_guard import MAX_ONNX_BYTES
from paddle_edge.train.datasets.housing import TRAIN_FRACTION

README = Path(readme.__file__).resolve().parents[2] / "README.md"
# A number with a unit of measure: percentages, times, sizes, speed-ups ("1.7x"), FLOPs, accuracy points.
FIGURE = re.compile(r"(?<![\w.-])~?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|us|ms|s|min|minutes|seconds|KB|MB|GB|KiB|MiB|GiB|MFLOP|GFLOP/s|points|dB)"
                    r"|x)(?![\w/])")
# Numbers with units in the prose that are limits or settings of the code, not measurements; each is checked against the
# constant it states, so the prose cannot drift from the code either.
SPECS = [  # (as the README writes it, as the code's constant formats)
    ("99.9 %", f"{TOLERANCES['onnx_int8_vs_exact_argmax_agreement'][0] * 100:g} %"),
    ("99.9 %", f"{BOARD_TOLERANCES['int8_vs_exact_argmax_agreement'][0] * 100:g} %"),
    ("99 %", f"{PEER_INT8['int8_argmax_agreement'][0] * 100:g} %"),  # another engine's int8 classifier on a board vs float
    ("95 %", "95 %"),  # the confidence level of every interval (boards/latency.py: ranks n/2 -+ 1.96 sqrt(n)/2, 2.5-97.5 percentiles)
    ("0.25 s", f"{PAUSE_S:g} s"),
    ("300 s", f"{COLD_START_TIMEOUT_S:g} s"),
    ("2 GiB", f"{MAX_UNPACKED_BYTES >> 30} GiB"),
    ("2 GiB", f"{MAX_ONNX_BYTES >> 30} GiB"),
    ("1 MiB", f"{MAX_MANIFEST_BYTES >> 20} MiB"),
    ("80 %", f"{TRAIN_FRACTION * 100:g} %"),
    ("80 dB", f"{TOLERANCES['onnx_fp32_sqnr_db'][0]:g} dB"),
    ("80 dB", f"{BOARD_TOLERANCES['fp32_sqnr_db'][0]:g} dB"),
    ("0.5 points", f"{BOARD_TOLERANCES['int8_top1_drop_points'][0]:g} points"),
    ("1.5x", f"{goal_limits(vnni=True)['int8_vs_fp32_best_engine_largest_batch_speedup'][0]:g}x"),
    ("1x", f"{GOALS['int8_vs_fp32_best_engine_largest_batch_speedup'][0]:g}x"),
    ("50 %", f"{GOALS['fp32_best_engine_largest_batch_peak_share'][0] * 100:g} %"),
    ("35 %", f"{GOALS['int8_best_engine_largest_batch_peak_share'][0] * 100:g} %"),
]


def figures_outside_blocks(text: str) -> List[str]:
    """Every number with a unit in `text` outside generated blocks, except the code's own limits and settings."""
    allowed = {written for written, _ in SPECS}
    return [m.group() for m in FIGURE.finditer(readme.outside_blocks(text)) if m.group().lstrip("~") not in allowed]


def test_specs_in_the_prose_are_the_codes_constants():
    assert [(written, value) for written, value in SPECS if written != value] == []


def test_the_manifest_schema_the_readme_names_is_the_codes():
    written = re.search(r"schema version (\d+) \(`runtime/manifest.py`; the runtime also reads ([\d, and]+)\)", README.read_text())
    assert written, "the README's stage table names the manifest's schema version"
    assert (int(written[1]), sorted(map(int, re.findall(r"\d+", written[2])))) == (SCHEMA_VERSION, sorted(set(READABLE_SCHEMAS) - {SCHEMA_VERSION}))


def test_every_readme_table_is_what_its_generator_writes_from_the_committed_json():
    text = README.read_text()
    assert sorted(m["name"] for m in readme.BLOCK.finditer(text)) == sorted(readme.GENERATORS), "each generator, one block"
    assert readme.stale_blocks(text) == [], "run `paddle-edge readme` after copying the run's JSON into boards/report/figures/"


def test_no_measured_figure_stands_outside_a_generated_block():
    assert figures_outside_blocks(README.read_text()) == []


def test_the_figure_detector_finds_typed_figures():
    typed = "int8 is 1.69x faster, 99.09 % top-1, 36.3 us at batch 1, 63 KB, ~35 s to build, 18.7 MFLOP, +0.01 points"
    assert figures_outside_blocks(typed) == ["1.69x", "99.09 %", "36.3 us", "63 KB", "~35 s", "18.7 MFLOP", "0.01 points"]
    assert figures_outside_blocks("28x28 digits, 2 x multiply-adds, x86-64, 3x3 convs, limit 99.9 %") == []


def test_every_figure_names_a_clean_run():
    for name in readme.GENERATORS:
        for rel, data in readme.load_sources(name).items():
            p = data["provenance"]
            assert p["commit"] != "unknown" and not p["commit"].endswith("-dirty"), (rel, p["commit"])
            assert p["command"] and p["date"] and p["cpu"]["label"], rel
            assert f"`{p['command']}`" in readme.render_block(name) and p["cpu"]["label"] in readme.render_block(name)


def test_a_changed_figure_or_a_missing_source_is_caught(tmp_path, capsys):
    text = README.read_text()
    block = next(readme.BLOCK.finditer(text))
    first = re.search(r"\d+\.\d+", block["body"])
    changed = text[:block.start("body") + first.start()] + "1" + text[block.start("body") + first.start():]
    assert readme.stale_blocks(changed) == [block["name"]]
    copy = tmp_path / "README.md"
    copy.write_text(changed)
    with pytest.raises(SystemExit):
        main(["readme", "--check", "--readme", str(copy)])
    main(["readme", "--readme", str(copy)])
    assert copy.read_text() == text
    main(["readme", "--check", "--readme", str(copy)])
    assert "every figures block" in capsys.readouterr().out
    with pytest.raises(readme.PaddleEdgeError, match="run `"):
        readme.render_block(block["name"], tmp_path / "no-figures")


def test_a_gpu_backend_cell_says_what_ran_and_why_not():
    browser = {"board_info": {"user_agent": "HeadlessChrome"}, "artifacts": {"fp32": {}, "int8": {}}, "not_run": {}}

    def cell(**report):
        return readme._gpu({**browser, **report}, "webgpu", lambda key, precision: key)

    assert cell() == "not run (measured before the board ran GPU backends)"
    assert cell(gpu_asked=[]) == "not asked (`--gpu none`)"
    assert cell(gpu_asked=["webgpu"], not_run={"webgpu": "the browser offers no webgpu: unavailable (no adapter)"}) == \
        "not run: webgpu: the browser offers no webgpu: unavailable (no adapter)"
    ran = {"fp32": {}, "int8": {}, "webgpu-fp32": {}}
    assert cell(gpu_asked=["webgpu"], artifacts=ran, not_run={"webgpu-int8": "refused"}) == "webgpu-fp32 / int8 not run"
    assert cell(gpu_asked=["webgpu"], artifacts={"fp32": {}, "webgpu-fp32": {}}) == "webgpu-fp32"  # a bundle without int8
    assert readme._gpu({"board_info": {}, "artifacts": {}}, "webgpu", lambda key, precision: key) == "a browser's engine: not run"
