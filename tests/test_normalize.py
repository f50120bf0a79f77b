"""Normalization is deterministic and idempotent; documents and paths survive any input."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.diff import paragraphs
from archiver.extract.boilerplate import clean_byline_name
from archiver.extract.normalize import normalize_body, normalize_text
from archiver.store.document import Document, parse_document, simple_front_matter
from archiver.store.format import article_path
from archiver.urls import canonical_url

markdownish = st.text(
    alphabet=st.sampled_from(
        list("abc XYZ.,;:!?'\"-*+#>_=`\t\n\r\u00a0\u200b\u2028\u00e9e\u0301\u05d0\ufeff1)")
    ),
    max_size=300,
)


@settings(max_examples=600)
@given(markdownish)
def test_normalizing_twice_changes_nothing(text: str):
    once = normalize_body(text)
    assert normalize_body(once) == once


@given(markdownish)
def test_normalized_blocks_are_single_lines_without_stray_space(text: str):
    body = normalize_body(text)
    for block in paragraphs(body):
        assert "\n" not in block
        assert block == block.strip() and "  " not in block
    assert body == "" or (body.endswith("\n") and not body.endswith("\n\n"))


def test_one_syntax_for_headings_lists_and_quotes():
    text = "Heading\n=======\n\n### Sub ###\n* one\n+ two\n2) three\n\n>> quoted\n> on\n\n***"
    assert (
        normalize_body(text)
        == "## Heading\n\n## Sub\n\n- one\n\n- two\n\n2. three\n\n> quoted on\n"
    )


def test_unicode_is_nfc_and_invisible_characters_go():
    assert normalize_text("Cafe\u0301\u00a0 au\u200b lait\u00ad") == "Café au lait"


def test_paragraphs_are_not_wrapped():
    long = " ".join(["word"] * 400)
    assert normalize_body(long) == long + "\n"


@given(
    st.text(max_size=80),
    st.lists(st.text(max_size=20), max_size=3),
    st.text(max_size=200).map(normalize_body),
)
def test_documents_round_trip(title: str, authors: list[str], body: str):
    doc = Document(
        url="https://example.org/a",
        source="example",
        title=normalize_text(title),
        authors=tuple(normalize_text(a) for a in authors),
        body=body,
        published="2025-01-02",
        extractor="trafilatura 2.3.1",
        normalizer=1,
    )
    assert parse_document(doc.render()) == doc
    assert doc.render() == doc.render()


def _header(document: Document) -> str:
    return document.render()[len("---\n") :].partition("\n---\n")[0]


YAML_VALUE = st.one_of(
    st.text(max_size=20),
    st.text(max_size=20).map(lambda text: "'" + text.replace("'", "''") + "'"),
    st.text(max_size=20).map(lambda text: f"'{text}'"),
    st.sampled_from(["yes", "No", "007", "12", "~", "a #b", "a: b", "a:", "1.5", "'", "a'b"]),
)
YAML_LINE = st.one_of(
    st.builds("{}: {}".format, st.sampled_from(["title", "url", "Title", "a_b"]), YAML_VALUE),
    st.builds("- {}".format, YAML_VALUE),
    st.sampled_from(["authors:", "authors: ", "", " ", "title:x"]),
    st.text(max_size=20),
)


@settings(max_examples=500)
@given(st.lists(YAML_LINE, max_size=3))
def test_simple_front_matter_reads_as_yaml_or_not_at_all(lines: list[str]):
    header = "\n".join(lines)
    quick = simple_front_matter(header)
    if quick is not None:
        assert quick == (yaml.safe_load(header) or {})


def _front_only(url: str, title: str, authors: list[str], published: str | None) -> Document:
    """A document with no body: only its front matter to write."""
    return Document(
        url=url,
        source="example",
        title=title,
        authors=tuple(authors),
        body="",
        published=published,
        extractor="trafilatura 2.3.1",
        normalizer=1,
    )


@settings(max_examples=300)
@given(
    st.text(max_size=80),
    st.lists(st.text(max_size=20), max_size=3),
    st.sampled_from([None, "2025-01-02", "2025-01-02T10:00:00+01:00"]),
)
def test_rendered_front_matter_reads_as_yaml_reads_it(
    title: str, authors: list[str], published: str | None
):
    header = _header(_front_only("https://example.org/a?b=1#c", title, authors, published))
    quick = simple_front_matter(header)
    if quick is not None:
        assert quick == yaml.safe_load(header)


def test_the_usual_front_matter_is_read_without_yaml():
    document = Document(
        url="https://news.example/politics/2025/01/06/vote-1006319",
        source="news-example",
        title="Council's vote: what it means, and who said 'no'",
        authors=("Ann Reporter", "Bob O'Writer"),
        body="Text.",
        published="2025-01-06",
        language="en",
        extractor="trafilatura 2.3.1",
        normalizer=1,
    )
    assert simple_front_matter(_header(document)) == yaml.safe_load(_header(document))


SAFE_PATH = re.compile(
    r"^articles/[a-z0-9][a-z0-9_-]*/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-[0-9a-f]{12}\.md$"
)


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_any_url_path_makes_a_safe_archive_path(path: str):
    from datetime import UTC, datetime

    url = canonical_url("https://example.org/" + path.replace("#", "%23"))
    result = article_path("example", datetime(2025, 1, 2, tzinfo=UTC), url)
    assert SAFE_PATH.match(result), result
    assert ".." not in result and len(result) <= 120


def test_canonical_urls():
    assert (
        canonical_url("HTTPS://WWW.Example.ORG:443/news/a?utm_source=x&b=2&a=1&fbclid=z#frag")
        == "https://www.example.org/news/a?a=1&b=2"
    )
    assert canonical_url("http://example.org") == "http://example.org/"
    assert canonical_url("http://example.org:8080/x") == "http://example.org:8080/x"


def test_one_url_one_path():
    from datetime import UTC, datetime

    when = datetime(2025, 1, 2, tzinfo=UTC)
    a = article_path("bbc", when, canonical_url("https://www.bbc.co.uk/news/uk-1?utm_medium=x"))
    b = article_path("bbc", when, canonical_url("https://www.bbc.co.uk/news/uk-1#comments"))
    assert a == b == "articles/bbc/2025/01/02/uk-1-" + a.rsplit("-", 1)[1]


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("Maya Lindqvist Twitter Email", "Maya Lindqvist"),
        ("Maya Lindqvist | Facebook | LinkedIn | Instagram", "Maya Lindqvist"),
        ("Maya Lindqvist Follow on X", "Maya Lindqvist"),
        ("Maya Lindqvist Follow me on Threads RSS WhatsApp", "Maya Lindqvist"),
        ("Maya Lindqvist @mlindqvist Bluesky", "Maya Lindqvist"),
        ("Follow on X", ""),
        ("Email", ""),
        ("Malcolm X", "Malcolm X"),  # a lone X may be a name's
        ("Tomas Berg X Email", "Tomas Berg"),
        ("Anna Us Twitter", "Anna Us"),  # "us" only follows "Follow"
        ("Jo Email-Smith", "Jo Email-Smith"),
        ("Rex Threadgill", "Rex Threadgill"),
    ],
)
def test_link_labels_in_a_byline_are_not_names(name: str, cleaned: str):
    assert clean_byline_name(name) == cleaned


FRONT_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),  # the whole of Unicode, surrogates and emoji too
        st.sampled_from(list("-:#&*!|>'\"%@`{}[],?~ \t\n\r\x85\u2028\u2029\ufeff\x00\x7f")),
    ),
    max_size=30,
)


@settings(max_examples=1000)
@given(FRONT_TEXT, st.lists(FRONT_TEXT, max_size=3), st.one_of(st.none(), FRONT_TEXT))
def test_front_matter_is_written_as_pyyaml_writes_it(
    title: str, authors: list[str], published: str | None
):
    """libyaml's faster writer is used only where its bytes are PyYAML's: stored files
    stay the same whichever writes them."""
    document = _front_only("https://example.org/a", title, authors, published)
    facts: dict[str, object] = {"url": document.url, "source": "example", "title": title}
    facts |= {"authors": authors, "published": published}
    facts |= {"extractor": "trafilatura 2.3.1", "normalizer": 1}
    facts = {k: v for k, v in facts.items() if v not in (None, "", [])}
    expected = yaml.dump(
        facts,
        Dumper=yaml.SafeDumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,
        default_flow_style=False,
    )
    assert _header(document) + "\n" == expected
