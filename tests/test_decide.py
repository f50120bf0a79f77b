"""What each check means for the archive, decided in memory: no git, no state database,
no server. Each case builds what was fetched and extracted and what is stored, and the
decision is checked whole: its outcome, version, commit trailers and files, new state.
And the message a check hands the writer is plain data: the same after JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver import errors
from archiver.capture.decide import Decision, Stored, decide, needs_text
from archiver.capture.model import Checked, Failure, Fetched, Outcome, Target
from archiver.capture.worker import Comparison, Extracted, fingerprint
from archiver.config import SourceConfig
from archiver.extract.page import EXTRACTOR, Page
from archiver.fetch.robots import VERDICT_TTL
from archiver.store.commits import blob_id
from archiver.store.document import Document
from archiver.store.state import ArticleState, Held

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FETCHED_AT = "2025-03-01T12:00:00Z"
SOURCE = SourceConfig("herald")
RULES = fingerprint(SOURCE)
URL = "https://herald.example/news/bridge"
PATH = "articles/herald/2025/02/28/bridge-1a2b3c.md"
ETAG = '"v1"'

TITLE = "Old bridge to close for repairs"
BODY = (
    "The old bridge will close for repairs in May, the council said on Monday.\n\n"
    "Work is expected to take six weeks, and a ferry will run meanwhile."
)
EDITED = BODY + "\n\nThe mayor said the council had no choice."
MINOR = BODY.replace("Monday.", "Monday!")


def document(title: str = TITLE, body: str = BODY, language: str | None = "en") -> Document:
    return Document(URL, "herald", title, body, language=language, extractor=EXTRACTOR)


V1 = document()
V1_TEXT = V1.render()
V1_BLOB = blob_id(V1_TEXT)
V2 = document(body=EDITED)
V2_TEXT = V2.render()
V2_BLOB = blob_id(V2_TEXT)


def stored_state(text: str = V1_TEXT, **changes: object) -> ArticleState:
    """An article stored yesterday with `text` as its one version."""
    yesterday = NOW - timedelta(days=1)
    state = ArticleState(
        url=URL,
        source="herald",
        path=PATH,
        first_seen=yesterday,
        last_checked=yesterday,
        last_changed=yesterday,
        versions=1,
        blob=blob_id(text),
        blobs=(blob_id(text),),
        etag=ETAG,
        last_status=200,
        chars=len(BODY),
        rules=RULES,
    )
    return state.update(**changes)


def fetched(status: int = 200, etag: str = '"v2"') -> Fetched:
    return Fetched(URL, URL, status, {"etag": etag} if etag else {})


def captured(
    page: Document, state: ArticleState | None, stored_text: str | None = None, **fetch: object
) -> Checked:
    """The check of a page extracted as a worker extracts it, compared with `stored_text`."""
    blob = state.blob or "" if state else ""
    extracted = Extracted.of(Page(page), stored_text, blob)
    return Checked(Target(URL, "herald", state), fetched(**fetch), extracted, url=URL)  # type: ignore[arg-type]


def failing(state: ArticleState | None, failure: Failure) -> Checked:
    return Checked(Target(URL, "herald", state), failure=failure, url=URL)


def version_trailers(version: int, **extra: str) -> dict[str, str]:
    return {
        "Archiver-URL": URL,
        "Archiver-Source": "herald",
        "Archiver-Version": str(version),
        "Archiver-Status": "200",
        "Archiver-Fetched": FETCHED_AT,
        "Archiver-Extractor": EXTRACTOR,
        **extra,
        "Archiver-Rules": RULES,
    }


def counts(change: str, added: int, removed: int, edited: int, chars: tuple[int, int]):  # type: ignore[no-untyped-def]
    """An edit's change trailers: sentences added, removed and edited, characters added
    and removed."""
    return {
        "Archiver-Change": change,
        "Archiver-Sentences-Added": str(added),
        "Archiver-Sentences-Removed": str(removed),
        "Archiver-Sentences-Edited": str(edited),
        "Archiver-Sentences-Moved": "0",
        "Archiver-Chars-Added": str(chars[0]),
        "Archiver-Chars-Removed": str(chars[1]),
        "Archiver-Changed-Fields": "body",
    }


EDIT_COUNTS = counts("edit", 1, 0, 0, (41, 0))  # the mayor's sentence (41 characters) added


@dataclass(frozen=True)
class Case:
    checked: Checked
    outcome: Outcome
    version: int
    trailers: dict[str, str] | None = None  # the one commit's; None: no commit
    files: dict[str, str] = field(default_factory=dict)
    deletions: tuple[str, ...] = ()
    stored: Stored = field(default_factory=Stored)
    reformat: bool = False
    reason: str = ""
    state: Callable[[ArticleState], bool] | None = None  # what the new state must satisfy
    hold: Held | None = None


GONE_404 = Failure("HTTPStatusError", URL, "HTTP 404", 404)
GONE_SINCE = NOW - timedelta(hours=7)

CASES = {
    "new article": Case(
        captured(V1, None),
        Outcome.NEW,
        1,
        version_trailers(1, **{"Archiver-Change": "new"}),
        files={"articles/herald/2025/03/01/bridge-": V1_TEXT},
        state=lambda s: s.versions == 1 and s.blobs == (V1_BLOB,) and s.first_seen == NOW,
    ),
    "same text": Case(
        captured(V1, stored_state()),
        Outcome.UNCHANGED,
        1,
        state=lambda s: s.unchanged == 1 and s.etag == '"v2"' and s.last_checked == NOW,
    ),
    "not modified (304)": Case(
        Checked(Target(URL, "herald", stored_state()), fetched(304, etag=""), url=URL),
        Outcome.UNCHANGED,
        1,
        state=lambda s: s.unchanged == 1 and s.etag == ETAG and s.last_status == 304,
    ),
    "same reading, other form": Case(
        captured(document(language="fr"), stored_state(), V1_TEXT),
        Outcome.UNCHANGED,
        1,
        state=lambda s: s.blob == V1_BLOB and s.versions == 1,
    ),
    "edit": Case(
        captured(V2, stored_state(), V1_TEXT),
        Outcome.CHANGED,
        2,
        version_trailers(2, **EDIT_COUNTS),
        files={PATH: V2_TEXT},
        state=lambda s: s.blobs == (V1_BLOB, V2_BLOB) and s.last_changed == NOW,
    ),
    "edit compared here (the worker had no stored text)": Case(
        captured(V2, stored_state()),
        Outcome.CHANGED,
        2,
        version_trailers(2, **EDIT_COUNTS),
        files={PATH: V2_TEXT},
        stored=Stored(text=V1_TEXT),
        state=lambda s: s.versions == 2 and s.blob == V2_BLOB,
    ),
    "minor edit": Case(
        captured(document(body=MINOR), stored_state(), V1_TEXT),
        Outcome.CHANGED,
        2,
        version_trailers(2, **counts("minor", 0, 0, 1, (1, 1))),  # "." → "!"
        files={PATH: document(body=MINOR).render()},
        state=lambda s: s.versions == 2 and s.blobs[0] == V1_BLOB,
    ),
    "revert to an earlier version": Case(
        captured(V1, stored_state(V2_TEXT, versions=2, blobs=(V1_BLOB, V2_BLOB)), V2_TEXT),
        Outcome.CHANGED,
        3,
        version_trailers(3, **counts("edit", 0, 1, 0, (0, 41)), **{"Archiver-Revert-Of": "1"}),
        files={PATH: V1_TEXT},
        state=lambda s: s.blobs == (V1_BLOB, V2_BLOB, V1_BLOB),
    ),
    "rules changed since the stored text": Case(
        captured(V2, stored_state(rules="trafilatura 0.1; normalizer 1; rules 0"), V1_TEXT),
        Outcome.FAILED,
        0,
        reason="extraction changed since version 1 (run `archiver reformat`)",
        state=lambda s: s.failures == 1 and s.versions == 1,
    ),
    "404, not yet removed": Case(
        failing(stored_state(), GONE_404),
        Outcome.GONE,
        0,
        reason="HTTP 404 (not yet removed)",
        state=lambda s: s.failures == 1 and s.gone_since == NOW and not s.removed,
    ),
    "404 for long enough: removed": Case(
        failing(stored_state(failures=2, gone_since=GONE_SINCE), GONE_404),
        Outcome.REMOVED,
        1,
        {
            "Archiver-URL": URL,
            "Archiver-Source": "herald",
            "Archiver-Version": "1",
            "Archiver-Status": "404",
            "Archiver-Fetched": FETCHED_AT,
            "Archiver-Event": "removed",
            "Archiver-Gone-Since": "2025-03-01T05:00:00Z",
        },
        deletions=(PATH,),
        stored=Stored(text=V1_TEXT),
        reason="HTTP 404",
        state=lambda s: s.removed and s.failures == 0 and s.last_status == 404,
    ),
    "404 once removed": Case(
        failing(stored_state(removed=True), GONE_404),
        Outcome.UNCHANGED,
        1,
        reason="HTTP 404",
        state=lambda s: s.removed and s.last_checked == NOW,
    ),
    "return with the same text": Case(
        captured(document(language="fr"), stored_state(removed=True), V1_TEXT),
        Outcome.RETURNED,
        1,
        version_trailers(1, **{"Archiver-Event": "returned"}),
        files={PATH: V1_TEXT},  # the text it had, not today's other form of it
        stored=Stored(text=V1_TEXT),
        state=lambda s: not s.removed and s.blob == V1_BLOB and s.blobs == (V1_BLOB,),
    ),
    "return with other text": Case(
        captured(V2, stored_state(removed=True), V1_TEXT),
        Outcome.RETURNED,
        2,
        version_trailers(2, **EDIT_COUNTS, **{"Archiver-Event": "returned"}),
        files={PATH: V2_TEXT},
        stored=Stored(text=V1_TEXT),
        state=lambda s: not s.removed and s.versions == 2,
    ),
    "reformat": Case(
        captured(
            V1,
            stored_state(document(body=BODY + "\n\nShare this article").render()),
            etag=ETAG,
        ),
        Outcome.REFORMATTED,
        1,
        {
            **version_trailers(1, **{"Archiver-Event": "reformat"}),
            "Archiver-Version": "1",
        },
        files={PATH: V1_TEXT},
        stored=Stored(text=document(body=BODY + "\n\nShare this article").render()),
        reformat=True,
        state=lambda s: s.blob == V1_BLOB and s.blobs == (V1_BLOB,) and s.versions == 1,
    ),
    "robots.txt disallows it": Case(
        failing(stored_state(), Failure("Disallowed", URL, "robots.txt disallows it")),
        Outcome.SKIPPED,
        1,
        reason="robots.txt disallows it",
        state=lambda s: s.next_check == NOW + VERDICT_TTL,
        hold=Held("skipped", "robots.txt disallows it", 1, NOW + VERDICT_TTL),
    ),
    "a tracked article fails": Case(
        failing(stored_state(), Failure("HTTPStatusError", URL, "HTTP 500", 500)),
        Outcome.FAILED,
        0,
        reason="HTTP 500",
        state=lambda s: s.failures == 1 and s.last_status == 500 and s.last_error == "HTTP 500",
    ),
    "a new article fails a second time": Case(
        failing(None, Failure("FetchError", URL, "cannot fetch")),
        Outcome.FAILED,
        0,
        stored=Stored(held=Held("failed", "cannot fetch", 1, NOW)),
        reason="cannot fetch",
        hold=Held("failed", "cannot fetch", 2, NOW + timedelta(minutes=30)),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_decision(case: Case):
    decision = decide(case.checked, case.stored, NOW, SOURCE, RULES, case.reformat)
    result = decision.result
    assert (result.outcome, result.version, result.reason) == (
        case.outcome,
        case.version,
        case.reason,
    )
    if case.trailers is None:
        assert decision.commits == ()
    else:
        [(change, outcome, _)] = decision.commits
        assert outcome is case.outcome
        assert change.trailers == case.trailers
        assert change.when == NOW
        files = {_path_prefix(p, case): text for p, text in change.files.items()}
        assert files == case.files
        assert change.deletions == case.deletions
    if case.state is not None:
        assert decision.states and case.state(decision.states[-1])
    else:
        assert decision.states == ()
    assert decision.hold == case.hold


def _path_prefix(path: str, case: Case) -> str:
    """A new article's path ends in a hash of its URL: compared up to it."""
    if case.outcome is Outcome.NEW:
        assert path.endswith(".md")
        return path.rsplit("-", 1)[0] + "-"
    return path


