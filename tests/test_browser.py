"""The browser as a board: the bundle's ONNX files run by onnxruntime-web (wasm) in Debian's headless Chromium, judged by
the checks the emulated boards pass (boards/board_parity.py)."""
from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from paddle_edge.boards.board_parity import board_parity
from paddle_edge.boards.board_run import board_for
from paddle_edge.boards.browser.board import BrowserBoard, harness_page, open_page, placements
from paddle_edge.boards.browser.chromium import BrowserError, call_async
from paddle_edge.boards.browser.onnxruntime_web import BACKEND_FILES, onnxruntime_web
from paddle_edge.boards.browser.server import serve
from paddle_edge.boards.profile import cpu_board, get_profile
from paddle_edge.cli import main
from paddle_edge.runtime.errors import PaddleEdgeError

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test"  # the page's screenshot, beside robustness.json


@pytest.fixture(scope="module")
def browser():
    return BrowserBoard(get_profile("browser"))


def test_board_parity_in_the_browser_on_the_whole_test_set(browser, lenet_bundle, mnist_test):
    report = board_parity(browser, lenet_bundle.directory, calls=10, gpu=())  # wasm; the GPU backends below, on fewer
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
    prepared = d["page_preprocessing"]  # the first 1,000 digits as PNGs, preprocessed by the page's JavaScript
    assert prepared["source"].startswith("test samples written back") and prepared["images"] == prepared["identical"] == 1000
    assert d["checks"]["preprocess_agreement"]["passed"]
    for precision in ("fp32", "int8"):  # p50 and p90 of the page's own timings, at batch 1 and 64
        timed = d["board_latency_batches_us"][precision]
        assert set(timed) == {"1", "64"} and all(t["calls"] == 10 and 0 < t["p50"] <= t["p90"] for t in timed.values()), timed


def test_onnxruntime_web_s_gpu_backends_are_judged_as_wasm_is(browser, lenet_bundle):
    # WebGPU on Chromium's software adapter (SwiftShader); the WebGL backend refuses paddle2onnx's open batch dimension
    report = board_parity(browser, lenet_bundle.directory, limit=48, calls=2)
    print(report.render())
    assert report.ok, report.render()
    d = report.data
    assert d["board_info"]["webgpu"].startswith("available: ")
    for precision in ("fp32", "int8"):
        key = f"webgpu-{precision}"
        assert d["artifacts"][key]["board"] == f"onnx-{precision}" and d["scores"][key]["board"]["top1"] >= 0.9
        assert d["engines"][key].startswith("onnxruntime-web 1.31.1 webgpu on ")
        assert d["placements"][key]["WebGpuExecutionProvider"]["ops"]["Conv"] == 2  # LeNet's two convolutions ran on the GPU
    checked = {name for name in d["checks"] if name.startswith("webgpu_")}
    assert checked == {"webgpu_fp32_sqnr_db", "webgpu_fp32_argmax_agreement", "webgpu_int8_vs_exact_argmax_agreement"}
    assert d["gpu_asked"] == ["webgpu", "webgl"] and "webgl-fp32" in d["not_run"]
    lacking = d["not_run"]["webgl-int8"]  # the ops WebGL lacks, all named before the file loads
    assert lacking.startswith("onnxruntime-web 1.31.1's webgl backend has no kernel for these nodes of onnx-int8: DequantizeLinear")
    assert "QuantizeLinear (ai.onnx opset 13: float, float, uint8 -> uint8)" in lacking


def test_an_op_the_wasm_lacks_is_named_before_the_model_loads(browser, lenet_bundle, tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from paddle_edge.runtime.files import sha256_file

    copy = tmp_path / "bundle"
    shutil.copytree(lenet_bundle.directory, copy)
    path = copy / "model.fp32.onnx"  # its input goes through a float64 Conv first: ONNX Runtime has no such kernel
    model = onnx.load(str(path))
    x = model.graph.input[0].name
    for node in model.graph.node:
        node.input[:] = ["x.back" if name == x else name for name in node.input]
    model.graph.initializer.append(numpy_helper.from_array(np.ones((1, 1, 1, 1)), "w.double"))
    nodes = [helper.make_node("Cast", [x], ["x.double"], to=TensorProto.DOUBLE), helper.make_node("Conv", ["x.double", "w.double"], ["x.conv"]),
             helper.make_node("Cast", ["x.conv"], ["x.back"], to=TensorProto.FLOAT), *model.graph.node]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(path))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["artifacts"]["onnx-fp32"].update(sha256=sha256_file(path), bytes=path.stat().st_size)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    rows = {x: np.zeros((2, 1, 28, 28), np.float32)}
    with pytest.raises(PaddleEdgeError, match=r"wasm backend has no kernel for these nodes of onnx-fp32: "
                       r"Conv \(ai.onnx opset \d+: double, double -> double\)\n  fix: export the model without these ops"):
        browser.run_bundle(copy, [rows], ["fp32"], threads=1, calls=0)


