"""archiver.toml: the archive's settings and its sources, validated with one-line errors.

Every setting has a default; an error names the key and says what was expected.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit

from archiver.errors import ConfigError, InvalidURL, shorten
from archiver.urls import SOURCE_NAME, canonical_url

CONFIG_FILE = "archiver.toml"

DEFAULT_CONFIG = """\
# archiver settings: see docs/configuration.md
[archive]
# Shown on the site and in feeds.
title = "News archive"
# A page where site owners can reach whoever runs this archive; sent in the User-Agent.
contact = ""
# Where the site is published. Without it the site's feeds have relative links, which
# many feed readers cannot follow: uncomment and set it.
# base_url = "https://example.org/news/"
# The responses kept as WARC in captures/: "versions" (those that made a commit), "all"
# (every 200 too, unchanged ones as small revisits) or "none".
captures = "versions"

[fetch]
timeout = 30          # seconds for one request
max_bytes = 10000000  # larger pages are refused
per_host = 2          # requests at once to one host
min_delay = 1.0       # seconds between requests to one host

# Each source is a table under [sources]; see docs/configuration.md for every key.
# [sources.example]
# feeds = ["https://example.org/rss.xml"]
"""


def _bounded(default: Any, low: float, high: float, unit: str = "") -> Any:
    """A number setting and the range it must fall in: outside it a run hangs (a timeout
    of 0 waits for ever, a million retries of a 503), hammers a site or captures nothing."""
    return field(default=default, metadata={"range": (low, high, unit)})


YEAR = 525_600  # minutes
# What fetches are kept as WARC records in captures/: the responses commits were made from,
# every 200 as well (an unchanged page as a revisit when its payload was seen), or none.
CAPTURE_MODES = ("versions", "all", "none")


@dataclass(frozen=True)
class ScheduleConfig:
    """When articles are re-checked; see archiver.schedule."""

    first_check: float = _bounded(30.0, 0, YEAR, "minutes")  # after first capture
    min_interval: float = _bounded(15.0, 1, YEAR, "minutes")  # the most often one is checked
    max_interval: float = _bounded(4320.0, 1, YEAR, "minutes")  # the least often, while tracked
    stop_after_days: float = _bounded(40.0, 0, 36_500, "days")  # no checks once this quiet
    max_per_run: int = _bounded(200, 0, 1_000_000)  # checks of one source in one run


@dataclass(frozen=True)
class SourceConfig:
    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    drop_selectors: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()
    min_chars: int = _bounded(200, 0, 1_000_000, "characters")
    user_agent: str = ""
    min_delay: float | None = _bounded(None, 0, 600, "seconds")
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)


@dataclass(frozen=True)
class FetchConfig:
    timeout: float = _bounded(30.0, 1, 300, "seconds")
    max_bytes: int = _bounded(10_000_000, 1_000, 1_000_000_000, "bytes")
    per_host: int = _bounded(2, 1, 100)
    min_delay: float = _bounded(1.0, 0, 600, "seconds")
    retries: int = _bounded(2, 0, 10)
    user_agent: str = ""


# What a [[notify]] table can be told of (`on`); minor edits only when asked for by name.
NOTIFY_ON = ("headline", "edit", "removal", "return", "revert", "minor")
NOTIFY_DEFAULT_ON = ("headline", "edit", "removal", "return", "revert")


@dataclass(frozen=True)
class NotifyConfig:
    """A [[notify]] table: where to send word of changes (Apprise URLs), and which."""

    urls: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # none: every source
    on: tuple[str, ...] = NOTIFY_DEFAULT_ON
    min_chars_changed: int = _bounded(0, 0, 10_000_000, "characters")  # for plain edits
    digest_after: int = _bounded(5, 1, 10_000)  # messages a run sends one by one, then a digest
    retries: int = _bounded(3, 0, 10)  # of a message that failed, with a growing pause


SCHEDULER_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}")


@dataclass(frozen=True)
class ClusterConfig:
    """Where `sync` sends its checks (a Dask scheduler); empty: check on this machine."""

    scheduler: str = ""
    timeout: float = _bounded(30.0, 1, 600, "seconds")  # to connect, and for a first worker


def check_scheduler(address: str, where: str) -> str:
    """A Dask scheduler's address, tcp:// or tls:// with host and port, else a ConfigError."""
    if not SCHEDULER_ADDRESS.fullmatch(address):
        raise ConfigError(
            f"{where}: expected a Dask scheduler address like tcp://HOST:PORT, "
            f"got {shorten(repr(address))}"
        )
    return address


