"""Render the site's pages from the index: models in, `{output path: bytes}` out.

Nothing here touches the output folder. Every template is autoescaped; the only HTML taken
from content is the Markdown renderer's own output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from functools import partial
from itertools import islice
from typing import Any

from jinja2 import (
    Environment,
)
from markupsafe import Markup

from .cite import bibtex, csl_json
from .i18n import ui_language
from .incremental import Keyed, RenderCache
from .indexes import (
    FEED_SIZE,
    HOME_SIZE,
    PAGE_SIZE,
    EntityGroup,
    HostGroup,
    HostRole,
    Page,
    SiteIndex,
    group_by_month,
    paginate,
    per_year,
)
from .models import Entity, Listing, Site, Statement
from .opendata import add_open_data
from .output import File, Output, Renderer, Thunk, statement_url


def render_site(index: SiteIndex, site: Site, env: Environment, cache: RenderCache | None = None,
                env_for: Callable[[str], Environment] | None = None,
                statement_page: StatementPages | None = None) -> Output:
    """Every page, feed and data file of the site (as thunks; see `Output`).

    `env_for(lang)` gives the environment of another interface language: a statement written
    in a language with a catalog gets its page's words in that language. The statement pages
    are laid out by `statement_page` when the caller made it already (to render some ahead).
    """
    out = Output()
    r = Renderer(env, cache)
    if cache is not None:
        cache.start()
    statement_page = statement_page or StatementPages(index, r, env_for)
    render_home(out, r, index)
    for statement in index.statements:
        out.add_page(statement_url(statement.id), statement_page(statement))
        add_citation_files(out, r, statement, site)
    render_meeting_pages(out, r, index)
    render_host_pages(out, r, index)
    render_archive_pages(out, r, index)
    render_entity_pages(out, r, index)
    render_topic_pages(out, r, index)
    out.add_file("404.html", r.page("404.html", breadcrumbs=()))
    out.add_page("search/", r.page("search.html", years=tuple(g.year for g in index.years), breadcrumbs=(),
                                   meetings=tuple((g.slug, g.name) for g in index.meetings),
                                   hosts=tuple(g.entity for g in index.hosts),
                                   countries=tuple(g.entity for g in index.entities)))
    add_feed(out, r, "feed.xml", "", site.title, index.originals)
    for group in index.meetings:
        add_feed(out, r, f"meetings/{group.slug}/feed.xml", f"meetings/{group.slug}/",
                 f"{group.name} – {site.title}", group.statements)
    for host in index.hosts:
        add_feed(out, r, f"hosts/{host.entity.slug}/feed.xml", f"hosts/{host.entity.slug}/",
                 f"{host.entity.name} – {site.title}", [s for s, _ in host.entries])
    for statement in index.statements:
        for alias in statement.aliases:
            out.add_file(f"{statement_url(alias)}index.html", r.page(
                "redirect.html", target=statement_url(statement.id), title=statement.title))
    add_open_data(out, r, index, site)
    out.add_file("sitemap.xml", File.of(lambda: r.page("sitemap.xml", pages=tuple(sorted(out.pages)))(),
                                        lambda: ("sitemap", tuple(out.pages))))
    return out


class StatementPages:
    """The page of any statement of the `index` (see `render_statement_page`), with `r` or, for a
    statement in another interface language, a renderer of `env_for(lang)`'s environment: what
    `render_site` lays out, and what a build renders of a few pages ahead of laying out the rest."""

    def __init__(self, index: SiteIndex, r: Renderer,
                 env_for: Callable[[str], Environment] | None = None) -> None:
        self._index, self._r, self._env_for = index, r, env_for
        self._site_lang = str(r.env.globals["ui_lang"])
        self._renderers: dict[str, Renderer] = {self._site_lang: r}
        self._by_id = {s.id: s for s in index.statements}
        self._series = {group.slug: Keyed(listed(group.statements)) for group in index.meetings}
        self._positions = {s.id: n for group in index.meetings for n, s in enumerate(group.statements)}

    def __call__(self, statement: Statement) -> Thunk:
        return render_statement_page(self._renderer_for(statement), self._index, statement, self._by_id,
                                     self._series, self._positions)

    def _renderer_for(self, statement: Statement) -> Renderer:
        lang = ui_language(statement.lang) or self._site_lang
        if self._env_for is None or lang == self._site_lang:
            return self._r
        if lang not in self._renderers:
            self._renderers[lang] = Renderer(self._env_for(lang), self._r.cache)
        return self._renderers[lang]


def translations_of(index: SiteIndex,
                    statements: Iterable[Statement]) -> dict[str, tuple[Listing, ...]]:
    """The translations of the listed statements (what a list page shows, and nothing more)."""
    return {s.id: tuple(t.listed for t in index.translations[s.id])
            for s in statements if s.id in index.translations}


def listed(statements: Iterable[Statement]) -> tuple[Listing, ...]:
    """What lists show of these statements."""
    return tuple(s.listed for s in statements)


def render_home(out: Output, r: Renderer, index: SiteIndex) -> None:
    """`/`: the latest statements and the ways in."""
    latest = tuple(islice((s for s in index.originals if s.withdrawn is None), HOME_SIZE))
    out.add_page("", r.later("home.html", lambda: dict(
        statements=listed(latest), total=len(index.originals),
        meeting_count=len(index.meetings), host_count=len(index.hosts),
        years=tuple(y.year for y in index.years), breadcrumbs=(),
        translations=translations_of(index, latest))))


def render_statement_page(r: Renderer, index: SiteIndex, statement: Statement,
                          by_id: dict[str, Statement], series_of: dict[str, Keyed],
                          positions: dict[str, int]) -> Thunk:
    """`/statements/<id>/`.

    Everything the page shows follows from the statement, its original, the translations and
    the listings of its meeting series: those are the page's cache key. `positions` gives each
    statement's place in its meeting's series.
    """
    original = by_id.get(statement.translation_of or "", statement)
    versions = (original, *index.translations.get(original.id, ()))
    slug = original.meeting.slug if original.meeting else ""
    keyed_series = series_of.get(slug)
    series: tuple[Listing, ...] = keyed_series.value if keyed_series else ()  # type: ignore[assignment]
    key = (statement.fingerprint, original.fingerprint, tuple(v.fingerprint for v in versions),
           keyed_series)

    return r.keyed_page("statement.html", key, partial(_statement_context, statement, original, versions,
                                                       series, positions.get(original.id, -1)))


def _statement_context(statement: Statement, original: Statement, versions: tuple[Statement, ...],
                       series: tuple[Listing, ...], position: int) -> dict[str, Any]:
    """What a statement page shows; `position` is its original's in the meeting's `series`."""
    year = str(statement.date.year)
    return {
        "statement": statement, "versions": versions if len(versions) > 1 else (),
        "series": series, "original": original.listed,
        "newer": series[position - 1] if position > 0 else None,
        "older": series[position + 1] if 0 <= position < len(series) - 1 else None,
        "hosts": _host_roles(statement), "countries": _countries(statement),
        "breadcrumbs": (("Archive", "archive/"), (year, f"archive/{year}/")),
    }


def _countries(statement: Statement) -> list[Entity]:
    """Every country or organisation the statement names, once each, by name (its page's
    search filters)."""
    named = (*statement.issuers, *(statement.meeting.hosts if statement.meeting else ()),
             *statement.participants, *statement.observers)
    once: dict[str, Entity] = {}
    for entity in named:
        once.setdefault(entity.id, entity)
    return sorted(once.values(), key=lambda entity: entity.name.lower())


def add_feed(out: Output, r: Renderer, path: str, page_path: str, title: str,
             statements: Iterable[Statement]) -> None:
    """An Atom feed of the newest statements (withdrawn ones left out); each entry is rendered
    once per build, however many feeds carry it."""
    def entry(statement: Statement) -> Markup:
        return Markup(r.part(("entry", statement.fingerprint), lambda: r.env.get_template(
            "feed_entry.xml").render(s=statement).encode()).decode())

    def latest() -> tuple[Statement, ...]:  # worked out only when the feed is rendered
        return tuple(islice((s for s in statements if s.withdrawn is None), FEED_SIZE))

    def key(items: tuple[Statement, ...]) -> Hashable:
        return (path, page_path, title, tuple(s.fingerprint for s in items))

    def feed() -> bytes:
        items = latest()
        updated = max(((s.updated or s.date).instant() for s in items), default="1970-01-01T00:00:00Z")
        return r.page("feed.xml", key=key(items), feed_title=title, self_path=path,
                      page_path=page_path, updated=updated, entries=[entry(s) for s in items])()

    out.add_file(path, File.of(feed, lambda: ("feed.xml", key(latest()))))


def add_citation_files(out: Output, r: Renderer, statement: Statement, site: Site) -> None:
    """`cite.json` (CSL-JSON) and `cite.bib` (BibTeX) beside the statement's page."""
    base = statement_url(statement.id)
    fingerprint = statement.fingerprint
    out.add_file(base + "cite.json", r.file(("csl", fingerprint), partial(_csl_file, statement, site)))
    out.add_file(base + "cite.bib", r.file(("bib", fingerprint), partial(_bib_file, statement, site)))


