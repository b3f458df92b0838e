"""Group the published statements the ways readers browse them: meeting, host and date.

Pure functions over models; every grouping is one pass and a sort, never quadratic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Generic, Literal, TypeVar

from .models import Entity, Statement
from .slugs import slugify

HOME_SIZE = 20
"""Statements on the home page."""
FEED_SIZE = 50
"""Entries in the Atom feed."""
PAGE_SIZE = 50
"""Statements per list page before it continues on …/page/2/."""

HostRole = Literal["host", "co-host"]
EntityRole = Literal["issued", "hosted", "co-hosted", "participated", "observed"]
ENTITY_ROLES: tuple[EntityRole, ...] = ("issued", "hosted", "co-hosted", "participated", "observed")
"""The parts a country or organisation can take in a statement, in the order pages show them."""
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
class EntityGroup:
    """One country or organisation and every statement it took part in, by role."""

    entity: Entity
    """The country or organisation."""
    roles: tuple[tuple[EntityRole, tuple[Statement, ...]], ...]
    """Each role it had (in ENTITY_ROLES order) with its statements, newest first."""
    statements: tuple[Statement, ...]
    """Every statement it took part in (each once), newest first."""


@dataclass(frozen=True, slots=True)
class TopicGroup:
    """One topic and its statements."""

    slug: str
    """URL segment."""
    name: str
    """The topic as first written."""
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
    entities: tuple[EntityGroup, ...] = ()
    """Every country and organisation named in a published statement, by name."""
    topics: tuple[TopicGroup, ...] = ()
    """Every topic, by name."""


MAX_SUBSTITUTIONS = 16
"""A rebuild that replaced at most this many statements updates the entity and topic groups of
the previous index in place of grouping everything again."""


def build_index(published: Sequence[Statement], previous: SiteIndex | None = None) -> SiteIndex:
    """Group the published statements; `previous` (the last build's index) lets an edit that
    changed no statement's order, entities or topics reuse the groups it leaves untouched."""
    ordered = newest_first(published)
    originals = [s for s in ordered if s.translation_of is None]
    swaps = substitutions(previous.originals, originals) if previous is not None else None
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
        entities=(regroup_entities(previous.entities, swaps) if previous is not None and swaps is not None
                  else group_by_entity(originals)),
        topics=(regroup_topics(previous.topics, swaps) if previous is not None and swaps is not None
                else group_by_topic(originals)),
    )


def substitutions(before: Sequence[Statement], after: Sequence[Statement]) -> dict[int, Statement] | None:
    """`{id(old statement): new statement}` when `after` is `before` with a few statements
    replaced by ones in the same place, with the same entities in the same roles and the same
    topics; None when the groups must be made again."""
    if len(before) != len(after):
        return None
    swaps: dict[int, Statement] = {}
    for old, new in zip(before, after, strict=True):
        if old is new:
            continue
        if (old.id != new.id or len(swaps) >= MAX_SUBSTITUTIONS or old.topics != new.topics
                or entity_roles(old) != entity_roles(new)):
            return None
        swaps[id(old)] = new
    return swaps


def _swap(statements: tuple[Statement, ...], swaps: dict[int, Statement]) -> tuple[Statement, ...]:
    return tuple(swaps.get(id(s), s) for s in statements)


def regroup_entities(groups: tuple[EntityGroup, ...], swaps: dict[int, Statement]) -> tuple[EntityGroup, ...]:
    """The previous entity groups with the replaced statements put in; untouched groups kept."""
    if not swaps:
        return groups
    touched = {entity.id for new in swaps.values() for entity, _ in entity_roles(new)}
    return tuple(EntityGroup(g.entity, tuple((role, _swap(items, swaps)) for role, items in g.roles),
                             _swap(g.statements, swaps)) if g.entity.id in touched else g
                 for g in groups)