@dataclass(frozen=True)
class Config:
    title: str = "News archive"
    contact: str = ""
    base_url: str = ""
    # Canonical URLs of articles the site and its feeds withhold (takedown requests); their
    # history in git is kept.
    hidden: tuple[str, ...] = ()
    replay_url: str = ""  # [site]: a replay server of the captures, linked from version pages
    captures: str = "versions"  # one of CAPTURE_MODES
    fetch: FetchConfig = field(default_factory=FetchConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    notify: tuple[NotifyConfig, ...] = ()
    cluster: ClusterConfig = field(default_factory=ClusterConfig)

    def source(self, name: str) -> SourceConfig:
        """A configured source, or the defaults for one added by hand."""
        return self.sources.get(name) or SourceConfig(name=name, schedule=self.schedule)


def load_config(root: Path) -> Config:
    path = root / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    return parse_config(data, str(path))


def parse_config(data: dict[str, Any], where: str = CONFIG_FILE) -> Config:
    _only(data, {"archive", "fetch", "schedule", "sources", "notify", "cluster", "site"}, where, "")
    archive = _table(data, "archive", where)
    _only(archive, {"title", "contact", "base_url", "hidden", "captures"}, where, "archive.")
    captures = _typed(archive, "captures", str, where, "archive.", Config.captures)
    if captures not in CAPTURE_MODES:
        expected = ", ".join(f'"{m}"' for m in CAPTURE_MODES)
        raise ConfigError(
            f"{where}: archive.captures: expected one of {expected}, got {_kind(captures)}"
        )
    schedule = _schedule(_table(data, "schedule", where), where, "schedule.")
    sources_table = _table(data, "sources", where)
    sources = {name: _source(name, value, schedule, where) for name, value in sources_table.items()}
    return Config(
        title=_typed(archive, "title", str, where, "archive.", Config.title),
        contact=_typed(archive, "contact", str, where, "archive.", ""),
        base_url=_typed(archive, "base_url", str, where, "archive.", ""),
        hidden=_hidden(archive.get("hidden", []), where),
        replay_url=_replay_url(_table(data, "site", where), where),
        captures=captures,
        fetch=_dataclass(FetchConfig, _table(data, "fetch", where), where, "fetch."),
        schedule=schedule,
        sources=sources,
        notify=_notify_tables(data.get("notify", []), where),
        cluster=_cluster(_table(data, "cluster", where), where),
    )


def _notify_tables(value: Any, where: str) -> tuple[NotifyConfig, ...]:
    """The [[notify]] tables, each named `notify[<n>]` (from 1) in errors and logs, and
    their URLs `notify[<n>].urls[<m>]`."""
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ConfigError(f"{where}: notify: expected [[notify]] tables, got {_kind(value)}")
    tables = tuple(_notify(table, where, notify_name(n)) for n, table in enumerate(value))
    seen: dict[str, str] = {}
    for n, table in enumerate(tables):
        for position, url in enumerate(table.urls, 1):
            name = f"{notify_name(n)}.urls[{position}]"
            if url in seen:  # one target, one queue: say which table's filters it follows
                raise ConfigError(f"{where}: {name}: the same URL as {seen[url]}; give it once")
            seen[url] = name
    return tables


def notify_name(index: int) -> str:
    """How the `index`th [[notify]] table (from 0) is named in messages: notify[1] first."""
    return f"notify[{index + 1}]"


def _notify(table: dict[str, Any], where: str, name: str) -> NotifyConfig:
    notify: NotifyConfig = _dataclass(NotifyConfig, table, where, f"{name}.")
    if not notify.urls:
        raise ConfigError(
            f"{where}: {name}.urls: no URL to send to; give at least one in Apprise's syntax"
            ' (e.g. "mailto://user:password@example.org")'
        )
    for position, url in enumerate(notify.urls, 1):
        if problem := apprise_url_problem(url):
            raise ConfigError(f"{where}: {name}.urls[{position}]: {problem}")
    for kind in notify.on:
        if kind not in NOTIFY_ON:
            raise ConfigError(
                f"{where}: {name}.on: {shorten(repr(kind))} is not one of: {', '.join(NOTIFY_ON)}"
            )
    for source in notify.sources:
        if not SOURCE_NAME.match(source):
            raise ConfigError(
                f"{where}: {name}.sources: {shorten(repr(source))} is not a source name"
            )
    return notify


def apprise_url_problem(url: str) -> str | None:
    """What keeps Apprise from sending to `url`, without the URL's secrets (tokens and
    passwords sit anywhere in it): None when Apprise can use it."""
    scheme, sep, _ = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return "not a URL of the form service://… that Apprise reads"
    apprise = quiet_apprise()
    from apprise.manager_plugins import NotificationManager  # a singleton: every service

    if scheme.lower() not in NotificationManager():
        return f"{shorten(scheme)}://… names no service Apprise {apprise.__version__} knows"
    if apprise.Apprise.instantiate(url) is None:
        return f"{scheme}://… is not a URL Apprise can send to (see its page for {scheme}://)"
    return None


def quiet_apprise() -> Any:
    """The apprise module, imported on first use (only archives with [[notify]] tables need
    it), its log kept off stderr: archiver says in one line what went wrong."""
    import logging

    import apprise

    logger = logging.getLogger("apprise")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    return apprise


def _hidden(value: Any, where: str) -> tuple[str, ...]:
    """The takedown list: article URLs, each made canonical as archiver records URLs."""
    key = "archive.hidden"
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key}: expected a list of strings, got {_kind(value)}")
    if (bad := next((url for url in value if not isinstance(url, str)), None)) is not None:
        raise ConfigError(f"{where}: {key}: expected a list of strings, holding {_kind(bad)}")
    urls = []
    for url in value:
        try:
            urls.append(canonical_url(url))
        except InvalidURL as err:
            raise ConfigError(f"{where}: {key}: {shorten(repr(url))}: {err.reason}") from None
    return tuple(dict.fromkeys(urls))


