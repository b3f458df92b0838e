"""Reuse work between builds of one process (the dev server): parsed files and rendered pages.

A parsed file is reused while its size and modification time are unchanged and the set of
files and the site's configuration files are the same. A rendered page is reused while the
exact inputs of its template are equal: the key is the template name and a frozen copy of the
context, compared by value, so a page is re-rendered exactly when something it shows changed.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from .dates import PartialDate
from .discover import SourceFile
from .models import Correction, Entity, Meeting, Person, Statement
from .problems import Problem
from .validate import ParsedFile

CONFIG_FILES = ("site.yaml", "countries.yaml", "organisations.yaml")
_AS_IS = (str, int, float, bool, type(None), bytes, PartialDate, Entity, Meeting, Person, Correction)
"""Values that are their own key: immutable and cheap to hash."""


def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return (0, -1)
    return (info.st_mtime_ns, info.st_size)


@dataclass(slots=True)
class ParseCache:
    """Parsed statement files of the previous build."""

    key: Hashable = None
    """What every entry depends on: the list of files and the config files' stamps."""
    entries: dict[str, tuple[tuple[int, int], ParsedFile, list[Problem]]] = field(default_factory=dict)
    """Relative path to (stamp, parsed file, problems)."""
    hits: int = 0
    """Files reused by the last build."""

    def start(self, content: Path, sources: list[SourceFile]) -> None:
        """Begin a build: forget everything if the set of files or the configuration changed."""
        key = (tuple(s.relative for s in sources), tuple(_stamp(content / f) for f in CONFIG_FILES))
        if key != self.key:
            self.entries.clear()
            self.key = key
        self.hits = 0

    def get(self, source: SourceFile) -> tuple[ParsedFile, list[Problem]] | None:
        """The cached result for an unchanged file."""
        entry = self.entries.get(source.relative)
        if entry is None or entry[0] != _stamp(source.absolute):
            return None
        self.hits += 1
        return entry[1], entry[2]

    def put(self, source: SourceFile, parsed: ParsedFile, problems: list[Problem]) -> None:
        """Remember a file's result."""
        self.entries[source.relative] = (_stamp(source.absolute), parsed, problems)


def freeze(value: Any, memo: dict[int, tuple[Any, Hashable]] | None = None) -> Hashable:
    """A hashable key for a template context, compared by value.

    A statement stands for itself by its fingerprint; other dataclasses, lists and dicts become
    tuples. `memo` remembers collections by identity within one build, where the same group of
    statements appears in many contexts.
    """
    if isinstance(value, Statement):
        return value.fingerprint
    if isinstance(value, _AS_IS):
        return value
    if memo is not None and (known := memo.get(id(value))) is not None:
        return known[1]
    frozen: Hashable
    if isinstance(value, Mapping):
        frozen = tuple(sorted((k, freeze(v, memo)) for k, v in value.items()))
    elif isinstance(value, list | tuple):
        frozen = tuple(freeze(v, memo) for v in value)
    elif is_dataclass(value):
        frozen = (type(value).__name__, *(freeze(getattr(value, f.name), memo) for f in fields(value)))
    else:
        frozen = value
    if memo is not None:  # the entry holds `value`, so its id is not reused during the build
        memo[id(value)] = (value, frozen)
    return frozen


@dataclass(slots=True)
class RenderCache:
    """Rendered pages by (template, context); emptied when a template changes."""

    pages: dict[Hashable, str] = field(default_factory=dict)
    """The last build's pages."""
    previous: dict[Hashable, str] = field(default_factory=dict)
    """Pages of the build before, consulted and dropped as this build goes."""
    rendered: int = 0
    """Pages rendered (not reused) by the last build."""
    memo: dict[int, tuple[Any, Hashable]] = field(default_factory=dict)
    """Frozen collections of this build, by identity (see `freeze`)."""

    def start(self) -> None:
        """Begin a build: keep only what this build uses."""
        self.previous, self.pages, self.rendered = self.pages, {}, 0
        self.memo = {}

    def clear(self) -> None:
        """Forget every page (after a template change)."""
        self.pages.clear()
        self.previous.clear()
