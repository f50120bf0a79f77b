"""Synthetic archives at scale: invented articles with realistic edits, in archiver's format.

    python -m benchmarks.generate OUT --articles 100000 --versions 300000 [--sources 8]

Every word, name and outlet is made up by a seeded word model, so the same arguments always
give the same archive, down to the commit ids. Each version is one commit carrying the
trailers a capture writes, authored by its source, and the commits of all articles
interleave in time order as a real archive's do. Commits are piped straight into one
`git fast-import`; the working tree is checked out once at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archiver.archive import init_archive
from archiver.clock import FixedClock, isoformat
from archiver.diff import Version
from archiver.extract.normalize import NORMALIZER_VERSION
from archiver.store.commits import COMMITTER, Change, source_identity, subject_line
from archiver.store.document import Document
from archiver.store.format import CHANGE as CHANGE_TRAILER
from archiver.store.format import article_path, change_trailers
from archiver.urls import canonical_url

# Fixed, so that a seed gives the same commits (and ids) on any day.
START = datetime(2025, 1, 6, tzinfo=UTC)
MAX_VERSIONS = 30
PARAGRAPHS = (10, 40)
WORDS_PER_PARAGRAPH = (20, 60)
VOCABULARY = 12_000
TABLE_BITS = 20  # the word table's size: enough that the rarest word keeps its weight


def _words(text: str) -> list[str]:
    return text.split()


# Plain English glue words; everything else in the text is invented.
FUNCTION_WORDS = _words(
    "the of and to a in that said for on was is with he she it as at by from his her be "
    "have has had not are were this which but they their an would will who been after more "
    "over its than about there when also into could new last year people government week "
    "first two told before some all"
)
ONSETS = _words("b c d f g h k l m n p r s t v w b c d l m n p r s t br ch dr gr pl sh st th tr")
VOWELS = _words("a e i o u a e i o u a e i o ai ea ee ou")
CODAS = ["", "", "", "", "", "", "n", "r", "s", "l", "m", "t", "nd", "st", "rk", "th"]
OUTLET_SUFFIXES = _words("post herald times news courier gazette chronicle wire daily journal")
SECTIONS = _words("news politics business world science health culture sport")
HONORIFICS = ("Ms", "Mr", "Dr")
QUALIFIERS = ("reportedly", "allegedly", "at least", "about", "initially", "officially", "now")
LEADS = ("According to officials,", "Police said", "It is understood that", "Sources said")
SIGNALS = "og-title"


class WordModel:
    """A Zipf-weighted vocabulary: English glue words on top, invented words below."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"words:{seed}")
        invented = _unique(lambda: _invent(rng, rng.choice((1, 1, 2, 2, 2, 3))), VOCABULARY)
        self.words = FUNCTION_WORDS + [w for w in invented if w not in FUNCTION_WORDS]
        self.table = _zipf_table(self.words)
        self.first_names = [w.capitalize() for w in _unique(lambda: _invent(rng, 2), 600)]
        self.surnames = [
            w.capitalize() for w in _unique(lambda: _invent(rng, rng.choice((2, 3))), 2000)
        ]
        self.places = [w.capitalize() for w in _unique(lambda: _invent(rng, 2), 300)]

    def pick(self, rng: random.Random, count: int) -> list[str]:
        bits, table = rng.getrandbits, self.table
        return [table[bits(TABLE_BITS)] for _ in range(count)]

    def rare_word(self, rng: random.Random) -> str:
        """A content word: headlines and qualifiers avoid the glue words."""
        return self.words[rng.randrange(len(FUNCTION_WORDS), len(self.words))]

    def sentences(self, rng: random.Random, count: int) -> list[str]:
        """`count` words cut into sentences of 8–22 words, each with a capital and a full stop."""
        words, out, i = self.pick(rng, count), [], 0
        while i < count:
            k = _between(rng, 8, 22)
            if count - i - k < 6:  # no stub of a sentence at the end
                k = count - i
            out.append(_sentence(rng, words[i : i + k]))
            i += k
        return out

    def title(self, rng: random.Random) -> str:
        words = [self.rare_word(rng) if rng.random() < 0.6 else w for w in self.pick(rng, 9)]
        words = words[: rng.randint(6, 9)]
        if rng.random() < 0.3:
            words[rng.randrange(2, len(words))] += ","
        return " ".join(words).rstrip(",").capitalize()

    def person(self, rng: random.Random) -> Person:
        role = rng.choice(
            (
                f"the {self.rare_word(rng)} minister",
                f"a spokesperson for {rng.choice(self.places)} council",
                f"chief executive of {rng.choice(self.surnames)} Group",
                f"a professor at the University of {rng.choice(self.places)}",
                f"the mayor of {rng.choice(self.places)}",
            )
        )
        return Person(
            rng.choice(self.first_names), rng.choice(self.surnames), rng.choice(HONORIFICS), role
        )


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    honorific: str
    role: str

    @property
    def short(self) -> str:
        return f"{self.honorific} {self.last}"

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def _zipf_table(words: list[str]) -> list[str]:
    """Each word repeated in proportion to 1/(rank + 2), 2**TABLE_BITS entries in all: a
    word is then one random index away, five times faster than random.choices' bisection."""
    size = 1 << TABLE_BITS
    weights = [1 / (rank + 2) for rank in range(len(words))]
    scale = size / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    counts[0] += size - sum(counts)  # rounding goes to the commonest word
    return [word for word, count in zip(words, counts, strict=True) for _ in range(count)]