def test_a_new_article_is_created_and_its_title_is_the_subject():
    decision = decide(captured(V1, None), Stored(), NOW, SOURCE, RULES)
    assert decision.created == decision.states[-1]
    assert decision.commits[0].change.subject == f"herald: {TITLE}"


def test_a_new_address_of_a_tracked_article_stores_nothing_and_aliases():
    checked = replace(captured(V1, None), target=Target(URL + "?id=7", "herald"))
    known = stored_state(versions=4)
    decision = decide(checked, Stored(known=known), NOW, SOURCE, RULES)
    assert decision == Decision(decision.result, alias=URL)
    assert (decision.result.url, decision.result.outcome, decision.result.version) == (
        URL,
        Outcome.UNCHANGED,
        4,
    )


def test_a_skip_for_the_reason_already_told_is_a_repeat():
    checked = failing(None, Failure("Disallowed", URL, "robots.txt disallows it"))
    told = Held("skipped", "robots.txt disallows it", 1, NOW)
    assert decide(checked, Stored(held=told), NOW, SOURCE, RULES).result.repeated
    assert not decide(checked, Stored(), NOW, SOURCE, RULES).result.repeated


@pytest.mark.parametrize(
    ("checked", "reformat", "needed"),
    [
        (captured(V1, stored_state()), False, False),  # the same text
        (captured(V2, stored_state(), V1_TEXT), False, False),  # the worker compared
        (captured(V2, stored_state()), False, True),  # the worker was sent no text
        (captured(V1, stored_state(removed=True)), False, True),  # a return
        (captured(V1, stored_state()), True, True),  # a reformat
        (failing(stored_state(), GONE_404), False, False),  # gone, not yet removed
        (failing(stored_state(failures=2, gone_since=GONE_SINCE), GONE_404), False, True),
        (captured(V1, None), False, False),  # nothing stored
    ],
)
def test_the_stored_text_is_read_only_when_the_decision_needs_it(
    checked: Checked, reformat: bool, needed: bool
):
    assert needs_text(checked, NOW, reformat) is needed


