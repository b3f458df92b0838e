"""Whole-site checks: every page of every build, in a real browser, validator and link checker.

The repository's own content and the full fixture site are built once per
session (the fixture site at the domain root and at a sub-path) and served
locally. Each test runs one check over the pages of one build and reports
every failure with the page's public URL, so one run shows all that is wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pytest
from checkers import (
    axe_violations,
    broken_page_resources,
    focus_indicator_problems,
    forced_colors_focus_problems,
    horizontal_overflow,
    print_problems,
    responds_to_dark_scheme,
    run_linkinator,
    run_vnu,
    serve_directory,
    skip_link_problems,
    text_spacing_clipping,
)
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-01-01T00:00:00Z"
BUILD_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class SiteBuild:
    """One site to build: its content folder and the public URL it is built for."""

    name: str
    content: Path
    base_url: str
    sample_in_browser: bool = False
    """Run the browser checks on one page per page family only (the largest of each)."""

    @property
    def base_path(self) -> str:
        """The URL path the site lives under, '/' or a sub-path like '/statements/'."""
        return urlsplit(self.base_url).path or "/"


# The sub-path build renders the same pages as the root one with other URLs:
# the link checker, validator and 404 check cover every URL, and the browser
# checks one page of each kind.
BUILDS = [
    SiteBuild("content", ROOT / "content", "https://example.org/"),
    SiteBuild("full", ROOT / "tests" / "sites" / "full", "https://example.org/"),
    SiteBuild("full-sub-path", ROOT / "tests" / "sites" / "full", "https://example.org/statements/", True),
    SiteBuild("arabic", ROOT / "tests" / "sites" / "arabic", "https://example.org/"),
]


@dataclass(frozen=True)
class BuiltSite:
    """A built site served on 127.0.0.1, with the URLs of its pages."""

    build: SiteBuild
    output: Path
    local_url: str
    pages: tuple[str, ...]
    """Page URLs relative to the base URL: '' for the home page, 'hosts/italy/', '404.html'."""

    def public_url(self, page: str) -> str:
        """Where a page lives once published, for failure reports."""
        return self.build.base_url + page

    def file_of(self, page: str) -> Path:
        """The built file that answers a page URL."""
        return self.output / (page + "index.html" if page == "" or page.endswith("/") else page)

    @property
    def browser_pages(self) -> tuple[str, ...]:
        """The pages the browser checks load: all, or the largest of each family.

        Redirects of renamed statements are left to the validator and the link checker: a
        browser leaves them at once for the page they point to, which is checked itself.
        """
        pages = tuple(p for p in self.pages if b'http-equiv="refresh"' not in self.file_of(p).read_bytes())
        if not self.build.sample_in_browser:
            return pages
        largest: dict[str, str] = {}
        for page in pages:
            family = page_family(page)
            if (
                family not in largest
                or self.file_of(page).stat().st_size > self.file_of(largest[family]).stat().st_size
            ):
                largest[family] = page
        return tuple(sorted(largest.values()))


def page_family(page: str) -> str:
    """The kind of page a URL names, by its shape: 'statements/*/', 'meetings/*/page/*/'."""
    parts = page.split("/")
    return "/".join(
        part if index == 0 or part in ("", "page") or part.endswith(".html") else "*"
        for index, part in enumerate(parts)
    )


def build_site(build: SiteBuild, output: Path) -> None:
    """Run `communique build`; fail the session's tests with its output if it fails."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(ROOT / "src")]))
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "communique", "build", "--content", str(build.content)),
            *("--output", str(output), "--base-url", build.base_url, "--now", NOW),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        check=False,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"building {build.name} failed with status {completed.returncode}:\n"
            f"{completed.stdout}\n{completed.stderr}"
        )


def page_urls(output: Path) -> tuple[str, ...]:
    """Relative URLs of the HTML pages in a built site, as a reader would request them."""
    urls = []
    for path in sorted(output.rglob("*.html")):
        relative = path.relative_to(output).as_posix()
        urls.append(relative.removesuffix("index.html") if path.name == "index.html" else relative)
    return tuple(urls)


@pytest.fixture(scope="session")
def built_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BuiltSite]]:
    """Every build in BUILDS, built once and served for the whole session."""
    with ExitStack() as servers:
        sites = {}
        for build in BUILDS:
            output = tmp_path_factory.mktemp(build.name) / "site"
            build_site(build, output)
            local_url = servers.enter_context(serve_directory(output, build.base_path))
            sites[build.name] = BuiltSite(build, output, local_url, page_urls(output))
        yield sites


