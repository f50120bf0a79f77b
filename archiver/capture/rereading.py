"""Versions read again from their captures: the responses they were made from, extracted
with today's extractor and rules. `archiver reformat` reads an article's current version so
(no fetch, no assuming the page is unchanged); `archiver reformat --history` reads every
version of an article and writes the whole history in the new form as reformat commits.

A history reformat of an article whose versions 1…N read differently today is a run of
reformat commits, one per version from the first whose form changes (k) to N, in order,
each setting the file to that version's new form and naming the version's commit
(`Archiver-Reformat-Of`) and capture. The file ends as version N's new form, so plain git
reads the run as the story told again in the new form: `git log -p` shows, after a first
commit going back to version k, each later commit's diff as the edit between two versions
in the new form, and nothing that was not an edit becomes one (no version is added, none
dropped). The site shows each version in the form its latest reformat gave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from archiver.capture.decide import Commit, Decision
from archiver.capture.model import Outcome, Result
from archiver.capture.worker import Extracted, extraction_job
from archiver.clock import isoformat
from archiver.config import SourceConfig
from archiver.errors import ArchiverError, CaptureError
from archiver.store import format as trailer
from archiver.store.captures import CaptureReader
from archiver.store.commits import Change, blob_id, subject_line
from archiver.store.history import iter_commits
from archiver.store.repository import Repo
from archiver.store.state import ArticleState


@dataclass(frozen=True)
class VersionForm:
    """One version of an article as history holds it: its commit and capture, and its
    current form (the text of its latest commit, its own or a reformat's) and rules."""

    number: int
    sha: str  # the version's own commit
    capture: trailer.CaptureRef | None
    blob: str
    rules: str
    fetched: str  # its Archiver-Fetched trailer
    status: str
    malformed: str = ""  # why its Archiver-Capture trailer cannot be read


def version_forms(repo: Repo) -> dict[str, list[VersionForm]]:
    """Every article's versions with a text (removals have none), oldest first, from one
    pass over history."""
    forms: dict[str, list[VersionForm]] = {}
    for commit in iter_commits(repo):
        change = commit.article_change()
        if change is None or commit.version is None or change.new_blob is None:
            continue
        event = commit.trailers.get(trailer.EVENT)
        if event == trailer.EVENT_REMOVED:
            continue
        article = forms.setdefault(change.path, [])
        rules = commit.trailers.get(trailer.RULES, "")
        if event == trailer.EVENT_REFORMAT:
            index = _reformed(article, commit.trailers.get(trailer.REFORMAT_OF), commit.version)
            if index is not None:
                article[index] = replace(article[index], blob=change.new_blob, rules=rules)
            continue
        if article and article[-1].number == commit.version:
            continue  # a return with the text it had: the same version
        try:
            ref, malformed = trailer.read_capture(commit.trailers), ""
        except ValueError as err:
            ref, malformed = None, str(err)
        fetched = commit.trailers.get(trailer.FETCHED, "")
        status = commit.trailers.get(trailer.STATUS, "200")
        article.append(
            VersionForm(
                commit.version, commit.sha, ref, change.new_blob, rules, fetched, status, malformed
            )
        )
    return forms


def _reformed(forms: list[VersionForm], sha: str | None, number: int) -> int | None:
    """The version a reformat commit gives a new form: the one it names, else the latest
    of its number (a reformat of the current version names none)."""
    for index in range(len(forms) - 1, -1, -1):
        if (sha and forms[index].sha == sha) or (not sha and forms[index].number == number):
            return index
    return None


def current_capture(state: ArticleState, forms: Sequence[VersionForm]) -> trailer.CaptureRef | None:
    """The capture the article's current version was made from, if it names one."""
    if not forms or forms[-1].blob != state.blob or forms[-1].number != state.versions:
        return None
    return forms[-1].capture


def needs_history(forms: Sequence[VersionForm], rules: str) -> bool:
    return any(form.rules != rules for form in forms)


def reread_history(
    reader: CaptureReader,
    state: ArticleState,
    forms: Sequence[VersionForm],
    source: SourceConfig,
    rules: str,
    now: datetime,
) -> Decision:
    """Every version of the article read again from its capture with today's rules, as a
    history reformat (see the module's docstring); an article one of whose versions has
    no capture, or a capture that cannot be read or extracted, is left as it is."""
    missing = next((form for form in forms if form.capture is None), None)
    if missing is not None:
        if missing.malformed:
            return _left(state, Outcome.FAILED, f"version {missing.number}: {missing.malformed}")
        reason = (
            f"version {missing.number} has no capture (stored before captures were kept);"
            " left as it is"
        )
        return _left(state, Outcome.SKIPPED, reason)
    texts: list[Extracted] = []
    for form in forms:
        assert form.capture is not None
        try:
            response = reader.read(form.capture)
            extracted = extraction_job(response.body, response.charset, state.url, source)
        except (CaptureError, ArchiverError) as err:
            reason = f"version {form.number}: {err}; left as it is"
            return _left(state, Outcome.FAILED, reason)
        texts.append(extracted.with_url(state.url))
    return history_reformat(state, forms, texts, rules, now)


def _left(state: ArticleState, outcome: Outcome, reason: str) -> Decision:
    # Told in one line each when asked for (`--verbose`), else counted.
    result = Result(state.url, state.source, outcome, reason, state.versions)
    return Decision(replace(result, repeated=outcome is Outcome.SKIPPED))


def history_reformat(
    state: ArticleState,
    forms: Sequence[VersionForm],
    texts: Sequence[Extracted],
    rules: str,
    now: datetime,
) -> Decision:
    """Pure: the reformat commits that put the article's versions (`forms`) in their new
    forms (`texts`), from the first version whose form changes to the last, in order. A
    version reading as the one after it does is left to that one's commit, so no commit is
    empty and the last is always version N's."""
    count = len(forms)
    blobs = [blob_id(extracted.text) for extracted in texts]
    start = next((i for i in range(count) if blobs[i] != forms[i].blob), None)
    unchanged = Result(state.url, state.source, Outcome.UNCHANGED, version=state.versions)
    if start is None:
        return Decision(unchanged, states=(state.update(rules=rules),))
    commits: list[Commit] = []
    held = forms[-1].blob  # what the file holds
    for index in range(start, count):
        following = blobs[index + 1] if index + 1 < count else None
        if blobs[index] == held or blobs[index] == following:
            continue
        change = _reformat_change(state, forms[index], texts[index], count, start, rules, now)
        commits.append(Commit(change, Outcome.REFORMATTED))
        held = blobs[index]
    if not commits:
        return Decision(unchanged, states=(state.update(rules=rules),))
    reformed = state.update(
        blob=blobs[-1],
        # As a rebuild from git makes it: the current version's blob in its new form.
        blobs=(*state.blobs[:-1], blobs[-1]),
        rules=rules,
        chars=len(texts[-1].page.document.body),
    )
    result = Result(state.url, state.source, Outcome.REFORMATTED, version=state.versions)
    return Decision(result, commits=tuple(commits), states=(reformed,))


def _reformat_change(
    state: ArticleState,
    form: VersionForm,
    extracted: Extracted,
    count: int,
    start: int,
    rules: str,
    now: datetime,
) -> Change:
    assert form.capture is not None
    page = extracted.page
    trailers = {
        trailer.URL: state.url,
        trailer.SOURCE: state.source,
        trailer.VERSION: str(form.number),
        trailer.STATUS: form.status,
        trailer.FETCHED: form.fetched or isoformat(now),
        trailer.EXTRACTOR: page.document.extractor,
        trailer.RULES: rules,
        trailer.EVENT: trailer.EVENT_REFORMAT,
        trailer.REFORMAT_OF: form.sha,
        **trailer.capture_trailer(form.capture),
    }
    if page.updated:
        trailers[trailer.PAGE_UPDATED] = page.updated
    if page.signals:
        trailers[trailer.SIGNALS] = ",".join(sorted(page.signals))
    title = page.document.title
    body = (
        f"Version {form.number} of {count} read again from its capture with today's rules."
        f" Versions {start + 1} to {count} follow in order, each a reformat commit: the"
        " article's history in the new form, not an edit."
    )
    return Change(
        source=state.source,
        subject=subject_line(state.source, f"reformat of version {form.number}: {title}"),
        trailers=trailers,
        when=now,
        files={state.path: extracted.text},
        body=body,
    )