def _invent(rng: random.Random, syllables: int) -> str:
    return "".join(
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)
    )


def _unique(make: Callable[[], str], count: int) -> list[str]:
    """`count` distinct values of make(), in the order made (a set would lose determinism)."""
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(make(), None)
    return list(seen)


def _between(rng: random.Random, low: int, high: int) -> int:
    """randint(low, high) at a third of its cost, for the per-sentence draws."""
    return low + int(rng.random() * (high - low + 1))


def _sentence(rng: random.Random, words: list[str]) -> str:
    words[0] = words[0].capitalize()
    if len(words) > 10 and rng.random() < 0.4:
        words[_between(rng, 3, len(words) - 5)] += ","
    return " ".join(words) + "."


@dataclass
class Article:
    """One article's current text and the facts its next edits draw on."""

    url: str
    source: str
    staff: tuple[str, ...]
    path: str
    published: str
    title: str
    authors: list[str]
    paragraphs: list[str]
    people: list[Person]
    rng: random.Random
    unexpanded: list[Person] = field(default_factory=list)
    typos: list[tuple[str, str]] = field(default_factory=list)  # (wrong, right)
    corrected: bool = False
    stored: str = ""  # the text of the version last committed
    extractor: str = ""
    header: str = ""
    header_key: tuple[str, tuple[str, ...]] | None = None

    def document(self, body: str) -> Document:
        return Document(
            url=self.url,
            source=self.source,
            title=self.title,
            body=body,
            authors=tuple(self.authors),
            published=self.published,
            language="en",
            extractor=self.extractor,
            normalizer=NORMALIZER_VERSION,
        )

    def body(self) -> str:
        return "\n\n".join(self.paragraphs) + "\n"

    def text(self) -> str:
        """The file as Document.render() writes it. YAML would be a fifth of the generator's
        time for every version, so the front matter is rendered again only when the
        headline or byline it shows has changed."""
        key = (self.title, tuple(self.authors))
        if key != self.header_key:
            self.header, self.header_key = self.document("").render(), key
        return self.header + self.body()


# Writing the first version -------------------------------------------------------------


@dataclass(frozen=True)
class Outlet:
    name: str
    staff: tuple[str, ...]


def make_outlets(model: WordModel, count: int, seed: int) -> list[Outlet]:
    rng = random.Random(f"outlets:{seed}")
    names = _unique(lambda: f"{_invent(rng, 2)}-{rng.choice(OUTLET_SUFFIXES)}", count)
    return [Outlet(name, _staff(model, rng)) for name in names]


def _staff(model: WordModel, rng: random.Random) -> tuple[str, ...]:
    return tuple(f"{rng.choice(model.first_names)} {rng.choice(model.surnames)}" for _ in range(25))


