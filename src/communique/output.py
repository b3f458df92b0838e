"""The site as it is being rendered: files as thunks, and a renderer that reuses pages."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment

from .incremental import RenderCache, freeze

Thunk = Callable[[], bytes]
"""A file of the output, rendered when called."""


Piece = bytes | tuple[Hashable, Callable[[], bytes]]
"""Part of a file made in pieces: its bytes, or a key that determines them and how to make them."""


class File:
    """A file of the output: its bytes when called, and a key that determines them.

    Two files with equal keys (under the same templates, site settings and communique) have the
    same bytes, so a build can reuse the previous build's file without rendering it. A large file
    can also be made in `pieces`, which a build writes as they come instead of holding the whole,
    taking a keyed piece from the previous build's file when its key is unchanged.

    A site holds one per output file from laying out to the end of the build, so the kinds of
    file are small slotted classes rather than closures (a third of a kilobyte less per file).
    """

    __slots__ = ()

    def __call__(self) -> bytes:
        raise NotImplementedError

    def key(self) -> Hashable:
        """What the bytes follow from (computed without rendering)."""
        raise NotImplementedError

    def pieces(self) -> bytes | Iterator[Piece]:
        """The bytes, in pieces if the file can be made that way."""
        return self()

    @staticmethod
    def of(make: Callable[[], bytes], key: Callable[[], Hashable]) -> File:
        """A file that `make` makes, whose key `key` works out."""
        return _Made(make, key)

    @staticmethod
    def in_pieces(pieces: Callable[[], Iterator[Piece]], key: Callable[[], Hashable]) -> File:
        """A file made in pieces (the whole joined when called)."""
        return _Pieced(pieces, key)


class _Made(File):
    __slots__ = ("_key", "_make")

    def __init__(self, make: Callable[[], bytes], key: Callable[[], Hashable]) -> None:
        self._make, self._key = make, key

    def __call__(self) -> bytes:
        return self._make()

    def key(self) -> Hashable:
        return self._key()


class _Pieced(File):
    __slots__ = ("_key", "_pieces")

    def __init__(self, pieces: Callable[[], Iterator[Piece]], key: Callable[[], Hashable]) -> None:
        self._pieces, self._key = pieces, key

    def __call__(self) -> bytes:
        return b"".join(piece if isinstance(piece, bytes) else piece[1]() for piece in self._pieces())

    def key(self) -> Hashable:
        return self._key()

    def pieces(self) -> bytes | Iterator[Piece]:
        return self._pieces()


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
    memo: dict[int, tuple[Any, Hashable]] = field(default_factory=dict)
    """Frozen collections, by identity, when there is no cache (see `freeze`)."""

    def page(self, template: str, key: Hashable = None, **context: Any) -> File:
        """Render `template` with `context`, or take it from the cache.

        The cache key is the template and the frozen context, or `key` when the caller knows a
        cheaper value that determines the whole context.
        """
        return self._file(template, key, lambda: context)

    def keyed_page(self, template: str, key: Hashable, context: Callable[[], dict[str, Any]]) -> File:
        """Render `template` with the context `context()` makes, unless `key` is cached."""
        return self._file(template, key, context)

    def later(self, template: str, context: Callable[[], dict[str, Any]]) -> File:
        """Render `template` with the context `context()` makes, when the page is asked for; the
        cache key is the frozen context, so nothing is computed for a page nobody renders."""
        return self._file(template, None, context)

    def _file(self, template: str, key: Hashable, context: Callable[[], dict[str, Any]]) -> File:
        return _Page(self, template, key, context)

    def _key(self, template: str, key: Hashable, context: Callable[[], dict[str, Any]]) -> Hashable:
        memo = self.cache.memo if self.cache is not None else self.memo
        return (template, self.env.globals.get("ui_lang"),
                key if key is not None else freeze(context(), memo))

    def _render(self, template: str, key: Hashable, context: Callable[[], dict[str, Any]]) -> bytes:
        def make() -> bytes:
            return self.env.get_template(template).render(**context()).encode()
        if self.cache is None:
            return make()
        return self.cache.get(self._key(template, key, context), make)

    def file(self, key: Hashable, make: Callable[[], bytes]) -> File:
        """A file other than a page (a citation file), cached by `key`."""
        return _Part(self, key, make)

    def part(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """A piece of output other than a page (a JSON record), cached by `key`."""
        if self.cache is None:
            return make()
        return self.cache.get(key, make)


class _Page(File):
    """A page `Renderer` renders from a template."""

    __slots__ = ("_context", "_key_value", "_renderer", "_template")

    def __init__(self, renderer: Renderer, template: str, key: Hashable,
                 context: Callable[[], dict[str, Any]]) -> None:
        self._renderer, self._template, self._key_value, self._context = renderer, template, key, context

    def __call__(self) -> bytes:
        return self._renderer._render(self._template, self._key_value, self._context)

    def key(self) -> Hashable:
        return self._renderer._key(self._template, self._key_value, self._context)


class _Part(File):
    """Another file `Renderer` makes (a citation file), cached by its key."""

    __slots__ = ("_key_value", "_make", "_renderer")

    def __init__(self, renderer: Renderer, key: Hashable, make: Callable[[], bytes]) -> None:
        self._renderer, self._key_value, self._make = renderer, key, make

    def __call__(self) -> bytes:
        return self._renderer.part(self._key_value, self._make)

    def key(self) -> Hashable:
        return self._key_value
