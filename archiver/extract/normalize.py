"""Normalized markdown: the form in which every article body is stored.

Deterministic (same input, same bytes, in any process) and idempotent
(normalize_body(normalize_body(x)) == normalize_body(x)). One block per paragraph with no
hard wrapping, so `git diff --word-diff` reads well; one syntax each for headings ("## "),
list items ("- ") and quotes ("> ").
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZER_VERSION = 1

# Characters that render as nothing or as a plain space: they only make false changes.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_HEADING = re.compile(r"^#{1,6}\s+")
_SETEXT = re.compile(r"^(=+|-+)$")
_BULLET = re.compile(r"^[-*+•·▪◦]\s+")
_ORDERED = re.compile(r"^(\d{1,9})[.)]\s+")
_QUOTE = re.compile(r"^(>\s*)+")
_RULE = re.compile(r"^([-*_])(\s*\1){2,}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(text: str) -> str:
    """One line of text: NFC, no invisible or control characters, single spaces."""
    # Composition last: removing an invisible character can bring a letter and its accent
    # together.
    text = _CONTROL.sub("", text.translate(_INVISIBLE))
    return unicodedata.normalize("NFC", _SPACES.sub(" ", text).strip())


def _normalize_block(lines: list[str]) -> str:
    """One block of markdown (lines without blank lines between them) as one line."""
    first = lines[0].strip()
    if len(lines) == 2 and _SETEXT.match(lines[1].strip()) and not _BULLET.match(first):
        return _normalize_block(["## " + first])  # then as any heading
    if _QUOTE.match(first):  # a quote's continuation lines carry their own markers
        lines = [first] + [_QUOTE.sub("", line) for line in lines[1:]]
    text = normalize_text(" ".join(lines))
    if _RULE.match(text):
        return ""
    if _HEADING.match(text):
        body = _HEADING.sub("", text).rstrip("#").strip()
        return f"## {body}" if body else ""
    if _QUOTE.match(text):
        body = _QUOTE.sub("", text).strip()
        return f"> {body}" if body else ""
    if _BULLET.match(text):
        body = _BULLET.sub("", text).strip()
        return f"- {body}" if body else ""
    if m := _ORDERED.match(text):
        body = text[m.end() :].strip()
        return f"{int(m.group(1))}. {body}" if body else ""
    return text


def _split_blocks(markdown: str) -> list[list[str]]:
    """Blocks separated by blank lines; each list item and each heading is a block of its own."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for raw in markdown.splitlines():
        line = raw.strip()
        starts_item = bool(_BULLET.match(line) or _ORDERED.match(line) or _HEADING.match(line))
        if not line or (starts_item and current):
            if current:
                blocks.append(current)
            current = [line] if line else []
            continue
        current.append(line)
        if _HEADING.match(line):
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def normalize_body(markdown: str) -> str:
    """Normalized markdown: blocks joined by one blank line, ending in one newline."""
    blocks = (_normalize_block(lines) for lines in _split_blocks(markdown))
    kept = [b for b in blocks if b]
    return "\n\n".join(kept) + "\n" if kept else ""
