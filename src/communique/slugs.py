"""URL slugs and ids: lowercase ASCII words joined by hyphens, safe as a file or folder name anywhere."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Scripts written without spaces between words, whose characters each transliterate to a
# syllable: CJK ideographs, kana and Hangul. Each becomes a word of its own in a slug.
_SYLLABIC = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff])")
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""What a statement id (and any slug) looks like."""
_ID_CHARACTER = re.compile(r"[a-z0-9-]")

MAX_SLUG_LENGTH = 100
"""Longest slug made from a name: a folder name must stay well under the 255 bytes file systems
allow, and a longer URL helps nobody. A longer name is cut at a hyphen and given a short digest
of the whole name, so two long names that start alike still get different slugs."""

RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{port}{n}" for port in ("com", "lpt") for n in range(10)}
)
"""Device names Windows reserves in every folder, whatever the extension (`con.md`, `nul/`):
a site or content folder with such a name cannot be checked out or copied there."""


@lru_cache(maxsize=65536)
def slugify(name: str) -> str:
    """`Côte d'Ivoire` → `cote-d-ivoire`; `Daesh/ISIS` → `daesh-isis`; `中美` → `zhong-mei`.

    A name without any letter or digit gives `""`; a reserved device name or a very long name
    gets a short digest of the name added, so that the slug is a portable folder name.
    """
    spaced = _SYLLABIC.sub(r" \1 ", name)
    slug = _NOT_SLUG.sub("-", anyascii(spaced).lower()).strip("-")
    if len(slug) > MAX_SLUG_LENGTH:
        cut = slug[: MAX_SLUG_LENGTH - 9]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut else cut) + "-" + _digest(name)
    elif slug in RESERVED_NAMES:
        slug = f"{slug}-{_digest(name)}"
    return slug


def _digest(name: str) -> str:
    return hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


_UNNAMED = {"Cc": "a control character", "Cs": "a surrogate", "Co": "a private-use character"}


def character_name(ch: str) -> str:
    """`U+0430 CYRILLIC SMALL LETTER A`, `U+0007 a control character`."""
    name = unicodedata.name(ch, "") or _UNNAMED.get(unicodedata.category(ch), "a noncharacter")
    return f"U+{ord(ch):04X} {name}"


def describe_character(ch: str) -> str:
    """`'а' (U+0430 CYRILLIC SMALL LETTER A)`: a character as a message names it."""
    shown = repr(ch) if ch.isprintable() else "a character"
    return f"{shown} ({character_name(ch)})"


def id_fault(text: str) -> str | None:
    """What makes `text` unusable as a statement id, or None when it is a good id.

    The answer names the first character that is not allowed, with its code point, so that a
    look-alike letter from another script (Cyrillic `а` for Latin `a`) is found at once.
    """
    if not text:
        return "it is empty"
    for ch in text:
        if not _ID_CHARACTER.fullmatch(ch):
            if ch in "/\\":
                return f"it has a folder separator {ch!r}; an id is a single file name"
            kind = "an upper-case letter" if ch.isascii() and ch.isupper() else "not allowed"
            return f"{describe_character(ch)} is {kind}; use lowercase a-z, 0-9 and hyphens"
    if not ID_PATTERN.fullmatch(text):
        return "hyphens must join words: none at the start or end, never two in a row"
    if text in RESERVED_NAMES:
        return (f"{text!r} is a device name Windows reserves, so no file or folder can have it "
                "there")
    return None