def test_kernel_probes_are_one_node_models_told_apart_by_signature():
    import onnx
    from onnx import TensorProto, helper

    from paddle_edge.boards.browser import kernels

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    low, high = helper.make_tensor("low", TensorProto.FLOAT, [], [0.0]), helper.make_tensor("high", TensorProto.FLOAT, [], [6.0])
    nodes = [helper.make_node("Clip", ["x", "low", ""], ["a"]), helper.make_node("Clip", ["a", "", "high"], ["b"]),
             helper.make_node("Mul", ["b", "b"], ["c"]), helper.make_node("Mul", ["c", "c"], ["d"]),  # the same signature: one probe
             helper.make_node("Reshape", ["d", "shape"], ["e"]), helper.make_node("Custom", ["e"], ["f"], domain="vendor"),
             helper.make_node("Relu", ["f"], ["g"])]  # types ONNX's inference cannot tell: not probed, but listed
    shape = helper.make_tensor_value_info("shape", TensorProto.INT64, [2])
    graph = helper.make_graph(nodes, "g", [x, shape], [helper.make_tensor_value_info("g", TensorProto.FLOAT, None)], [low, high])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("vendor", 1)], ir_version=8)
    probed = kernels.probes(model)
    found = probed.found
    assert probed.unchecked == {"Custom": 1, "Relu": 1}
    assert [p.label for p in found] == ["Clip (ai.onnx opset 13: float, float, - -> float)", "Clip (ai.onnx opset 13: float, -, float -> float)",
                                        "Mul (ai.onnx opset 13: float, float -> float)", "Reshape (ai.onnx opset 13: float, int64 -> float)"]
    mul = onnx.load_from_string(found[2].model)
    assert [i.name for i in mul.graph.input] == ["b"] and len(mul.graph.node) == 1 and not mul.graph.initializer
    reshaped = onnx.load_from_string(found[3].model).graph.output[0].type.tensor_type
    assert not reshaped.HasField("shape")  # ONNX Runtime gets no shape inference could not tell...
    webgl = onnx.load_from_string(kernels.probes(model, every_shape=True).found[3].model).graph.output[0].type.tensor_type
    assert webgl.HasField("shape") and len(webgl.shape.dim) == 0  # ...WebGL's loader, which needs one, a scalar
    errors = {"0": "Could not find an implementation for Clip(13) node with name ''", "2": "input 'b' has a shape it cannot check"}
    assert kernels.lacking(found, errors) == [found[0].label]


def test_a_p90_needs_ten_timed_calls():
    from paddle_edge.boards.browser.board import _percentiles_us

    few, many = np.arange(1, 6) * 1e-3, np.arange(1, 11) * 1e-3
    assert _percentiles_us({1: few, 64: many, 2: np.zeros(0)}) == {
        "1": {"p50": 3000.0, "max": 5000.0, "calls": 5},  # five calls: their largest, no p90
        "64": {"p50": 5500.0, "max": 10000.0, "calls": 10, "p90": pytest.approx(9100.0)}}


def test_node_placements_are_read_from_onnxruntime_s_log():
    log = "\n".join(f'ort.mjs 91:231 "2026-12-03 13:57:43 [V:onnxruntime:, session_state.cc:1584 VerifyEachNodeIsAssignedToAnEp] {line}"'
                    for line in (" Node placements", "  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 4",
                                 "   Conv (Conv.0)", "   DequantizeLinear (dq.1)", "   MemcpyFromHost (Memcpy)", "   MemcpyToHost (Memcpy_1)",
                                 "  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2", "   QuantizeLinear (q.0)", "   Gather (Gather)"))
    assert placements(log) == {"WebGpuExecutionProvider": {"nodes": 2, "ops": {"Conv": 1, "DequantizeLinear": 1}},
                               "CPUExecutionProvider": {"nodes": 2, "ops": {"QuantizeLinear": 1, "Gather": 1}}}
    assert placements('x [V:onnxruntime:, VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 17') == {
        "CPUExecutionProvider": {"nodes": 17, "ops": {}}}