def _csl_file(statement: Statement, site: Site) -> bytes:
    return (json.dumps(csl_json(statement, site), ensure_ascii=False, indent=2) + "\n").encode()


def _bib_file(statement: Statement, site: Site) -> bytes:
    return bibtex(statement, site).encode()


def render_entity_pages(out: Output, r: Renderer, index: SiteIndex) -> None:
    """`/countries/`, one page per country or organisation (its statements by role, the newest
    of each role), and `…/<role>/` with every statement of a role when there are more."""
    out.add_page("countries/", r.later("countries.html", lambda: dict(breadcrumbs=(), entities=tuple(
        (g.entity, len(g.statements)) for g in index.entities))))
    hosts = {g.entity.id for g in index.hosts}

    def entity_context(group: EntityGroup) -> dict[str, Any]:
        return dict(
            entity=group.entity, total=len(group.statements),
            roles=tuple((role, len(items), listed(items[:PAGE_SIZE])) for role, items in group.roles),
            per_year=per_year(group.statements), hosted=group.entity.id in hosts,
            breadcrumbs=(("Countries and organisations", "countries/"),),
            translations=translations_of(index, {s.id: s for _, items in group.roles
                                                 for s in items[:PAGE_SIZE]}.values()))

    for group in index.entities:
        base = f"countries/{group.entity.slug}/"
        out.add_page(base, r.later("country.html", partial(entity_context, group)))
        for role, items in group.roles:
            if len(items) <= PAGE_SIZE:
                continue
            role_base = f"{base}{role}/"
            for page in paginate(items):
                out.add_page(role_base + page.path_suffix, r.later(
                    "country_role.html", partial(_role_context, index, group, role, page)))


