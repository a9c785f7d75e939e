"""onnxruntime-web, pinned: the wasm build's module and its SIMD + threads binary, from the npm registry into the cache once."""
from __future__ import annotations

from pathlib import Path

from ...runtime.errors import PaddleEdgeError
from ...runtime.files import atomic_dir, cache_dir, sha256_file
from ...source.npm import npm_pack, read_member

VERSION = "1.31.1"  # the web build of the onnxruntime the x86 runtime pins
PACKAGE = f"onnxruntime-web@{VERSION}"
TARBALL_SHA256 = "bdccdb9fbb9ab537247c0c734e9b1d2b1b338b4f2a09faa58f0dc1cfa27c312c"
# The wasm-only entry point (no WebGL/WebGPU code) and the one binary it loads: SIMD with threads, falling back to one
# thread where the page is not cross-origin isolated.
FILES = {"ort.wasm.min.mjs": "c21d9c326d453a4a61398270c804d5979e118540597cb0c07f7b3d64e6098234",
         "ort-wasm-simd-threaded.mjs": "30ed0b5cd1182ede931fea448afb567d4dc705ec957af09f108a2be5f770dac3",
         "ort-wasm-simd-threaded.wasm": "4b884c203b0fa48d057be3332c65513ff85aa3c5bddd6946acc0fab7ecda001d"}


def _verify(folder: Path) -> None:
    for name, digest in FILES.items():
        if sha256_file(folder / name) != digest:
            raise PaddleEdgeError(f"{folder / name} is not the file of {PACKAGE} (sha256 differs)",
                                  f"delete {folder} and run again: it is fetched again")


def onnxruntime_web() -> Path:
    """The folder holding FILES, each checked against its pinned sha256 (fetched with npm pack the first time)."""
    dest = cache_dir("npm", PACKAGE.replace("@", "-"))
    if not all((dest / name).is_file() for name in FILES):
        print(f"fetching {PACKAGE} (npm pack, 35 MB; {', '.join(FILES)} kept) into {dest}", flush=True)
        with npm_pack(PACKAGE, "copy its dist/ files into " + str(dest), TARBALL_SHA256) as tar, atomic_dir(dest) as staging:
            for name in FILES:
                (staging / name).write_bytes(read_member(tar, PACKAGE, f"dist/{name}"))
    _verify(dest)
    return dest