@pytest.fixture(params=[build.name for build in BUILDS])
def site(request: pytest.FixtureRequest, built_sites: dict[str, BuiltSite]) -> BuiltSite:
    """One built site; tests that take it run once per build."""
    return built_sites[request.param]


PageCheck = Callable[[Page], list[str]]


def problems_on_every_page(page: Page, site: BuiltSite, check: PageCheck) -> list[str]:
    """Load each page of the site in turn and run `check`; label each problem with the page URL."""
    problems = []
    for relative in site.browser_pages:
        response = page.goto(site.local_url + relative)
        assert response is not None and response.ok, f"{site.public_url(relative)} did not load"
        problems += [f"{site.public_url(relative)}: {problem}" for problem in check(page)]
    return problems


def report(check: str, site: BuiltSite, problems: list[str]) -> str:
    """A failure message listing every problem found."""
    return f"{check} found {len(problems)} problem(s) in the {site.build.name} build:\n" + "\n".join(problems)


def axe_in_each_colour_scheme(page: Page) -> list[str]:
    """axe-core's violations in the light scheme, and in the dark one if the page has one."""
    problems = []
    schemes: list[Literal["light", "dark"]] = ["light"]
    if responds_to_dark_scheme(page):
        schemes.append("dark")
    for scheme in schemes:
        page.emulate_media(color_scheme=scheme)
        for violation in axe_violations(page):
            for node in violation["nodes"]:
                detail = node["summary"].replace("\n", " ")
                problems.append(
                    f"[{scheme}] {violation['id']} ({violation['impact']}): {violation['help']}"
                    f" at {node['target']} - {detail}"
                )
    page.emulate_media(color_scheme="light")
    return problems


def reflow_and_text_spacing(page: Page) -> list[str]:
    """WCAG text spacing on a desktop screen, then reflow at 320 CSS px without and with it."""
    problems = [f"at 1280px {problem}" for problem in text_spacing_clipping(page)]
    problems += horizontal_overflow(page, width=320)
    return problems + [f"at 320px {problem}" for problem in text_spacing_clipping(page)]


def test_every_page_passes_axe(page: Page, site: BuiltSite) -> None:
    problems = problems_on_every_page(page, site, axe_in_each_colour_scheme)
    assert not problems, report("axe-core", site, problems)


def test_every_page_starts_with_a_working_skip_link(page: Page, site: BuiltSite) -> None:
    problems = problems_on_every_page(page, site, skip_link_problems)
    assert not problems, report("the skip link check", site, problems)


def test_every_tab_stop_is_reachable_and_shows_focus(page: Page, site: BuiltSite) -> None:
    problems = problems_on_every_page(page, site, focus_indicator_problems)
    assert not problems, report("the focus check", site, problems)


def test_focus_stays_visible_in_forced_colours(page: Page, site: BuiltSite) -> None:
    problems = problems_on_every_page(page, site, forced_colors_focus_problems)
    assert not problems, report("the forced-colours focus check", site, problems)


def test_every_page_reflows_at_320_px_and_takes_text_spacing(page: Page, site: BuiltSite) -> None:
    problems = problems_on_every_page(page, site, reflow_and_text_spacing)
    assert not problems, report("the reflow and text spacing check", site, problems)


def test_print_hides_navigation_and_keeps_the_text(page: Page, site: BuiltSite) -> None:
    problems = problems_on_every_page(page, site, print_problems)
    assert not problems, report("the print check", site, problems)


def test_not_found_page_works_at_any_depth(page: Page, site: BuiltSite) -> None:
    response = page.goto(site.local_url + "no/such/statement/")
    assert response is not None
    assert response.status == 404
    problems = broken_page_resources(page)
    assert not problems, report("the 404 page at a missing deep path", site, problems)


def test_no_broken_links(site: BuiltSite) -> None:
    broken = run_linkinator(site.output, site.build.base_path, site.build.base_url)
    problems = [
        f"{link['url']} ({link['status']}{', ' + link['details'] if link['details'] else ''})"
        f" linked from {link['parent'] or 'the start page'}"
        for link in broken
    ]
    assert not problems, report("linkinator", site, problems)


def test_every_page_is_valid_html(built_sites: dict[str, BuiltSite]) -> None:
    labels = {
        str(path): f"{site.build.name}/{path.relative_to(site.output).as_posix()}"
        for site in built_sites.values()
        for path in sorted(site.output.rglob("*.html"))
    }
    problems = [
        f"{labels.get(message['file'], message['file'])}:{message['line']}:{message['column']}:"
        f" {message['severity']}: {message['message']} [{' '.join(message['extract'].split())}]"
        for message in run_vnu([Path(path) for path in labels])
    ]
    assert not problems, "the Nu Html Checker found problems:\n" + "\n".join(problems)
