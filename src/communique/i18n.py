"""The theme's words in the reader's language: Babel message catalogs, one per UI language.

Catalogs are the `.po` files under `locales/<lang>/LC_MESSAGES/messages.po`, compiled in memory
when first used. English is the language of the templates themselves.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from importlib import resources
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from .models import text_direction

SOURCE_LANGUAGE = "en"
"""The language the templates are written in."""


def locales_dir() -> Path:
    """Where the catalogs are."""
    return Path(str(resources.files("communique"))) / "locales"


@lru_cache(maxsize=1)
def ui_languages() -> frozenset[str]:
    """Every language the interface can be shown in."""
    found = {p.parent.parent.name for p in locales_dir().glob("*/LC_MESSAGES/messages.po")}
    return frozenset({SOURCE_LANGUAGE, *found})


def ui_language(lang: str) -> str | None:
    """The interface language for a text's BCP 47 tag (`pt-BR` → `pt`), or None if there is none."""
    primary = lang.split("-")[0].lower()
    return primary if primary in ui_languages() else None


@lru_cache(maxsize=16)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang` (no translation for the source language)."""
    if lang == SOURCE_LANGUAGE or lang not in ui_languages():
        return gettext.NullTranslations()
    po = locales_dir() / lang / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def direction(lang: str) -> str:
    """`rtl` or `ltr` for an interface language."""
    return text_direction(lang)
