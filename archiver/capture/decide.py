"""What a check means for the archive, decided without touching it: from what was fetched
and extracted, what is stored, the time, the rules and the schedule, to a Decision (the
result, the article's new state, and the commits to make). No git, no database: the
recorder reads what a decision needs first and applies it after.

Outcomes are failures only when something did not work: a URL robots.txt disallows is
skipped, and its verdict kept so it is neither fetched nor reported again before
robots.txt is asked again; a stored article answering 404/410 is gone, and recorded as
removed once that persists (several checks spanning hours), its return as returned. A new
article that fails is held back from discovery for a while, longer after each failure in a
row (as tracked articles back off), so a feed listing a page that cannot be stored does
not fail every run. Each commit names where a redirected fetch ended (`Archiver-Redirect`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from archiver.capture.model import Checked, Failure, Fetched, Outcome, Result, Target
from archiver.capture.worker import Comparison, Extracted, compare
from archiver.clock import isoformat
from archiver.config import ScheduleConfig, SourceConfig
from archiver.errors import ArticleError
from archiver.extract.page import Page, rerender
from archiver.fetch.robots import VERDICT_TTL
from archiver.schedule import next_check
from archiver.store import format as trailer
from archiver.store.commits import Change, blob_id, subject_line
from archiver.store.document import Document, parse_document
from archiver.store.state import ArticleState, Held
from archiver.urls import canonical_url

GONE_CHECKS = 3  # a removal is recorded after this many "gone" answers in a row …
GONE_HOURS = 6  # … spanning at least this many hours


@dataclass(frozen=True)
class Stored:
    """What the store holds that a decision may need beyond the target's state."""

    text: str | None = None  # the text of the target's stored version, when needs_text
    known: ArticleState | None = None  # a new article's URL already tracked (or stored now)
    held: Held | None = None  # what holds the URL back, for a failed check


class Commit(NamedTuple):
    change: Change
    outcome: Outcome  # what the commit records (a reformat ahead of an edit: REFORMATTED)
    # Made from this check's fetch (its text extracted from it, or a removal's answer): the
    # writer keeps the response and names it in the commit. A reformat of the stored text
    # ahead of an edit is not.
    from_fetch: bool = False


@dataclass(frozen=True)
class Decision:
    result: Result
    commits: tuple[Commit, ...] = ()
    states: tuple[ArticleState, ...] = ()  # the article's new state (last wins)
    created: ArticleState | None = None  # first stored now: its hold on the URL is released
    hold: Held | None = None  # hold the checked URL back from discovery
    alias: str | None = None  # the checked URL is another address of this one


def needs_text(checked: Checked, now: datetime, reformat: bool = False) -> bool:
    """Whether deciding on `checked` needs the text of the article's stored version."""
    state = checked.target.state
    if state is None or not state.blob:
        return False
    if checked.gone and not (checked.failure and checked.failure.disallowed):
        return not state.removed and _persistent(state, now)  # a removal names the title
    extracted = checked.extracted
    if checked.failure is not None or extracted is None:
        return False
    if reformat or state.removed:
        return True
    made = extracted.comparison
    same_text = blob_id(extracted.text) == state.blob
    return not same_text and (made is None or made.blob != state.blob)


def decide(
    checked: Checked,
    stored: Stored,
    now: datetime,
    source: SourceConfig,
    rules: str,
    reformat: bool = False,
) -> Decision:
    """What the check of one article means: see the module's docstring."""
    target, state, failure = checked.target, checked.target.state, checked.failure
    schedule = source.schedule
    if failure is not None and failure.disallowed:
        return skipped(target, now, failure, stored.held)
    if checked.gone and state is not None and state.blob:
        if state.removed:
            return still_removed(checked, state, now)
        return gone(checked, state, stored, now, schedule)
    if failure is not None:
        return failed(target, now, failure, schedule, stored.held)
    fetched, extracted = checked.fetched, checked.extracted
    assert fetched is not None
    if extracted is None:  # 304 Not Modified
        assert state is not None
        return unchanged(target.url, state, now, schedule, fetched)
    alias = checked.url if state is None and checked.url != target.url else None
    if state is None and stored.known is not None:
        return replace(tracked_elsewhere(checked.url, stored.known), alias=alias)
    decision = store(checked, fetched, extracted, stored, now, source, rules, reformat)
    return replace(decision, alias=alias)