def _cluster(table: dict[str, Any], where: str) -> ClusterConfig:
    cluster: ClusterConfig = _dataclass(ClusterConfig, table, where, "cluster.")
    if cluster.scheduler:
        check_scheduler(cluster.scheduler, f"{where}: cluster.scheduler")
    return cluster


def _replay_url(site: dict[str, Any], where: str) -> str:
    """`[site] replay_url`: where a replay server (pywb, say) serves the captures."""
    _only(site, {"replay_url"}, where, "site.")
    url = _typed(site, "replay_url", str, where, "site.", "").strip()
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(
            f"{where}: site.replay_url: expected an http(s) URL, got {shorten(url)!r}"
        )
    return url


def _source(name: str, value: Any, schedule: ScheduleConfig, where: str) -> SourceConfig:
    key = f"sources.{name}"
    if not SOURCE_NAME.match(name):
        raise ConfigError(
            f"{where}: sources.{shorten(name)}: expected a name of lower-case letters, digits,"
            " '-' or '_'"
        )
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key}: expected a table, got {_kind(value)}")
    value = dict(value)
    overrides = value.pop("schedule", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: {key}.schedule: expected a table, got {_kind(overrides)}")
    merged = {f.name: getattr(schedule, f.name) for f in fields(ScheduleConfig)} | overrides
    source = _dataclass(SourceConfig, {"name": name, **value}, where, f"{key}.")
    for pattern_key in ("include", "exclude", "drop_lines"):
        for pattern in getattr(source, pattern_key):
            try:
                re.compile(pattern)
            except re.error as err:
                raise ConfigError(
                    f"{where}: {key}.{pattern_key}: {shorten(repr(pattern))} is not a valid "
                    f"regex ({err})"
                ) from None
    _check_selectors(source.drop_selectors, where, f"{key}.drop_selectors")
    schedule_cfg = _schedule(merged, where, f"{key}.schedule.")
    return SourceConfig(**{**source.__dict__, "schedule": schedule_cfg})


def _check_selectors(selectors: tuple[str, ...], where: str, key: str) -> None:
    """Refuse a CSS selector lxml cannot use, at load rather than in every extraction."""
    if not selectors:
        return
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    for selector in selectors:
        try:
            CSSSelector(selector, translator="html")
        except SelectorError as err:
            raise ConfigError(
                f"{where}: {key}: {shorten(repr(selector))} is not a valid CSS selector ({err})"
            ) from None


def _schedule(table: dict[str, Any], where: str, prefix: str) -> ScheduleConfig:
    schedule: ScheduleConfig = _dataclass(ScheduleConfig, table, where, prefix)
    if schedule.max_interval < schedule.min_interval:
        raise ConfigError(
            f"{where}: {prefix}max_interval: expected at least min_interval "
            f"({_number(schedule.min_interval)}), got number {_number(schedule.max_interval)}"
        )
    return schedule


def _dataclass(cls: type, table: dict[str, Any], where: str, prefix: str) -> Any:
    known = {f.name: f for f in fields(cls) if f.name != "schedule"}
    _only(table, set(known), where, prefix)
    values = {}
    for name, spec in known.items():
        if name not in table:
            continue
        values[name] = _coerce(table[name], spec.type, where, prefix + name)
        if "range" in spec.metadata and values[name] is not None:
            _check_range(values[name], spec.metadata["range"], where, prefix + name)
    return cls(**values)


def _check_range(value: float, bounds: tuple[float, float, str], where: str, key: str) -> None:
    low, high, unit = bounds
    if not low <= value <= high:  # NaN is in no range
        raise ConfigError(
            f"{where}: {key}: expected a number from {_number(low)} to {_number(high)}"
            f"{' ' + unit if unit else ''}, got number {_number(value)}"
        )


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _coerce(value: Any, type_name: Any, where: str, key: str) -> Any:
    type_name = str(type_name)
    if type_name.startswith("tuple"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key}: expected a list of strings, got {_kind(value)}")
        return tuple(value)
    if type_name.startswith("float"):
        if value is None and "None" in type_name:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{where}: {key}: expected a number ≥ 0, got {_kind(value)}")
        return float(value)
    if type_name == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}: {key}: expected a whole number ≥ 0, got {_kind(value)}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key}: expected a string, got {_kind(value)}")
    return value