def test_gpu_backends_are_asked_for_by_name_and_only_of_a_browser(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["board", "parity", "browser", str(tmp_path), "--gpu", "webgpu,cuda"])
    assert "--gpu webgpu,cuda: no GPU backend cuda\n  fix: name some of webgpu,webgl, or none" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["board", "parity", "rpi4", str(tmp_path), "--gpu", "webgpu"])
    assert "`board parity rpi4` runs none\n  fix: leave --gpu out" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # none is fine anywhere: what fails here is the missing bundle, after --gpu passed
        main(["board", "run", "rpi4", str(tmp_path / "nothing"), "--gpu", "none"])
    assert "--gpu" not in capsys.readouterr().err


def test_board_run_in_the_browser_from_the_command_line(lenet_bundle, capsys):
    main(["board", "run", "browser", str(lenet_bundle.directory), "--limit", "200"])
    out = capsys.readouterr().out
    for precision, artifact in (("fp32", "onnx-fp32"), ("int8", "onnx-int8")):
        line = next(line for line in out.splitlines() if line.startswith(f"browser {precision}:"))
        assert artifact in line and "onnxruntime-web 1.31.1 wasm" in line and "top-1" in line and "headless Chromium" in line


def test_the_browser_is_listed_and_refused_where_python_is_needed(capsys):
    main(["boards"])
    assert "onnxruntime-web 1.31.1 wasm" in capsys.readouterr().out
    for refuses in (board_for, cpu_board):  # what board emulate, tune and deploy go through
        with pytest.raises(PaddleEdgeError, match="is a browser(.|\n)*board parity browser BUNDLE"):
            refuses(get_profile("browser"))


def test_a_page_whose_wasm_is_broken_fails_with_the_reason_not_a_hang(tmp_path):
    broken = tmp_path / "ort"  # onnxruntime-web's real files, its wasm binary cut short
    shutil.copytree(onnxruntime_web(), broken)
    (broken / "ort-wasm-simd-threaded.wasm").write_bytes(b"\0asm not really")
    with pytest.raises(BrowserError, match=r"did not start in the page: .*(wasm|WebAssembly)(.|\n)*fix: check the files in"):
        with harness_page(broken, 1):
            pass


def test_a_wait_that_runs_out_names_what_it_waited_for():
    from paddle_edge.boards.browser.chromium import wait_for

    with open_page(1) as page:
        began = time.perf_counter()
        with pytest.raises(BrowserError, match=r"the page did not get to show a flag nobody sets within 1 s(.|\n)*fix: "):
            wait_for(page.driver, "window.neverSet", 1, "show a flag nobody sets")
        assert time.perf_counter() - began < 10