@dataclass(frozen=True)
class Extraction:
    """What every decision on an extracted page starts from: the check, its fetch and
    extraction, the article's state as of this fetch (`base`), what is stored, and the
    run's clock, source and rules."""

    checked: Checked
    fetched: Fetched
    extracted: Extracted
    base: ArticleState
    stored: Stored
    now: datetime
    source: SourceConfig
    rules: str


def store(
    checked: Checked,
    fetched: Fetched,
    extracted: Extracted,
    stored: Stored,
    now: datetime,
    source: SourceConfig,
    rules: str,
    reformat: bool = False,
) -> Decision:
    """A page extracted: a new version, the same one, or the text it had on its return."""
    base = _base(checked, fetched, extracted.page, now)
    return _store(
        Extraction(checked, fetched, extracted, base, stored, now, source, rules), reformat
    )


def _store(case: Extraction, reformat: bool = False) -> Decision:
    target, state = case.checked.target, case.checked.target.state
    base, extracted, schedule = case.base, case.extracted, case.source.schedule
    returned = bool(state and state.removed)
    if reformat and state is not None:
        return reformatted(case)
    if state is not None and state.blob == blob_id(extracted.text) and not returned:
        return unchanged(base.url, base.update(rules=case.rules), case.now, schedule, case.fetched)
    comparison = _comparison(extracted, state, case.stored.text)
    if comparison is not None and comparison.same_reading:
        if not returned:
            return unchanged(base.url, base, case.now, schedule, case.fetched)
        return returned_as_it_was(case)
    if comparison is not None and base.rules and base.rules != case.rules:
        # The text differs, but so do the rules that made it: never an edit by guesswork.
        reason = f"extraction changed since version {base.versions} (run `archiver reformat`)"
        return failed(target, case.now, Failure("ExtractionError", base.url, reason), schedule)
    return new_version(case, comparison)


def new_version(case: Extraction, comparison: Comparison | None) -> Decision:
    """A new article, an edit (minor or not, perhaps a revert), or a return with new text."""
    blob = blob_id(case.extracted.text)
    extra = _change_trailers(comparison, blob, case.base.blobs)
    return _version(case, case.extracted, case.base.versions + 1, blob, extra)


def returned_as_it_was(case: Extraction) -> Decision:
    """A removed article back with the text it had: recorded with that very text."""
    document = _stored(case.checked.target.state, case.stored.text)
    assert document is not None
    back = replace(case.extracted, text=document.render())
    blob = case.base.blob or blob_id(case.extracted.text)
    return _version(case, back, case.base.versions, blob, {})


def _version(
    case: Extraction, extracted: Extracted, version: int, blob: str, change: dict[str, str]
) -> Decision:
    checked, fetched, base, now = case.checked, case.fetched, case.base, case.now
    source, rules = case.source, case.rules
    target, state = checked.target, checked.target.state
    page = extracted.page
    returned = bool(state and state.removed)
    trailers = _trailers(base.url, target.source, 0, fetched, now, page)
    trailers.update(change)
    trailers[trailer.VERSION] = str(version)
    trailers[trailer.RULES] = rules
    if returned:
        trailers[trailer.EVENT] = trailer.EVENT_RETURNED
    new_state = base.update(
        versions=version,
        blob=blob,
        blobs=base.blobs if blob in base.blobs[-1:] else (*base.blobs, blob),
        rules=rules,
        removed=False,
        last_checked=now,
        last_changed=now,
        next_check=next_check(now, now, source.schedule),
    )
    if returned:
        outcome = Outcome.RETURNED
    else:
        outcome = Outcome.NEW if state is None or not state.blob else Outcome.CHANGED
    change_ = Change(
        source=target.source,
        subject=subject_line(target.source, page.document.title),
        trailers=trailers,
        when=now,
        files={base.path: extracted.text},
    )
    return Decision(
        Result(base.url, target.source, outcome, version=version),
        commits=(Commit(change_, outcome, from_fetch=True),),
        states=(new_state,),
        created=new_state if state is None else None,
    )


