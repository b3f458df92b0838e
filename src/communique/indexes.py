"""Group the published statements the ways readers browse them: meeting, host and date.

Pure functions over models; every grouping is one pass and a sort, never quadratic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from .models import Entity, Statement

HOME_SIZE = 20
"""Statements on the home page."""
FEED_SIZE = 50
"""Entries in the Atom feed."""
PAGE_SIZE = 50
"""Statements per list page before it continues on …/page/2/."""

HostRole = Literal["host", "co-host"]
T = TypeVar("T")


def newest_first(statements: Iterable[Statement]) -> list[Statement]:
    """Newest first by the start of the date's period, then by id."""
    return sorted(statements, key=lambda s: (-s.date.start.toordinal(), s.id))


@dataclass(frozen=True, slots=True)
class MeetingGroup:
    """One meeting series and its statements."""

    slug: str
    """URL segment."""
    name: str
    """Series name."""
    statements: tuple[Statement, ...]
    """Newest first."""


@dataclass(frozen=True, slots=True)
class HostGroup:
    """One host and the statements of the meetings it hosted or co-hosted."""

    entity: Entity
    """The host."""
    entries: tuple[tuple[Statement, HostRole], ...]
    """Newest first, each with the host's role."""


@dataclass(frozen=True, slots=True)
class MonthGroup:
    """The statements of one month of a year (month 0: known only to the year)."""

    month: int
    """1–12, or 0."""
    statements: tuple[Statement, ...]
    """Newest first."""


@dataclass(frozen=True, slots=True)
class YearGroup:
    """One year of the archive."""

    year: int
    """The year."""
    statements: tuple[Statement, ...]
    """Newest first."""


@dataclass(frozen=True, slots=True)
class SiteIndex:
    """Everything the pages are rendered from."""

    statements: tuple[Statement, ...]
    """Every published statement, originals and translations, newest first."""
    originals: tuple[Statement, ...]
    """Published originals, newest first: what lists and counts show."""
    translations: dict[str, tuple[Statement, ...]]
    """Original id to its published translations, by language."""
    meetings: tuple[MeetingGroup, ...]
    """By name."""
    hosts: tuple[HostGroup, ...]
    """By display name."""
    years: tuple[YearGroup, ...]
    """Newest first."""


def build_index(published: Sequence[Statement]) -> SiteIndex:
    """Group the published statements."""
    ordered = newest_first(published)
    originals = [s for s in ordered if s.translation_of is None]
    translations: dict[str, list[Statement]] = defaultdict(list)
    for statement in ordered:
        if statement.translation_of:
            translations[statement.translation_of].append(statement)
    return SiteIndex(
        statements=tuple(ordered),
        originals=tuple(originals),
        translations={k: tuple(sorted(v, key=lambda s: s.lang)) for k, v in translations.items()},
        meetings=group_by_meeting(originals),
        hosts=group_by_host(originals),
        years=group_by_year(originals),
    )


def group_by_meeting(originals: Sequence[Statement]) -> tuple[MeetingGroup, ...]:
    """Meeting series by name; statements newest first."""
    groups: dict[str, list[Statement]] = defaultdict(list)
    names: dict[str, str] = {}
    for statement in originals:
        if statement.meeting:
            groups[statement.meeting.slug].append(statement)
            names.setdefault(statement.meeting.slug, statement.meeting.name)
    return tuple(sorted((MeetingGroup(slug, names[slug], tuple(items))
                         for slug, items in groups.items()), key=lambda g: g.name.casefold()))


def group_by_host(originals: Sequence[Statement]) -> tuple[HostGroup, ...]:
    """Hosts and co-hosts by name; statements newest first."""
    groups: dict[str, list[tuple[Statement, HostRole]]] = defaultdict(list)
    entities: dict[str, Entity] = {}
    for statement in originals:
        hosts = statement.meeting.hosts if statement.meeting else ()
        for position, host in enumerate(hosts):
            entities[host.id] = host
            groups[host.id].append((statement, "host" if position == 0 else "co-host"))
    return tuple(sorted((HostGroup(entities[key], tuple(items)) for key, items in groups.items()),
                        key=lambda g: g.entity.name.casefold()))


def group_by_year(originals: Sequence[Statement]) -> tuple[YearGroup, ...]:
    """Years newest first."""
    groups: dict[int, list[Statement]] = defaultdict(list)
    for statement in originals:
        groups[statement.date.year].append(statement)
    return tuple(YearGroup(year, tuple(groups[year])) for year in sorted(groups, reverse=True))


def group_by_month(statements: Sequence[Statement]) -> tuple[MonthGroup, ...]:
    """Months newest first; statements known only to the year come last."""
    groups: dict[int, list[Statement]] = defaultdict(list)
    for statement in statements:
        groups[statement.date.month].append(statement)
    order = sorted((m for m in groups if m), reverse=True) + ([0] if 0 in groups else [])
    return tuple(MonthGroup(month, tuple(groups[month])) for month in order)


def neighbours(index: SiteIndex, statement: Statement) -> tuple[Statement, ...]:
    """The other statements of the same meeting series, newest first."""
    if statement.meeting is None:
        return ()
    for group in index.meetings:
        if group.slug == statement.meeting.slug:
            return tuple(s for s in group.statements if s.id != statement.id)
    return ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paginated list."""

    number: int
    """1-based page number."""
    count: int
    """How many pages the list has."""
    items: tuple[T, ...]
    """This page's share of the list."""

    @property
    def path_suffix(self) -> str:
        """`` for the first page, `page/N/` for the others."""
        return "" if self.number == 1 else f"page/{self.number}/"


def paginate(items: Sequence[T], size: int = PAGE_SIZE) -> list[Page[T]]:
    """Split a list into pages of `size`; an empty list is one empty page."""
    count = max(1, math.ceil(len(items) / size))
    return [Page(n + 1, count, tuple(items[n * size : (n + 1) * size])) for n in range(count)]