def _typed(
    table: dict[str, Any], key: str, kind: type, where: str, prefix: str, default: Any
) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: {prefix}{key}: expected {kind.__name__}, got {_kind(value)}")
    return value


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key}: expected a table, got {_kind(value)}")
    return value


def _only(table: dict[str, Any], allowed: set[str], where: str, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise ConfigError(
                f"{where}: {prefix}{shorten(key)}: unknown key (expected one of: {expected})"
            )


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"string {shorten(repr(value))}"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    kinds: dict[type, str] = {list: "a list", dict: "a table"}
    return kinds.get(type(value), type(value).__name__)


def add_source(root: Path, name: str, **values: list[str]) -> SourceConfig:
    """Add or extend a source in archiver.toml, keeping the file's comments and layout;
    returns the source as saved. A source must have a feed, a sitemap or a page."""
    path, document, source = _edited(root, name, values)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return source


def source_after_add(root: Path, name: str, **values: list[str]) -> SourceConfig:
    """The source `add_source` would save, checked the same way, with nothing written."""
    return _edited(root, name, values)[2]


def _edited(root: Path, name: str, values: dict[str, list[str]]) -> tuple[Path, Any, SourceConfig]:
    """archiver.toml with the source added or extended, not written, and that source."""
    path = root / CONFIG_FILE
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    sources = document.setdefault("sources", tomlkit.table(is_super_table=True))
    table = sources.setdefault(name, tomlkit.table())
    for key, items in values.items():
        if items:
            merged = list(dict.fromkeys([*table.get(key, []), *items]))
            table[key] = merged
    # Refuse to write a bad file, or a source that can never find an article.
    source = _parsed(document, path).sources[name]
    if not (source.feeds or source.sitemaps or source.pages):
        raise ConfigError(
            f"{path}: sources.{name}: no feed, sitemap or page to find articles in; "
            "give at least one"
        )
    return path, document, source


def _parsed(document: Any, path: Path) -> Config:
    """An edited archiver.toml checked as a load would check it."""
    return parse_config(tomllib.loads(tomlkit.dumps(document)), str(path))


def remove_source(root: Path, name: str) -> SourceConfig:
    """Remove a source from archiver.toml, keeping the rest of the file as it is; returns
    the source as it was."""
    path = root / CONFIG_FILE
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    before = _parsed(document, path)
    if name not in before.sources:
        known = ", ".join(sorted(before.sources)) or "none"
        raise ConfigError(f"{path}: no source named {name!r} (sources: {known})")
    del document["sources"][name]
    _parsed(document, path)  # refuse to write a bad file
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return before.sources[name]
