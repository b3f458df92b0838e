"""Render the site's pages from the index: models in, `{output path: bytes}` out.

Nothing here touches the output folder. Every template is autoescaped; the only HTML taken
from content is the Markdown renderer's own output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .dates import PartialDate
from .indexes import (
    FEED_SIZE,
    HOME_SIZE,
    MeetingGroup,
    SiteIndex,
    group_by_month,
    paginate,
)
from .models import STATEMENT_TYPES, Entity, Site, Statement

ASSETS_DIR = "static"
"""Folder of the theme's assets, copied to the same folder of the output."""


def default_theme_dir() -> Path:
    """The default theme: inside the installed package, or `templates/` of a source checkout."""
    packaged = Path(str(resources.files("communique"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def theme_dirs(site: Site, content: Path) -> list[Path]:
    """The site's overrides (if any) first, then the default theme."""
    dirs = [default_theme_dir()]
    if site.theme_dir:
        dirs.insert(0, content / site.theme_dir)
    return dirs


def make_environment(site: Site, dirs: list[Path]) -> Environment:
    """A Jinja environment with the site's URL helpers and filters."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in dirs]),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    base_path, base_url = site.base_path, site.base_url
    env.globals.update(
        site=site,
        url=lambda path="": base_path + path,
        absolute_url=lambda path="": base_url + path,
        statement_types=STATEMENT_TYPES,
    )
    env.filters["human_date"] = lambda d, lang=site.language: d.human(lang)
    env.filters["month_name"] = _month_name(site.language)
    return env


def _month_name(lang: str) -> Callable[[int, int], str]:
    def name(month: int, year: int) -> str:
        return PartialDate(year, month).human(lang)
    return name


@dataclass(slots=True)
class Output:
    """The rendered site: output path (with `/`) to bytes, plus the pages for the sitemap."""

    files: dict[str, bytes] = field(default_factory=dict)
    """Every file to write."""
    pages: list[str] = field(default_factory=list)
    """URL paths of every HTML page readers should find (for the sitemap)."""

    def add_page(self, url_path: str, html: str) -> None:
        """Add an HTML page at a URL path such as `meetings/` (written as `…/index.html`)."""
        self.files[url_path + "index.html"] = html.encode("utf-8")
        self.pages.append(url_path)


def statement_url(statement_id: str) -> str:
    """The URL path of a statement page, relative to the site's root."""
    return f"statements/{statement_id}/"


def render_site(index: SiteIndex, site: Site, env: Environment) -> Output:
    """Every page, feed and data file of the site."""
    out = Output()
    meetings = {group.slug: group for group in index.meetings}
    render_home(out, env, index)
    for statement in index.statements:
        out.add_page(statement_url(statement.id),
                     render_statement_page(env, index, statement, meetings))
    render_meeting_pages(out, env, index)
    render_host_pages(out, env, index)
    render_archive_pages(out, env, index)
    out.files["404.html"] = env.get_template("404.html").render(breadcrumbs=[]).encode()
    out.files["feed.xml"] = env.get_template("feed.xml").render(
        entries=index.originals[:FEED_SIZE]).encode()
    out.files["statements.json"] = render_statements_json(index, site)
    out.files["sitemap.xml"] = env.get_template("sitemap.xml").render(
        pages=sorted(out.pages)).encode()
    return out


def render_home(out: Output, env: Environment, index: SiteIndex) -> None:
    """`/`: the latest statements and the ways in."""
    out.add_page("", env.get_template("home.html").render(
        statements=index.originals[:HOME_SIZE], total=len(index.originals),
        meeting_count=len(index.meetings), host_count=len(index.hosts),
        years=index.years, breadcrumbs=[], translations=index.translations))


def render_statement_page(env: Environment, index: SiteIndex, statement: Statement,
                          meetings: dict[str, MeetingGroup]) -> str:
    """`/statements/<id>/`."""
    original_id = statement.translation_of or statement.id
    original = next((s for s in index.statements if s.id == original_id), statement) \
        if statement.translation_of else statement
    versions = [original, *index.translations.get(original_id, ())]
    series: tuple[Statement, ...] = ()
    if original.meeting and original.meeting.slug in meetings:
        series = meetings[original.meeting.slug].statements
    position = series.index(original) if original in series else -1
    newer = series[position - 1] if position > 0 else None
    older = series[position + 1] if 0 <= position < len(series) - 1 else None
    crumbs = [("Archive", "archive/"), (str(statement.date.year), f"archive/{statement.date.year}/")]
    return env.get_template("statement.html").render(
        statement=statement, versions=versions if len(versions) > 1 else [],
        series=[s for s in series if s is not original], newer=newer, older=older,
        hosts=_host_roles(statement), breadcrumbs=crumbs)


def _host_roles(statement: Statement) -> list[tuple[Entity, str]]:
    hosts = statement.meeting.hosts if statement.meeting else ()
    return [(host, "host" if n == 0 else "co-host") for n, host in enumerate(hosts)]


def _paginated(out: Output, env: Environment, template: str, base: str, items: Any,
               **context: Any) -> None:
    for page in paginate(items):
        out.add_page(base + page.path_suffix, env.get_template(template).render(
            page=page, base=base, **context))


def render_meeting_pages(out: Output, env: Environment, index: SiteIndex) -> None:
    """`/meetings/` and one page (or more) per meeting series."""
    out.add_page("meetings/", env.get_template("meetings.html").render(
        meetings=index.meetings, breadcrumbs=[]))
    for group in index.meetings:
        _paginated(out, env, "meeting.html", f"meetings/{group.slug}/", group.statements,
                   group=group, breadcrumbs=[("Meetings", "meetings/")],
                   translations=index.translations)


def render_host_pages(out: Output, env: Environment, index: SiteIndex) -> None:
    """`/hosts/` and one page (or more) per host."""
    out.add_page("hosts/", env.get_template("hosts.html").render(
        hosts=index.hosts, breadcrumbs=[]))
    for group in index.hosts:
        _paginated(out, env, "host.html", f"hosts/{group.entity.slug}/", group.entries,
                   group=group, breadcrumbs=[("Hosts", "hosts/")],
                   translations=index.translations)


def render_archive_pages(out: Output, env: Environment, index: SiteIndex) -> None:
    """`/archive/` and one page (or more) per year, grouped by month."""
    out.add_page("archive/", env.get_template("archive.html").render(
        years=index.years, breadcrumbs=[]))
    for group in index.years:
        for page in paginate(group.statements):
            out.add_page(f"archive/{group.year}/{page.path_suffix}",
                         env.get_template("year.html").render(
                             page=page, base=f"archive/{group.year}/", year=group.year,
                             months=group_by_month(page.items), breadcrumbs=[("Archive", "archive/")],
                             translations=index.translations))


def entity_json(entity: Entity) -> dict[str, str]:
    """An entity in the open data: its code (or id), kind and name."""
    return {"id": entity.id, "kind": entity.kind, "name": entity.name}


def statement_record(statement: Statement, site: Site) -> dict[str, Any]:
    """One statement's metadata for `statements.json`."""
    meeting = statement.meeting
    return {
        "id": statement.id,
        "url": site.base_url + statement_url(statement.id),
        "title": statement.title,
        "date": statement.date.iso(),
        "date_precision": statement.date.precision,
        "type": statement.type,
        "lang": statement.lang,
        "translation_of": statement.translation_of,
        "issuers": [entity_json(e) for e in statement.issuers],
        "meeting": None if meeting is None else {
            "name": meeting.name,
            "slug": meeting.slug,
            "location": meeting.location,
            "hosts": [entity_json(e) for e in meeting.hosts],
            "start": meeting.start.iso() if meeting.start else None,
            "end": meeting.end.iso() if meeting.end else None,
        },
        "participants": [entity_json(e) for e in statement.participants],
        "observers": [entity_json(e) for e in statement.observers],
        "people": [{"name": p.name, "role": p.role,
                    "country": entity_json(p.country) if p.country else None}
                   for p in statement.people],
        "topics": list(statement.topics),
        "summary": statement.summary,
        "release_note": statement.release_note,
        "source": statement.source,
        "corrections": [{"date": c.date.iso(), "note": c.note} for c in statement.corrections],
    }


def render_statements_json(index: SiteIndex, site: Site) -> bytes:
    """`/statements.json`: every published statement, newest first."""
    data = {"version": 1, "statements": [statement_record(s, site) for s in index.statements]}
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


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