# The message from the checks to the writer: plain data, the same after JSON ------------

_text = st.text(max_size=30)
_when = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
_states = st.builds(
    ArticleState,
    url=_text,
    source=_text,
    path=_text,
    first_seen=_when,
    last_checked=st.none() | _when,
    last_changed=st.none() | _when,
    next_check=st.none() | _when,
    versions=st.integers(0, 10_000),
    blob=st.none() | _text,
    etag=st.none() | _text,
    last_modified=st.none() | _text,
    last_status=st.none() | st.integers(100, 599),
    failures=st.integers(0, 100),
    last_error=st.none() | _text,
    signals=st.frozensets(_text, max_size=3),
    chars=st.integers(0, 10**7),
    unchanged=st.integers(0, 10**6),
    removed=st.booleans(),
    gone_since=st.none() | _when,
    blobs=st.lists(_text, max_size=4).map(tuple),
    rules=_text,
)
_documents = st.builds(
    Document,
    url=_text,
    source=_text,
    title=_text,
    body=st.text(max_size=200),
    authors=st.lists(_text, max_size=3).map(tuple),
    published=st.none() | _text,
    language=st.none() | _text,
    extractor=_text,
    normalizer=st.integers(0, 9),
)
_extracted = st.builds(
    Extracted,
    page=st.builds(
        Page,
        document=_documents,
        canonical=st.none() | _text,
        signals=st.frozensets(_text, max_size=3),
        updated=st.none() | _text,
    ),
    text=st.text(max_size=200),
    comparison=st.none()
    | st.builds(
        Comparison,
        blob=_text,
        same_reading=st.booleans(),
        change=st.dictionaries(_text, _text, max_size=4),
    ),
    dropped=st.lists(_text, max_size=3).map(tuple),
)
_checks = st.builds(
    Checked,
    target=st.builds(Target, url=_text, source=_text, state=st.none() | _states),
    fetched=st.none()
    | st.builds(
        Fetched,
        url=_text,
        final_url=_text,
        status=st.integers(100, 599),
        headers=st.dictionaries(st.sampled_from(["etag", "last-modified"]), _text),
        redirected=st.booleans(),
    ),
    extracted=st.none() | _extracted,
    failure=st.none()
    | st.builds(
        Failure,
        kind=st.sampled_from(["FetchError", "HTTPStatusError", "Disallowed", "ExtractionError"]),
        url=_text,
        reason=_text,
        status=st.none() | st.integers(100, 599),
    ),
    url=_text,
    fetch_seconds=_seconds,
    extract_seconds=_seconds,
)


