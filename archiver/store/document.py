"""The stored form of an article: YAML front matter of stable facts, then the markdown body."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

import yaml

from archiver.diff import Version, paragraphs
from archiver.errors import ArchiverError

_FRONT = "---\n"


@dataclass(frozen=True)
class Document:
    """An article as archived. Only facts that stay put between fetches belong here: fetch
    times, HTTP headers and schedule state live in commit trailers and the state store.
    The modification date a page states is not here either: sites restamp it without
    editing a word, so it is recorded in the trailer of the version it came with."""

    url: str
    source: str
    title: str
    body: str
    authors: tuple[str, ...] = ()
    published: str | None = None
    language: str | None = None
    extractor: str = ""
    normalizer: int = 0

    def render(self) -> str:
        """The file's bytes as text: deterministic for equal documents."""
        facts = {k: v for k, v in asdict(self).items() if k != "body" and v not in (None, "", ())}
        if self.authors:
            facts["authors"] = list(self.authors)
        return f"{_FRONT}{_dump_front_matter(facts)}{_FRONT}\n{self.body}"

    def with_body(self, body: str) -> Document:
        return replace(self, body=body)

    def same_reading(self, other: Document) -> bool:
        """Whether a reader sees the same article: title, byline and text. Page metadata
        (stated dates, language) that differs alone is not a new version: sites add and drop
        it in redesigns without an edit."""
        return (self.title, self.authors, self.body) == (other.title, other.authors, other.body)

    def version(self) -> Version:
        """The document as compared for change statistics and minor changes: what a reader
        sees, with the date the page states as published."""
        return Version(
            title=self.title,
            body=paragraphs(self.body),
            byline=self.byline,
            date=self.published or "",
        )

    @property
    def byline(self) -> str:
        return ", ".join(self.authors)


# libyaml when present: the site reads every version of every article.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# libyaml writes front matter five times faster, byte for byte as PyYAML does, except
# strings with line breaks, characters beyond the BMP (emoji) or lone surrogates: those
# it quotes or escapes otherwise, so they keep PyYAML's writer (stored files never change).
_FAST_DUMPER = getattr(yaml, "CSafeDumper", None)
_PYYAML_ONLY = re.compile("[\n\r\x85\u2028\u2029\ud800-\udfff\U00010000-\U0010ffff]")


def _dump_front_matter(facts: dict[str, object]) -> str:
    strings = [v for v in facts.values() if isinstance(v, str)]
    strings += [a for v in facts.values() if isinstance(v, list) for a in v]
    dumper = _FAST_DUMPER
    if dumper is None or any(_PYYAML_ONLY.search(s) for s in strings):
        dumper = yaml.SafeDumper
    return yaml.dump(
        facts,
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,
        default_flow_style=False,
    )


@lru_cache(maxsize=4096)
def _front_matter(header: str) -> object:
    """Front matter repeats across an article's versions: each distinct one is read once."""
    quick = simple_front_matter(header)
    if quick is not None:
        return quick
    return yaml.load(header, Loader=_LOADER) or {}


# What Document.render writes for most articles: `key: value` lines, values plain or in
# single quotes, and one list of plain or single-quoted items. Reading those lines
# directly takes a quarter of libyaml's time (8 against 34 µs; the site build reads every
# version); anything else goes to YAML.
_LINE = re.compile(r"([a-z_]+):(?: (.*))?")
# Plain words YAML reads as booleans or null, never as text.
_WORDS_NOT_TEXT = frozenset(
    form
    for word in ("yes", "no", "true", "false", "on", "off", "null")
    for form in (word, word.capitalize(), word.upper())
)


def simple_front_matter(header: str) -> dict[str, object] | None:
    """The front matter as YAML reads it, when it is in the simple form; else None."""
    facts: dict[str, object] = {}
    items: list[object] | None = None  # the list the last `key:` line opened
    for line in header.split("\n"):
        if line.startswith("- "):
            if items is None or (value := _scalar(line[2:])) is None:
                return None
            items.append(value)
            continue
        if items == []:
            return None  # `key:` with no items below it
        items = None
        match = _LINE.fullmatch(line)
        if match is None:
            if line:
                return None
            continue
        key, text = match.groups()
        if key in facts:
            return None
        if text is None:
            facts[key] = items = []
        elif (value := _scalar(text)) is None:
            return None
        else:
            facts[key] = value
    return None if items == [] else facts


def _scalar(text: str) -> object | None:
    """A plain or single-quoted scalar YAML reads as this text (or a plain integer)."""
    if text.startswith("'"):
        inner = text[1:-1]
        if len(text) < 2 or not text.endswith("'") or "'" in inner.replace("''", ""):
            return None
        if not inner.isprintable():
            return None  # YAML folds line breaks (NEL, LS, PS too) in quoted text
        return inner.replace("''", "'")
    if text.isdigit() and text.isascii() and (text == "0" or text[0] != "0"):
        return int(text)
    plain = (
        text[:1].isascii()
        and text[:1].isalpha()
        and text not in _WORDS_NOT_TEXT
        and text == text.strip()
        and ": " not in text
        and not text.endswith(":")
        and " #" not in text
        and text.isprintable()
    )
    return text if plain else None


def parse_document(text: str, where: str = "document") -> Document:
    """The inverse of Document.render."""
    if not text.startswith(_FRONT):
        raise ArchiverError(f"{where}: no front matter")
    header, sep, body = text[len(_FRONT) :].partition(f"\n{_FRONT}")
    if not sep:
        raise ArchiverError(f"{where}: front matter is not closed")
    try:
        facts = _front_matter(header)
    except yaml.YAMLError as err:
        raise ArchiverError(f"{where}: front matter is not valid YAML ({err})") from None
    if not isinstance(facts, dict) or "url" not in facts:
        raise ArchiverError(f"{where}: front matter has no url")
    known = Document.__dataclass_fields__
    values = {k: v for k, v in facts.items() if k in known}
    values["authors"] = tuple(values.get("authors") or ())
    return Document(body=body.removeprefix("\n"), **{"title": "", "source": "", **values})
