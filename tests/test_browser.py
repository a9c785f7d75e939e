"""The browser as a board: the bundle's ONNX files run by onnxruntime-web (wasm) in Debian's headless Chromium, judged by
the checks the emulated boards pass (boards/board_parity.py)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from paddle_edge.boards.board_parity import board_parity
from paddle_edge.boards.board_run import board_for
from paddle_edge.boards.browser.board import BrowserBoard, open_page
from paddle_edge.boards.browser.chromium import BrowserError, call_async
from paddle_edge.boards.browser.onnxruntime_web import FILES, onnxruntime_web
from paddle_edge.boards.browser.server import serve
from paddle_edge.boards.profile import get_profile
from paddle_edge.cli import main
from paddle_edge.runtime.errors import PaddleEdgeError

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    return BrowserBoard(get_profile("browser"))


def test_board_parity_in_the_browser_on_the_whole_test_set(browser, lenet_bundle, mnist_test):
    report = board_parity(browser, lenet_bundle.directory, calls=10)
    print(report.render())
    assert report.ok, report.render()
    d = report.data
    assert d["samples"] == len(mnist_test[1]) == 10_000  # top-1 on the full MNIST test set, per engine
    info = d["board_info"]
    assert info["backend"] == "onnxruntime-web" and info["cross_origin_isolated"] is True and info["threads"] == 2
    assert info["onnxruntime_web"] == "1.31.1" and "HeadlessChrome" in info["user_agent"]
    assert d["artifacts"]["fp32"]["board"] == "onnx-fp32" and d["artifacts"]["int8"]["board"] == "onnx-int8"
    assert d["values"]["fp32_allclose_ratio"] <= 1.0  # fp32 within 1e-5 (+1e-6 relative) of x86, everywhere
    assert d["top1"]["fp32"]["board"] == d["top1"]["fp32"]["x86_64"] >= 0.9  # the test LeNet trains briefly
    assert d["values"]["int8_vs_exact_argmax_agreement"] >= 0.999 and d["kernels"]["checked"] >= 1
    assert all(v["board"] > 0 for v in d["latency_us"].values()) and "browser" in d["latency_note"]


def test_board_run_in_the_browser_from_the_command_line(lenet_bundle, capsys):
    main(["board", "run", "browser", str(lenet_bundle.directory), "--limit", "200"])
    out = capsys.readouterr().out
    for precision, artifact in (("fp32", "onnx-fp32"), ("int8", "onnx-int8")):
        line = next(line for line in out.splitlines() if line.startswith(f"browser {precision}:"))
        assert artifact in line and "onnxruntime-web 1.31.1 wasm" in line and "top-1" in line and "headless Chromium" in line


def test_the_browser_is_listed_and_refused_where_python_is_needed(capsys):
    main(["boards"])
    assert "onnxruntime-web 1.31.1 wasm" in capsys.readouterr().out
    with pytest.raises(PaddleEdgeError, match="is a browser(.|\n)*board parity browser BUNDLE"):
        board_for(get_profile("browser"))


def test_a_page_whose_wasm_is_broken_fails_with_the_reason_not_a_hang(tmp_path, monkeypatch, lenet_bundle):
    cache = tmp_path / "cache"
    broken = cache / "npm" / onnxruntime_web().name
    shutil.copytree(onnxruntime_web(), broken)
    (broken / FILES[2]).write_bytes(b"\0asm not really")
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(cache))
    with open_page(1) as page:
        model = page.model("m.onnx", lenet_bundle.directory / "model.fp32.onnx")
        with pytest.raises(BrowserError, match="onnxruntime-web failed on the test model: .*(wasm|WebAssembly)"):
            page.run(model, [{"image": np.zeros((1, 1, 28, 28), np.float32)}], 0, "the test model")


def test_the_page_server_takes_results_only_as_plain_names(tmp_path):
    import urllib.error
    import urllib.request

    with serve(tmp_path) as url:
        for name, expected in (("ok.bin", 201), ("..", 403), (".hidden", 403), ("a%2Fb", 403)):
            request = urllib.request.Request(f"{url}results/{name}", data=b"x", method="PUT")
            try:
                status = urllib.request.urlopen(request).status
            except urllib.error.HTTPError as exc:
                status = exc.code
            assert status == expected, name
        headers = urllib.request.urlopen(f"{url}results/ok.bin").headers
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp" and headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["ok.bin"]


def test_the_page_describes_itself(browser):
    with open_page(1) as page:
        said = call_async(page.driver, "info", None, 30, "describing itself")
    assert said["threads"] == 1 and said["cross_origin_isolated"] is True
    assert json.loads(json.dumps(said)) == said
