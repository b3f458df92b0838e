"""Each checker passes a known-good page and reports a known fault.

A checker that cannot fail proves nothing, so every fault below is planted
in an otherwise good page and must be named in the checker's report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from checkers import (
    axe_violations,
    first_tab_target,
    focus_indicator_problems,
    forced_colors_focus_problems,
    horizontal_overflow,
    print_problems,
    run_linkinator,
    run_vnu,
    serve_directory,
    skip_link_problems,
    text_spacing_clipping,
)
from playwright.sync_api import Page

GOOD_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Joint statement on maritime security</title>
<style>
body { margin: 0 auto; max-width: 40em; padding: 0 1em; font: 1rem/1.5 sans-serif; }
body { color: #1a1a1a; background: #fff; }
a { color: #0b4f8a; }
:focus-visible { outline: 3px solid #8a3b0b; outline-offset: 2px; }
.skip { position: absolute; left: 0; top: -10em; padding: 0.5em; background: #fff; }
.skip:focus { top: 0; }
nav ul { display: flex; flex-wrap: wrap; gap: 0.5em; margin: 0; padding: 0; list-style: none; }
nav a, button, summary { display: inline-block; min-height: 24px; padding: 0.5em; }
main:focus { outline: none; }
@media print { nav, .skip { display: none; } }
</style>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header>
<p>Joint Statements</p>
<nav aria-label="Site">
<ul><li><a href="index.html">Home</a></li><li><a href="about.html">About</a></li></ul>
</nav>
</header>
<main id="main" tabindex="-1">
<h1>Joint statement on maritime security</h1>
<p>The foreign ministers met in Rome and agreed to <a href="about.html#follow-up">meet again</a>.</p>
<p id="follow-up">They will review progress next year.</p>
<details><summary>Participants</summary><p>France, Italy and Japan.</p></details>
<form role="search" action="index.html">
<label for="q">Search statements</label> <input id="q" name="q" type="search">
<button type="button">Share</button>
</form>
</main>
<footer><p>Published by the ministries.</p></footer>
</body>
</html>
"""


def variant(old: str, new: str) -> str:
    """The good page with one fault planted: `old` replaced by `new`."""
    assert old in GOOD_PAGE, f"the good page no longer contains {old!r}"
    return GOOD_PAGE.replace(old, new)


def add_style(css: str) -> str:
    """The good page with extra CSS at the end of its style sheet."""
    return variant("</style>", f"{css}\n</style>")


@dataclass
class LocalSite:
    """A throwaway site in a temporary folder, served over HTTP for the test."""

    root: Path
    base_url: str

    def write(self, name: str, html: str) -> Path:
        """Write one page of the site."""
        path = self.root / name
        path.write_text(html, encoding="utf-8")
        return path

    def open(self, page: Page, html: str) -> Page:
        """Write `html` as index.html (with a good about.html) and load it."""
        self.write("index.html", html)
        self.write("about.html", GOOD_PAGE)
        page.goto(self.base_url + "index.html")
        return page


@pytest.fixture
def site(tmp_path: Path) -> Iterator[LocalSite]:
    """An empty local site at the server root."""
    with serve_directory(tmp_path, "/") as base_url:
        yield LocalSite(tmp_path, base_url)


PageCheck = Callable[[Page], list[str]]
PAGE_CHECKS: list[PageCheck] = [
    skip_link_problems,
    focus_indicator_problems,
    forced_colors_focus_problems,
    horizontal_overflow,
    text_spacing_clipping,
    print_problems,
]


@pytest.mark.parametrize("check", PAGE_CHECKS, ids=lambda check: check.__name__)
def test_good_page_passes_page_check(site: LocalSite, page: Page, check: PageCheck) -> None:
    assert check(site.open(page, GOOD_PAGE)) == []


def test_good_page_passes_axe(site: LocalSite, page: Page) -> None:
    assert axe_violations(site.open(page, GOOD_PAGE)) == []


def test_axe_reports_missing_alt_and_low_contrast(site: LocalSite, page: Page) -> None:
    html = variant(
        "<p>The foreign", '<p style="color: #aaa">A faint note.</p><img src="flag.png"><p>The foreign'
    )
    found = {violation["id"] for violation in axe_violations(site.open(page, html))}
    assert {"image-alt", "color-contrast"} <= found


def test_vnu_reports_unclosed_element_and_obsolete_attribute(site: LocalSite) -> None:
    bad = site.write("bad.html", variant("<footer><p>Published", '<div align="center"><footer><p>Published'))
    found = {(problem["severity"], problem["message"]) for problem in run_vnu([bad])}
    assert ("error", "Unclosed element “div”.") in found
    assert ("warning", "The “align” attribute on the “div” element is obsolete. Use CSS instead.") in found


def test_vnu_passes_good_page_and_reports_warnings_by_file(site: LocalSite) -> None:
    good = site.write("index.html", GOOD_PAGE)
    warned = site.write(
        "warned.html", variant("<footer>", "<section><p>No heading here.</p></section><footer>")
    )
    problems = run_vnu([good, warned])
    assert [(p["file"], p["severity"]) for p in problems] == [(str(warned), "warning")]


