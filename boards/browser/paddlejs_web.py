"""Paddle.js in the page, pinned: @paddlejs/paddlejs-core and its WebGL backend (each one UMD script, loaded with a
<script> tag: they define window.paddlejs.core and register the backend in window.GLOBALS), from the npm registry.

Its other backends do not run here: backend-wasm 1.0.3 fetches its .wasm files from a CDN hard-coded in its
src/wasm.ts (`prefixUrl`; the package ships none), and backend-cpu 0.0.2-beta.0 registers 7 ops (no relu, max pool,
flatten or matmul)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from ...source.npm import NpmFiles

CORE = NpmFiles("@paddlejs/paddlejs-core@2.2.0", "1405a139cece9d441b353e2fbcb91d4f2280f8b8f412c3fba9f65d67d649effd",
                {"paddlejs-core.js": ("lib/index.js", "a9d3300e820cacff81665e28f7da85fd86595a3a81117d99e2217891663fe70b")}, "18 kB")
WEBGL = NpmFiles("@paddlejs/paddlejs-backend-webgl@1.2.9", "6ecbdc5dc07ae5b2126099af569d64f6176c9c0e11292fcdc5183cd2983303fa",
                 {"paddlejs-backend-webgl.js": ("lib/index.js", "94372ebb2fb60b4e8ac936066b125d93f89d90ef85c89e722db6a1e7ae382316")}, "27 kB")
VERSIONS = {"paddlejs-core": "2.2.0", "paddlejs-backend-webgl": "1.2.9"}


def paddlejs_scripts() -> Dict[str, Path]:
    """Each script's file name in the page -> its checked file in the cache."""
    return {name: spec.folder() / name for spec in (CORE, WEBGL) for name in spec.files}
