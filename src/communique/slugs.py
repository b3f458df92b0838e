"""URL slugs: the lowercase ASCII transliteration of a name, other runs turned into hyphens."""

from __future__ import annotations

import re

from anyascii import anyascii

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""What a statement id (and any slug) looks like."""


def slugify(name: str) -> str:
    """`Côte d'Ivoire` → `cote-d-ivoire`; `Daesh/ISIS` → `daesh-isis`."""
    return _NOT_SLUG.sub("-", anyascii(name).lower()).strip("-")
