"""URLs: which ones archiver accepts, their canonical form, and the archive path each maps to.

A path is derived from the canonical URL (its id) and the month the article was first seen,
never from a title, and holds only characters every common filesystem accepts.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from archiver.errors import InvalidURL

MAX_URL_LENGTH = 2048
SLUG_MAX = 60
ID_LENGTH = 12

# Query parameters that identify a click, not a page.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|"
    r"_ga|_gl|ocid|cmpid|ns_mchannel|ns_source|ns_campaign|ns_linkname|ns_fee|at_medium|"
    r"at_campaign|at_custom\d*|smid|ref_src|sref|ito|CMP|__twitter_impression)$",
    re.IGNORECASE,
)
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """The one spelling of a URL archiver records: lower-case scheme and host, no default
    port, no fragment, no tracking parameters, a path of at least "/"."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(url[:80] + "…", f"URL longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
    except ValueError as err:
        raise InvalidURL(url, f"not a valid URL ({err})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURL(url, "not an http(s) URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidURL(url, "URL has no host")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidURL(url, "host name is not valid") from None
    try:
        port = parts.port
    except ValueError:
        raise InvalidURL(url, "port is not a number") from None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if ":" in host:  # an IPv6 literal keeps its brackets
        netloc = f"[{host}]" if port in (None, _DEFAULT_PORTS[scheme]) else f"[{host}]:{port}"
    path = quote(unquote(parts.path), safe="/%:@!$&'()*+,;=-._~") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def article_id(url: str) -> str:
    """A short, stable id of a canonical URL."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:ID_LENGTH]


def slug(url: str) -> str:
    """A readable, filesystem-safe name from the URL's path: ascii letters, digits, dashes."""
    path = unquote(urlsplit(url).path)
    segments = [s for s in path.split("/") if s]
    text = segments[-1] if segments else urlsplit(url).hostname or "article"
    text = re.sub(r"\.(s?html?|php|aspx?|jsp|cms)$", "", text, flags=re.IGNORECASE)
    if len(text) < 4 and len(segments) > 1:  # "/news/uk/1" reads better as "uk-1"
        text = f"{segments[-2]}-{text}"
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:SLUG_MAX].rstrip("-") or "article"
