"""Reading ../shared/corpus: real news pages with ground truth (never copied into the project)."""

from __future__ import annotations

import collections
import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

WPP = "web-page-parser"


def html_pages(corpus: Path) -> list[Path]:
    """Every news page of the corpus, in a stable order (reference outputs excluded)."""
    return sorted(p for p in corpus.rglob("*.html") if p.name != "expected.html")


def ground_truth(corpus: Path) -> list[dict]:  # type: ignore[type-arg]
    return json.loads((corpus / WPP / "ground-truth.json").read_text(encoding="utf-8"))


def asserted_paragraphs(entry: dict) -> Iterator[str]:  # type: ignore[type-arg]
    for values in entry["content_index"].values():
        yield from values
    yield from entry.get("content_first", [])
    yield from entry.get("content_last", [])


def flat(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("*", "")
    return re.sub(r"\s+", " ", text).strip()


def found(paragraph: str, text: str) -> bool:
    """An asserted paragraph counts as found when its opening is in the text: the ground
    truth's paragraphs follow another parser's segmentation, so they are prefixes to find,
    not exact blocks."""
    return flat(paragraph)[:50] in flat(text)


def bag_f1(got: str, expected: str) -> float:
    a = collections.Counter(re.findall(r"\w+", got.lower()))
    b = collections.Counter(re.findall(r"\w+", expected.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)
