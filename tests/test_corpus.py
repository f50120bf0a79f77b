"""Extraction on real news pages: quality gates, determinism across processes, idempotence,
and the corpus's change-detection pairs run through the real pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import trafilatura
from lxml import html as lxml_html

from archiver.archive import Archive
from archiver.capture.model import Outcome
from archiver.extract.normalize import normalize_body
from archiver.extract.page import extract_page
from archiver.fetch.charset import decode_html
from archiver.store.history import iter_commits
from archiver.sync import add, sync

from .corpus import WPP, asserted_paragraphs, bag_f1, found, ground_truth, html_pages
from .newsserver import NewsServer

GATES = json.loads((Path(__file__).parent / "gates" / "extraction.json").read_text())
pytestmark = pytest.mark.corpus


def _body(raw: bytes, url: str) -> str:
    return extract_page(decode_html(raw, None, url), url, "corpus", min_chars=1).document.body


def test_asserted_paragraphs_found_at_least_as_often_as_plain_trafilatura(corpus: Path):
    ours = plain = total = 0
    for entry in ground_truth(corpus):
        raw = (corpus / WPP / entry["fixture"]).read_bytes()
        body = _body(raw, entry["url"])
        baseline = trafilatura.extract(raw, url=entry["url"]) or ""
        for paragraph in asserted_paragraphs(entry):
            total += 1
            ours += found(paragraph, body)
            plain += found(paragraph, baseline)
    print(f"asserted paragraphs found: ours {ours}, plain trafilatura {plain}, of {total}")
    assert ours >= GATES["asserted_paragraphs_found"]
    assert ours >= plain


def test_readability_pages_bag_of_words_f1(corpus: Path):
    scores = []
    for folder in sorted((corpus / "readability" / "test-pages").iterdir()):
        expected = lxml_html.fromstring((folder / "expected.html").read_bytes()).text_content()
        scores.append(bag_f1(_body((folder / "source.html").read_bytes(), ""), expected))
    mean = sum(scores) / len(scores)
    print(f"readability mean bag-of-words F1: {mean:.4f} over {len(scores)} pages")
    assert mean >= GATES["readability_mean_f1"]


_DIGEST_SCRIPT = """
import hashlib, sys
from pathlib import Path
from archiver.errors import ArchiverError
from archiver.extract.page import extract_page
from archiver.fetch.charset import decode_html
for name in sys.argv[1:]:
    raw = Path(name).read_bytes()
    try:
        page = extract_page(decode_html(raw, None, ""), "https://example.org/", "x", 1)
        text = page.document.render()
    except ArchiverError as err:
        text = "error: " + str(err)
    print(hashlib.sha256(text.encode()).hexdigest(), name)
"""


def test_two_processes_give_identical_bytes_for_every_page(corpus: Path):
    names = [str(p) for p in html_pages(corpus)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _DIGEST_SCRIPT, *names],
            stdout=subprocess.PIPE,
            env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"},
        )
        for seed in (1, 2)
    ]
    first, second = (run.communicate(timeout=600)[0].decode() for run in runs)
    assert len(first.splitlines()) == len(names) >= 100
    assert first == second


def test_normalized_output_is_a_fixed_point(corpus: Path):
    for page in html_pages(corpus)[::3]:
        try:
            body = _body(page.read_bytes(), "")
        except Exception:  # pages too small to be articles are other tests' business
            continue
        assert normalize_body(body) == body, page


def _serve_sequence(
    archive: Archive, server: NewsServer, corpus: Path, files: list[str], path: str = "/article"
) -> list[Outcome]:
    """Serve each capture in turn at one URL and check it; the outcomes, in order."""
    outcomes = []
    for index, name in enumerate(files):
        server.set(path, (corpus / name).read_bytes(), content_type="text/html")
        report = add(archive, [server.url(path)]) if index == 0 else sync(archive, True)
        outcomes.append(next(r.outcome for r in report.results if r.url == server.url(path)))
    return outcomes


def _versions(archive: Archive) -> int:
    return sum(1 for c in iter_commits(archive.repo) if c.url)


NS = "news-sniffer/web_pages/"


def test_hand_edited_pair_is_one_change(archive: Archive, server: NewsServer, corpus: Path):
    files = [NS + "7984711-A.stm.html", NS + "7984711-B.stm.html"]
    assert _serve_sequence(archive, server, corpus, files) == [Outcome.NEW, Outcome.CHANGED]
    assert _versions(archive) == 2


def test_byte_identical_pair_is_no_change(archive: Archive, server: NewsServer, corpus: Path):
    files = [NS + "6072486-A.stm.html", NS + "6072486-B.stm.html"]
    assert _serve_sequence(archive, server, corpus, files) == [Outcome.NEW, Outcome.UNCHANGED]
    assert _versions(archive) == 1


@pytest.mark.parametrize("first", ["7984711-A.stm.html", "7984711-B.stm.html"])
def test_invalid_capture_never_becomes_a_version(
    archive: Archive, server: NewsServer, corpus: Path, first: str
):
    files = [NS + first, NS + "7984711-invalid.html"]
    assert _serve_sequence(archive, server, corpus, files) == [Outcome.NEW, Outcome.FAILED]
    assert _versions(archive) == 1
    state = archive.state.get(server.url("/article"))
    assert "headline" in (state.last_error or "")
    assert state.versions == 1


def test_identical_text_captures_add_no_version(archive: Archive, server: NewsServer, corpus: Path):
    groups = json.loads((corpus / "version-groups.json").read_text())["groups"]
    pairs = [p for g in groups for p in g["pairs"] if p["identical_extracted_text"]]
    assert len(pairs) >= 5
    for number, pair in enumerate(pairs):
        files = [pair["a"], pair["b"]]
        outcome = _serve_sequence(archive, server, corpus, files, f"/pair-{number}")
        assert outcome == [Outcome.NEW, Outcome.UNCHANGED], (files, outcome)
    assert _versions(archive) == len(pairs)
