"""The settings of a site as a whole, which every page is rendered with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SiteConfig:
    """What every page needs to know about the site as a whole."""

    title: str
    base_url: str = ""
    search: bool = False
    hidden: frozenset[str] = frozenset()  # canonical URLs of articles withheld from the site
    replay_url: str = ""  # a replay server (pywb) holding the captures: version pages link it
