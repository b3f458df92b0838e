"""URL slugs: the lowercase ASCII transliteration of a name, other runs turned into hyphens."""

from __future__ import annotations

import re

from anyascii import anyascii

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Scripts written without spaces between words, whose characters each transliterate to a
# syllable: CJK ideographs, kana and Hangul. Each becomes a word of its own in a slug.
_SYLLABIC = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff])")
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""What a statement id (and any slug) looks like."""


def slugify(name: str) -> str:
    """`Côte d'Ivoire` → `cote-d-ivoire`; `Daesh/ISIS` → `daesh-isis`; `中美` → `zhong-mei`."""
    spaced = _SYLLABIC.sub(r" \1 ", name)
    return _NOT_SLUG.sub("-", anyascii(spaced).lower()).strip("-")
