"""Run a bundle on a board: stage the runtime package, the bundle and the inputs there, run the runtime, bring results back.

Only `paddle_edge/__init__.py` and `paddle_edge/runtime/` go to the board; the training stack never does, so a board
run is also the proof that the runtime is thin (each run reports whether paddle was importable there).
"""
from __future__ import annotations

import dataclasses
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import ContextManager, Dict, List, Optional, Protocol, Sequence, Tuple

import numpy as np

from ..export.debian_rootfs import tail
from ..runtime.backends import BACKENDS
from ..runtime.backends.lite_light_library import ENV as LITE_LIBRARY_ENV, RUNTIME_GLOB as LITE_RUNTIME_GLOB
from ..runtime.errors import PaddleEdgeError
from ..runtime.evaluate import load_groups, save_groups
from ..runtime.files import cache_dir
from ..runtime.kernel_run import INPUTS as KERNEL_INPUTS
from ..runtime.kernel_run import KERNELS
from ..runtime.kernel_run import OUTPUTS as KERNEL_OUTPUTS
from ..runtime.tune_run import INFO as TUNE_INFO
from ..runtime.tune_run import PLAN as TUNE_PLAN
from ..runtime.tune_run import TIMES as TUNE_TIMES
from .emulator import emulate
from .profile import AnyProfile, BoardProfile, cpu_board, engine_package
from .workspace import RESULTS, local_workspace

PACKAGE_DIR = Path(__file__).resolve().parents[1]


class Board(Protocol):
    """Somewhere a bundle can run: a workspace to copy files into, and a python to run there."""

    profile: BoardProfile
    has_runtime: bool  # the runtime is installed there already (else it is shipped in the workspace)
    emulated: bool  # its CPU is emulated here (qemu): parity holds, its timings are not the board's

    def workspace(self, local: Path, fetch: Sequence[str] = RESULTS) -> ContextManager[str]:
        """Copy the folder `local` to the board, yield its path there; on leaving, copy files matching `fetch` back into
        `local` and remove the copy on the board (also on error: nothing is left behind)."""

    def python(self, args: Sequence[str], python_path: Sequence[str] = (), timeout: Optional[float] = 1800) -> subprocess.CompletedProcess: ...


@dataclasses.dataclass(frozen=True)
class HostBoard:
    """This machine, natively (the x86-64 profile)."""

    profile: BoardProfile
    has_runtime: bool = False
    emulated: bool = False

    def workspace(self, local: Path, fetch: Sequence[str] = RESULTS) -> ContextManager[str]:
        return local_workspace(cache_dir("boards", "host"), local, fetch)

    def python(self, args: Sequence[str], python_path: Sequence[str] = (), timeout: Optional[float] = 1800) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": ":".join(python_path)}
        return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout)


@dataclasses.dataclass(frozen=True)
class BoardRun:
    """What came back from a board: outputs and batch-1 call times per precision, and what the board said about itself."""

    board: str
    outputs: Dict[str, List[List[np.ndarray]]]  # per precision, per input group, per model output
    seconds: Dict[str, np.ndarray]
    info: Dict[str, Dict[str, object]]


def install_runtime(dest: Path) -> Path:
    """Copy the runtime package (and the package root it imports through) into `dest`; return the folder for PYTHONPATH."""
    package = dest / "paddle_edge"
    package.mkdir(parents=True)
    shutil.copyfile(PACKAGE_DIR / "__init__.py", package / "__init__.py")
    shutil.copytree(PACKAGE_DIR / "runtime", package / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _run_runtime(board: Board, there: str, module_args: Sequence[str], what: str, timeout: Optional[float] = 1800) -> None:
    """`python -m MODULE ARGS` with the runtime in the board's workspace at `there` (or installed there); raises with
    the board's own words if it fails."""
    proc = board.python(["-m", *module_args], python_path=[] if board.has_runtime else [f"{there}/lib"], timeout=timeout)
    if proc.returncode != 0:
        said = tail(proc)
        older = "No module named 'paddle_edge.runtime" in said
        raise PaddleEdgeError(f"the runtime on {board.profile.name} failed on {what}:\n{said}",
                              "" if "fix:" in said else "the board's runtime is older than this paddle-edge: deploy again" if older
                              else "export the bundle for this board: paddle-edge export ... --board NAME")


def _staged(board: Board, local: Path, bundle: Path, groups: Sequence[Dict[str, np.ndarray]], files: Dict[str, str]) -> ContextManager[str]:
    """Runtime (unless installed), bundle, input groups and `files` (name -> text) put in the empty folder `local`, and
    it copied to the board: the board's workspace, whose results come back into `local` when it closes."""
    if not board.has_runtime:
        install_runtime(local / "lib")
    (shutil.copytree if Path(bundle).is_dir() else shutil.copyfile)(bundle, local / "bundle")
    save_groups(local / "inputs.npz", groups)
    for name, text in files.items():
        (local / name).write_text(text)
    return board.workspace(local)


def _outputs(path: Path) -> List[List[np.ndarray]]:
    """Per input group, per model output, as evaluate.py and tune_run.py save them."""
    return [[group[str(j)] for j in range(len(group))] for group in load_groups(path)]


def run_bundle(board: Board, bundle: Path, groups: Sequence[Dict[str, np.ndarray]], precisions: Sequence[str], threads: int,
               calls: int = 20, backend: str = "onnxruntime") -> BoardRun:
    """Copy runtime, bundle and groups of inputs into the board, evaluate each precision there with `backend` (board
    parity compares it with this host's onnxruntime), bring the results back."""
    outputs, seconds, info = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="paddle-edge-run-") as tmp:
        local = Path(tmp)
        with _staged(board, local, bundle, groups, {}) as there:
            for precision in precisions:
                _run_runtime(board, there, ["paddle_edge.runtime.evaluate", f"{there}/bundle", there, "--precision", precision,
                                            "--threads", str(threads), "--calls", str(calls), "--backend", backend],
                             f"the {precision} artifact")
        for precision in precisions:
            outputs[precision] = _outputs(local / f"outputs-{precision}.npz")
            seconds[precision] = np.load(local / f"seconds-{precision}.npy")
            info[precision] = json.loads((local / f"board-{precision}.json").read_text())
    return BoardRun(board.profile.name, outputs, seconds, info)