def new_article(
    model: WordModel, outlet: Outlet, index: int, first_seen: datetime, seed: int, extractor: str
) -> Article:
    """Article `index`'s first version: the same for a seed, whenever it is asked for."""
    rng = random.Random(seed * 10_000_019 + index)
    title = model.title(rng)
    slug = "-".join(w.strip(",").lower() for w in title.split()[:8])
    url = canonical_url(
        f"https://www.{outlet.name}.example/{rng.choice(SECTIONS)}/"
        f"{first_seen:%Y/%m/%d}/{slug}-{1_000_000 + index}"
    )
    people = [model.person(rng) for _ in range(rng.randint(1, 4))]
    article = Article(
        url=url,
        source=outlet.name,
        staff=outlet.staff,
        path=article_path(outlet.name, first_seen, url),
        published=f"{first_seen:%Y-%m-%d}",
        title=title,
        authors=rng.sample(outlet.staff, 2 if rng.random() < 0.15 else 1),
        paragraphs=[],
        people=people,
        rng=rng,
        unexpanded=[p for p in people if rng.random() < 0.5],
        extractor=extractor,
    )
    article.paragraphs = [_paragraph(model, article) for _ in range(rng.randint(*PARAGRAPHS))]
    _add_headings(model, article)
    _introduce_people(article)
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        _add_typo(article)
    return article


def _paragraph(model: WordModel, article: Article) -> str:
    rng = article.rng
    sentences = model.sentences(rng, _between(rng, *WORDS_PER_PARAGRAPH))
    if article.people and rng.random() < 0.3:  # a later mention of someone, by surname
        person = rng.choice(article.people)
        i = rng.randrange(len(sentences))
        sentences[i] = f"{person.short} said {sentences[i][0].lower()}{sentences[i][1:]}"
    return " ".join(sentences)


def _quote(model: WordModel, article: Article) -> str:
    rng = article.rng
    said = " ".join(model.sentences(rng, rng.randint(10, 30)))[:-1]
    person = rng.choice(article.people)
    return f"“{said},” said {person.full if rng.random() < 0.5 else person.short}."


