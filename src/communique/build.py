"""The pipeline: load → parse each file → cross-check → index → render → write.

`check` is this same pipeline stopped before rendering and writing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, TemplateError

from .config import load_site
from .crosscheck import Assembly, Withheld, assemble
from .discover import find_statement_files
from .entities import COUNTRIES_FILE, ORGANISATIONS_FILE, load_registry
from .incremental import ParseCache, RenderCache
from .indexes import SiteIndex, build_index
from .models import Site
from .output import Output, statement_url
from .problems import ContentError, Problem, UsageError
from .render import render_site
from .search import build_search_index, search_cache_dir, statement_pages_by_year
from .static import attachment_files, collisions, find_static_files
from .theme import make_environment, template_problem, theme_assets, theme_dirs
from .validate import ParsedFile, parse_statement_file
from .write import unsafe_output, write_site


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for."""

    content: Path = Path("content")
    """The content folder."""
    output: Path = Path("_site")
    """Where the site is written."""
    base_url: str | None = None
    """Overrides `site.yaml`'s base_url."""
    drafts: bool = False
    """Publish drafts and embargoed statements (previews only)."""
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    """The instant embargoes are compared with."""
    shown: str | None = None
    """How to name the content folder in messages (defaults to `content` as given)."""
    clean: bool = False
    """Ignore the build cache (the search index's, for now)."""
    search: bool = True
    """Build the full-text search index (`--no-search` skips it)."""

    @property
    def content_shown(self) -> str:
        """The content folder as the user typed it."""
        return self.shown if self.shown is not None else str(self.content)


@dataclass(frozen=True, slots=True)
class CheckedSite:
    """The site read and checked: what rendering needs, and what was found on the way."""

    site: Site
    """Configuration."""
    assembly: Assembly
    """Published and withheld statements."""
    index: SiteIndex
    """The published statements, grouped."""
    problems: tuple[Problem, ...]
    """Warnings (errors stop before this exists)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build did."""

    checked: CheckedSite
    """The checked site."""
    files_written: int
    """How many files the output holds."""


def check_site(options: Options, cache: ParseCache | None = None) -> CheckedSite:
    """Load, parse and cross-check every input; raise `ContentError` listing every error."""
    site, problems = load_site(options.content, options.content_shown, options.base_url)
    registry, found = load_registry(options.content, options.content_shown)
    problems += found
    if cache is not None:
        sources, found = cache.find_files(options.content, options.content_shown)
    else:
        sources, found = find_statement_files(options.content, options.content_shown)
    problems += found
    if site is None:
        raise ContentError(problems)
    files = {source.relative: source.stem for source in sources}
    url_pattern = site.base_path + statement_url("{id}")
    parsed: list[ParsedFile] = []
    if cache is not None:
        cache.start(options.content, sources)
    for source in sources:
        hit = cache.get(source) if cache is not None else None
        result, found = hit or parse_statement_file(source, registry, files, url_pattern)
        if cache is not None and hit is None:
            cache.put(source, result, found)
        parsed.append(result)
        problems += found
    inputs = inputs_digest(options.content, site, files)
    assembly, found = assemble(parsed, site, options.now, options.drafts, inputs,
                               cache.statements if cache is not None else None)
    problems += found
    if any(p.is_error for p in problems):
        raise ContentError(problems)
    index = build_index(assembly.published, cache.index if cache is not None else None)
    if cache is not None:
        cache.index = index
    return CheckedSite(site, assembly, index, tuple(problems))


def inputs_digest(content: Path, site: Site, files: dict[str, str]) -> bytes:
    """Digest of what every statement depends on besides its own file."""
    digest = hashlib.blake2b(repr(site).encode(), digest_size=16)
    for name in (COUNTRIES_FILE, ORGANISATIONS_FILE):
        path = content / name
        digest.update(path.read_bytes() if path.is_file() else b"-")
    digest.update("\n".join(files).encode())
    return digest.digest()


def build_site(options: Options, project: Path | None = None) -> BuildResult:
    """Check everything, render every page, then write the site in one swap."""
    refusal = unsafe_output(options.output, options.content, project or Path.cwd())
    if refusal:
        raise UsageError([refusal])
    checked = check_site(options)
    output, assets = render_checked(checked, options.content, shown=options.content_shown)
    files = render_all(output)
    if options.search:
        pages = statement_pages_by_year(checked.index.statements, files)
        cache_dir = None if options.clean else search_cache_dir(options.output)
        files.update(build_search_index(pages, cache_dir, checked.site.language))
    with output_lock(options.output):
        write_site(options.output, files, assets)
    return BuildResult(checked, len(files) + len(assets))


def render_checked(checked: CheckedSite, content: Path, env: Environment | None = None,
                   cache: RenderCache | None = None,
                   shown: str = "content") -> tuple[Output, list[tuple[str, Path]]]:
    """Lay out every page (rendered when asked, see `render_all`) and list the files to copy:
    the theme's assets, the site's static files and the statements' attachments."""
    dirs = theme_dirs(checked.site, content)
    env = env or make_environment(checked.site, dirs)
    envs: dict[str, Environment] = {}

    def env_for(lang: str) -> Environment:
        if lang not in envs:
            envs[lang] = make_environment(checked.site, dirs, lang)
        return envs[lang]

    output = render_site(checked.index, checked.site, env, cache, env_for)
    static, problems = find_static_files(content, shown)
    theme = [(name, path, f"theme asset {name}") for name, path in theme_assets(dirs)]
    copies = theme + attachment_files(checked.index.statements) + static
    problems += collisions(output.thunks, copies)
    if problems:
        raise ContentError(problems)
    return output, [(name, path) for name, path, _ in copies]


def render_all(output: Output) -> dict[str, bytes]:
    """Render every file; a template error becomes a `Problem`."""
    try:
        return output.render_all()
    except TemplateError as error:
        raise ContentError([template_problem(error)]) from error


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Lock the output's parent folder so two builds never swap at once (no lock file left)."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output.parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ContentError([Problem(str(output), None, None,
                                        "another build is writing this output folder",
                                        "output", "wait for it to finish")]) from None
        yield
    finally:
        os.close(fd)


def withheld_summary(withheld: tuple[Withheld, ...]) -> list[str]:
    """One line per withheld statement, for `check` and `build --verbose`."""
    lines = []
    for item in withheld:
        when = f" until {item.until.isoformat()}" if item.until else ""
        lines.append(f"{item.path}: withheld ({item.reason}{when})")
    return lines