def render_topic_pages(out: Output, r: Renderer, index: SiteIndex) -> None:
    """`/topics/` and one page (or more) per topic."""
    out.add_page("topics/", r.later("topics.html", lambda: dict(breadcrumbs=(), topics=tuple(
        (g.slug, g.name, len(g.statements)) for g in index.topics))))
    for group in index.topics:
        add_list_pages(out, r, index, "topic.html", f"topics/{group.slug}/", group.name,
                       group.statements, (("Topics", "topics/"),))


def add_list_pages(out: Output, r: Renderer, index: SiteIndex, template: str, base: str, name: str,
                   statements: tuple[Statement, ...], breadcrumbs: tuple[tuple[str, str], ...]) -> None:
    """A named list of statements at `base`, continued on `page/N/` past PAGE_SIZE."""
    for page in paginate(statements):
        out.add_page(base + page.path_suffix, r.later(template, partial(
            _list_context, index, page, base, name=name, total=len(statements),
            breadcrumbs=breadcrumbs)))


def _list_context(index: SiteIndex, page: Page[Statement], base: str, **extra: Any) -> dict[str, Any]:
    """The context of one page of a list of statements."""
    return {"page": listed_page(page), "base": base,
            "translations": translations_of(index, page.items), **extra}


def _role_context(index: SiteIndex, group: EntityGroup, role: str,
                  page: Page[Statement]) -> dict[str, Any]:
    base = f"countries/{group.entity.slug}/"
    total = next(len(items) for name, items in group.roles if name == role)
    crumbs = (("Countries and organisations", "countries/"), (group.entity.name, base))
    return _list_context(index, page, f"{base}{role}/", entity=group.entity, role=role, total=total,
                         breadcrumbs=crumbs)


