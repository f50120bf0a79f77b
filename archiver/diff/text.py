"""Text helpers the diff engine shares: the paragraphs of a body, and the keys items are
matched on. The one `paragraphs`: the stored format and extraction read bodies with it."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_WORD = re.compile(r"\w+")
# Every character falls in exactly one branch, so the tokens always join back to the text.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def paragraphs(markdown_body: str) -> list[str]:
    """Split a markdown body on blank lines into stripped, non-empty blocks."""
    text = markdown_body.replace("\r\n", "\n").replace("\r", "\n")
    return [block.strip() for block in _BLANK_LINE.split(text) if block.strip()]


def _collapse(text: str) -> str:
    return " ".join(text.split())


@lru_cache(maxsize=1 << 14)  # consecutive versions share most paragraphs
def _key(text: str) -> str:
    """Matching key: differences of case, width or spacing alone never break a match."""
    return _collapse(unicodedata.normalize("NFKC", text).casefold())
