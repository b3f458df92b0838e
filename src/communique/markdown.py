"""Statement bodies: CommonMark with tables and footnotes, raw HTML shown as text.

Only http, https, mailto and relative links survive; a link to another statement's `.md` file
becomes a link to that statement's page, and a link to a file that does not exist is a problem.
Body headings move one level down so that the page's only `<h1>` is the title.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from .problems import Problem

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_SPACES = re.compile(r"[ \t]{2,}|\t")


@dataclass(frozen=True, slots=True)
class RenderedBody:
    """A body turned into HTML, with what the site needs to know about it."""

    html: str
    """The HTML of the body."""
    text: str
    """Its plain text (for feeds, search and meta descriptions)."""
    links_to: tuple[str, ...]
    """Ids of the statements it links to."""


def is_safe_url(url: str) -> bool:
    """True for http, https, mailto and scheme-less (relative) URLs."""
    cleaned = "".join(ch for ch in url if ch > " " and ch != "\x7f")
    match = _SCHEME.match(cleaned)
    return match is None or match.group(1).lower() in _SAFE_SCHEMES


def shift_headings(tokens: Sequence[Token]) -> None:
    """Number body headings h2, h3, … by the levels the body uses, closing gaps.

    The title is the page's only `<h1>`; a body that jumps from `#` to `###` still gives an
    outline without a skipped level.
    """
    used = sorted({int(t.tag[1]) for t in tokens if t.type == "heading_open"})
    level_of = {level: f"h{min(rank + 2, 6)}" for rank, level in enumerate(used)}
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = level_of[int(token.tag[1])]


def _footnote_block_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: Any,
                         env: Any) -> str:
    return ('<hr class="footnotes-sep">\n<section class="footnotes" aria-label="Notes">\n'
            '<ol class="footnotes-list">\n')


def _footnote_anchor(self: RendererHTML, tokens: Sequence[Token], idx: int, options: Any,
                     env: Any) -> str:
    html = str(self.rules["footnote_anchor_default"](tokens, idx, options, env))
    return html.replace('class="footnote-backref"', 'class="footnote-backref" aria-label="Back to the text"')


_OPTIONAL_RULES = (
    ("table", ("|",)),
    ("fence", ("```", "~~~")),
    ("blockquote", (">",)),
    ("reference", ("]:",)),
    ("heading", ("#",)),
)
"""Block rules markdown-it tries on every line, each with the strings one of which a body must
hold for the rule to match anywhere in it (a table's header row has a `|`, a reference ends its
label with `]:`)."""
_FOOTNOTE_MARKS = ("[^", "^[")
"""A body holds one of these where it has a footnote or a reference to one."""


def _parser_for(body: str) -> MarkdownIt:
    """The parser for `body`, without the rules that cannot match in it: parsing tries each
    block rule on every line, and a body gives the same HTML with or without a rule that never
    matches in it."""
    used = tuple(any(mark in body for mark in marks) for _, marks in _OPTIONAL_RULES)
    return _parser(used, any(mark in body for mark in _FOOTNOTE_MARKS))


@lru_cache(maxsize=1 << (len(_OPTIONAL_RULES) + 1))
def _parser(used: tuple[bool, ...] = (True,) * len(_OPTIONAL_RULES), footnotes: bool = True) -> MarkdownIt:
    """The body parser with the rules of `_OPTIONAL_RULES` that are `used`, and footnotes if
    asked. The raw HTML rules are left out: with raw HTML off they never match."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.disable(["html_block", "html_inline"])
    md.enable("table")
    md.disable([rule for (rule, _), on in zip(_OPTIONAL_RULES, used, strict=True) if not on])
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    if footnotes:
        md.use(footnote_plugin)
        md.add_render_rule("footnote_block_open", _footnote_block_open)
        rules = md.renderer.rules  # type: ignore[attr-defined]
        rules["footnote_anchor_default"] = rules["footnote_anchor"]
        md.add_render_rule("footnote_anchor", _footnote_anchor)
    return md


def render_body(
    path: str,
    body: str,
    first_line: int,
    source_dir: str,
    statement_files: Mapping[str, str],
    statement_url: str,
) -> tuple[RenderedBody, list[Problem]]:
    """Render `body` (which starts on file line `first_line`).

    `source_dir` is the folder of the file, relative to the content folder, and
    `statement_files` maps each statement file's path (relative to the content folder, with `/`)
    to its id; `statement_url` is the URL pattern of a statement page with `{id}` in it.
    """
    md = _parser_for(body)
    tokens = md.parse(body)
    problems: list[Problem] = []
    linked: list[str] = []
    text_parts: list[str] = []
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        line = first_line + (block.map[0] if block.map else 0)
        for token in block.children:
            if token.type in ("text", "code_inline"):
                text_parts.append(token.content)
            elif token.type in ("softbreak", "hardbreak"):
                text_parts.append(" ")
            elif token.type == "link_open":
                href = str(token.attrs.get("href", ""))
                target = _statement_target(href, source_dir)
                if target is None:
                    continue
                file, fragment = target
                if file not in statement_files:
                    problems.append(Problem(
                        path, line, None,
                        f"link to a statement file that does not exist: '{href}'",
                        field="body",
                        hint="link to another statement by its file name, such as "
                             "'2016-02-02-small-group-rome.md'",
                    ))
                    continue
                target_id = statement_files[file]
                linked.append(target_id)
                token.attrs["href"] = statement_url.format(id=target_id) + fragment
        text_parts.append("\n")
    shift_headings(tokens)
    html = md.renderer.render(tokens, md.options, {})
    text = "".join(text_parts)
    if "  " in text or "\t" in text:  # rarely: the search is 15 times faster than the substitution
        text = _SPACES.sub(" ", text)
    text = text.strip()
    return RenderedBody(html, text, tuple(dict.fromkeys(linked))), problems


def _statement_target(href: str, source_dir: str) -> tuple[str, str] | None:
    """(file relative to the content folder, `#fragment`) when `href` names a `.md` file."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
        return None
    path = unquote(parts.path)
    joined = posixpath.normpath(posixpath.join(source_dir, path.lstrip("/")) if not
                                path.startswith("/") else path.lstrip("/"))
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return joined, fragment
