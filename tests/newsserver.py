"""A news site on loopback for tests and benchmarks: pages that change between checks,
error statuses, slow answers, wrong charsets, ETags, and a log of every request and of
the connections they came on.

Each server is one host: `NewsServer("127.0.0.2")` is a second host beside the default
127.0.0.1 (the whole of 127.0.0.0/8 is loopback), with its own robots.txt and log."""

from __future__ import annotations

import gzip
import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    """A loopback server for tests: threads of its own, quiet when a client hangs up."""

    # Many fetches connect at once: a short listen queue turns them into 1 s retries.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-answer (a probe that has read enough, a fetch given up)
        # is expected; its traceback on stderr would land in the output a test checks.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    etag: bool = True  # answer conditional requests (If-None-Match, If-Modified-Since) with 304
    gzip: bool = False
    reset: bool = False  # close the connection without answering
    then: Route | None = None  # what the path serves after answering once like this


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() when received
    connection: int = 0  # which connection it came on, numbered from 1 as accepted
    answered: float = 0.0  # time.monotonic() when the answer was sent (0: none was)


class NewsServer:
    """`server.set("/a", html)` serves a page; `server.url("/a")` is its address."""

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.connections = 0  # accepted so far
        self._lock = threading.Lock()
        self._httpd = QuietServer((address, 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> NewsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, body: str | bytes = b"", **options: object) -> Route:
        route = make_route(body, **options)
        with self._lock:
            self.routes[path] = route
        return route

    def remove(self, path: str) -> None:
        with self._lock:
            self.routes.pop(path, None)

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def answered(self, path: str) -> list[float]:
        """When each answer to `path` was sent, in order."""
        with self._lock:
            return sorted(r.answered for r in self.requests if r.path == path and r.answered)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            number = 0  # of this connection (`self.connection` is its socket)
            index = 0  # of the request being answered, in server.requests

            def log_message(self, format: str, *args: object) -> None:
                pass

            def setup(self) -> None:  # once per connection
                with server._lock:
                    server.connections += 1
                    self.number = server.connections
                super().setup()

            def do_GET(self) -> None:
                with server._lock:
                    self.index = len(server.requests)
                    server.requests.append(
                        Request(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            time.monotonic(),
                            self.number,
                        )
                    )
                    route = server.routes.get(self.path)
                    if route is not None and route.then is not None:
                        server.routes[self.path] = route.then
                if route is None:
                    self._send(404, b"<html><body>Not found</body></html>", "text/html", {})
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.reset:
                    self.connection.close()
                    return
                tag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                headers = dict(route.headers)
                if route.etag and route.status == 200:
                    headers.setdefault("ETag", tag)
                    modified = headers.get("Last-Modified")
                    since = modified and self.headers.get("If-Modified-Since") == modified
                    if self.headers.get("If-None-Match") == tag or since:
                        self._send(304, b"", None, headers)
                        return
                body = route.body
                if route.gzip:
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self._send(route.status, body, route.content_type, headers)

            def _send(
                self, status: int, body: bytes, ctype: str | None, headers: dict[str, str]
            ) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Date", formatdate(usegmt=True))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
                self.wfile.flush()
                with server._lock:
                    request = server.requests[self.index]
                    server.requests[self.index] = replace(request, answered=time.monotonic())

        return Handler


def make_route(body: str | bytes = b"", **options: object) -> Route:
    """A Route from text or bytes and Route's options (`then=make_route(...)` included)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Route(body=data, **options)  # type: ignore[arg-type]


def article_html(
    title: str,
    paragraphs: list[str],
    byline: str = "Staff reporter",
    published: str = "2025-03-01T09:00:00Z",
    extra_head: str = "",
    boilerplate: str = "",
) -> str:
    """A page in the manner of a news site: navigation, byline, related links, footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>{title} - The Daily Example</title>
<meta property="og:title" content="{title}">
<meta name="author" content="{byline}">
<meta property="article:published_time" content="{published}">
{extra_head}
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a>
<a href="/politics">Politics</a></nav></header>
<main><article>
<h1>{title}</h1>
<p class="byline">By {byline}</p>
{body}
</article>
<aside><h2>Related stories</h2><ul><li><a href="/other">Another story entirely</a></li></ul></aside>
{boilerplate}
</main>
<footer><p>Copyright The Daily Example. All rights reserved.</p></footer>
</body></html>"""


# Discovery documents: feeds, sitemaps and section pages in the forms news sites serve.


def _x(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text, {'"': "&quot;"})


def rss_feed(items: list[tuple[str, str, str]], title: str = "The Daily Example") -> str:
    """RSS 2.0, one <item> per (link, title, published as ISO 8601)."""
    from datetime import datetime
    from email.utils import format_datetime

    entries = "\n".join(
        f"<item><title>{_x(name)}</title><link>{_x(link)}</link>"
        f'<guid isPermaLink="false">{_x(link)}</guid>'
        f"<pubDate>{format_datetime(datetime.fromisoformat(when))}</pubDate></item>"
        for link, name, when in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{_x(title)}</title><link>http://example.org/</link>
<description>Latest stories</description>
{entries}
</channel></rss>"""


def atom_feed(items: list[tuple[str, str, str]], title: str = "The Daily Example") -> str:
    """Atom 1.0, one <entry> per (link, title, published as ISO 8601)."""
    entries = "\n".join(
        f'<entry><title>{_x(name)}</title><link rel="alternate" href="{_x(link)}"/>'
        f"<id>{_x(link)}</id><published>{when}</published><updated>{when}</updated></entry>"
        for link, name, when in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{_x(title)}</title>
<id>urn:example:feed</id><updated>2025-03-01T09:00:00Z</updated>
{entries}
</feed>"""


def sitemap(urls: list[str]) -> str:
    """A plain <urlset>."""
    entries = "\n".join(f"<url><loc>{_x(u)}</loc></url>" for u in urls)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{entries}
</urlset>"""


def news_sitemap(items: list[tuple[str, str, str]]) -> str:
    """A Google news sitemap, one <url> per (loc, title, publication date as ISO 8601)."""
    entries = "\n".join(
        f"<url><loc>{_x(loc)}</loc><news:news><news:publication><news:name>The Daily Example"
        "</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{when}</news:publication_date>"
        f"<news:title>{_x(name)}</news:title></news:news></url>"
        for loc, name, when in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{entries}
</urlset>"""


def sitemap_index(children: list[tuple[str, str | None]]) -> str:
    """A <sitemapindex>, one <sitemap> per (loc, lastmod or None)."""
    entries = "\n".join(
        f"<sitemap><loc>{_x(loc)}</loc>"
        + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
        + "</sitemap>"
        for loc, lastmod in children
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{entries}
</sitemapindex>"""


def section_page(links: list[tuple[str, str]], title: str = "World") -> str:
    """A section front: site navigation, then one teaser per (href, headline), then a footer."""
    teasers = "\n".join(f'<li><a href="{_x(href)}">{_x(text)}</a></li>' for href, text in links)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{_x(title)} - The Daily Example</title>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/politics">Politics</a>
<a href="/tag/elections">Elections</a> <a href="/author/jane-doe">Jane Doe</a>
<a href="/topics/climate">Climate</a> <a href="#main">Skip to content</a>
<a href="mailto:news@example.org">Contact</a></nav></header>
<main id="main"><h1>{_x(title)}</h1><ul>
{teasers}
</ul></main>
<footer><a href="https://twitter.com/dailyexample">Twitter</a>
<a href="/about">About us</a> <a href="/privacy">Privacy</a></footer>
</body></html>"""
