"""The preview server: the built site over plain HTTP on loopback (search needs http)."""

from __future__ import annotations

import contextlib
import http.server
from functools import partial
from pathlib import Path

from archiver.errors import BuildError


def serve(out: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the built site over plain HTTP until interrupted (search needs http)."""
    folder = Path(out).resolve()
    if not (folder / "index.html").is_file():
        raise BuildError(f"{folder}: no site here (run `archiver build` first)")
    handler = partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


class _Handler(http.server.SimpleHTTPRequestHandler):
    # The base class declares it per instance, so ClassVar would contradict it.
    extensions_map = {  # noqa: RUF012
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".atom": "application/atom+xml",
        ".json": "application/json",
        ".wasm": "application/wasm",
        ".pagefind": "application/octet-stream",
        ".js": "text/javascript",
        ".css": "text/css",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass
