"""Reuse work between builds of one process (the dev server): parsed files and rendered pages.

A parsed file is reused while its size, modification time and inode are unchanged and the set of
files and the site's configuration files are the same. A rendered page is reused while the
exact inputs of its template are equal: the key is the template name and a frozen copy of the
context, compared by value, so a page is re-rendered exactly when something it shows changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sized
from dataclasses import dataclass, field, fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .dates import PartialDate
from .discover import SourceFile, find_statement_files
from .indexes import SiteIndex
from .models import Correction, Entity, Listing, Meeting, Person, Statement
from .problems import Problem
from .stamp import RACY_NS, Signature, file_signature, signature
from .validate import ParsedFile, still_holds

CONFIG_FILES = ("site.yaml", "countries.yaml", "organisations.yaml")
_AS_IS = frozenset({str, int, float, bool, type(None), bytes, PartialDate, Entity, Meeting, Person,
                    Correction, Listing})
"""Values that are their own key: immutable and cheap to hash."""


@dataclass(slots=True)
class ParseCache:
    """Parsed statement files of the previous build."""

    key: Hashable = None
    """What every entry depends on: the list of files and the config files' stamps."""
    entries: dict[str, tuple[Signature | None, ParsedFile, list[Problem]]] = field(default_factory=dict)
    """Relative path to (stamp, parsed file, problems)."""
    hits: int = 0
    """Files reused by the last build."""
    statements: dict[bytes, Statement] = field(default_factory=dict)
    """The last build's statements by fingerprint (see `crosscheck.assemble`)."""
    sources: list[SourceFile] | None = None
    """The statement files found by the last build."""
    index: SiteIndex | None = None
    """The last build's index (see `indexes.build_index`)."""
    changed: frozenset[str] | None = None
    """Set by a caller that knows exactly which files changed since the last build (the dev
    server's watcher, when only existing statement files were written): the list of files is
    reused and only these are looked at again. None means look at everything."""

    def find_files(self, content: Path, shown: str) -> tuple[list[SourceFile], list[Problem]]:
        """The statement files: the last build's list when only known files changed."""
        if self.changed is not None and self.sources is not None:
            return self.sources, []
        self.sources, problems = find_statement_files(content, shown)
        return self.sources, problems

    def start(self, content: Path, sources: list[SourceFile]) -> None:
        """Begin a build: forget everything if the set of files or the configuration changed."""
        key = (tuple(s.relative for s in sources), tuple(signature(content / f) for f in CONFIG_FILES))
        if key != self.key:
            self.entries.clear()
            self.key = key
        self.hits = 0

    def get(self, source: SourceFile) -> tuple[ParsedFile, list[Problem]] | None:
        """The cached result for an unchanged file."""
        entry = self.entries.get(source.relative)
        if entry is None:
            return None
        if (self.changed is None or source.absolute in self.changed) and (
                entry[0] is None or entry[0] != signature(source.absolute)):
            return None
        if not still_holds(entry[1], source):
            return None
        self.hits += 1
        return entry[1], entry[2]

    def stamp(self, source: SourceFile) -> Signature | None:
        """The file's stamp, to be taken before it is read (see `put`); None for a file changed so
        recently (within `RACY_NS`) that another write within the same tick of the file system's
        clock could leave its stamp as it is."""
        return file_signature(source.absolute, time.time_ns() - RACY_NS)

    def put(self, source: SourceFile, parsed: ParsedFile, problems: list[Problem],
            stamp: Signature | None) -> None:
        """Remember a file's result, with the `stamp` the file had before it was read (a change
        made while it was read is seen next time). A file stamped None is read again next time."""
        self.entries[source.relative] = (stamp, parsed, problems)


def freeze(value: Any, memo: dict[int, tuple[Any, Hashable]] | None = None) -> Hashable:
    """A hashable key for a template context, compared by value.

    A statement stands for itself by its fingerprint; other dataclasses, lists and dicts become
    tuples. `memo` remembers large collections by identity within one build, where the same
    group of statements appears in many contexts (see `MEMO_FROM`).
    """
    kind = type(value)
    if kind is Statement:
        return value.fingerprint  # type: ignore[no-any-return]
    if kind in _AS_IS:
        return value  # type: ignore[no-any-return]
    if memo is not None and (known := memo.get(id(value))) is not None:
        return known[1]
    frozen: Hashable
    if isinstance(value, Mapping):
        frozen = tuple(sorted((k, freeze(v, memo)) for k, v in value.items()))
    elif isinstance(value, tuple) and _AS_IS.issuperset(map(type, value)):
        frozen = value  # already immutable and cheap to hash: the common list of listings
    elif isinstance(value, list | tuple):
        frozen = tuple(freeze(v, memo) for v in value)
    elif is_dataclass(value):
        names = _field_names(kind)  # type: ignore[arg-type]
        frozen = (kind.__name__, *(freeze(getattr(value, name), memo) for name in names))
    else:
        frozen = value
    if memo is not None and _shared(value):  # the entry holds `value`: its id is not reused
        memo[id(value)] = (value, frozen)
    return frozen


MEMO_FROM = 16
"""A collection this large is remembered by identity (see `freeze`, `cache.KeyDigests`): one
shared between pages, such as a meeting's statements. A smaller one is worked out each time it
comes: most are a page's own, and remembering each for the whole build would cost more memory
than working it out again costs time."""


def _shared(value: Any) -> bool:
    return len(value) >= MEMO_FROM if isinstance(value, Sized) else False


class Keyed:
    """A value used in cache keys, hashed once: compared by value, by identity first."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: Hashable) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keyed) and (self.value is other.value or self.value == other.value)


@lru_cache(maxsize=64)
def _field_names(kind: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


@dataclass(slots=True)
class RenderCache:
    """Rendered pages by (template, context); emptied when a template changes."""

    pages: dict[Hashable, bytes] = field(default_factory=dict)
    """The last build's pages."""
    previous: dict[Hashable, bytes] = field(default_factory=dict)
    """Pages of the build before, consulted and dropped as this build goes."""
    rendered: int = 0
    """Pages rendered (not reused) by the last build."""
    memo: dict[int, tuple[Any, Hashable]] = field(default_factory=dict)
    """Frozen collections of this build, by identity (see `freeze`)."""

    complete: bool = True
    """Whether every page of the last build was rendered (see `finish`)."""
    retired: dict[Hashable, bytes] = field(default_factory=dict)
    """The pages of two builds ago, kept until `finish` so that freeing them (tens of thousands
    of objects) does not delay the build that replaced them."""

    def start(self) -> None:
        """Begin a build: keep only what the last one used (all it had, if it stopped short)."""
        if self.complete:
            self.retired, self.previous = self.previous, self.pages  # freed later, while idle
        else:
            self.previous.update(self.pages)
        self.pages, self.rendered, self.memo, self.complete = {}, 0, {}, False

    def finish(self) -> None:
        """Every page of this build has been rendered; the pages of the build before go."""
        self.complete = True
        self.retired = {}

    def get(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The output for `key`, made only when no earlier build made it."""
        found = self.previous.get(key) or self.pages.get(key)
        if found is None:
            found = make()
            self.rendered += 1
        self.pages[key] = found
        return found

    def clear(self) -> None:
        """Forget every page (after a template change)."""
        self.pages.clear()
        self.previous.clear()
