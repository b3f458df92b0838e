"""The theme's words in the reader's language: Babel message catalogs, one per UI language.

Catalogs are the `.po` files under `locales/<lang>/LC_MESSAGES/messages.po`, compiled in memory
when first used. English is the language of the templates themselves.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_PIPE,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)

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


class Pretranslate(Extension):
    """Translates `_("literal")` when a template is compiled, not each time it is rendered.

    The call becomes the translated text marked safe, which is what the i18n extension's
    gettext returns for a literal without variables (`%%` included), so the output is the same;
    Jinja then folds it into the template's text. Calls with variables are left as they are.
    The environment's catalog is `environment.pretranslations`.
    """

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        catalog: gettext.NullTranslations = self.environment.pretranslations  # type: ignore[attr-defined]

        def translated(lineno: int, text: str | None) -> list[Token] | None:
            if text is None:
                return None
            return [Token(lineno, TOKEN_STRING, catalog.gettext(text) % {}), Token(lineno, TOKEN_PIPE, "|"),
                    Token(lineno, TOKEN_NAME, "safe")]
        return fold_calls(stream, "_", translated)


def fold_calls(stream: TokenStream, name: str,
               fold: Callable[[int, str | None], list[Token] | None]) -> Iterator[Token]:
    """The tokens of `stream`, with each call of `name` (not an attribute's) on one string
    literal, or on nothing (`None`), replaced by the tokens `fold(line, literal)` gives, unless
    it gives None."""
    tokens = list(stream)
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token.type == TOKEN_NAME and token.value == name and (
                position == 0 or tokens[position - 1].type != TOKEN_DOT):
            kinds = [t.type for t in tokens[position + 1:position + 4]]
            if kinds[:2] == [TOKEN_LPAREN, TOKEN_RPAREN]:
                folded, length = fold(token.lineno, None), 3
            elif kinds == [TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN]:
                folded, length = fold(token.lineno, tokens[position + 2].value), 4
            else:
                folded, length = None, 1
            if folded is not None:
                yield from folded
                position += length
                continue
        yield token
        position += 1