def regroup_topics(groups: tuple[TopicGroup, ...], swaps: dict[int, Statement]) -> tuple[TopicGroup, ...]:
    """The previous topic groups with the replaced statements put in."""
    if not swaps:
        return groups
    touched = {slugify(topic) or "topic" for new in swaps.values() for topic in new.topics}
    return tuple(TopicGroup(g.slug, g.name, _swap(g.statements, swaps)) if g.slug in touched else g
                 for g in groups)


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


def entity_roles(statement: Statement) -> list[tuple[Entity, EntityRole]]:
    """Every (entity, role) a statement names."""
    hosts = statement.meeting.hosts if statement.meeting else ()
    found: list[tuple[Entity, EntityRole]] = [(e, "issued") for e in statement.issuers]
    found += [(e, "hosted" if n == 0 else "co-hosted") for n, e in enumerate(hosts)]
    found += [(e, "participated") for e in statement.participants]
    found += [(e, "observed") for e in statement.observers]
    return found


def group_by_entity(originals: Sequence[Statement]) -> tuple[EntityGroup, ...]:
    """Every entity with its statements by role; one pass over the statements (this runs on
    every rebuild of the dev server, so the loop is kept plain)."""
    by_role: dict[tuple[str, EntityRole], list[Statement]] = {}
    every: dict[str, list[Statement]] = {}
    entities: dict[str, Entity] = {}
    for statement in originals:
        seen: set[str] = set()
        for entity, role in entity_roles(statement):
            key = entity.id
            listed = by_role.get((key, role))
            if listed is None:
                by_role[(key, role)] = [statement]
            elif listed[-1] is not statement:
                listed.append(statement)
            if key not in seen:
                seen.add(key)
                if key in every:
                    every[key].append(statement)
                else:
                    every[key] = [statement]
                    entities[key] = entity
    groups = (EntityGroup(entities[key], tuple((role, tuple(by_role[(key, role)])) for role in ENTITY_ROLES
                                               if (key, role) in by_role), tuple(every[key]))
              for key in entities)
    return tuple(sorted(groups, key=lambda g: g.entity.name.casefold()))


def group_by_topic(originals: Sequence[Statement]) -> tuple[TopicGroup, ...]:
    """Topics by name; statements newest first."""
    groups: dict[str, list[Statement]] = defaultdict(list)
    names: dict[str, str] = {}
    for statement in originals:
        for topic in statement.topics:
            slug = slugify(topic) or "topic"
            names.setdefault(slug, topic)
            if not groups[slug] or groups[slug][-1] is not statement:
                groups[slug].append(statement)
    return tuple(sorted((TopicGroup(slug, names[slug], tuple(items)) for slug, items in groups.items()),
                        key=lambda g: g.name.casefold()))


def per_year(statements: Iterable[Statement]) -> tuple[tuple[int, int], ...]:
    """(year, count) for every year from the first to the last, zeros included, oldest first."""
    counts: dict[int, int] = defaultdict(int)
    for statement in statements:
        counts[statement.date.year] += 1
    if not counts:
        return ()
    return tuple((year, counts.get(year, 0)) for year in range(min(counts), max(counts) + 1))


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

    @property
    def shown(self) -> tuple[int | None, ...]:
        """The pages its pagination links to: every page of a list of seven or fewer; else the
        first and the last, this one and its neighbours, and a page alone between those, with
        None where more are left out. At most seven, however long the list, so that a list's
        pages cost linear time, and a reader tabs through a few links rather than hundreds."""
        if self.count <= 7:
            return tuple(range(1, self.count + 1))
        near = sorted({1, self.count, *range(max(1, self.number - 1), min(self.count, self.number + 1) + 1)})
        shown: list[int | None] = []
        for before, number in pairwise([0, *near]):
            if number - before == 2:
                shown.append(number - 1)
            elif number - before > 2:
                shown.append(None)
            shown.append(number)
        return tuple(shown)


def paginate(items: Sequence[T], size: int = PAGE_SIZE) -> list[Page[T]]:
    """Split a list into pages of `size`; an empty list is one empty page."""
    count = max(1, math.ceil(len(items) / size))
    return [Page(n + 1, count, tuple(items[n * size : (n + 1) * size])) for n in range(count)]