def test_a_damaged_onnxruntime_web_in_the_cache_is_named(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    damaged = cache / "npm" / onnxruntime_web().name
    shutil.copytree(onnxruntime_web(), damaged)
    (damaged / "ort.wasm.min.mjs").write_text("export {};")
    monkeypatch.setenv("PADDLE_EDGE_CACHE", str(cache))
    with pytest.raises(PaddleEdgeError, match=r"ort.wasm.min.mjs is not the file of onnxruntime-web@1.31.1(.|\n)*fix: delete .* run again"):
        onnxruntime_web()


def test_a_page_that_is_not_cross_origin_isolated_cannot_claim_threads(monkeypatch):
    from paddle_edge.boards.browser import server

    monkeypatch.setattr(server, "ISOLATION_HEADERS", {"Cache-Control": "no-store"})
    with pytest.raises(BrowserError, match=r"the page runs 1 wasm thread\(s\), not 2 \(cross-origin isolated: False\)"):
        with open_page(2):
            pass


def test_missing_browser_tools_say_how_to_install_them(monkeypatch, tmp_path):
    import sys

    from paddle_edge.boards.browser.chromium import headless_chromium

    monkeypatch.setitem(sys.modules, "selenium", None)
    with pytest.raises(BrowserError, match=r"needs selenium(.|\n)*fix: pip install 'paddle-edge\[browser\]'"):
        with headless_chromium():
            pass
    monkeypatch.undo()
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium, and no apt-get to install it with
    with pytest.raises(BrowserError, match=r"chromium \(Debian package chromium\) is not installed(.|\n)*apt-get install -y chromium"):
        with headless_chromium():
            pass


def test_the_page_server_takes_results_only_as_plain_names(tmp_path):
    import urllib.error
    import urllib.request

    with serve(tmp_path, results=False) as url:  # `paddle-edge serve`: read-only
        request = urllib.request.Request(f"{url}results/x.bin", data=b"x", method="PUT")
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(request)
    assert not (tmp_path / "results").exists()
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
    assert said["webgl2"] and said["webgpu"].startswith(("available", "unavailable"))  # reported either way
    assert json.loads(json.dumps(said)) == said


def softmax(row):
    e = np.exp(row - row.max())
    return e / e.sum()


def _pngs(folder, sizes):
    """Seeded random PNGs of the given (height, width, mode): the page must decode and preprocess them as the runtime does."""
    from PIL import Image

    rng = np.random.default_rng(7)
    folder.mkdir()
    paths = []
    for i, (h, w, mode) in enumerate(sizes):
        pixels = rng.integers(0, 256, (h, w, len(mode)), dtype=np.uint8)
        if mode == "RGBA":
            pixels[..., 3] = 255
        path = folder / f"{i}.png"
        Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(path)
        paths.append(path)
    return paths


PREPROCESSING = {  # the runtime's resize modes as PaddleOCR's, PaddleClas's and MNIST's bundles state them, and with Pillow's resize
    "mnist": {"scale": 1 / 127.5, "offset": -1.0, "image": {"color": "L", "invert_light_background": True,
                                                             "resize": {"mode": "stretch", "height": 28, "width": 28}}},
    "rec": {"scale": [1 / 127.5] * 3, "offset": [-1.0] * 3, "image": {"color": "BGR", "resize": {"mode": "pad_right", "height": 48, "width": 320, "interpolation": "opencv"}}},
    "rec-grow": {"scale": 1 / 127.5, "offset": -1.0, "image": {"color": "RGB", "resize": {"mode": "pad_right", "height": 48, "width": 320, "grow": True}}},
    "rec-grow-cv": {"scale": 1 / 127.5, "offset": -1.0,
                    "image": {"color": "BGR", "resize": {"mode": "pad_right", "height": 48, "width": 320, "grow": True, "interpolation": "opencv"}}},
    "det": {"scale": [1 / 58.395, 1 / 57.12, 1 / 57.375], "offset": [-123.675 / 58.395, -116.28 / 57.12, -103.53 / 57.375],
            "image": {"color": "BGR", "resize": {"mode": "limit_side", "side": 736, "limit": "min", "multiple": 32, "interpolation": "opencv"}}},
    "det-long": {"scale": 1 / 255, "offset": 0.0, "image": {"color": "RGB", "resize": {"mode": "limit_side", "side": 96, "limit": "max", "multiple": 32}}},
    "clas": {"scale": [1 / 255 / 0.229, 1 / 255 / 0.224, 1 / 255 / 0.225], "offset": [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225],
             "image": {"color": "RGB", "resize": {"mode": "short_crop", "height": 224, "width": 224, "side": 256, "interpolation": "opencv"}}},
    "clas-pil": {"scale": 1 / 255, "offset": 0.0, "image": {"color": "RGB", "resize": {"mode": "short_crop", "height": 224, "width": 224, "side": 256}}},
}


def test_the_page_preprocesses_images_exactly_as_the_runtime(tmp_path):
    from paddle_edge.runtime.manifest import Preprocess
    from paddle_edge.runtime.preprocess import images_to_batch

    # (height, width, mode): sizes that grow, shrink one side, shrink both with either pass first (tall ones: vertical),
    # halve both (OpenCV's 2 x 2 mean)
    images = _pngs(tmp_path / "png", [(28, 28, "L"), (100, 73, "L"), (28, 61, "L"), (48, 100, "RGB"), (45, 300, "RGB"), (13, 900, "RGB"),
                                     (300, 200, "RGBA"), (1, 1, "RGB"), (240, 60, "L"), (400, 120, "RGB"), (96, 410, "RGB")])
    with open_page(1) as page:
        for name, given in PREPROCESSING.items():
            pre = Preprocess.from_dict(given)
            got = page.prepare(images, dataclasses.asdict(pre))
            for image, tensor in zip(images, got):
                want = images_to_batch([image], pre)
                assert tensor.shape == want.shape, (name, image.name)
                assert np.array_equal(tensor, want), (name, image.name)


def test_the_page_a_person_uses(lenet_bundle, tmp_path, request):
    from PIL import Image

    from paddle_edge import runtime
    from paddle_edge.runtime.preprocess import images_to_batch
    from paddle_edge.boards.browser.page_use import use_page
    from paddle_edge.boards.browser.site import write_site

    site = write_site(lenet_bundle.directory, tmp_path / "site")
    assert sorted(path.name for path in (site / "ort").iterdir()) == sorted(BACKEND_FILES["wasm"])  # wasm only: no GPU backend
    used = use_page(site, screenshot=tmp_path / "page.png")
    print(f"screenshot: {tmp_path / 'page.png'}; answers {used.answers}; {used.latency}")
    assert used.requests and all(url.startswith(used.base_url) for url in used.requests)  # nothing from outside
    assert (tmp_path / "page.png").stat().st_size > 20_000
    pad = tmp_path / "pad.png"
    pad.write_bytes(used.pad_png)
    assert Image.open(pad).size == (280, 280)
    for precision, within in (("fp32", 1e-5), ("int8", 1e-2)):  # the page's answer is the runtime's for the same drawing
        predictor = runtime.open(lenet_bundle.directory, backend="onnxruntime", precision=precision)
        (label, _), = predictor.classify([pad])
        expected = softmax(predictor.predict(images_to_batch([pad], predictor.manifest.preprocess))[0][0])
        assert used.answers[precision] == label and np.abs(np.array(used.probabilities[precision]) - expected).max() < within, precision
        assert "ms in this browser" in used.latency[precision]
    _keep(tmp_path / "page.png", used, shlex.join(["python", "-m", "pytest", *request.config.invocation_params.args]))


def _keep(screenshot: Path, used, command: str) -> None:
    """The screenshot and what the page said, kept as `make test`'s artifacts under build/test/ (the README shows them)."""
    from paddle_edge.boards.provenance import provenance

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, ARTIFACTS / "page.png")
    said = {"answers": used.answers, "latency": used.latency, "provenance": provenance(command)}
    (ARTIFACTS / "page.json").write_text(json.dumps(said, indent=1, sort_keys=True) + "\n")