def test_linkinator_passes_good_site_at_root_and_sub_path(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(GOOD_PAGE, encoding="utf-8")
    (tmp_path / "about.html").write_text(GOOD_PAGE, encoding="utf-8")
    assert run_linkinator(tmp_path, "/") == []
    assert run_linkinator(tmp_path, "/statements/") == []


def test_linkinator_reports_missing_page_and_fragment(tmp_path: Path) -> None:
    html = variant(
        '<a href="index.html">Home</a>', '<a href="missing.html">Home</a><a href="about.html#nowhere">x</a>'
    )
    (tmp_path / "index.html").write_text(html, encoding="utf-8")
    (tmp_path / "about.html").write_text(GOOD_PAGE, encoding="utf-8")
    broken = {link["url"] for link in run_linkinator(tmp_path, "/statements/")}
    assert {"/statements/missing.html", "/statements/about.html#nowhere"} <= broken


def test_linkinator_reports_root_link_outside_sub_path(tmp_path: Path) -> None:
    html = variant('href="about.html">About', 'href="/about.html">About')
    (tmp_path / "index.html").write_text(html, encoding="utf-8")
    (tmp_path / "about.html").write_text(GOOD_PAGE, encoding="utf-8")
    assert {link["url"] for link in run_linkinator(tmp_path, "/statements/")} == {"/about.html"}


SITEMAP = """<?xml version="1.0" encoding="utf-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://example.org/statements/about.html</loc></url>
  <url><loc>https://example.org/statements/unlisted/</loc></url>
</urlset>
"""


def test_linkinator_checks_absolute_site_links_and_sitemap_and_skips_other_hosts(tmp_path: Path) -> None:
    links = (
        '<a href="https://example.org/statements/about.html">ok</a>'
        '<a href="https://example.org/statements/gone/">gone</a>'
        '<a href="https://other.example/page">elsewhere</a>'
    )
    (tmp_path / "index.html").write_text(variant("<footer>", f"<p>{links}</p><footer>"), encoding="utf-8")
    (tmp_path / "about.html").write_text(GOOD_PAGE, encoding="utf-8")
    (tmp_path / "sitemap.xml").write_text(SITEMAP, encoding="utf-8")
    broken = run_linkinator(tmp_path, "/statements/", site_url="https://example.org/statements/")
    assert {link["url"] for link in broken} == {"/statements/gone/", "/statements/unlisted/"}


def test_reflow_reports_wide_fixed_box(site: LocalSite, page: Page) -> None:
    html = variant("<h1>", '<div id="banner" style="width: 600px">Banner</div><h1>')
    report = horizontal_overflow(site.open(page, html))
    assert report[0].startswith("page is 6")
    assert any("#banner" in line for line in report[1:])


def test_text_spacing_reports_text_clipped_by_wider_spacing(site: LocalSite, page: Page) -> None:
    clipping = 'style="line-height: 1.2; height: 1.2em; overflow: hidden"'
    html = variant('<p id="follow-up">', f'<p id="follow-up" {clipping}>')
    report = text_spacing_clipping(site.open(page, html))
    assert any("#follow-up" in line and "clips its text" in line for line in report)


def test_focus_check_reports_removed_outline(site: LocalSite, page: Page) -> None:
    html = add_style("a:focus-visible, button:focus-visible { outline: none; }")
    report = focus_indicator_problems(site.open(page, html))
    assert any("Share" in line and "looks the same focused and unfocused" in line for line in report)
    assert any("About" in line for line in report)


def test_focus_check_reports_control_taken_out_of_tab_order(site: LocalSite, page: Page) -> None:
    html = variant('<button type="button">', '<button type="button" tabindex="-1">')
    report = focus_indicator_problems(site.open(page, html))
    assert report == ['<button> "Share" cannot be reached with Tab']


def test_forced_colours_reports_shadow_only_focus(site: LocalSite, page: Page) -> None:
    html = add_style(
        "a:focus-visible, button:focus-visible { outline: none; box-shadow: 0 0 0 3px #8a3b0b; }"
    )
    site.open(page, html)
    assert focus_indicator_problems(page) == []
    report = forced_colors_focus_problems(page)
    assert any("Share" in line and "no focus outline in forced colours" in line for line in report)


def test_print_check_reports_navigation_left_in_print(site: LocalSite, page: Page) -> None:
    html = variant("@media print { nav, .skip { display: none; } }", "")
    report = print_problems(site.open(page, html))
    assert any(line.startswith('<nav> "Site') for line in report)
    assert any("Skip to main content" in line for line in report)


def test_print_check_reports_main_text_hidden_in_print(site: LocalSite, page: Page) -> None:
    html = add_style("@media print { main p { visibility: hidden; } }")
    report = print_problems(site.open(page, html))
    assert any("#follow-up" in line and "hidden in print" in line for line in report)


def test_skip_link_check_reports_nav_link_first(site: LocalSite, page: Page) -> None:
    html = variant('<a class="skip" href="#main">Skip to main content</a>', "")
    site.open(page, html)
    assert first_tab_target(page) == '<a href="index.html"> "Home"'
    assert skip_link_problems(page)[0].startswith('the first tab stop is <a href="index.html">')


def test_skip_link_check_reports_focus_not_moved_into_main(site: LocalSite, page: Page) -> None:
    html = variant('<main id="main" tabindex="-1">', '<main id="main">')
    report = skip_link_problems(site.open(page, html))
    assert len(report) == 1
    assert "not in <main>" in report[0]