@dataclasses.dataclass(frozen=True)
class TuneRun:
    """What came back from a board's tune run: each candidate's outputs and call times per batch, and what it said."""

    outputs: Dict[str, List[List[np.ndarray]]]  # per candidate tag (those that ran to the last rung)
    seconds: Dict[str, Dict[int, np.ndarray]]  # per candidate tag, per batch size
    info: Dict[str, object]


def run_tune_plan(board: Board, bundle: Path, groups: Sequence[Dict[str, np.ndarray]], plan: Dict[str, object],
                  timeout: Optional[float] = 3600) -> TuneRun:
    """Run runtime/tune_run.py's plan on the board: every candidate timed in rounds (in rungs of successive halving if
    the plan says "keep"), then the survivors on the input groups (if it says "evaluate")."""
    with tempfile.TemporaryDirectory(prefix="paddle-edge-tune-") as tmp:
        local = Path(tmp)
        with _staged(board, local, bundle, groups, {TUNE_PLAN: json.dumps(plan)}) as there:
            _run_runtime(board, there, ["paddle_edge.runtime.tune_run", f"{there}/bundle", there], "the tuning candidates", timeout)
        info = json.loads((local / TUNE_INFO).read_text())
        ran = [tag for tag, c in info["candidates"].items() if not c["error"]]
        evaluated = [tag for tag in ran if info["candidates"][tag]["dropped_at_rung"] is None] if plan["evaluate"] else []
        outputs = {tag: _outputs(local / f"outputs-{tag}.npz") for tag in evaluated}
        seconds: Dict[str, Dict[int, np.ndarray]] = {tag: {} for tag in ran}
        with np.load(local / TUNE_TIMES) as times:
            for key in times.files:
                tag, batch = key.rsplit(".b", 1)
                seconds[tag][int(batch)] = times[key]
    return TuneRun(outputs, seconds, info)


def run_kernel_models(board: Board, models: Dict[str, bytes], entries: Sequence[Tuple[str, Dict[str, np.ndarray]]],
                      threads: int) -> List[np.ndarray]:
    """Run single-output ONNX models (`models`: file name -> bytes) on the board with its fused kernels, each entry
    (model file, input codes) once; return the entries' outputs in order (runtime/kernel_run.py does the work)."""
    with tempfile.TemporaryDirectory(prefix="paddle-edge-kernels-") as tmp:
        local = Path(tmp)
        if not board.has_runtime:
            install_runtime(local / "lib")
        (local / "kernels").mkdir()
        for name, model in models.items():
            (local / "kernels" / name).write_bytes(model)
        (local / KERNELS).write_text(json.dumps([{"model": model} for model, _ in entries]))
        save_groups(local / KERNEL_INPUTS, [feeds for _, feeds in entries])
        with board.workspace(local, fetch=(KERNEL_OUTPUTS,)) as there:
            _run_runtime(board, there, ["paddle_edge.runtime.kernel_run", there, "--threads", str(threads)], "the int8 kernels")
        outputs = [group["0"] for group in load_groups(local / KERNEL_OUTPUTS)]
    if len(outputs) != len(entries):
        raise PaddleEdgeError(f"{board.profile.name} returned {len(outputs)} kernel outputs for {len(entries)} kernels",
                              "run board parity again; if it repeats, the board's runtime is not this version's")
    return outputs


