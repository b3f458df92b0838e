"""The site as it is being rendered: files as thunks, and a renderer that reuses pages."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment

from .incremental import RenderCache, freeze

Thunk = Callable[[], bytes]
"""A file of the output, rendered when called."""


@dataclass(slots=True)
class Output:
    """The site as files still to render: output path (with `/`) to a thunk making its bytes.

    Rendering is deferred so that the dev server can answer a request by rendering just that
    page, and the build renders everything with `render_all`.
    """

    thunks: dict[str, Thunk] = field(default_factory=dict)
    """Every file of the site."""
    pages: list[str] = field(default_factory=list)
    """URL paths of every HTML page readers should find (for the sitemap)."""

    def add_page(self, url_path: str, html: Thunk) -> None:
        """Add an HTML page at a URL path such as `meetings/` (written as `…/index.html`)."""
        self.thunks[url_path + "index.html"] = html
        self.pages.append(url_path)

    def add_file(self, path: str, data: Thunk) -> None:
        """Add any other file."""
        self.thunks[path] = data

    def render_all(self) -> dict[str, bytes]:
        """Render every file."""
        return {path: thunk() for path, thunk in self.thunks.items()}


def statement_url(statement_id: str) -> str:
    """The URL path of a statement page, relative to the site's root."""
    return f"statements/{statement_id}/"


@dataclass(slots=True)
class Renderer:
    """Renders templates, reusing a page whose template and context are unchanged."""

    env: Environment
    """The Jinja environment."""
    cache: RenderCache | None = None
    """Pages of earlier builds in this process, if any."""

    def page(self, template: str, key: Hashable = None, **context: Any) -> Thunk:
        """Render `template` with `context`, or take it from the cache.

        The cache key is the template and the frozen context, or `key` when the caller knows a
        cheaper value that determines the whole context.
        """
        return lambda: self._render(template, key, lambda: context)

    def keyed_page(self, template: str, key: Hashable, context: Callable[[], dict[str, Any]]) -> Thunk:
        """Render `template` with the context `context()` makes, unless `key` is cached."""
        return lambda: self._render(template, key, context)

    def later(self, template: str, context: Callable[[], dict[str, Any]]) -> Thunk:
        """Render `template` with the context `context()` makes, when the page is asked for; the
        cache key is the frozen context, so nothing is computed for a page nobody renders."""
        return lambda: self._render(template, None, context)

    def _render(self, template: str, key: Hashable, context: Callable[[], dict[str, Any]]) -> bytes:
        def make() -> bytes:
            return self.env.get_template(template).render(**context()).encode()
        if self.cache is None:
            return make()
        full_key = (template, self.env.globals.get("ui_lang"),
                    key if key is not None else freeze(context(), self.cache.memo))
        return self.cache.get(full_key, make)

    def part(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """A piece of output other than a page (a JSON record), cached by `key`."""
        if self.cache is None:
            return make()
        return self.cache.get(key, make)


