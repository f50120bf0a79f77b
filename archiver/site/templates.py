"""The templates: the Jinja2 environment, the helpers its templates call, the assets beside
them, and the fingerprint of everything that decides what a page says.

Autoescape is on for every template: article text reaches HTML only escaped.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from archiver.site.html import (
    article_rows,
    change_rows,
    origin,
    timeline,
    version_options,
    when,
)
from archiver.site.views import next_check_text, plural, time_text

ASSETS = ("site.css", "site.js", "find.js")


# --- environment --------------------------------------------------------------------------


@cache
def environment() -> jinja2.Environment:
    """Templates compiled once per process (forked workers inherit them)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("archiver.templates", "."),
        autoescape=jinja2.select_autoescape(["html", "xml"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(  # the hot fragments, built in Python (see site.html)
        plural=plural,
        next_check_text=next_check_text,
        time_text=time_text,
        article_rows=article_rows,
        change_rows=change_rows,
        timeline=timeline,
        origin=origin,
        version_options=version_options,
        when=when,
    )
    for name in env.list_templates(extensions=["html", "xml"]):
        env.get_template(name)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def asset_bytes(name: str) -> bytes:
    return resources.files("archiver.templates").joinpath(name).read_bytes()


# The code that decides what a page says, besides the templates: every module of the site
# and of the diff engine, and the stored document's reader, so a new module needs no list.
_PAGE_PACKAGES = ("archiver.site", "archiver.diff")
_PAGE_MODULES = (("archiver.store", "document.py"),)


def _page_code() -> list[tuple[str, bytes]]:
    found = [
        (f"{package}.{entry.name}", entry.read_bytes())
        for package in _PAGE_PACKAGES
        for entry in resources.files(package).iterdir()
        if entry.name.endswith(".py")
    ]
    found += [
        (f"{package}.{name}", resources.files(package).joinpath(name).read_bytes())
        for package, name in _PAGE_MODULES
    ]
    return sorted(found)


def templates_fingerprint() -> str:
    """Changes whenever a template, an asset or the code that fills them does: pages an
    older build wrote are then stale everywhere, and the next build is a full one."""
    digest = hashlib.sha256()
    folder = resources.files("archiver.templates")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith((".html", ".xml", ".css", ".js")):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    for name, code in _page_code():
        digest.update(name.encode() + b"\0" + code)
    return digest.hexdigest()[:16]