def test_serve_screenshot_draws_a_seven_from_the_command_line(lenet_bundle, tmp_path, capsys):
    site = tmp_path / "site"
    assert main(["export", str(lenet_bundle.directory), "--target", "web", "--out", str(site)]) in (0, None)
    assert main(["serve", str(site), "--screenshot", str(tmp_path / "shot.png")]) in (0, None)
    said = capsys.readouterr().out
    assert "fp32: drew a 7, the page says 7" in said and "outside this server: 0" in said, said
    assert (tmp_path / "shot.png").stat().st_size > 20_000


def test_web_export_never_replaces_a_folder_it_did_not_write(lenet_bundle, tmp_path):
    from paddle_edge.boards.browser.site import write_site

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(PaddleEdgeError, match="is not a page paddle-edge wrote"):
        write_site(lenet_bundle.directory, mine)
    assert (mine / "thesis.tex").read_text() == "years of work"
    site = write_site(lenet_bundle.directory, tmp_path / "site")
    assert write_site(lenet_bundle.directory, site) == site  # its own page: replaced whole


def test_once_loaded_the_page_answers_offline_a_chosen_image_and_names_a_file_that_is_not_one(lenet_bundle, digit_png, tmp_path):
    from paddle_edge import runtime
    from paddle_edge.boards.browser.chromium import headless_chromium, wait_for
    from paddle_edge.boards.browser.site import write_site

    site = write_site(lenet_bundle.directory, tmp_path / "site")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a digit")
    with headless_chromium() as driver:
        with serve(site, results=False) as url:
            driver.get(f"{url}index.html")
            wait_for(driver, "document.body.dataset.ready === 'true'", 60, "load the models")
        # the server is gone: what the page needs is loaded
        driver.find_element("id", "file").send_keys(str(digit_png))
        wait_for(driver, "Number(document.body.dataset.predictions || 0) >= 1 || document.getElementById('error').textContent", 30,
                 "answer the chosen image")
        answers = dict(driver.execute_script("return [...document.querySelectorAll('.model')].map(p => [p.id, p.dataset.answer])"))
        driver.find_element("id", "file").send_keys(str(notes))
        wait_for(driver, "document.getElementById('error').textContent", 30, "show the error")
        error = driver.execute_script("return document.getElementById('error').textContent")
    for precision in ("fp32", "int8"):
        (label, _), = runtime.open(lenet_bundle.directory, backend="onnxruntime", precision=precision).classify([digit_png])
        assert answers[precision] == label, (precision, answers)
    assert "notes.txt is not an image file" in error


def test_web_export_refuses_what_it_cannot_show(lenet_bundle, tmp_path, capsys):
    for targets, out, said in (("web,onnx", "x", "web makes a page from a bundle, on its own"), ("web", "y", "no manifest.json at")):
        source = lenet_bundle.directory if out == "x" else tmp_path
        with pytest.raises(SystemExit) as exc:
            main(["export", str(source), "--target", targets, "--out", str(tmp_path / out)])
        assert exc.value.code == 2 and said in capsys.readouterr().err and not (tmp_path / out).exists()
