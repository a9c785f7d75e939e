"""onnxruntime-web, pinned: the wasm build's module and its SIMD + threads binary, from the npm registry into the cache once."""
from __future__ import annotations

from pathlib import Path

from ...source.npm import NpmFiles

VERSION = "1.31.1"  # the web build of the onnxruntime the x86 runtime pins
# The wasm-only entry point (no WebGL/WebGPU code) and the one binary it loads: SIMD with threads, falling back to one
# thread where the page is not cross-origin isolated.
FILES = {"ort.wasm.min.mjs": "c21d9c326d453a4a61398270c804d5979e118540597cb0c07f7b3d64e6098234",
         "ort-wasm-simd-threaded.mjs": "30ed0b5cd1182ede931fea448afb567d4dc705ec957af09f108a2be5f770dac3",
         "ort-wasm-simd-threaded.wasm": "4b884c203b0fa48d057be3332c65513ff85aa3c5bddd6946acc0fab7ecda001d"}
PINNED = NpmFiles(f"onnxruntime-web@{VERSION}", "bdccdb9fbb9ab537247c0c734e9b1d2b1b338b4f2a09faa58f0dc1cfa27c312c",
                  {name: (f"dist/{name}", digest) for name, digest in FILES.items()}, "35 MB")


def onnxruntime_web() -> Path:
    """The folder holding FILES, each checked against its pinned sha256 (fetched with npm pack the first time)."""
    return PINNED.folder()
