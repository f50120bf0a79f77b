"""robots.txt, read the way search engines read it.

One fetch of /robots.txt per scheme and host per run (one Robots per run), through the
Fetcher, so the same user agent, per-host limits and size cap apply. What its answer means:

- 2xx: the rules apply, to the group that names our product token (``archiver``), else the
  ``*`` group; only the first 500 KiB are read, as Google does.
- 4xx (404, 410, 403 …): there are no rules; everything is allowed.
- 429, 5xx, or no answer at all (timeout, refused, redirect loop): the site is not in a
  state to tell us what it allows, so nothing on that host is fetched in this run.

Groups are matched by the product token of the User-Agent alone ("archiver"), and
Crawl-delay is exposed for the fetcher to honour. A URL robots.txt disallows is skipped,
not failed, and its verdict is kept for VERDICT_TTL (as long as search engines cache
robots.txt) before robots.txt is asked again.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from protego import Protego

from archiver.errors import FetchError, HTTPStatusError
from archiver.fetch.client import Fetcher

MAX_ROBOTS_BYTES = 500 * 1024  # Google ignores what follows the first 500 KiB
# robots.txt comes as text/plain, text/html or with no type at all: any type is read.
ROBOTS_TYPES: tuple[str, ...] = ()
VERDICT_TTL = timedelta(hours=24)  # a disallowed URL is not asked about again before this


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    reachable: bool = True  # False: robots.txt could not be read, so nothing is fetched


@dataclass(frozen=True)
class _Policy:
    """What robots.txt of one scheme+host says, or why there is nothing to read."""

    host: str  # host[:port], as named in reasons
    rules: Protego | None = None  # None: no rules apply
    refusal: str = ""  # why everything is disallowed this run, if it is
    note: str = ""  # why everything is allowed without rules, if it is
    text: str = ""  # the robots.txt read, that `rules` were parsed from

    def to_dict(self) -> dict[str, str | bool]:
        """As plain data, for another process to judge by (see from_dict)."""
        data: dict[str, str | bool] = {"host": self.host, "refusal": self.refusal}
        return {**data, "note": self.note, "text": self.text, "rules": self.rules is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Policy:
        rules = Protego.parse(data["text"]) if data["rules"] else None
        return cls(data["host"], rules, data["refusal"], data["note"], data["text"])


class Robots:
    """robots.txt of each host, fetched once; `allowed()` says whether a URL may be fetched."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self._policies: dict[str, _Policy] = {}
        self._pending: dict[str, asyncio.Task[_Policy]] = {}

    async def allowed(self, url: str, agent: str) -> Verdict:
        """Whether `agent` (a product token or a whole User-Agent) may fetch `url`."""
        origin = _http_origin(url)
        if origin is None:
            return Verdict(False, f"{url[:200]} is not an http(s) URL")
        policy = await self._policy(origin)
        return _judge(policy, url, product_token(agent))

    def crawl_delay(self, host: str, agent: str) -> float | None:
        """Seconds robots.txt asks `agent` to wait between requests to `host`, if it says.

        `host` is a URL, an origin (https://example.org) or a host[:port]; None until
        robots.txt of that host has been read by `allowed()`."""
        policy = self._read(host)
        if policy is None or policy.rules is None:
            return None
        return policy.rules.crawl_delay(product_token(agent))

    def _read(self, host: str) -> _Policy | None:
        if "://" in host:
            origin = _http_origin(host)
            return self._policies.get(origin) if origin else None
        for scheme in ("https", "http"):
            if policy := self._policies.get(f"{scheme}://{host.lower()}"):
                return policy
        return None

    async def _policy(self, origin: str) -> _Policy:
        if origin in self._policies:
            return self._policies[origin]
        # Checks of many URLs of one host start together: they all wait on one fetch.
        task = self._pending.get(origin)
        if task is None:
            task = self._pending[origin] = asyncio.ensure_future(self._load(origin))
        # Shielded: one caller given up on (cancelled) must not cancel the others' fetch.
        policy = await asyncio.shield(task)
        self._policies[origin] = policy
        self._pending.pop(origin, None)
        return policy

    async def _load(self, origin: str) -> _Policy:
        host = urlsplit(origin).netloc
        try:
            response = await self.fetcher.fetch(origin + "/robots.txt", accept=ROBOTS_TYPES)
        except HTTPStatusError as err:
            if 400 <= err.status < 500 and err.status != 429:
                return _Policy(host, note=err.reason)
            return _Policy(host, refusal=err.reason)
        except FetchError as err:
            return _Policy(host, refusal=err.reason)
        text = response.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return _Policy(host, rules=Protego.parse(text), text=text)


def product_token(agent: str) -> str:
    """The name robots.txt groups match: "archiver" of "archiver/0.1.0 (…)".

    Matching the whole User-Agent would let a group for any word in its comment apply."""
    match = re.match(r"\s*([A-Za-z0-9_-]+)", agent)
    return match.group(1).lower() if match else agent.strip().lower()


def _judge(policy: _Policy, url: str, token: str) -> Verdict:
    where = f"robots.txt of {policy.host}"
    if policy.refusal:
        return Verdict(False, f"{where} unreachable ({policy.refusal}): not fetching", False)
    if policy.rules is None:
        return Verdict(True, f"{where} answered {policy.note}: everything allowed")
    path = _path(url)
    if policy.rules.can_fetch(url, token):
        return Verdict(True, f"{where} allows {path} for {token}")
    rule = _rule(policy.rules, url, token) or path
    return Verdict(False, f"{where} disallows {rule} for {token}")


def _rule(rules: Protego, url: str, token: str) -> str | None:
    """The Disallow pattern that decided, for the message.

    protego has no public way to name it, so this reads its rule set; should that change,
    the message names the path instead."""
    try:
        from protego._utils import _quote_path

        rule_set = rules._get_matching_rule_set(token)
        if rule_set is None:
            return None
        quoted = _quote_path(url)
        for rule in rule_set._rules:  # sorted as protego applies them: longest first
            if rule.value.match(quoted):
                return rule.value._pattern if rule.field == "disallow" else None
    except (AttributeError, ImportError, TypeError):
        return None
    return None


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _http_origin(url: str) -> str | None:
    """The scheme://host[:port] of an http(s) URL: the key robots.txt is cached by."""
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
    except ValueError:  # such as an unclosed IPv6 bracket
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