@settings(max_examples=200, deadline=None)
@given(_checks)
def test_the_check_message_survives_json(checked: Checked):
    text = checked.to_json()
    assert Checked.from_json(text) == checked
    assert json.loads(text) == checked.to_dict()  # plain JSON types: nothing lost or added
    assert Checked.from_dict(json.loads(text)).to_json() == text
    # Dicts keep their order too: a change's trailers are written in it, so a check sent
    # from another process commits what it would have committed here.
    assert json.dumps(Checked.from_json(text).to_dict()) == json.dumps(checked.to_dict())


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_case_decides_the_same_after_json(case: Case):
    """The writer may get the message from elsewhere: it decides the same."""
    sent = Checked.from_json(case.checked.to_json())
    assert sent == case.checked
    assert decide(sent, case.stored, NOW, SOURCE, RULES, case.reformat) == decide(
        case.checked, case.stored, NOW, SOURCE, RULES, case.reformat
    )


@pytest.mark.parametrize(
    "error",
    [
        errors.FetchError(URL, "cannot fetch: connection refused"),
        errors.HTTPStatusError(URL, 503, "HTTP 503"),
        errors.Disallowed(URL, "robots.txt disallows it"),
        errors.NotHTML(URL, "not an HTML page (application/pdf)"),
        errors.ExtractionError(URL, "too short"),
    ],
)
def test_a_failure_is_its_error_as_data(error: errors.ArticleError):
    failure = Failure.of(error)
    back = failure.error()
    assert (type(back), back.url, back.reason, str(back)) == (
        type(error),
        error.url,
        error.reason,
        str(error),
    )
    assert getattr(back, "status", None) == getattr(error, "status", None)
