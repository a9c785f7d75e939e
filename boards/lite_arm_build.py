"""Paddle Lite's light runtime for armv8 Linux, built from Lite's own source, and paddle-edge's C shim beside it.

Why: no registry ships Paddle Lite for ARM Linux (its ARM libraries are published only on the project's release page),
yet a lite-arm .nb must be run by the Lite version whose opt wrote it (2.13-rc, export/lite_sidecar.py) on an ARM CPU to be
checked at all. So paddle-edge builds Lite 2.13-rc's armlinux "tiny publish" (the light API of
`lite/tools/build_linux.sh --arch=armv8 --with_extra=ON --with_exception=ON`) with Debian's aarch64 cross compiler from
a checkout the user gives, once, into the cache; an emulated board runs it through `runtime/backends/lite_light_library`.
An interrupted build resumes where it stopped.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict

from ..export.debian_rootfs import MARKER, debian_tool, ensure_built, is_built, run_step
from ..export.lite_sidecar import LITE_TAG
from ..runtime.backends.lite_light_library import ENV, SHIM_LIBRARY
from ..runtime.errors import PaddleEdgeError
from ..runtime.files import cache_dir

COMMIT = "102697b54f58bbc775f82945c14cf7f16027ddd4"  # Paddle-Lite's tag v2.13-rc
CLONE = f"git clone --depth 1 --branch {LITE_TAG} https://github.com/PaddlePaddle/Paddle-Lite"
SHIM = Path(__file__).parent / "lite_shim" / "paddle_edge_lite.cc"
LITE_LIBRARY = "libpaddle_light_api_shared.so"
COMPILER = "aarch64-linux-gnu-g++"
GCC_MAJOR = "12"
OPENMP = Path("/usr/aarch64-linux-gnu/lib/libgomp.so.1")  # the cross compiler's (Debian's libgomp1-arm64-cross), GCC 12's
# build_linux.sh's cmake options for armv8 with gcc, tiny publish, extra ops (OCR's), logs and C++ exceptions on (those
# of its options that are not Lite's defaults for armlinux)
CMAKE_OPTIONS = (
    "-DWITH_LITE=ON", "-DCMAKE_BUILD_TYPE=Release", "-DWITH_TESTING=OFF", "-DLITE_WITH_X86=OFF",
    "-DLITE_WITH_ARM=ON", "-DARM_TARGET_ARCH_ABI=armv8", "-DARM_TARGET_OS=armlinux", "-DARM_TARGET_LANG=gcc",
    "-DLITE_WITH_LIGHT_WEIGHT_FRAMEWORK=ON", "-DLITE_BUILD_EXTRA=ON", "-DLITE_WITH_PYTHON=OFF", "-DLITE_WITH_LOG=ON",
    "-DLITE_WITH_EXCEPTION=ON", "-DLITE_WITH_CV=OFF", "-DLITE_BUILD_TAILOR=OFF", "-DWITH_AVX=OFF",
    "-DLITE_WITH_OPENCL=OFF", "-DLITE_ON_TINY_PUBLISH=ON",
)
PUBLISHED = Path("inference_lite_lib.armlinux.armv8") / "cxx"


class LiteBuildError(PaddleEdgeError):
    """Paddle Lite's ARM runtime cannot be built from the source given."""


def runtime_dir() -> Path:
    """Where the built ARM runtime lives (built or not)."""
    return cache_dir("boards") / f"lite-armv8-{LITE_TAG}"


def _shim_sha256() -> str:
    return hashlib.sha256(SHIM.read_bytes()).hexdigest()


def shim_path() -> Path:
    """The shim the runtime loads ($PADDLE_EDGE_LITE_LIBRARY on the board); raises unless it is built from this
    version's shim source."""
    root = runtime_dir()
    if not is_built(root):
        raise LiteBuildError(f"Paddle Lite {LITE_TAG}'s ARM runtime has not been built here ({root})",
                             f"{CLONE}, then `paddle-edge lite-build --source Paddle-Lite` (once)")
    if json.loads((root / MARKER).read_text()).get("shim_sha256") != _shim_sha256():
        raise LiteBuildError(f"the shim in {root} was built from another {SHIM.name} than this paddle-edge's",
                             "run `paddle-edge lite-build --source Paddle-Lite` again: it rebuilds the shim only")
    return root / SHIM_LIBRARY


def board_env() -> Dict[str, str]:
    """What a board's python needs in its environment to run .nb models with the built runtime."""
    return {ENV: str(shim_path())}


def _check_source(source: Path) -> None:
    """The source must be Lite's tag v2.13-rc with no tracked file changed: a .nb runs only on the Lite that wrote it."""
    head = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True)
    fix = f"give a fresh checkout: {CLONE}"
    if head.returncode != 0:
        raise LiteBuildError(f"{source} is not a git checkout of Paddle Lite", fix)
    if head.stdout.strip() != COMMIT:
        raise LiteBuildError(f"{source} is at commit {head.stdout.strip()[:10]}, not Paddle Lite {LITE_TAG} ({COMMIT[:10]})", fix)
    changed = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    if changed.stdout.strip():
        raise LiteBuildError(f"{source} has changed files:\n{changed.stdout.strip()[:500]}", fix)


