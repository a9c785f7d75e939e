"""The browser board: a bundle's ONNX files run by onnxruntime-web (wasm, SIMD, threads where the page is cross-origin
isolated; and its WebGPU and WebGL backends where the browser offers them) in headless Chromium on this host, inputs and
outputs passed as raw tensors through a local server.

It runs JavaScript, not Python, so it is not a `Board` (boards/board_run.py); it offers the two calls board parity makes
of one, `run_bundle` and `run_kernel_models`, with the same results."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import numpy as np
import onnx

from ... import runtime
from ...runtime.cpu import cpu_info
from ...runtime.errors import PaddleEdgeError
from ...runtime.manifest import Preprocess
from ..board_run import BoardRun
from ..profile import BrowserProfile
from .chromium import WEB_RUNTIME_FIX, BrowserError, PageError, call_async, console_errors, chromium_version, headless_chromium, load, wait_for
from . import kernels
from .onnxruntime_web import GPU_BACKENDS, VERSION, entry, onnxruntime_web
from .paddlejs_web import VERSIONS as PADDLEJS_VERSIONS, paddlejs_scripts
from .server import RESULTS, serve

PAGE = Path(__file__).parent / "page"
READY_SECONDS = 60.0
RUN_SECONDS = 110.0  # one page call; selenium's Chrome connection itself gives up after 120 s
LATENCY_BATCHES = (1, 64)  # timed in the page: a single call, and a batch of 64 (where the inputs have that many)
CHUNK = 64  # rows per call: a wasm32 heap is at most 4 GiB, and a ResNet's first activation at 224 x 224 is 3.2 MB a row
PADDLEJS_ARTIFACT = "paddlejs-fp32"
PROBES = 32  # node probes per page call
PREPARE_CHUNK = 32  # images per page call of the page's preprocessing
REFUSED = "onnxruntime-web refused:"  # how the page prefixes onnxruntime-web's own errors (page/harness.js)


@dataclasses.dataclass(frozen=True)
class PageEngine:
    """An engine of the page: the function running a job there, the fix said when it fails, and the rows one page call
    carries (each call must answer within RUN_SECONDS); 0: one row first, then as many as a quarter of RUN_SECONDS holds at
    the speed the last call ran (at most CHUNK), for engines whose speed nobody can guess (a GPU in software: 0.06 s for an MNIST digit,
    14 s for a PP-OCRv4 text line), which are also timed at batch 1 only, with as many calls as half of RUN_SECONDS holds."""

    function: str
    fix: str
    rows: int


ORT_WEB = PageEngine("run", WEB_RUNTIME_FIX, CHUNK)
GPU_ENGINE = PageEngine("run", "leave this backend out (board parity browser --gpu none, or name the others)", 0)
ORT_BACKENDS = {"wasm": ORT_WEB, **{ep: GPU_ENGINE for ep in GPU_BACKENDS}}  # onnxruntime-web's backends (the page's ?ep=)
GPU_CALLS = 5  # timed calls at most on a GPU backend
# one sample at a time, on WebGL in software where there is no GPU: PaddleOCR's classifier takes 0.2 s a sample here
PADDLEJS = PageEngine("runPaddlejs", "export the bundle without the paddlejs target: its ONNX files run in the browser with onnxruntime-web", 8)


ALIASES = {"max_pool2d_with_index": "pool2d_max"}  # the one op type paddlejs-core 2.2.0 runs under another kernel's name


def lacking_ops(model: Dict[str, Any], registered: Sequence[str]) -> List[str]:
    """The op types of a Paddle.js model.json without a kernel of their name among those the backend registered (feed
    and fetch are core's own). Core may still pick a variant by an op's attributes (pool2d_max, conv2d_depthwise); one
    missing there shows as "[unregistered op]" in the console, which run_paddlejs checks after running."""
    types = sorted({op["type"] for op in model["ops"]} - {"feed", "fetch"})
    return [t for t in types if ALIASES.get(t, t) not in registered]


_PLACED = re.compile(r"(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)")
_NODE = re.compile(r"VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(")


def placements(console: str) -> Dict[str, Dict[str, Any]]:
    """Where ONNX Runtime placed a session's nodes, from its verbose log in the page's console: per execution provider,
    its count of nodes and their op types, leaving out the Memcpy nodes ONNX Runtime inserts between providers."""
    found: Dict[str, Dict[str, Any]] = {}
    provider = None
    for line in console.splitlines():
        placed = _PLACED.search(line)
        node = _NODE.search(line)
        if placed:
            provider = placed.group(1)
            found[provider] = {"nodes": int(placed.group(2)), "ops": {}}
        elif node and provider:
            found[provider]["ops"][node.group(1)] = found[provider]["ops"].get(node.group(1), 0) + 1
    for where in found.values():
        copies = sum(n for op, n in where["ops"].items() if op.startswith("Memcpy"))
        where["nodes"] -= copies
        where["ops"] = {op: n for op, n in where["ops"].items() if not op.startswith("Memcpy")}
    return found


def gpu_device(ep: str, where: Dict[str, Any]) -> str:
    """What the page said of the device behind the GPU backend `ep`: the WebGPU adapter, or WebGL2's renderer."""
    return where["webgpu"].removeprefix("available: ") if ep == "webgpu" else where["webgl2"]


def node_split(placed: Dict[str, Dict[str, Any]]) -> Tuple[int, int, List[str]]:
    """Of a placement (placements()): the nodes on a GPU provider, those on the CPU provider, and the CPU ones' op types."""
    cpu = placed.get("CPUExecutionProvider", {"nodes": 0, "ops": {}})
    return sum(p["nodes"] for name, p in placed.items() if name != "CPUExecutionProvider"), cpu["nodes"], sorted(cpu["ops"])


def _gpu_engine(ep: str, where: Dict[str, Any], placed: Dict[str, Dict[str, Any]]) -> str:
    """onnxruntime-web on a GPU backend, the device it ran on, and how many nodes ran there (the op types that did not)."""
    gpu, cpu, ops = node_split(placed)
    said = f"; nodes: {gpu} on the GPU, {cpu} on its CPU provider" + (f" ({', '.join(ops)})" if ops else "") if placed else ""
    return f"onnxruntime-web {VERSION} {ep} on {gpu_device(ep, where)}{said}"


P90_CALLS = 10  # fewer timed calls than this (a GPU backend's at most GPU_CALLS) get no p90: their largest is reported


def _percentiles_us(timed: Dict[int, np.ndarray]) -> Dict[str, Dict[str, Any]]:
    """p50, the largest, and where there are P90_CALLS calls or more p90 of the page's timed calls, in microseconds, per
    batch size, with how many calls."""
    return {str(b): {"p50": float(np.median(t) * 1e6), "max": float(np.max(t) * 1e6), "calls": len(t),
                     **({"p90": float(np.percentile(t, 90) * 1e6)} if len(t) >= P90_CALLS else {})} for b, t in timed.items() if len(t)}


def probe_model() -> bytes:
    """The smallest model (one Identity on a float32 [1]): running it makes the page load and start the wasm."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8).SerializeToString()


@dataclasses.dataclass
class _Page:
    """The harness page open in Chromium, serving `site`: tensors go in under inputs/, models under models/."""

    site: Path
    driver: Any
    ep: str = "wasm"
    written: int = 0
    runs: int = 0

    def model(self, name: str, source: Path) -> str:
        """Serve the model file `source` as models/`name`; its URL relative to the page."""
        (self.site / "models" / name).symlink_to(Path(source).resolve())
        return f"models/{name}"

    def lacking(self, name: str, model: onnx.ModelProto) -> Tuple[List[str], Dict[str, int]]:
        """The node signatures of `model` the page's backend has no kernel for (boards/browser/kernels.py), asked
        before the model itself loads, and how many nodes of each op type could not be asked; `name` keeps its probes'
        files apart."""
        folder = self.site / "models" / f"probes-{name}"
        folder.mkdir()
        probed = kernels.probes(model, every_shape=self.ep == "webgl")
        found = probed.found
        specs = []
        for i, probe in enumerate(found):
            (folder / f"{i}.onnx").write_bytes(probe.model)
            specs.append({"index": i, "url": f"models/{folder.name}/{i}.onnx"})
        errors: Dict[str, str] = {}
        for start in range(0, len(specs), PROBES):
            errors.update(call_async(self.driver, "kernels", {"probes": specs[start:start + PROBES]}, RUN_SECONDS,
                                     f"checking onnxruntime-web has a kernel for each node of {name}", ORT_BACKENDS[self.ep].fix))
        return kernels.lacking(found, errors), probed.unchecked

    def inputs(self, feeds: Dict[str, np.ndarray]) -> List[Dict[str, Any]]:
        """Write the tensors of one call for the page to fetch; their specs (name, dtype, shape, url)."""
        specs = []
        for name, array in feeds.items():
            self.written += 1
            path = self.site / "inputs" / f"{self.written}.bin"
            array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
            path.write_bytes(array.tobytes())
            specs.append({"name": name, "dtype": array.dtype.name, "shape": list(array.shape), "url": f"inputs/{path.name}"})
        return specs

    def run(self, model: str, groups: Sequence[Dict[str, np.ndarray]], calls: int, what: str, batches: Sequence[int] = (1,),
            engine: PageEngine = ORT_WEB) -> Tuple[List[List[np.ndarray]], Dict[int, np.ndarray], float]:
        """Each group through `model` once with `engine` (outputs per group, per model output), then `calls` timed calls
        per batch size of `batches` (the first group's first samples; sizes it does not have are skipped); also the
        seconds the page took to load the model. One page call per `engine.rows` rows (PageEngine): selenium waits 120 s
        for any answer."""
        self.runs += 1
        chunks: List[List[List[np.ndarray]]] = [[] for _ in groups]
        load_ms = None
        step, row_seconds = engine.rows, 0.0
        for i, feeds in enumerate(groups):
            rows, start = len(next(iter(feeds.values()))), 0
            while start < rows:
                take = step or 1  # unsized: one row, whose time sizes the rest
                part = {k: v[start:start + take] for k, v in feeds.items()}
                job = {"model": model, "runs": [{"inputs": self.inputs(part), "out": f"r{self.runs}.g{i}.c{len(chunks[i])}"}], "time": []}
                began = time.perf_counter()
                answer = call_async(self.driver, engine.function, job, RUN_SECONDS, what, engine.fix)
                if not engine.rows:  # sized again after every call: a wider group's rows take longer
                    row_seconds = max((time.perf_counter() - began - answer["load_ms"] / 1000) / take, 1e-3)
                    step = max(1, min(CHUNK, int(RUN_SECONDS / 4 / row_seconds)))
                load_ms = answer["load_ms"] if load_ms is None else load_ms
                chunks[i].append([self._result(spec) for spec in answer["outputs"][0]])
                start += take
        if not engine.rows:
            batches, calls = (1,), min(calls, max(1, int(RUN_SECONDS / 2 / row_seconds) - 1))
        size = len(next(iter(groups[0].values())))
        timed = [b for b in batches if b <= size] if calls else []
        timing = [{"inputs": self.inputs({k: np.ascontiguousarray(v[:b]) for k, v in groups[0].items()}), "calls": calls} for b in timed]
        found = call_async(self.driver, engine.function, {"model": model, "runs": [], "time": timing}, RUN_SECONDS, f"timing {what}",
                           engine.fix)["seconds"] if timing else []
        outputs = [[np.concatenate(parts) for parts in zip(*done)] for done in chunks]
        return outputs, {b: np.asarray(t, dtype=np.float64) for b, t in zip(timed, found)}, (load_ms or 0.0) / 1000

    def prepare(self, images: Sequence[Path], preprocess: Dict[str, Any]) -> List[np.ndarray]:
        """Each image file decoded and preprocessed by the page's JavaScript (page/preprocess.js) from the manifest's
        `preprocess`: the 1 x C x H x W tensors it would feed the model."""
        self.written += 1
        names = []
        for i, image in enumerate(images):
            name = f"{self.written}.{i}{Path(image).suffix.lower()}"
            (self.site / "inputs" / name).symlink_to(Path(image).resolve())
            names.append(f"inputs/{name}")
        job = {"images": names, "pre": preprocess, "out": f"p{self.written}"}
        return [self._result(spec) for spec in call_async(self.driver, "prepare", job, RUN_SECONDS, f"preprocessing {len(names)} images")]

    def _result(self, spec: Dict[str, Any]) -> np.ndarray:
        path = self.site / RESULTS / spec["name"]
        return np.frombuffer(path.read_bytes(), dtype=np.dtype(spec["dtype"]).newbyteorder("<")).reshape(spec["shape"])


@contextlib.contextmanager
def open_page(threads: int, browser: str = "chromium", paddlejs: bool = False, ep: str = "wasm") -> Iterator[_Page]:
    """The harness page running the pinned onnxruntime-web (checked against its sha256s) on its backend `ep` with
    `threads` wasm threads; with `paddlejs`, Paddle.js's pinned scripts too."""
    with harness_page(onnxruntime_web(), threads, browser, paddlejs, ep) as page:
        yield page


@contextlib.contextmanager
def harness_page(ort: Path, threads: int, browser: str = "chromium", paddlejs: bool = False, ep: str = "wasm") -> Iterator[_Page]:
    """The harness page, with onnxruntime-web's files for the backend `ep` from the folder `ort` (and Paddle.js's scripts
    if `paddlejs`), served from a fresh folder and loaded in a fresh headless `browser` with `threads` wasm threads, once
    the backend runs (and, for more than one thread, once the page is cross-origin isolated); a backend that does not
    start is a PageError with the page's reason."""
    with tempfile.TemporaryDirectory(prefix="paddle-edge-browser-") as tmp:
        site = Path(tmp)
        shutil.copyfile(PAGE / "harness.html", site / "index.html")
        for script in ("harness.js", "preprocess.js"):
            shutil.copyfile(PAGE / script, site / script)
        (site / "ort").symlink_to(ort)
        scripts = paddlejs_scripts() if paddlejs else {}
        (site / "pjs").mkdir()
        for name, path in scripts.items():
            (site / "pjs" / name).symlink_to(path)
        (site / "models").mkdir()
        (site / "inputs").mkdir()
        (site / "probe.onnx").write_bytes(probe_model())
        with serve(site) as url, headless_chromium(browser) as driver:
            load(driver, f"{url}index.html?threads={threads}&ep={ep}&entry={entry(ep)}" + ("&paddlejs=" + ",".join(scripts) if scripts else ""))
            wait_for(driver, "window.paddleEdgeReady || window.paddleEdgeFailed", READY_SECONDS,
                     f"load onnxruntime-web {VERSION} ({ep}) from {ort}")
            failed = driver.execute_script("return window.paddleEdgeFailed || ''")
            if failed.startswith("Paddle.js"):
                raise BrowserError(f"the page could not load {failed}", "delete Paddle.js's folders under the cache's npm/ to fetch them again")
            if failed:
                raise PageError(f"onnxruntime-web {VERSION} ({ep}) did not start in the page: {failed}",
                                   f"check the files in {ort} (delete the folder to fetch them again)")
            page = _Page(site, driver, ep)
            said = call_async(driver, "info", None, READY_SECONDS, "describing itself")
            if said["threads"] != threads:
                raise BrowserError(f"the page runs {said['threads']} wasm thread(s), not {threads} (cross-origin isolated: "
                                   f"{said['cross_origin_isolated']})", "wasm threads need the COOP/COEP headers of boards/browser/server.py")
            yield page


@dataclasses.dataclass(frozen=True)
class BrowserBoard:
    """Headless Chromium on this host running onnxruntime-web: parity holds as for any board; its latency is this host's
    browser's, never a device's."""

    profile: BrowserProfile
    emulated: bool = False

    def describe(self) -> str:
        """What the page reports about the browser and onnxruntime-web (`paddle-edge board emulate browser`)."""
        with open_page(self.profile.threads, self.profile.browser) as page:
            return json.dumps(self._where(page))

    def _where(self, page: _Page) -> Dict[str, Any]:
        said = call_async(page.driver, "info", None, 30, "describing itself")
        return {**said, "browser": chromium_version(self.profile.browser), "cpu": cpu_info(), "backend": "onnxruntime-web",
                "versions": {"onnxruntime-web": said["onnxruntime_web"]}, "paddle_importable": False}

    def prepare_images(self, images: Sequence[Path], preprocess: Preprocess) -> List[np.ndarray]:
        """Each image file decoded and preprocessed in the page by its JavaScript (page/preprocess.js) as `preprocess`
        says: the 1 x C x H x W tensors the page would feed the model."""
        given = dataclasses.asdict(preprocess)
        with open_page(1, self.profile.browser) as page:
            return [tensor for start in range(0, len(images), PREPARE_CHUNK) for tensor in page.prepare(images[start:start + PREPARE_CHUNK], given)]

    def run_bundle(self, bundle: Path, groups: Sequence[Dict[str, np.ndarray]], precisions: Sequence[str], threads: int,
                   calls: int = 20, ep: str = "wasm") -> BoardRun:
        """Each precision's ONNX file (the one made for any CPU) over the groups in the page on onnxruntime-web's backend
        `ep`, and `calls` calls timed at each of LATENCY_BATCHES (batch 1 in `seconds`, as other boards; p50, and p90 where
        there are enough calls, of each in `info`). Before a file loads, each of its node signatures is checked for a kernel on `ep` (kernels.py): one
        lacking is an error naming them all on wasm. On a GPU backend, such a precision, one onnxruntime-web refuses (an
        op or an input it cannot take) or that
        runs no node on the GPU (where ONNX Runtime logged a placement) is left out of the outputs, its info saying why ("not_run"), and the info of
        one it ran says where ONNX Runtime placed each node ("placement"); a timeout or a crashed tab is an error there too,
        as any failure is on wasm."""
        loaded = runtime.load_bundle(Path(bundle))
        if not groups or not all(len(next(iter(g.values()), ())) for g in groups):
            raise PaddleEdgeError("no inputs to run in the browser (an empty group)", "pass data with at least one sample")
        outputs, seconds, info = {}, {}, {}
        with open_page(threads, self.profile.browser, ep=ep) as page:
            where = self._where(page)
            for precision in precisions:
                name, art = loaded.manifest.pick("onnx", precision)
                model = page.model(f"{precision}.onnx", loaded.root / art.path)
                run = {**where, "artifact": name, "precision": precision, "threads": threads}
                lacking, unchecked = page.lacking(precision, onnx.load(str(loaded.root / art.path), load_external_data=False))
                run["kernels_unchecked"] = unchecked
                if lacking:
                    problem = (f"onnxruntime-web {VERSION}'s {ep} backend has no kernel for these nodes of {name}: {'; '.join(lacking)}"
                               + (f" (not checked: {kernels.unchecked_text(unchecked)})" if unchecked else ""))
                    if ep not in GPU_BACKENDS:
                        raise PaddleEdgeError(problem, "export the model without these ops or element types (the wasm build is "
                                              "onnxruntime's CPU provider: a CPU board's onnxruntime lacks them too)")
                    info[precision] = {**run, "not_run": problem}
                    continue
                console_errors(page.driver)  # read, so that what the console says next is this model's
                try:
                    found, timed, loaded_in = page.run(model, groups, min(calls, GPU_CALLS) if ep in GPU_BACKENDS else calls,
                                                       f"the {precision} artifact {name} on {ep}", LATENCY_BATCHES, ORT_BACKENDS[ep])
                except PageError as exc:
                    if ep not in GPU_BACKENDS or REFUSED not in exc.problem:
                        raise
                    info[precision] = {**run, "not_run": exc.problem}
                    continue
                placed = placements(console_errors(page.driver)) if ep == "webgpu" else {}
                if placed and not node_split(placed)[0]:
                    info[precision] = {**run, "not_run": f"onnxruntime-web placed no node of {name} on WebGPU (placement: {placed or 'not logged'})"}
                    continue
                outputs[precision], seconds[precision] = found, timed.get(1, np.zeros(0))
                info[precision] = {**run, "load_seconds": loaded_in, "latency_us": _percentiles_us(timed)}
                if ep in GPU_BACKENDS:
                    info[precision].update(placement=placed, engine=_gpu_engine(ep, where, placed))
        return BoardRun(self.profile.name, outputs, seconds, info)

    def run_paddlejs(self, bundle: Path, groups: Sequence[Dict[str, np.ndarray]], calls: int = 20) -> BoardRun:
        """The bundle's Paddle.js model (`export --target paddlejs`) over the groups in the page, one sample at a time on
        Paddle.js's WebGL backend, and `calls` batch-1 calls timed; its ops checked against those the backend registered
        before the model loads, and the console for an op core found no kernel for after it ran."""
        loaded = runtime.load_bundle(Path(bundle))
        name = PADDLEJS_ARTIFACT
        if name not in loaded.manifest.artifacts:
            raise PaddleEdgeError(f"{bundle} has no Paddle.js model", "export it with --target onnx,paddlejs")
        if not groups or not all(len(next(iter(g.values()), ())) for g in groups):
            raise PaddleEdgeError("no inputs to run in the browser (an empty group)", "pass data with at least one sample")
        model_json = loaded.root / loaded.manifest.artifacts[name].path
        model = json.loads(model_json.read_text())
        feed = model["feedShape"]
        for group in groups:
            shape = tuple(next(iter(group.values())).shape[1:])
            if shape != (feed["fc"], feed["fh"], feed["fw"]):
                raise PaddleEdgeError(f"the Paddle.js model was converted for inputs of {feed['fc']} x {feed['fh']} x {feed['fw']}, "
                                      f"not {' x '.join(map(str, shape))}", "pass images of the size the model was exported for")
        with open_page(self.profile.threads, self.profile.browser, paddlejs=True) as page:
            where = self._where(page)
            lacking = lacking_ops(model, call_async(page.driver, "paddlejsOps", None, 30, "listing Paddle.js ops"))
            if lacking:
                raise PaddleEdgeError(f"Paddle.js's {where['paddlejs_backend']} backend has no kernel for these ops of {name}: {', '.join(lacking)}",
                                      PADDLEJS.fix)
            (page.site / "models" / "pjs").symlink_to(model_json.parent.resolve())
            rows = [{k: v.astype(np.float32) for k, v in g.items()} for g in groups]
            found, timed, loaded_in = page.run(f"models/pjs/{model_json.name}", rows, calls, f"the Paddle.js model {name}", (1,), PADDLEJS)
            unregistered = [line for line in console_errors(page.driver).splitlines() if "[unregistered op]" in line]
            if unregistered:
                raise PaddleEdgeError(f"Paddle.js ran {name} without a kernel for an op: {unregistered[0]}", PADDLEJS.fix)
        shape = loaded.manifest.outputs[0].shape
        outputs = [[out.reshape(len(out), *shape[1:]) for out in group] for group in found]
        info = {**where, "backend": "paddlejs", "versions": PADDLEJS_VERSIONS, "artifact": name, "precision": "fp32", "engine":
                f"Paddle.js (paddlejs-core {PADDLEJS_VERSIONS['paddlejs-core']}, backend-webgl {PADDLEJS_VERSIONS['paddlejs-backend-webgl']}) "
                f"on WebGL2: {where['webgl2']}", "load_seconds": loaded_in,
                "latency_us": _percentiles_us(timed)}
        return BoardRun(self.profile.name, {name: outputs}, {name: timed.get(1, np.zeros(0))}, {name: info})

    def run_kernel_models(self, models: Dict[str, bytes], entries: Sequence[Tuple[str, Dict[str, np.ndarray]]],
                          threads: int) -> List[np.ndarray]:
        """Single-output ONNX models run on input codes in the page, each entry once, with onnxruntime-web's fused kernels."""
        by_model: Dict[str, List[int]] = {}
        for i, (name, _) in enumerate(entries):
            by_model.setdefault(name, []).append(i)
        found: Dict[int, np.ndarray] = {}
        with open_page(threads, self.profile.browser) as page:
            for name, model in models.items():
                (page.site / "models" / name).write_bytes(model)
            for name, indices in by_model.items():
                outputs, _, _ = page.run(f"models/{name}", [entries[i][1] for i in indices], 0, f"the int8 kernel {name}")
                found.update(zip(indices, (group[0] for group in outputs)))
        return [found[i] for i in range(len(entries))]
