"""A local web server for the browser board and `paddle-edge serve`: a folder over HTTP on 127.0.0.1, with the headers
that make a page cross-origin isolated (SharedArrayBuffer, so onnxruntime-web's wasm threads), and, for the board's
harness page only, PUT into its results/ folder (how a page hands tensors back without squeezing them through the
WebDriver protocol)."""
from __future__ import annotations

import contextlib
import functools
import http.server
import re
import threading
from pathlib import Path
from typing import Iterator

from ...runtime.errors import PaddleEdgeError

RESULTS = "results"
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp",
                     "Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store"}
RESULT_NAME = re.compile(r"^/results/[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")
MAX_PUT_BYTES = 1 << 30


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the served folder (GET), results written with PUT, isolation headers on every answer."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".js": "text/javascript", ".wasm": "application/wasm", ".onnx": "application/octet-stream"}

    def end_headers(self) -> None:
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def do_PUT(self) -> None:  # noqa: N802 (the http.server protocol's name)
        length = self.headers.get("Content-Length") or ""
        size = int(length) if length.isdigit() else -1
        if not self.server.accepts_results or not RESULT_NAME.match(self.path) or not 0 <= size <= MAX_PUT_BYTES:
            self.send_error(403, "PUT only a plain file name under /results/, with a Content-Length")
            return
        target = Path(self.directory) / RESULTS / self.path.rsplit("/", 1)[1]
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(self.rfile.read(size))
        partial.replace(target)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's signature)
        """Quiet: a board run serves hundreds of tensors."""


@contextlib.contextmanager
def serve(folder: Path, port: int = 0, results: bool = True) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port unless `port`) while the block runs, taking PUTs into its results/
    folder if `results`; yield its base URL."""
    if results:
        (Path(folder) / RESULTS).mkdir(exist_ok=True)
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Handler, directory=str(folder)))
    except OSError as exc:
        raise PaddleEdgeError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}", "pass another --port (0: any free one)") from exc
    server.accepts_results = results  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="paddle-edge-page-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