def reformatted(case: Extraction) -> Decision:
    """Today's extraction of the page, recorded as the current version's new form: a
    reformat commit, not a version. When the page also changed since its last version
    (its validators differ and today's text is not the stored text under today's rules),
    that form of the stored text is the reformat, and today's text the next version. An
    extractor or normalizer upgrade cannot be redone on stored text: then the page is
    taken as unedited, as `archiver reformat` says when it is run."""
    checked, fetched, extracted, base = case.checked, case.fetched, case.extracted, case.base
    stored, now, source, rules = case.stored, case.now, case.source, case.rules
    state = checked.target.state
    assert state is not None
    if blob_id(extracted.text) == base.blob or _reads_the_same(extracted, base, stored.text):
        return unchanged(base.url, base.update(rules=rules), now, source.schedule, fetched)
    edited = _edited_since(checked, state, base, stored.text, rules, source)
    if edited is None:
        commit, reformed = _reformat_commit(extracted.page, fetched, base, rules, now)
        commit = commit._replace(from_fetch=True)  # today's extraction of the page
        result = Result(base.url, base.source, Outcome.REFORMATTED, version=base.versions)
        return Decision(result, commits=(commit,), states=(reformed,))
    previous = base
    commits: tuple[Commit, ...] = ()
    if edited.render() != stored.text:
        page = Page(edited, signals=extracted.page.signals)
        commit, previous = _reformat_commit(page, fetched, base, rules, now)
        commits = (commit,)
    previous = previous.update(rules=rules)
    comparison = compare(edited, extracted.page.document, previous.blob or "")
    edit = replace(checked, target=replace(checked.target, state=previous))
    compared = replace(extracted, comparison=comparison)
    then = store(edit, fetched, compared, stored, now, source, rules)
    states = (previous,) if commits else ()
    return replace(then, commits=commits + then.commits, states=states + then.states)


def _edited_since(
    checked: Checked,
    state: ArticleState,
    base: ArticleState,
    text: str | None,
    rules: str,
    source: SourceConfig,
) -> Document | None:
    """The stored version under today's rules, when today's capture is an edit of it;
    None when the capture is that version in a new form."""
    extracted = checked.extracted
    assert extracted is not None
    if _same_validators(state, checked.fetched) or _tooling(state.rules) != _tooling(rules):
        return None
    stored = _stored(base, text)
    if stored is None:
        return None
    rerendered = rerender(stored, source.drop_lines, extracted.dropped)
    return None if rerendered.same_reading(extracted.page.document) else rerendered


def _reformat_commit(
    page: Page, fetched: Fetched, base: ArticleState, rules: str, now: datetime
) -> tuple[Commit, ArticleState]:
    """A reformat commit of the current version's text in a new form, and its state."""
    text = page.document.render()
    trailers = _trailers(base.url, base.source, base.versions, fetched, now, page)
    trailers.update({trailer.EVENT: trailer.EVENT_REFORMAT, trailer.RULES: rules})
    change = Change(
        source=base.source,
        subject=subject_line(base.source, f"reformat: {page.document.title}"),
        trailers=trailers,
        when=now,
        files={base.path: text},
    )
    blob = blob_id(text)
    reformed = base.update(blob=blob, blobs=(*base.blobs[:-1], blob), rules=rules, last_checked=now)
    return Commit(change, Outcome.REFORMATTED), reformed


def unchanged(
    url: str, state: ArticleState, now: datetime, schedule: ScheduleConfig, fetched: Fetched
) -> Decision:
    """Checked, and the same article: a 304, the same text, or the same reading."""
    result = Result(url, state.source, Outcome.UNCHANGED, version=state.versions)
    return Decision(result, states=(_checked_unchanged(state, now, schedule, fetched),))


def tracked_elsewhere(url: str, known: ArticleState) -> Decision:
    """A new address of an article already tracked: nothing to store."""
    return Decision(Result(url, known.source, Outcome.UNCHANGED, version=known.versions))


def still_removed(checked: Checked, state: ArticleState, now: datetime) -> Decision:
    status = _gone_status(checked)
    result = Result(state.url, state.source, Outcome.UNCHANGED, _gone_reason(checked))
    result = replace(result, version=state.versions)
    return Decision(result, states=(state.update(last_checked=now, last_status=status),))


def gone(
    checked: Checked, state: ArticleState, stored: Stored, now: datetime, schedule: ScheduleConfig
) -> Decision:
    """404/410 or a home-page redirect: a removal once it persists, never at once."""
    if _persistent(state, now):
        return removed(checked, state, stored, now, schedule)
    reason, failures = _gone_reason(checked), state.failures + 1
    kept = state.update(
        last_checked=now,
        failures=failures,
        gone_since=state.gone_since or now,
        last_status=_gone_status(checked),
        last_error=reason,
        next_check=next_check(now, state.last_changed or now, schedule, failures),
    )
    result = Result(state.url, state.source, Outcome.GONE, f"{reason} (not yet removed)")
    return Decision(result, states=(kept,))


def removed(
    checked: Checked, state: ArticleState, stored: Stored, now: datetime, schedule: ScheduleConfig
) -> Decision:
    """Gone for long enough: a commit deleting the article's file."""
    status, reason = _gone_status(checked), _gone_reason(checked)
    title = parse_document(stored.text).title if stored.text else state.url
    fetched = checked.fetched
    change = Change(
        source=state.source,
        subject=subject_line(state.source, f"removed: {title}"),
        trailers={
            trailer.URL: state.url,
            trailer.SOURCE: state.source,
            trailer.VERSION: str(state.versions),
            trailer.STATUS: str(status),
            trailer.FETCHED: isoformat(now),
            trailer.EVENT: trailer.EVENT_REMOVED,
            trailer.GONE_SINCE: isoformat(state.gone_since or now),
            **(_redirect_trailer(state.url, fetched) if fetched else {}),
        },
        when=now,
        deletions=(state.path,),
    )
    kept = state.update(
        removed=True,
        last_checked=now,
        last_changed=now,
        failures=0,
        last_status=status,
        last_error=None,
        next_check=next_check(now, now, schedule),
    )
    result = Result(state.url, state.source, Outcome.REMOVED, reason, state.versions)
    removal = Commit(change, Outcome.REMOVED, from_fetch=True)
    return Decision(result, commits=(removal,), states=(kept,))


def skipped(target: Target, now: datetime, failure: Failure, earlier: Held | None) -> Decision:
    """robots.txt disallows the URL: remembered, so that discovery passes it over and
    nobody is told again, until the verdict is due to be asked for again."""
    state = target.state
    told = earlier is not None and earlier.kind == "skipped"
    repeated = told and earlier is not None and earlier.reason == failure.reason
    held = Held("skipped", failure.reason, 1, now + VERDICT_TTL)
    # Tracked, now refused: asked about again when the verdict is.
    states = (state.update(next_check=now + VERDICT_TTL),) if state is not None else ()
    version = state.versions if state else 0
    result = Result(target.url, target.source, Outcome.SKIPPED, failure.reason, version, repeated)
    return Decision(result, states=states, hold=held)


def failed(
    target: Target,
    now: datetime,
    failure: Failure,
    schedule: ScheduleConfig,
    earlier: Held | None = None,
) -> Decision:
    """The check did not work: a tracked article backs off, a new one is held back."""
    state = target.state
    result = Result(target.url, target.source, Outcome.FAILED, reason=failure.reason)
    if state is None:
        return Decision(result, hold=_hold_new(now, failure, schedule, earlier))
    failures = state.failures + 1
    changed = state.last_changed or state.first_seen
    kept = state.update(
        last_checked=now,
        failures=failures,
        last_error=failure.reason,
        last_status=failure.status,
        next_check=next_check(now, changed, schedule, failures),
    )
    return Decision(result, states=(kept,))


def _hold_new(
    now: datetime, failure: Failure, schedule: ScheduleConfig, earlier: Held | None
) -> Held:
    """A new article that failed is tried again after the source's shortest interval,
    twice that after a second failure in a row, and so on up to its longest."""
    tries = earlier.tries + 1 if earlier and earlier.kind == "failed" else 1
    minutes = min(schedule.min_interval * 2 ** min(tries - 1, 16), schedule.max_interval)
    return Held("failed", failure.reason, tries, now + timedelta(minutes=minutes))


def _persistent(state: ArticleState, now: datetime) -> bool:
    """Whether one more "gone" answer makes the article removed."""
    gone_since = state.gone_since or now
    return state.failures + 1 >= GONE_CHECKS and now - gone_since >= timedelta(hours=GONE_HOURS)


def _gone_status(checked: Checked) -> int:
    if checked.fetched is not None:
        return checked.fetched.status
    assert checked.failure is not None and checked.failure.status is not None
    return checked.failure.status


def _gone_reason(checked: Checked) -> str:
    return checked.failure.reason if checked.failure else "redirects to the home page"