PROBE = ("import platform, onnxruntime, numpy; print(platform.machine(), 'Python', platform.python_version(), "
         "'onnxruntime', onnxruntime.__version__, 'numpy', numpy.__version__, end='')")
# the engine a backend adds beside onnxruntime (RuntimeSettings.engine_for) -> how the probe starts it: OpenVINO with its
# usage telemetry off (runtime/quiet_import.py)
ENGINE_PROBES = {None: "", "paddlelite": (f"; import ctypes, os; ctypes.CDLL(os.environ['{LITE_LIBRARY_ENV}']); "
                                          "print(' paddlelite light library', end='')"),
                 "openvino": ("; import os; os.environ['CI'] = 'true'; import openvino; print(' openvino', "
                              "openvino.__version__.split('-')[0], 'devices', ','.join(openvino.Core().available_devices), end='')")}


def board_cores(board: Board) -> int:
    """How many cores the board's python sees: what the runtime's default thread count is there."""
    proc = board.python(["-c", "import os; print(os.cpu_count() or 1)"])
    if proc.returncode != 0:
        raise PaddleEdgeError(f"{board.profile.name} cannot start python:\n{tail(proc)}", "check the board with `paddle-edge board emulate` or deploy again")
    return int(proc.stdout.split()[-1])


def describe(board: Board, backend: str = "onnxruntime") -> str:
    """What the board's python reports about itself, having started the runtime's engines and `backend`'s; raises with its
    output if it cannot."""
    engine = board.profile.runtime.engine_for(backend, board.profile.name)
    proc = board.python(["-c", PROBE + ENGINE_PROBES[engine]])
    if proc.returncode != 0:
        needs = "numpy and onnxruntime" + (f" and {engine}" if engine else "")
        fix = (f"delete {LITE_RUNTIME_GLOB} and run `paddle-edge lite-build` again" if engine == "paddlelite" else
               f"emulate it again (delete its cache folder first), or install {needs} there")
        raise PaddleEdgeError(f"{board.profile.name} cannot start its runtime's engines:\n{tail(proc)}", fix)
    return proc.stdout.strip()


def describe_run(info: Dict[str, object]) -> str:
    """Where a board run ran, from what the board said about itself (evaluate.py's where_it_ran, or the browser page's),
    with its CPU's label (the browser's: this host's)."""
    cpu = f"; {info['cpu']['label']}" if isinstance(info.get("cpu"), dict) else ""
    if "user_agent" in info:
        return (f"{info['browser']} headless, onnxruntime-web {info['versions']['onnxruntime-web']} wasm, {info['threads']} "
                f"thread(s), cross-origin isolated: {info['cross_origin_isolated']}, paddle importable: False; WebGL2: "
                f"{info.get('webgl2', '?')}, WebGPU: {info.get('webgpu', '?')}{cpu}")
    versions = info["versions"]
    engine = info.get("engine") or f"{info['backend']} {versions.get(info['backend'], versions.get('onnxruntime'))}"
    return (f"{info['machine']}, Python {info['python']}, {engine}, "
            f"paddle importable: {info['paddle_importable']}{cpu}")


def board_for_backends(profile: AnyProfile, backends: Sequence[str]) -> Board:
    """The board for running any of the runtime's `backends` (`tune --backends`): with OpenVINO's wheel where one of
    them runs OpenVINO."""
    openvino = any(engine_package(b) == "openvino" for b in backends if b in BACKENDS)  # tune names the unknown ones
    return board_for(profile, "openvino" if openvino else "onnxruntime")


def board_for(profile: AnyProfile, backend: str = "onnxruntime") -> Board:
    """The board a profile runs Python on here, able to run the runtime's `backend` (an emulated board's site then holds
    its wheels): emulated under qemu if the profile says how, else this host if it is of the profile's architecture. A
    browser runs no Python: only board run and board parity take it."""
    profile = cpu_board(profile)
    if engine_package(backend) == "paddlelite" and profile.emulation is None:
        raise PaddleEdgeError(f"backend paddlelite runs a bundle's arm .nb on an emulated ARM board (Lite's library from "
                              f"`paddle-edge lite-build`), and {profile.name} is not one",
                              "use an emulated board such as rpi4; on this host `paddle-edge parity` runs the x86 .nb in the Lite sidecar")
    if profile.emulation is not None:
        return emulate(profile, backend)
    if profile.arch == platform.machine():
        return HostBoard(profile)
    raise PaddleEdgeError(f"board {profile.name!r} ({profile.arch}) has no emulation and this host is {platform.machine()}",
                          "run it on the board itself (paddle-edge deploy), or emulate a board whose profile has an emulation, such as rpi4")
