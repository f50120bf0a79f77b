"""Pages whose bytes are not in the charset they declare: read as browsers read them, so a
mislabelled capture is the same article, never a mojibake version; bytes no charset
reads are a failed check, never a version."""

from __future__ import annotations

from datetime import timedelta

import pytest

from archiver.archive import Archive
from archiver.capture.model import Outcome
from archiver.store.history import iter_commits
from archiver.sync import add, sync

from .newsserver import NewsServer, article_html
from .pages import HARBOUR

TITLE = "Café owners’ €2m harbour bid"
LEAD = "The café’s owners said the €2m bid, their fourth, was “the last one”, à la carte."


def _page(meta: str | None) -> str:
    page = article_html(TITLE, [LEAD, *HARBOUR])
    return page.replace('<meta charset="utf-8">', f'<meta charset="{meta}">' if meta else "")


def _stored(archive: Archive, url: str) -> str:
    return (archive.root / archive.state.get(url).path).read_text(encoding="utf-8")


def _commits(archive: Archive) -> int:
    return sum(1 for c in iter_commits(archive.repo) if c.url)


@pytest.mark.parametrize(
    ("header", "meta", "encoding"),
    [
        ("utf-8", "utf-8", "cp1252"),  # both declarations wrong
        ("utf-8", "windows-1252", "cp1252"),  # the header wrong, the meta right
        ("windows-1250", "utf-8", "utf-8"),  # a legacy header on UTF-8 bytes
        ("iso-8859-1", "utf-8", "utf-8"),
        (None, None, "cp1252"),  # nothing declared
    ],
)
def test_a_mislabelled_page_is_the_article_it_says(
    archive: Archive,
    server: NewsServer,
    header: str | None,
    meta: str | None,
    encoding: str,
):
    url = server.url("/news/cafe")
    server.set("/news/cafe", _page("utf-8"))  # first seen correctly labelled
    add(archive, [url])
    content_type = f"text/html; charset={header}" if header else "text/html"
    page = _page(meta).encode(encoding)  # no ETag: the same bytes may be served again
    server.set("/news/cafe", page, content_type=content_type, etag=False)
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]
    assert _commits(archive) == 1
    assert f"title: {TITLE}" in _stored(archive, url) and LEAD in _stored(archive, url)


def test_windows_1252_text_inside_a_utf_8_page_reads_as_both(archive: Archive, server: NewsServer):
    url = server.url("/news/cafe")
    utf8 = _page("utf-8").encode()
    pasted = utf8.replace(LEAD.encode(), LEAD.encode("cp1252"))  # the lead from elsewhere
    server.set("/news/cafe", pasted, content_type="text/html; charset=utf-8")
    add(archive, [url])
    stored = _stored(archive, url)
    assert f"title: {TITLE}" in stored and LEAD in stored


def test_a_byte_order_mark_its_bytes_belie_is_read_past(archive: Archive, server: NewsServer):
    url = server.url("/news/cafe")
    server.set(
        "/news/cafe", b"\xef\xbb\xbf" + _page(None).encode("cp1252"), content_type="text/html"
    )
    add(archive, [url])
    assert LEAD in _stored(archive, url)


def test_bytes_no_charset_reads_are_a_failure_not_a_version(archive: Archive, server: NewsServer):
    url = server.url("/news/cafe")
    server.set("/news/cafe", _page("utf-8"))
    add(archive, [url])
    before = _stored(archive, url)
    # Bytes Windows-1252 leaves undefined, in a page declared UTF-8 that they are not.
    broken = _page("utf-8").encode("cp1252").replace(b"\x802m bid", b"\x81\x8d\x8f\x90\x9d bid")
    server.set("/news/cafe", broken, content_type="text/html; charset=utf-8")
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    [result] = sync(archive, check_all=True).results
    assert result.outcome is Outcome.FAILED
    assert "U+FFFD" in result.reason and "\n" not in result.reason
    assert _commits(archive) == 1 and _stored(archive, url) == before


def test_text_full_of_replacement_characters_is_never_stored(archive: Archive, server: NewsServer):
    # Valid UTF-8 that a site's own broken conversion filled with U+FFFD.
    damaged = _page("utf-8").replace("é", "\ufffd").replace("’", "\ufffd")
    server.set("/news/cafe", damaged)
    [result] = add(archive, [server.url("/news/cafe")]).results
    assert result.outcome is Outcome.FAILED and "U+FFFD" in result.reason
    assert _commits(archive) == 0
