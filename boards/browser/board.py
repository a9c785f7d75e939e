"""The browser board: a bundle's ONNX files run by onnxruntime-web (wasm, SIMD, threads where the page is cross-origin
isolated) in headless Chromium on this host, inputs and outputs passed as raw tensors through a local server.

It runs JavaScript, not Python, so it is not a `Board` (boards/board_run.py); it offers the two calls board parity makes
of one, `run_bundle` and `run_kernel_models`, with the same results."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import numpy as np

from ... import runtime
from ...runtime.cpu import cpu_info
from ..board_run import BoardRun
from ..profile import BrowserProfile
from .chromium import call_async, chromium_version, headless_chromium, wait_for
from .onnxruntime_web import VERSION, onnxruntime_web
from .server import RESULTS, serve

PAGE = Path(__file__).parent / "page"
READY_SECONDS = 60.0
RUN_SECONDS = 1800.0
LATENCY_BATCHES = (1, 64)  # timed in the page: a single call, and a batch of 64 (where the inputs have that many)


@dataclasses.dataclass
class _Page:
    """The harness page open in Chromium, serving `site`: tensors go in under inputs/, models under models/."""

    site: Path
    driver: Any
    written: int = 0

    def model(self, name: str, source: Path) -> str:
        """Serve the model file `source` as models/`name`; its URL relative to the page."""
        (self.site / "models" / name).symlink_to(Path(source).resolve())
        return f"models/{name}"

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

    def run(self, model: str, groups: Sequence[Dict[str, np.ndarray]], calls: int, what: str,
            batches: Sequence[int] = (1,)) -> Tuple[List[List[np.ndarray]], Dict[int, np.ndarray], float]:
        """Each group through `model` once (outputs per group, per model output), then `calls` timed calls per batch size
        of `batches` (the first group's first samples; sizes it does not have are skipped); also the seconds the page
        took to load the model."""
        tag = f"r{self.written}"
        runs = [{"inputs": self.inputs(feeds), "out": f"{tag}.g{i}"} for i, feeds in enumerate(groups)]
        size = len(next(iter(groups[0].values())))
        timed = [b for b in batches if b <= size] if calls else []
        timing = [{"inputs": self.inputs({k: np.ascontiguousarray(v[:b]) for k, v in groups[0].items()}), "calls": calls} for b in timed]
        answer = call_async(self.driver, "run", {"model": model, "runs": runs, "time": timing}, RUN_SECONDS, what)
        outputs = [[self._result(spec) for spec in group] for group in answer["outputs"]]
        seconds = {b: np.asarray(found, dtype=np.float64) for b, found in zip(timed, answer["seconds"])}
        return outputs, seconds, answer["load_ms"] / 1000

    def _result(self, spec: Dict[str, Any]) -> np.ndarray:
        path = self.site / RESULTS / spec["name"]
        return np.frombuffer(path.read_bytes(), dtype=np.dtype(spec["dtype"]).newbyteorder("<")).reshape(spec["shape"])


@contextlib.contextmanager
def open_page(threads: int) -> Iterator[_Page]:
    """The harness page served from a fresh folder and loaded in a fresh headless Chromium with `threads` wasm threads."""
    ort = onnxruntime_web()
    with tempfile.TemporaryDirectory(prefix="paddle-edge-browser-") as tmp:
        site = Path(tmp)
        shutil.copyfile(PAGE / "harness.html", site / "index.html")
        shutil.copyfile(PAGE / "harness.js", site / "harness.js")
        (site / "ort").symlink_to(ort)
        (site / "models").mkdir()
        (site / "inputs").mkdir()
        with serve(site) as url, headless_chromium() as driver:
            driver.get(f"{url}index.html?threads={threads}")
            wait_for(driver, "window.paddleEdgeReady", READY_SECONDS, f"load onnxruntime-web {VERSION} from {ort}")
            yield _Page(site, driver)


@dataclasses.dataclass(frozen=True)
class BrowserBoard:
    """Headless Chromium on this host running onnxruntime-web: parity holds as for any board; its latency is this host's
    browser's, never a device's."""

    profile: BrowserProfile
    emulated: bool = False

    def describe(self) -> str:
        """What the page reports about the browser and onnxruntime-web (`paddle-edge board emulate browser`)."""
        with open_page(self.profile.threads) as page:
            return json.dumps(self._where(page))

    def _where(self, page: _Page) -> Dict[str, Any]:
        said = call_async(page.driver, "info", None, 30, "describing itself")
        return {**said, "browser": chromium_version(), "cpu": cpu_info(), "backend": "onnxruntime-web",
                "versions": {"onnxruntime-web": said["onnxruntime_web"]}, "paddle_importable": False}

    def run_bundle(self, bundle: Path, groups: Sequence[Dict[str, np.ndarray]], precisions: Sequence[str], threads: int,
                   calls: int = 20) -> BoardRun:
        """Each precision's ONNX file (the one made for any CPU) over the groups in the page, and `calls` calls timed at each
        of LATENCY_BATCHES (batch 1 in `seconds`, as other boards; p50 and p90 of each in `info`)."""
        loaded = runtime.load_bundle(Path(bundle))
        outputs, seconds, info = {}, {}, {}
        with open_page(threads) as page:
            where = self._where(page)
            for precision in precisions:
                name, art = loaded.manifest.pick("onnx", precision)
                model = page.model(f"{precision}.onnx", loaded.root / art.path)
                outputs[precision], timed, load = page.run(model, groups, calls, f"the {precision} artifact {name}", LATENCY_BATCHES)
                seconds[precision] = timed[1]
                info[precision] = {**where, "artifact": name, "precision": precision, "threads": threads, "load_seconds": load,
                                   "latency_us": {str(b): {"p50": float(np.median(t) * 1e6), "p90": float(np.percentile(t, 90) * 1e6)}
                                                  for b, t in timed.items()}}
        return BoardRun(self.profile.name, outputs, seconds, info)

    def run_kernel_models(self, models: Dict[str, bytes], entries: Sequence[Tuple[str, Dict[str, np.ndarray]]],
                          threads: int) -> List[np.ndarray]:
        """Single-output ONNX models run on input codes in the page, each entry once, with onnxruntime-web's fused kernels."""
        by_model: Dict[str, List[int]] = {}
        for i, (name, _) in enumerate(entries):
            by_model.setdefault(name, []).append(i)
        found: Dict[int, np.ndarray] = {}
        with open_page(threads) as page:
            for name, model in models.items():
                (page.site / "models" / name).write_bytes(model)
            for name, indices in by_model.items():
                outputs, _, _ = page.run(f"models/{name}", [entries[i][1] for i in indices], 0, f"the int8 kernel {name}")
                found.update(zip(indices, (group[0] for group in outputs)))
        return [found[i] for i in range(len(entries))]
