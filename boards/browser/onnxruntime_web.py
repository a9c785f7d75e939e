"""onnxruntime-web, pinned: for each backend the page runs, its entry module and the wasm build it loads, from one npm
pack into one cache folder (the web page `export --target web` writes copies the wasm backend's files only)."""
from __future__ import annotations

from pathlib import Path

from ...source.npm import NpmFiles

VERSION = "1.31.1"  # the web build of the onnxruntime the x86 runtime pins
TARBALL_SHA256 = "bdccdb9fbb9ab537247c0c734e9b1d2b1b338b4f2a09faa58f0dc1cfa27c312c"
# Per backend (the page's ?ep=), its entry module first, then what it loads. wasm: the SIMD + threads binary (one thread
# where the page is not cross-origin isolated). webgpu: ONNX Runtime's WebGPU execution provider, compiled into its own
# (asyncify) wasm build; nodes it has no kernel for run on that build's CPU provider. webgl: the JavaScript WebGL backend.
BACKEND_FILES = {
    "wasm": {"ort.wasm.min.mjs": "c21d9c326d453a4a61398270c804d5979e118540597cb0c07f7b3d64e6098234",
             "ort-wasm-simd-threaded.mjs": "30ed0b5cd1182ede931fea448afb567d4dc705ec957af09f108a2be5f770dac3",
             "ort-wasm-simd-threaded.wasm": "4b884c203b0fa48d057be3332c65513ff85aa3c5bddd6946acc0fab7ecda001d"},
    "webgpu": {"ort.webgpu.min.mjs": "329cd956772397a1aedd668e911195d39afefb182f6fc14aafa4f08ac8d8f379",
               "ort-wasm-simd-threaded.asyncify.mjs": "59cf781530e1a16df2a291d78798e3ec1152467edaec402d6f9599d85047c302",
               "ort-wasm-simd-threaded.asyncify.wasm": "ca319e9539cd0f1e291cf56074760121eaf39650f5dbf84b6e52c07f4b2944ec"},
    "webgl": {"ort.webgl.min.mjs": "761dededbe0f371ff711f15d776ee40d526838bdbf7c1ac415f82cbedb1f8036"},
}
GPU_BACKENDS = ("webgpu", "webgl")
PINNED = NpmFiles(f"onnxruntime-web@{VERSION}", TARBALL_SHA256,
                  {name: (f"dist/{name}", digest) for files in BACKEND_FILES.values() for name, digest in files.items()}, "35 MB")


def onnxruntime_web() -> Path:
    """The folder holding every backend's files, each checked against its pinned sha256 (fetched with npm pack the first
    time)."""
    return PINNED.folder()


def entry(backend: str) -> str:
    """The module the page imports to run `backend`."""
    return next(iter(BACKEND_FILES[backend]))
