"""The one writer of a run: applies each check's decision in the order the articles were
given (so the same captures make the same commits): its captures to the run's WARC files,
its commits to the commit stream, its state to a batch written at each checkpoint, a line
in the check log, and the observers told. Each capture is on disk (fsync'd) before the
commit naming it is written, commits are published before the state recorded up to them,
and nothing is announced before it is published."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from archiver import __version__
from archiver.archive import Archive
from archiver.capture.checker import StoredTexts
from archiver.capture.decide import Decision, Stored, decide, needs_text
from archiver.capture.model import Checked, Observer, Outcome, Published, Result
from archiver.capture.worker import fingerprint
from archiver.errors import CaptureError
from archiver.store import format as trailer
from archiver.store.captures import (
    Captured,
    CaptureReader,
    CaptureWriter,
    ignore_captures,
    payload_digest,
)
from archiver.store.commits import Change, CommitStream
from archiver.store.format import CaptureRef
from archiver.store.history import head_commit
from archiver.store.replay import HEAD_KEY
from archiver.store.state import ArticleState

log = logging.getLogger(__name__)

STATE_BATCH = 256  # article states written at once (each write a checkpoint first)


class Recorder:
    """Turns check results into commits and state updates, in order."""

    def __init__(
        self,
        archive: Archive,
        stream: CommitStream,
        stored: StoredTexts | None = None,
        observers: Sequence[Observer] = (),
        batch: int | None = None,
    ) -> None:
        self.archive = archive
        # Article states (and so commits) per checkpoint; read when made, not when defined.
        self.batch = batch or STATE_BATCH
        self.stream = stream
        self.observers = tuple(observers)
        self.pending: list[ArticleState] = []
        self.created: dict[str, ArticleState] = {}  # articles first stored in this run
        self.reformat = False  # record new extractions of unchanged pages as reformats
        self._owns_stored = stored is None
        self.stored = stored or StoredTexts(archive)
        self._rules: dict[str, str] = {}  # each source's fingerprint
        self._unpublished: list[tuple[str, int, Outcome]] = []  # url, version, outcome
        self.run = archive.clock.now()  # names the run's capture files
        self.keep = archive.config.captures  # config.CAPTURE_MODES
        self._captures: CaptureWriter | None = None  # opened with the run's first capture
        self._reader: CaptureReader | None = None  # for originals known by ref alone
        self.replays: dict[str, CaptureRef] = {}  # reformat: captures re-read, by article URL
        self._latest: dict[str, ArticleState] = {}  # each article's state as last decided

    def apply(
        self,
        checked: Checked,
        now: datetime | None = None,
        origin: Mapping[str, str] | None = None,
        digest: str | None = None,
    ) -> Result:
        """Decides and records one check. An import passes the capture's time as `now`,
        trailers saying where the capture came from (`origin`), for the commits made from
        it, and the payload's digest it has already computed (`sha256:<hex>`)."""
        now = now or self.archive.clock.now()
        source = self.archive.config.source(checked.target.source)
        rules = self._rules.get(source.name)
        if rules is None:
            rules = self._rules[source.name] = fingerprint(source)
        decision = decide(checked, self._stored(checked, now), now, source, rules, self.reformat)
        decision = self._captured(checked, decision, now, digest)
        if origin:
            decision = _named(decision, origin)
        self._record(checked, decision)
        result = decision.result
        status = checked.fetched.status if checked.fetched else None
        status = status or (checked.failure.status if checked.failure else None)
        chars = len(checked.page.document.body) if checked.page else None
        self.archive.state.record_check(
            result.url,
            result.source,
            now,
            result.outcome.value,
            status,
            chars,
            result.reason or None,
        )
        log.info("%s %s %s", result.outcome.value, result.url, result.reason)
        return result

    def _stored(self, checked: Checked, now: datetime) -> Stored:
        """What the decision on `checked` needs to know of the store."""
        target, state = checked.target, checked.target.state
        text = None
        if needs_text(checked, now, self.reformat):
            assert state is not None and state.blob
            text = self.stored.read(state.blob)
        known = None
        if state is None and checked.failure is None and checked.extracted is not None:
            known = self.created.get(checked.url) or self.archive.state.get(checked.url)
        held = self.archive.state.held(target.url) if checked.failure is not None else None
        return Stored(text, known, held)

    def _captured(
        self, checked: Checked, decision: Decision, now: datetime, digest: str | None = None
    ) -> Decision:
        """The decision with its fetch kept as a capture, when the run keeps it, and the
        commits made from that fetch naming it (the capture on disk first)."""
        fetched = checked.fetched
        if fetched is not None and fetched.from_capture:  # re-read from a capture kept before
            replayed = self.replays.get(checked.target.url)
            return _naming(decision, replayed) if replayed is not None else decision
        if self.keep == "none" or not checked.exchanges:
            return decision
        backed = any(commit.from_fetch for commit in decision.commits)
        every = self.keep == "all" and fetched is not None and fetched.status == 200
        if not backed and not every:
            return decision
        captured = self._capture(checked, now, not backed, digest)
        return _naming(decision, captured.ref) if backed else decision

    def state_of(self, url: str) -> ArticleState | None:
        """The article's state as this run last decided it, else as the store holds it."""
        return self._latest.get(url) or self.archive.state.get(url)

    def _capture(
        self,
        checked: Checked,
        now: datetime,
        bare_revisit: bool = False,
        digest: str | None = None,
    ) -> Captured:
        url = checked.target.state.url if checked.target.state else checked.url
        if self._captures is None:
            ignore_captures(self.archive.root, Path(self.archive.repo.git_dir))
            self._captures = CaptureWriter(self.archive.root, self.run, f"archiver/{__version__}")
        earlier = self._earlier(url, checked.exchanges[-1].body, digest)
        when = checked.fetched_at or now
        source = checked.target.source
        captured = self._captures.write(
            source, checked.exchanges, when, earlier, bare_revisit, digest
        )
        if not captured.revisit:
            self.archive.state.add_captured(url, captured)
        return captured

    def _earlier(self, url: str, payload: bytes, digest: str | None = None) -> list[Captured]:
        """The article's captured responses. The one with this payload, when the store
        knows it from a commit's trailer alone (rebuilt from git), is read from its record
        first for what a revisit names; one that cannot be read is no revisit's original."""
        earlier = self.archive.state.captured(url)
        if all(known.date for known in earlier):
            return earlier  # as a run recorded them (the payload is hashed once, on writing)
        digest = digest or payload_digest(payload)
        for index, known in enumerate(earlier):
            if known.ref.digest != digest or known.date:
                continue
            if self._reader is None:
                self._reader = CaptureReader(self.archive.root)
            try:
                earlier[index] = self._reader.original(known.ref)
            except CaptureError:  # written in full again, and named by later revisits
                del earlier[index]
            else:
                self.archive.state.add_captured(url, earlier[index])
            break
        return earlier

    def record(self, decision: Decision) -> Result:
        """A decision made without a check (an article's history re-read from its
        captures), recorded as apply records its own."""
        self._commit(decision)
        for state in decision.states:
            self._keep(state)
        result = decision.result
        now = self.archive.clock.now()
        outcome = result.outcome.value
        self.archive.state.record_check(
            result.url, result.source, now, outcome, None, None, result.reason or None
        )
        return result

    def _commit(self, decision: Decision) -> None:
        for change, outcome, _ in decision.commits:
            self.record_commit(change, outcome)

    def _record(self, checked: Checked, decision: Decision) -> None:
        target = checked.target
        if decision.alias is not None:
            self.archive.state.add_alias(target.url, decision.alias)
        self._commit(decision)
        if decision.hold is not None:
            self.archive.state.hold(target.url, target.source, decision.hold)
        for state in decision.states:
            self._keep(state)
        if decision.created is not None:
            self.created[decision.created.url] = decision.created
            self.archive.state.release(target.url)  # nothing held against it any more

    def record_commit(self, change: Change, outcome: Outcome) -> None:
        """One commit into the run's stream, published with the next checkpoint: each of a
        decision's, or one the run makes beside them (an import's restore of the current
        text after an older capture)."""
        self.stream.commit(change)
        url, version = change.trailers[trailer.URL], int(change.trailers[trailer.VERSION])
        self._unpublished.append((url, version, outcome))

    def set_state(self, article: ArticleState) -> None:
        """The article's state as it is now, whatever the last decision made of it."""
        self._keep(article)

    def _keep(self, article: ArticleState) -> None:
        self.pending.append(article)
        self._latest[article.url] = article
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Publish commits, then record state and the commit it is recorded up to: state
        never runs ahead of git, and what git holds beyond it is replayed on the next run.
        Then the observers are told what was published. The captures the commits name are
        made durable first."""
        if self._captures is not None:
            self._captures.sync()
        self.stream.checkpoint()
        head = head_commit(self.archive.repo) or ""
        self.archive.state.put_many(self.pending)
        self.archive.state.set_meta(HEAD_KEY, head)
        self.archive.state.commit()
        self.pending.clear()
        published = self._published() if self.observers else []
        self._unpublished.clear()
        if published:
            for observer in self.observers:
                observer.published(published)

    def _published(self) -> list[Published]:
        """The commits published since the last flush, oldest first, with their ids."""
        if not self._unpublished:
            return []
        count = len(self._unpublished)
        ids = self.archive.repo.git.rev_list(f"--max-count={count}", "HEAD").split()[::-1]
        published = [
            Published(url, version, commit, outcome)
            for (url, version, outcome), commit in zip(self._unpublished, ids, strict=True)
        ]
        return published

    def close(self) -> None:
        self.flush()
        if self._captures is not None:
            self._captures.close()
            self._captures = None
        if self._owns_stored:
            self.stored.close()


def _naming(decision: Decision, ref: CaptureRef) -> Decision:
    """The decision with the commits made from its fetch naming that fetch's capture."""
    return _named(decision, trailer.capture_trailer(ref))


def _named(decision: Decision, trailers: Mapping[str, str]) -> Decision:
    """The decision with `trailers` added to the commits made from the check's fetch."""
    commits = tuple(
        commit._replace(
            change=replace(commit.change, trailers={**commit.change.trailers, **trailers})
        )
        if commit.from_fetch
        else commit
        for commit in decision.commits
    )
    return replace(decision, commits=commits)