def _base(checked: Checked, fetched: Fetched, page: Page, now: datetime) -> ArticleState:
    """The article's state with what this fetch tells (a new one's, made now)."""
    target = checked.target
    base = target.state or ArticleState(
        url=checked.url,
        source=target.source,
        path=trailer.article_path(target.source, now, checked.url),
        first_seen=now,
    )
    return base.update(
        etag=fetched.headers.get("etag"),
        last_modified=fetched.headers.get("last-modified"),
        last_status=fetched.status,
        signals=page.signals,
        chars=len(page.document.body),
        failures=0,
        last_error=None,
        gone_since=None,
    )


def _comparison(
    extracted: Extracted, state: ArticleState | None, text: str | None
) -> Comparison | None:
    """The capture against the article's stored version (None when it has none): as the
    worker made it, or made here when the worker was not sent that version's text."""
    if state is None or not state.blob:
        return None
    made = extracted.comparison
    if made is not None and made.blob == state.blob:
        return made
    stored = _stored(state, text)
    return compare(stored, extracted.page.document, state.blob) if stored else None


def _reads_the_same(extracted: Extracted, state: ArticleState, text: str | None) -> bool:
    comparison = _comparison(extracted, state, text)
    return comparison is not None and comparison.same_reading


def _stored(state: ArticleState | None, text: str | None) -> Document | None:
    """The stored text of an article, when it has one."""
    if state is None or not state.blob or not text:
        return None
    return parse_document(text, state.url)


def _same_validators(state: ArticleState, fetched: Fetched | None) -> bool:
    """Whether the server vouches that the page is the one the stored state saw (or the
    page is the capture the stored version was made from)."""
    if fetched is not None and fetched.from_capture:
        return True
    headers = fetched.headers if fetched else {}
    etag, modified = headers.get("etag"), headers.get("last-modified")
    return bool((etag and etag == state.etag) or (modified and modified == state.last_modified))


def _tooling(rules: str | None) -> str:
    """The extractor and normalizer part of a rules fingerprint: what no stored text can
    be re-rendered under."""
    return (rules or "").rpartition("; rules ")[0]


def _checked_unchanged(
    state: ArticleState, now: datetime, schedule: ScheduleConfig, fetched: Fetched
) -> ArticleState:
    headers = fetched.headers
    changed = state.last_changed or state.first_seen
    return state.update(
        last_checked=now,
        etag=headers.get("etag") or state.etag,
        last_modified=headers.get("last-modified") or state.last_modified,
        last_status=fetched.status,
        failures=0,
        last_error=None,
        gone_since=None,
        unchanged=state.unchanged + 1,
        next_check=next_check(now, changed, schedule),
    )


def _change_trailers(
    comparison: Comparison | None, blob: str, blobs: tuple[str, ...]
) -> dict[str, str]:
    """How a new version differs from the last: NewsEdits-style counts, minor or not (from
    the comparison), and whether it brings back an earlier version's text (an A/B headline
    flipping back)."""
    if comparison is None:
        return {trailer.CHANGE: trailer.CHANGE_NEW}
    trailers = dict(comparison.change)
    if blob in blobs[:-1]:
        trailers[trailer.REVERT_OF] = str(blobs.index(blob) + 1)
    return trailers


def _trailers(
    url: str, source: str, version: int, fetched: Fetched, now: datetime, page: Page
) -> dict[str, str]:
    trailers = {
        trailer.URL: url,
        trailer.SOURCE: source,
        trailer.VERSION: str(version),
        trailer.STATUS: str(fetched.status),
        trailer.FETCHED: isoformat(now),
        trailer.EXTRACTOR: page.document.extractor,
    }
    if page.updated:
        trailers[trailer.PAGE_UPDATED] = page.updated
    if page.signals:
        trailers[trailer.SIGNALS] = ",".join(sorted(page.signals))
    trailers.update(_redirect_trailer(url, fetched))
    return trailers


def _redirect_trailer(url: str, fetched: Fetched) -> dict[str, str]:
    """Where the fetch ended, when a redirect led elsewhere than the article's address."""
    if not fetched.redirected:
        return {}
    try:
        final = canonical_url(fetched.final_url)
    except ArticleError:
        final = fetched.final_url
    return {} if final == url else {trailer.REDIRECT: fetched.final_url}
