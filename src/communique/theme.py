"""The default theme and its overrides: the Jinja environment of one interface language, with
the URL helpers, filters and cached fragments the templates use."""

from __future__ import annotations

import contextlib
import datetime as dt
import gettext
import hashlib
import traceback
from collections.abc import Callable, Hashable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    pass_eval_context,
    select_autoescape,
)
from jinja2.bccache import Bucket
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_STRING, Token, TokenStream
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from .charts import bar_chart
from .cite import citation_text, json_ld
from .dates import PartialDate, language_name, load_locale
from .i18n import SOURCE_LANGUAGE, Pretranslate, direction, fold_calls, translations, ui_language
from .models import STATEMENT_TYPES, Entity, Listing, Site, Statement
from .problems import Problem
from .slugs import slugify
from .stamp import default_theme_dir

ASSETS_DIR = "static"
"""Folder of the theme's assets, copied to the same folder of the output."""


def theme_dirs(site: Site, content: Path) -> list[Path]:
    """The site's overrides (if any) first, then the default theme."""
    dirs = [default_theme_dir()]
    if site.theme_dir:
        dirs.insert(0, content / site.theme_dir)
    return dirs


class FoldUrls(Extension):
    """Works out `url("literal")` and `url()` when a template is compiled, not each time it is
    rendered: the call becomes the URL path as a string, escaped where it is shown as `url`'s
    result would be. (A template that named something else `url` would lose it to the global.)
    The site's base path is `environment.url_base`."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        base: str = self.environment.url_base  # type: ignore[attr-defined]
        return fold_calls(stream, "url",
                          lambda lineno, path: [Token(lineno, TOKEN_STRING, base + (path or ""))])


def direct_gettext(env: Environment, catalog: gettext.NullTranslations) -> None:
    """Make `_()` in templates give what the i18n extension's newstyle gettext gives, in one
    call instead of three through Jinja's `Context.call` (140,000 a build at 10,000 statements:
    a label or a text with variables; `Pretranslate` does the literals)."""
    @pass_eval_context
    def translate(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
        text = catalog.gettext(string)
        return (Markup(text) if eval_ctx.autoescape else text) % variables
    env.globals["_"] = translate


class _Environment(Environment):
    """An environment whose templates see its globals as they were when each was loaded (all
    are set before the first, as Jinja asks), copied into a plain dict: Jinja's `ChainMap`
    over them is read key by key, in Python, for every render of every page and list item."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


class CompiledTemplates(FileSystemBytecodeCache):
    """Templates compiled by Jinja, kept from build to build: Jinja compiles a template again
    when its source changed. What else the compiled code follows from (communique and Jinja,
    whose digest names the folder given, see `cache.compiled_templates`; the words of the
    interface's language, translated when compiling, and the site's base path, which URLs are
    folded with) names a folder of its own. A file that cannot be read is compiled again, and one
    that cannot be written only loses the cache."""

    @classmethod
    def beneath(cls, folder: Path, lang: str, base_path: str) -> CompiledTemplates | None:
        """The cache for one language and base path, in a folder below `folder`; None when it
        cannot be made."""
        key = hashlib.blake2b(repr((lang, base_path)).encode(), digest_size=12).hexdigest()
        try:
            (folder / key).mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return cls(str(folder / key))

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged file (Jinja checks only its header): compiled again, and rewritten
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def make_environment(site: Site, dirs: list[Path], ui_lang: str | None = None,
                     compiled: Path | None = None) -> Environment:
    """A Jinja environment with the site's URL helpers, filters and the words of `ui_lang`
    (default: the site's language, or English if there is no catalog for it), which keeps the
    templates it compiles in the folder `compiled`, if given (see `CompiledTemplates`)."""
    lang = ui_lang or ui_language(site.language) or SOURCE_LANGUAGE
    load_locale(lang)
    env = _Environment(
        bytecode_cache=CompiledTemplates.beneath(compiled, lang, site.base_path) if compiled else None,
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in dirs]),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n", Pretranslate, FoldUrls],
        # One build renders with one version of the templates, and asks for one once per page
        # (a `stat` each with reloading on); the dev server makes a new environment on an edit.
        auto_reload=False,
    )
    catalog = translations(lang)
    env.extend(pretranslations=catalog, url_base=site.base_path)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    direct_gettext(env, catalog)
    base_path, base_url = site.base_path, site.base_url
    env.globals.update(
        site=site,
        ui_lang=lang,
        ui_dir=direction(lang),
        url=lambda path="": base_path + path,
        absolute_url=lambda path="": base_url + path,
        link=lambda href, text: Markup('<a href="{}">{}</a>').format(href, text),
        embargo_tag=lambda instant: Markup('<time datetime="{}">{}</time>').format(
            instant.isoformat(), human_instant(instant, lang)),
        statement_types=STATEMENT_TYPES,
        bar_chart=bar_chart,
        citation_text=lambda statement: citation_text(statement, site),
        json_ld=lambda statement, original: json_ld(statement, site, original),
        site_lang_attrs=Markup("") if site.language == lang else Markup(' lang="{}" dir="{}"').format(
            site.language, direction(site.language)),
    )
    env.globals["list_items"] = _list_items(env)
    env.filters["human_date"] = lambda d, date_lang=lang: d.human(date_lang)
    env.filters["month_name"] = _month_name(lang)
    env.filters["language_name"] = language_name
    env.filters["time_tag"] = _time_tag(lang)
    env.filters["lang_attrs"] = _lang_attrs(lang)
    env.filters["entity_list"] = _entity_list(base_path)
    env.filters["entity_link"] = _entity_link(base_path)
    env.filters["slug"] = lambda text: slugify(text) or "topic"
    return env


