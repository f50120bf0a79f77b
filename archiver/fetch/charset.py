"""Bytes → text as browsers read them: the one reading of a page's charset, for extraction,
discovery (feeds and sitemaps) and the CLI alike."""

from __future__ import annotations

import codecs
import re
from contextlib import suppress
from functools import lru_cache

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def decode_html(body: bytes, declared: str | None = None, url: str = "") -> str:
    """Bytes → text as browsers read them: a BOM, then the declared charset (HTTP header,
    then <meta>), each only when the bytes are valid in it; then UTF-8, and Windows-1252,
    browsers' default. Two mislabels are repaired: UTF-8 bytes declared in a legacy
    single-byte charset (common; the reverse is not), and Windows-1252 bytes inside a UTF-8
    page (text pasted in from elsewhere). What no charset reads leaves replacement
    characters, which extract_page refuses when they are more than a few."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16")):
        if body.startswith(bom) or (encoding == "utf-16" and body.startswith(codecs.BOM_UTF16_BE)):
            with suppress(UnicodeDecodeError):
                return body.decode(encoding).lstrip("\ufeff")
            body = body.removeprefix(codecs.BOM_UTF8)  # a BOM its bytes belie: read on
    for name in dict.fromkeys(c for c in (_codec(declared), _codec(_meta_charset(body))) if c):
        if _single_byte(name) and _is_utf8(body):
            name = "utf-8"  # legacy labels on UTF-8 bytes are common; the reverse is not
        with suppress(UnicodeDecodeError):
            return body.decode(name)
    with suppress(UnicodeDecodeError):
        return body.decode("utf-8")
    if _mostly_utf8(body):
        return body.decode("utf-8", errors=_CP1252_BYTES)
    return body.decode("cp1252", errors="replace")


def _mostly_utf8(body: bytes) -> bool:
    """Whether bytes that are not UTF-8 are UTF-8 text with some stray bytes: a UTF-8
    sequence rarely occurs by chance in Windows-1252 text (an accented capital or
    lowercase letter, then one or two of its punctuation marks), so a few decide."""
    sequences = _UTF8_SEQUENCE.findall(body)
    stray = len(_HIGH_BYTE.findall(body)) - sum(map(len, sequences))
    return bool(sequences) and 4 * len(sequences) >= stray


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: bytes invalid in UTF-8 read as Windows-1252, one by one."""
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


_CP1252_BYTES = "archiver-cp1252-bytes"
codecs.register_error(_CP1252_BYTES, _cp1252_bytes)
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


@lru_cache(maxsize=64)
def _single_byte(codec: str) -> bool:
    """Whether a codec reads one character per byte (Windows-125x, ISO 8859, KOI8, …)."""
    text = bytes(range(0x80, 0x100)).decode(codec, errors="replace")
    return len(text) == 0x80 and text.count("\ufffd") < 0x10  # UTF-8 replaces them all


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    # As browsers do: Latin-1 labels mean Windows-1252.
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(b > 0x7F for b in body)