def _add_headings(model: WordModel, article: Article) -> None:
    """Long articles get a subheading or two, as many news pages do."""
    rng, paragraphs = article.rng, article.paragraphs
    for _ in range(len(paragraphs) // 15):
        heading = " ".join(model.rare_word(rng) for _ in range(rng.randint(2, 5)))
        paragraphs.insert(rng.randrange(4, len(paragraphs)), f"## {heading.capitalize()}")


def _introduce_people(article: Article) -> None:
    """Each person is introduced once near the top: by full name and role, or (for the
    `unexpanded` ones, which a later edit fixes) by surname only."""
    rng = article.rng
    for person in article.people:
        if person in article.unexpanded:
            said = f"{person.short} said"
        else:
            said = f"{person.full}, {person.role}, said"
        i = rng.randrange(min(4, len(article.paragraphs)))
        text = article.paragraphs[i]
        if not text.startswith("## "):
            article.paragraphs[i] = f"{said} {text[0].lower()}{text[1:]}"


def _add_typo(article: Article) -> None:
    """Swap two letters of one longer word; `fix_typo` swaps them back later."""
    rng = article.rng
    i = rng.randrange(len(article.paragraphs))
    words = article.paragraphs[i].split(" ")
    candidates = [w for w in words[1:-1] if len(w) >= 5 and w.isalpha() and w.islower()]
    if not candidates:
        return
    right = rng.choice(candidates)
    j = rng.randrange(1, len(right) - 2)
    wrong = right[:j] + right[j + 1] + right[j] + right[j + 2 :]
    if wrong != right:
        article.paragraphs[i] = article.paragraphs[i].replace(f" {right} ", f" {wrong} ", 1)
        article.typos.append((f" {wrong} ", f" {right} "))


# Edits between versions ----------------------------------------------------------------
# Each returns whether it changed anything; an edit that does not apply is skipped.

Edit = Callable[[WordModel, Article], bool]


def reword_headline(model: WordModel, article: Article) -> bool:
    rng, words = article.rng, article.title.split(" ")
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(1, len(words))
        words[i] = model.rare_word(rng) + ("," if words[i].endswith(",") else "")
    if rng.random() < 0.3:
        words.insert(rng.randrange(1, len(words)), model.rare_word(rng))
    title = " ".join(words).rstrip(",")
    changed = title != article.title
    article.title = title
    return changed


def add_qualifier(model: WordModel, article: Article) -> bool:
    rng = article.rng
    i = _body_paragraph(article)
    if i is None:
        return False
    sentences = article.paragraphs[i].split(". ")
    j = rng.randrange(len(sentences))
    words = sentences[j].split(" ")
    if rng.random() < 0.3 and words[0].lower() in FUNCTION_WORDS:  # not before a name
        words[0] = f"{rng.choice(LEADS)} {words[0].lower()}"
    elif len(words) > 4:
        words.insert(rng.randrange(2, len(words) - 1), rng.choice(QUALIFIERS))
    else:
        return False
    sentences[j] = " ".join(words)
    article.paragraphs[i] = ". ".join(sentences)
    return True


def insert_paragraph(model: WordModel, article: Article) -> bool:
    n = len(article.paragraphs)
    article.paragraphs.insert(article.rng.randint(n // 3, 2 * n // 3), _paragraph(model, article))
    return True


def move_paragraph_down(model: WordModel, article: Article) -> bool:
    rng, paragraphs = article.rng, article.paragraphs
    n = len(paragraphs)
    if n < 8:
        return False
    moved = paragraphs.pop(rng.randint(1, n // 3))
    paragraphs.insert(rng.randint(3 * n // 4, n - 1), moved)
    return True


def add_quote(model: WordModel, article: Article) -> bool:
    n = len(article.paragraphs)
    article.paragraphs.insert(article.rng.randint(1, n - 1), _quote(model, article))
    return True


def remove_quote(model: WordModel, article: Article) -> bool:
    quotes = [i for i, text in enumerate(article.paragraphs) if text.startswith("“")]
    if not quotes or len(article.paragraphs) <= PARAGRAPHS[0]:
        return False
    del article.paragraphs[article.rng.choice(quotes)]
    return True


def expand_name(model: WordModel, article: Article) -> bool:
    """`Ms Okavi said` becomes `Tamsin Okavi, the … minister, said` where first mentioned."""
    while article.unexpanded:
        person = article.unexpanded.pop(0)
        for i, text in enumerate(article.paragraphs):
            if person.short in text:
                longer = f"{person.full}, {person.role},"
                if f"{person.short} said" not in text:
                    longer = person.full
                article.paragraphs[i] = text.replace(person.short, longer, 1)
                return True
    return False


def append_correction(model: WordModel, article: Article) -> bool:
    if article.corrected:
        return False
    rng, person = article.rng, article.rng.choice(article.people)
    what = rng.choice(
        (
            f"misspelled the name of {person.full}",
            f"gave the wrong title for {person.full}",
            f"misstated the {model.rare_word(rng)} figure",
            f"said the {model.rare_word(rng)} took place in {rng.choice(model.places)}",
        )
    )
    article.paragraphs.append(
        f"Correction: An earlier version of this article {what}. This has been corrected."
    )
    article.corrected = True
    return True


def change_byline(model: WordModel, article: Article) -> bool:
    rng = article.rng
    name = rng.choice([s for s in article.staff if s not in article.authors])
    if len(article.authors) == 1 and rng.random() < 0.6:
        article.authors.append(name)  # a co-author joins
    else:
        article.authors[rng.randrange(len(article.authors))] = name
    return True


def fix_typo(model: WordModel, article: Article) -> bool:
    """A typo fixed where one is known; otherwise a punctuation-only change."""
    while article.typos:
        wrong, right = article.typos.pop()
        for i, text in enumerate(article.paragraphs):
            if wrong in text:
                article.paragraphs[i] = text.replace(wrong, right, 1)
                return True
    i = _body_paragraph(article)
    if i is None:
        return False
    text = article.paragraphs[i]
    if ", " in text:
        article.paragraphs[i] = text.replace(", ", " ", 1)
        return True
    words = text.split(" ")
    if not words[3].isalpha():
        return False
    words[3] += ","
    article.paragraphs[i] = " ".join(words)
    return True


def _body_paragraph(article: Article) -> int | None:
    """A random paragraph of running text (not a heading, quote or correction)."""
    rng = article.rng
    for _ in range(5):
        i = rng.randrange(len(article.paragraphs))
        text = article.paragraphs[i]
        if text[0].isalpha() and not text.startswith("Correction:") and len(text) > 40:
            return i
    return None


EDITS: dict[Edit, int] = {  # relative frequency
    reword_headline: 14,
    add_qualifier: 16,
    insert_paragraph: 16,
    move_paragraph_down: 7,
    add_quote: 9,
    remove_quote: 4,
    expand_name: 6,
    append_correction: 3,
    change_byline: 5,
    fix_typo: 12,
}


def edit(model: WordModel, article: Article) -> list[str]:
    """One to three edits of a version; returns the names of those that applied."""
    rng, applied = article.rng, []
    wanted = rng.choices((1, 2, 3), (65, 28, 7))[0]
    for _ in range(wanted * 4):
        change = rng.choices(list(EDITS), list(EDITS.values()))[0]
        if change(model, article):
            applied.append(change.__name__)
            if len(applied) == wanted:
                break
    if not applied:  # never store an unchanged text: capture would not commit it
        insert_paragraph(model, article)
        applied.append(insert_paragraph.__name__)
    return applied


# When versions happen ------------------------------------------------------------------


def version_counts(articles: int, versions: int, rng: random.Random) -> list[int]:
    """1–30 versions per article, power-law skewed (most have one or two, a few are
    rewritten all day), summing exactly to `versions`."""
    if not articles <= versions <= articles * MAX_VERSIONS:
        raise SystemExit(f"--versions must be between --articles and {MAX_VERSIONS}× that")
    sizes = range(1, MAX_VERSIONS + 1)
    weights = _power_weights(versions / articles)
    counts = rng.choices(sizes, weights, k=articles)
    missing = versions - sum(counts)
    while missing:
        i = rng.randrange(articles)
        step = 1 if missing > 0 else -1
        if 1 <= counts[i] + step <= MAX_VERSIONS:
            counts[i] += step
            missing -= step
    return counts


def _power_weights(mean: float) -> list[float]:
    """Weights k^-s over 1..30 with the given mean, s found by bisection."""
    low, high = -10.0, 10.0
    for _ in range(60):
        s = (low + high) / 2
        weights = [k**-s for k in range(1, MAX_VERSIONS + 1)]
        got = sum(k * w for k, w in enumerate(weights, 1)) / sum(weights)
        low, high = (s, high) if got > mean else (low, s)
    return weights


def version_times(first: int, count: int, rng: random.Random) -> list[int]:
    """Edits come fast at first and slow down, as the scheduler's checks do."""
    times, gap = [first], 1800.0
    for _ in range(count - 1):
        times.append(times[-1] + max(60, int(rng.expovariate(1 / gap))))
        gap = min(gap * 1.6, 3 * 86400)
    return times


def schedule(counts: Sequence[int], weeks: float, rng: random.Random) -> list[tuple[int, int, int]]:
    """(time, article, version) for every version, in time order."""
    span = int(weeks * 7 * 86400)
    base = int(START.timestamp())
    events = []
    for index, count in enumerate(counts):
        first = base + rng.randrange(span)
        for number, when in enumerate(version_times(first, count, rng), 1):
            events.append((when, index, number))
    events.sort()
    return events


# Writing commits -----------------------------------------------------------------------


class FastImport:
    """Commits piped to `git fast-import`, on top of the branch's current commit.

    The same stream format as archiver.store.commits.CommitStream, without its checkpoints and
    per-path working-tree sync: an archive being generated has no reader to keep in step.
    """

    def __init__(self, root: Path, branch: str = "refs/heads/main") -> None:
        self.branch = branch
        self.first = True
        self.process = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done", "--date-format=raw"],
            cwd=root,
            stdin=subprocess.PIPE,
            bufsize=1 << 20,
        )

    def commit(self, change: Change) -> None:
        self.start(change)
        for path, text in sorted(change.files.items()):
            self.file(path, text)
        self._write(b"\n")

    def start(self, change: Change) -> None:
        """Begin a commit; its files follow with file(), and the next start() or close()
        ends it (a blank line is optional in the stream)."""
        stamp = f"{int(change.when.timestamp())} +0000"
        author, email = source_identity(change.source)
        message = change.message().encode()
        parent = f"from {self.branch}^0\n" if self.first else ""
        self.first = False
        self._write(
            f"commit {self.branch}\n"
            f"author {author} <{email}> {stamp}\n"
            f"committer {COMMITTER[0]} <{COMMITTER[1]}> {stamp}\n"
            f"data {len(message)}\n".encode()
            + message
            + f"\n{parent}".encode()
        )

    def file(self, path: str, text: str) -> None:
        data = text.encode()
        self._write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    def _write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"done\n")
        self.process.stdin.close()
        if self.process.wait() != 0:
            raise SystemExit("git fast-import failed (see its message above)")


def changes(
    model: WordModel,
    outlets: list[Outlet],
    counts: Sequence[int],
    events: Sequence[tuple[int, int, int]],
    seed: int,
    extractor: str,
) -> Iterator[Change]:
    """The commits of the archive, in time order; only articles still changing are held."""
    live: dict[int, Article] = {}
    compared: dict[int, Version] = {}  # each live article's last committed version
    for when, index, number in events:
        moment = datetime.fromtimestamp(when, UTC)
        if number == 1:
            outlet = outlets[index % len(outlets)]
            live[index] = new_article(model, outlet, index, moment, seed, extractor)
        else:
            edit(model, live[index])
        article = live[index]
        text = committed_text(model, article)
        version = article.document(article.body()).version()
        change = change_trailers(compared[index], version) if number > 1 else NEW
        compared[index] = version
        yield Change(
            source=article.source,
            subject=subject_line(article.source, article.title),
            trailers={**trailers(article, number, moment), **change},
            when=moment,
            files={article.path: text},
        )
        if number == counts[index]:
            del live[index], compared[index]


def committed_text(model: WordModel, article: Article) -> str:
    """The article's text, made to differ from the last one committed: edits that cancel
    out would make a version capture never stores."""
    text = article.text()
    while text == article.stored:
        insert_paragraph(model, article)
        text = article.text()
    article.stored = text
    return text


NEW = {CHANGE_TRAILER: "new"}


def trailers(article: Article, number: int, when: datetime) -> dict[str, str]:
    """The trailers capture.decide._trailers writes for a 200 response from a page that states
    its modification date (as the edit's day) and its headline in og:title."""
    return {
        "Archiver-URL": article.url,
        "Archiver-Source": article.source,
        "Archiver-Version": str(number),
        "Archiver-Status": "200",
        "Archiver-Fetched": isoformat(when),
        "Archiver-Extractor": article.extractor,
        "Archiver-Page-Updated": f"{when:%Y-%m-%d}",
        "Archiver-Signals": SIGNALS,
    }


# The whole run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    articles: int
    versions: int
    import_seconds: float
    checkout_seconds: float
    git_bytes: int
    text_bytes: int

    def table(self) -> str:
        rows = [
            ("articles", f"{self.articles:,}"),
            ("versions (commits)", f"{self.versions:,}"),
            ("generate + fast-import", f"{self.import_seconds:.1f} s"),
            ("commits/s", f"{self.versions / self.import_seconds:,.0f}"),
            ("check out working tree", f"{self.checkout_seconds:.1f} s"),
            ("text of all versions", human_size(self.text_bytes)),
            ("repository (.git)", human_size(self.git_bytes)),
        ]
        return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def generate(
    out: Path,
    articles: int,
    versions: int,
    sources: int = 8,
    seed: int = 1,
    weeks: float = 12,
    checkout: bool = True,
    progress: bool = False,
) -> Summary:
    """Create the archive at `out` (which must not hold one) and return what it took."""
    from archiver.extract.page import EXTRACTOR  # imports trafilatura: only when generating

    plan = random.Random(f"plan:{seed}")
    counts = version_counts(articles, versions, plan)
    events = schedule(counts, weeks, plan)
    model = WordModel(seed)
    outlets = make_outlets(model, sources, seed)
    init_archive(out, FixedClock(START - timedelta(days=1))).close()
    started = time.perf_counter()
    stream, text_bytes = FastImport(out), 0
    for n, change in enumerate(changes(model, outlets, counts, events, seed, EXTRACTOR), 1):
        stream.commit(change)
        text_bytes += sum(len(t) for t in change.files.values())
        if progress and n % 10_000 == 0:
            rate = n / (time.perf_counter() - started)
            print(f"  {n:,}/{len(events):,} commits, {rate:,.0f}/s", file=sys.stderr)
    stream.close()
    imported = time.perf_counter() - started
    started = time.perf_counter()
    if checkout:
        subprocess.run(["git", "reset", "--quiet", "--hard"], cwd=out, check=True)
    return Summary(
        articles, versions, imported, time.perf_counter() - started, git_size(out), text_bytes
    )


def git_size(root: Path) -> int:
    """Bytes under .git/objects: what the history costs on disk."""
    total = 0
    for folder, _, files in os.walk(root / ".git" / "objects"):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def human_size(count: int) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1024:
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count:,.2f} GB"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    parser.add_argument("out", type=Path, help="folder for the new archive")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=300_000)
    parser.add_argument("--sources", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weeks", type=float, default=12, help="time the commits span")
    parser.add_argument(
        "--no-checkout",
        action="store_true",
        help="leave the working tree and index at the first commit (faster; for git-only use)",
    )
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} exists and is not empty")
    summary = generate(
        args.out,
        args.articles,
        args.versions,
        args.sources,
        args.seed,
        args.weeks,
        checkout=not args.no_checkout,
        progress=True,
    )
    print(summary.table())


if __name__ == "__main__":
    main()