LIST_ITEM_TEMPLATE = "_statement_item.html"
MAX_LIST_ITEMS_CACHED = 200_000
"""The dev server keeps rendered list items between builds; this bounds how many."""


def _list_items(env: Environment) -> Callable[..., Markup]:
    """`list_items(listings, level, translations, roles)`: an `<ol>` of statements. Each item is
    rendered once per environment for each distinct input and reused by every list showing it."""
    cache: dict[Hashable, Markup] = {}

    def item(statement: Listing, level: int, versions: tuple[Listing, ...], role: str | None) -> Markup:
        key = (statement, level, versions, role)
        found = cache.get(key)
        if found is None:
            if len(cache) >= MAX_LIST_ITEMS_CACHED:
                cache.clear()
            found = cache[key] = Markup(env.get_template(LIST_ITEM_TEMPLATE).render(
                statement=statement, level=level, versions=versions, role=role))
        return found

    def list_items(statements: Iterable[Listing], level: int = 2,
                   translations: dict[str, tuple[Listing, ...]] | None = None,
                   roles: Iterable[str | None] | None = None) -> Markup:
        versions = translations or {}
        items = list(statements)
        role_of = list(roles) if roles is not None else [None] * len(items)
        body = "\n".join(item(s, level, versions.get(s.id, ()), role) for s, role in zip(items, role_of,
                                                                                         strict=True))
        return Markup(f'<ol class="statement-list">\n{body}\n</ol>')
    return list_items


def _time_tag(site_language: str) -> Callable[..., Markup]:
    def time_tag(date: PartialDate, lang: str = site_language) -> Markup:
        """`<time datetime="2023-12">December 2023</time>`, marked with its language if not the site's."""
        marked = f' lang="{escape(lang)}"' if lang != site_language else ""
        return Markup(f'<time datetime="{date.iso()}"{marked}>{escape(date.human(lang))}</time>')
    return time_tag


def _lang_attrs(site_language: str) -> Callable[[Statement], Markup]:
    def lang_attrs(statement: Statement) -> Markup:
        """` lang="it" dir="ltr"` for text in another language than the site's."""
        if statement.lang == site_language:
            return Markup("")
        return Markup(f' lang="{escape(statement.lang)}" dir="{statement.direction}"')
    return lang_attrs


def _entity_link(base_path: str) -> Callable[[Entity], Markup]:
    links: dict[Entity, Markup] = {}

    def entity_link(entity: Entity) -> Markup:
        """The entity's name, linked to its page."""
        found = links.get(entity)
        if found is None:
            found = links[entity] = Markup(f'<a href="{escape(base_path)}countries/{escape(entity.slug)}/">'
                                           f"{escape(entity.name)}</a>")
        return found
    return entity_link


def _entity_list(base_path: str) -> Callable[[Iterable[Entity]], Markup]:
    link = _entity_link(base_path)

    def entity_list(entities: Iterable[Entity]) -> Markup:
        """Names as an inline list, each linked to its page."""
        items = "".join(f"<li>{link(e)}</li>" for e in entities)
        return Markup(f'<ul class="inline-list">{items}</ul>')
    return entity_list


def human_instant(instant: dt.datetime, lang: str = "en") -> str:
    """"14 December 2023, 17:00 (UTC+01:00)": day first, with the offset the editor wrote."""
    offset = instant.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    day = PartialDate(instant.year, instant.month, instant.day).human(lang)
    return f"{day}, {instant:%H:%M} ({zone})"


def _month_name(lang: str) -> Callable[[int, int], str]:
    def name(month: int, year: int) -> str:
        return PartialDate(year, month).human(lang)
    return name


def template_problem(error: TemplateError) -> Problem:
    """A template error as a `Problem` naming the template file and line."""
    if isinstance(error, TemplateSyntaxError):
        return Problem(error.filename or error.name or "template", error.lineno, None,
                       f"template error: {error.message}", "template")
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if frame.filename.endswith((".html", ".xml")):
            return Problem(frame.filename, frame.lineno, None, f"template error: {error}", "template")
    return Problem("template", None, None, f"template error: {error}", "template")


def theme_assets(dirs: list[Path]) -> Iterator[tuple[str, Path]]:
    """(output path, file) of every asset; a site's override wins over the default by name."""
    seen: set[str] = set()
    for theme in dirs:
        root = theme / ASSETS_DIR
        if not root.is_dir():
            continue
        for file in sorted(root.rglob("*")):
            name = f"{ASSETS_DIR}/{file.relative_to(root).as_posix()}"
            if file.is_file() and name not in seen:
                seen.add(name)
                yield name, file
