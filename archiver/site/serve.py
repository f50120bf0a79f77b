"""The preview server: the built site over plain HTTP on loopback (search needs http)."""

from __future__ import annotations

import contextlib
import http.server
import os
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


# Types that are text though not text/*: the build writes them in UTF-8 too.
_TEXT_TYPES = {"application/atom+xml", "application/json", "application/xml", "image/svg+xml"}


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

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        # Every text the build writes is UTF-8: said so, a browser reads a feed's or a
        # script's non-ASCII characters as they are instead of guessing another charset.
        kind = super().guess_type(path)
        if kind.startswith("text/") or kind in _TEXT_TYPES:
            return f"{kind}; charset=utf-8"
        return kind

    def log_message(self, format: str, *args: object) -> None:
        pass