def _host_context(index: SiteIndex, group: HostGroup, page: Page[tuple[Statement, HostRole]],
                  base: str) -> dict[str, Any]:
    return {"page": Page(page.number, page.count, tuple((s.listed, role) for s, role in page.items)),
            "base": base, "entity": group.entity, "total": len(group.entries),
            "hosted": sum(1 for _, role in group.entries if role == "host"),
            "breadcrumbs": (("Hosts", "hosts/"),),
            "translations": translations_of(index, (s for s, _ in page.items))}


def listed_page(page: Page[Statement]) -> Page[Listing]:
    """A page of a list, as listings."""
    return Page(page.number, page.count, listed(page.items))


def _host_roles(statement: Statement) -> tuple[tuple[Entity, str], ...]:
    hosts = statement.meeting.hosts if statement.meeting else ()
    return tuple((host, "host" if n == 0 else "co-host") for n, host in enumerate(hosts))


def render_meeting_pages(out: Output, r: Renderer, index: SiteIndex) -> None:
    """`/meetings/` and one page (or more) per meeting series."""
    out.add_page("meetings/", r.later("meetings.html", lambda: dict(meetings=tuple(
        (g.slug, g.name, len(g.statements)) for g in index.meetings), breadcrumbs=())))
    for group in index.meetings:
        add_list_pages(out, r, index, "meeting.html", f"meetings/{group.slug}/", group.name,
                       group.statements, (("Meetings", "meetings/"),))


def render_host_pages(out: Output, r: Renderer, index: SiteIndex) -> None:
    """`/hosts/` and one page (or more) per host."""
    out.add_page("hosts/", r.later("hosts.html", lambda: dict(hosts=tuple(
        (g.entity, len(g.entries)) for g in index.hosts), breadcrumbs=())))
    for group in index.hosts:
        base = f"hosts/{group.entity.slug}/"
        for page in paginate(group.entries):
            out.add_page(base + page.path_suffix, r.later("host.html", partial(
                _host_context, index, group, page, base)))


def render_archive_pages(out: Output, r: Renderer, index: SiteIndex) -> None:
    """`/archive/` and one page (or more) per year, grouped by month."""
    out.add_page("archive/", r.later("archive.html", lambda: dict(years=tuple(
        (g.year, len(g.statements)) for g in index.years), breadcrumbs=(),
        per_year=per_year(index.originals))))
    for group in index.years:
        base = f"archive/{group.year}/"
        for page in paginate(group.statements):
            out.add_page(base + page.path_suffix, r.later("year.html", partial(
                _list_context, index, page, base, year=group.year,
                months=tuple((g.month, listed(g.statements)) for g in group_by_month(page.items)),
                breadcrumbs=(("Archive", "archive/"),))))