def _build_env(work: Path) -> Dict[str, str]:
    """Lite's CMake runs `python` (its code generators) and takes the compiler from $CC/$CXX when set: `python` is this
    interpreter, and the cross compiler is left to Lite's armlinux toolchain file."""
    bin_dir = work / "bin"
    bin_dir.mkdir(exist_ok=True)
    python = bin_dir / "python"
    if not python.exists():
        python.symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("CC", "CXX")}
    return {**env, "PATH": os.pathsep.join([str(bin_dir), env.get("PATH", "")])}


def _make(source: Path, work: Path, jobs: int) -> Path:
    """Configure (once) and make Lite's `publish_inference` out of tree in `work`; returns the published cxx folder."""
    cache = work / "CMakeCache.txt"
    if cache.is_file() and f"CMAKE_HOME_DIRECTORY:INTERNAL={source}\n" not in cache.read_text():
        shutil.rmtree(work)  # configured for another source folder
        work.mkdir()
    env = _build_env(work)
    if not cache.is_file():
        (work / "lite" / "gen_code").mkdir(parents=True, exist_ok=True)  # build_linux.sh's prepare_workspace
        (work / "lite" / "gen_code" / "__generated_code__.cc").touch()
        run_step(["cmake", "-S", str(source), "-B", str(work), *CMAKE_OPTIONS], "configuring Paddle Lite (cmake)",
                 "install cmake, and the cross compiler with `apt-get install g++-aarch64-linux-gnu`", LiteBuildError, env)
    log = work / "make.log"
    with open(log, "w") as out:
        made = subprocess.run(["make", "publish_inference", f"-j{jobs}"], cwd=work, stdout=out, stderr=subprocess.STDOUT, env=env)
    if made.returncode != 0:
        raise LiteBuildError(f"building Paddle Lite failed (exit {made.returncode}):\n" + "\n".join(log.read_text().splitlines()[-25:]),
                             f"see {log}; run the same command again to resume")
    return work / PUBLISHED


def _build_shim(root: Path) -> Dict[str, str]:
    """Compile the shim in `root` against the headers kept there, linked to Lite's library beside it: an RPATH of $ORIGIN
    (not a RUNPATH, which would not apply to Lite's own dependencies), so Lite finds the OpenMP runtime copied there too."""
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        built = Path(tmp) / SHIM_LIBRARY
        cmd = [COMPILER, "-O2", "-std=c++11", "-shared", "-fPIC", "-I", str(root / "include"), str(SHIM), "-L", str(root),
               f"-l:{LITE_LIBRARY}", "-Wl,--disable-new-dtags,-rpath,$ORIGIN", "-o", str(built)]
        run_step(cmd, f"compiling {SHIM.name}", "install the cross compiler: apt-get install g++-aarch64-linux-gnu", LiteBuildError)
        os.replace(built, root / SHIM_LIBRARY)
    return {"shim": " ".join(cmd), "shim_sha256": _shim_sha256()}


def _tools() -> None:
    """The build's tools, installed with apt-get where missing; the cross compiler must be GCC 12 (Debian 12's), whose
    C++ runtime the emulated boards' Debian 12 userland has (a newer GCC's library would not load there)."""
    for tool, package in ((COMPILER, "g++-aarch64-linux-gnu"), ("cmake", "cmake"), ("make", "make"), ("git", "git")):
        debian_tool(tool, package, LiteBuildError)
    major = subprocess.run([COMPILER, "-dumpversion"], capture_output=True, text=True).stdout.strip().split(".")[0]
    if major != GCC_MAJOR:
        raise LiteBuildError(f"{COMPILER} is GCC {major}; the ARM runtime is built with GCC {GCC_MAJOR}, whose C++ runtime "
                             "the emulated boards' Debian 12 has", f"install g++-{GCC_MAJOR}-aarch64-linux-gnu (Debian 12) "
                             f"and make it {COMPILER}, or build on Debian 12")


def build(source: Path, jobs: int = 0) -> Path:
    """The ARM runtime from Lite's checkout `source` (tag v2.13-rc), built once into the cache (the shim again where its
    source changed); returns its folder."""
    source = source.resolve()
    root = runtime_dir()
    if is_built(root):
        marker = json.loads((root / MARKER).read_text())
        if marker.get("shim_sha256") != _shim_sha256():
            _tools()
            (root / MARKER).write_text(json.dumps({**marker, **_build_shim(root)}, indent=2))
        return root
    _tools()
    _check_source(source)
    work = cache_dir("boards") / f"lite-armv8-{LITE_TAG}.work"
    work.mkdir(parents=True, exist_ok=True)

    def publish(tmp: Path) -> Dict[str, object]:
        published = _make(source, work, jobs or os.cpu_count() or 1)
        shutil.copy2(published / "lib" / LITE_LIBRARY, tmp / LITE_LIBRARY)
        shutil.copytree(published / "include", tmp / "include")  # to build the shim again without Lite
        shutil.copy2(OPENMP, tmp / OPENMP.name)  # Lite's ARM kernels use OpenMP; a minimal board has no libgomp1
        version = subprocess.run([COMPILER, "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
        return {"lite": LITE_TAG, "commit": COMMIT, "cmake_options": list(CMAKE_OPTIONS), "compiler": f"{COMPILER} {version}",
                "libraries": [LITE_LIBRARY, SHIM_LIBRARY, OPENMP.name], **_build_shim(tmp)}

    ensure_built(root, publish)
    shutil.rmtree(work)  # the objects are not needed once the libraries are published
    return root
