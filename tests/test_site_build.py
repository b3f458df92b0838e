"""Build the fixture site and check every page family, withheld statements and safe output."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from communique.build import check_site, render_all, render_checked
from communique.indexes import Page
from communique.options import Options
from communique.theme import FoldUrls, make_environment, theme_dirs
from tests.conftest import FULL_SITE, NOW, VALID_FRONT, Result, statement
from tests.htmltools import parse_html, parse_page, resolve_internal

WITHHELD_WORDS = ("SECRETDRAFTWORD", "DRAFTBODYWORD", "Secret Draft Meeting", "EMBARGOTITLEWORD",
                  "EMBARGOBODYWORD", "Embargoed Summit", "2024-08-draft-statement",
                  "2024-09-embargoed-statement", "secret-draft-meeting", "embargoed-summit",
                  "new-zealand", "New Zealand", "Chile", "EMBARGOTRANSLATIONWORD",
                  "2024-09-embargoed-statement-fr", "__communique", "livereload")
ATOM = "{http://www.w3.org/2005/Atom}"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file of a folder, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def full_site(cli: Callable[..., Result], tmp_path: Path) -> Path:
    """The fixture site, built at the domain root."""
    content = tmp_path / "content"
    shutil.copytree(FULL_SITE, content)
    result = cli("build", "--now", NOW)
    assert result.status == 0, result.err
    return tmp_path / "_site"


def test_home_page(full_site: Path) -> None:
    page = parse_page(full_site / "index.html")
    assert page.find("h1")[0] and "Fixture Statements" in page.text
    titles = [e.attrs["href"] for e in page.find("a") if str(e.attrs["href"]).startswith("/statements/")]
    assert titles[0] == "/statements/2024-11-30-weimar-triangle/"
    assert "/statements/2023-12-small-group-rome-it/" in titles  # listed as a language of the original
    assert "(4 meetings)" in page.text and "(8 hosts)" in page.text and "(4 years)" in page.text


def test_statement_page(full_site: Path) -> None:
    page = parse_page(full_site / "statements/2023-12-small-group-rome/index.html")
    assert len(page.find("h1")) == 1
    assert page.find("time", datetime="2023-12")
    assert "December 2023" in page.text and "1 December 2023" not in page.text
    assert "Italy (host)" in page.text and "United States (co-host)" in page.text
    assert "Burkina Faso" in page.text and "Uzbekistan" in page.text
    assert "Edmondo Cirielli, Deputy Foreign Minister ( Italy )" in page.text  # Italy is a link
    assert "The text of the following statement was released" in page.text
    assert "Last updated 20 December 2023" in page.text
    assert page.find("link", rel="alternate", hreflang="it")
    assert page.find("a", href="/statements/2022-05-11-small-group-marrakech/")
    translation = parse_page(full_site / "statements/2023-12-small-group-rome-it/index.html")
    assert translation.find("html", lang="it")  # the page's own words are Italian too
    assert "Data" in translation.text and "Partecipanti" in translation.text
    assert translation.find("a", lang="en", **{"class": "site-header__title"})  # the site's name is not
    assert "Rome" in translation.text  # inherited meeting location
    assert "dicembre 2023" in translation.text and translation.find("time", datetime="2023-12")
    assert "Italiano: Dichiarazione congiunta" in page.text
    filters = [f for span in page.find("span") if (f := span.attrs.get("data-pagefind-filter") or "")
               .startswith("country:")]
    assert filters == [f"country:{name}" for name in (  # issuers and hosts both, once each, by name
        "Burkina Faso", "Cameroon", "Italy", "Kenya", "Mauritania", "Nigeria", "Senegal", "Togo",
        "United States", "Uzbekistan")]


def test_urls_worked_out_at_compile_time_match_url(cli: Callable[..., Result], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`FoldUrls` gives every file the bytes the `url` global gives, escaping included."""
    def build(output: Path) -> dict[str, bytes]:
        cli("build", "--content", str(FULL_SITE), "--output", str(output), "--now", NOW, "--no-search",
            "--jobs", "1", "--base-url", "https://example.org/a&b'c/")
        return tree(output)

    compiled = build(tmp_path / "compiled")
    assert b'href="/a&amp;b&#39;c/static/style.css"' in compiled["index.html"]
    monkeypatch.setattr(FoldUrls, "filter_stream", lambda self, stream: stream)
    assert build(tmp_path / "rendered") == compiled


def test_body_rendering(full_site: Path) -> None:
    page = parse_page(full_site / "statements/2022-05-11-small-group-marrakech/index.html")
    assert page.find("a", href="/statements/2016-02-02-small-group-rome/")
    assert page.find("h2") and not page.find("h3")  # "## Africa" is the body's first level: h2
    rome = parse_page(full_site / "statements/2016-02-02-small-group-rome/index.html")
    assert rome.find("table") and rome.find("th")
    assert rome.find("section", **{"class": "footnotes"}) or rome.find("hr", **{"class": "footnotes-sep"})


def test_meeting_pages(full_site: Path) -> None:
    index = parse_page(full_site / "meetings/index.html")
    assert "Small Group of the Global Coalition to Defeat Daesh/ISIS (3 statements)" in index.text
    assert "Weimar Triangle (4 statements)" in index.text
    assert len([a for a in index.find("a") if str(a.attrs["href"]).startswith("/meetings/")]) == 5  # nav + 4
    series = parse_page(full_site / "meetings/small-group-of-the-global-coalition-to-defeat-daesh-isis"
                        / "index.html")
    hrefs = [a.attrs["href"] for a in series.find("a") if "/statements/" in str(a.attrs["href"])]
    assert hrefs[:3] == ["/statements/2023-12-small-group-rome/",
                         "/statements/2023-12-small-group-rome-it/",
                         "/statements/2022-05-11-small-group-marrakech/"]
    assert "Marrakech" in series.text


def test_host_pages(full_site: Path) -> None:
    index = parse_page(full_site / "hosts/index.html")
    assert "United States (3 statements)" in index.text and "MIKTA (1 statement)" in index.text
    us = parse_page(full_site / "hosts/united-states/index.html")
    assert "3 statements: 0 as host, 3 as co-host" in us.text
    assert us.text.count("Co-host") == 3
    italy = parse_page(full_site / "hosts/italy/index.html")
    assert "2 statements: 2 as host, 0 as co-host" in italy.text


def test_archive_pages(full_site: Path) -> None:
    index = parse_page(full_site / "archive/index.html")
    assert [a.attrs["href"] for a in index.find("a") if str(a.attrs["href"]).startswith("/archive/2")] \
        == ["/archive/2024/", "/archive/2023/", "/archive/2022/", "/archive/2016/"]
    year = parse_page(full_site / "archive/2023/index.html")
    months = [h for h in year.find("h2")]
    assert len(months) == 2
    assert year.text.index("December 2023") < year.text.index("Month not known")
    assert year.text.index("Month not known") < year.text.index("MIKTA")


def test_feed_sitemap_json_404(full_site: Path) -> None:
    feed = ET.parse(full_site / "feed.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 9  # originals only, the withdrawn one left out
    assert entries[0].findtext(f"{ATOM}published") == "2024-11-30T00:00:00Z"
    sitemap = ET.parse(full_site / "sitemap.xml").getroot()
    locs = {e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    assert "https://example.org/statements/2023-12-small-group-rome-it/" in locs
    assert "https://example.org/hosts/mikta/" in locs
    pages = {p.parent.relative_to(full_site).as_posix() for p in full_site.rglob("index.html")}
    assert len(locs) == len(pages) - 1  # every page but the redirect of an alias
    assert "https://example.org/statements/maritime-security-2024/" not in locs
    data = json.loads((full_site / "statements.json").read_text())
    assert data["version"] == 1 and len(data["statements"]) == 11
    record = next(s for s in data["statements"] if s["id"] == "2023-mikta-foreign-ministers")
    assert record["date"] == "2023" and record["date_precision"] == "year"
    assert record["url"] == "https://example.org/statements/2023-mikta-foreign-ministers/"
    assert {"id": "KR", "kind": "country", "name": "South Korea"} in record["issuers"]
    assert parse_page(full_site / "404.html").find("h1")


def test_withheld_statements_appear_nowhere(full_site: Path) -> None:
    for relative, data in tree(full_site).items():
        text = data.decode("utf-8", errors="replace")
        for word in WITHHELD_WORDS:
            assert word not in text, f"{word!r} leaked into {relative}"


def test_drafts_flag_previews_drafts(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    assert cli("build", "--drafts", "--now", NOW, "--quiet").status == 0
    assert (tmp_path / "_site/statements/2024-08-draft-statement/index.html").is_file()
    assert (tmp_path / "_site/statements/2024-09-embargoed-statement/index.html").is_file()


def test_embargo_lifts_at_its_instant(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    assert cli("build", "--now", "2099-01-01T11:59:59Z", "--quiet").status == 0
    assert not (tmp_path / "_site/statements/2024-09-embargoed-statement").exists()
    assert cli("build", "--now", "2099-01-01T13:00:00+01:00", "--quiet").status == 0
    assert (tmp_path / "_site/statements/2024-09-embargoed-statement/index.html").is_file()


@pytest.mark.parametrize("base_url", ["https://example.org/", "https://example.org/statements/"])
def test_every_internal_link_resolves(cli: Callable[..., Result], tmp_path: Path, base_url: str) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    assert cli("build", "--now", NOW, "--base-url", base_url, "--quiet").status == 0
    site = tmp_path / "_site"
    base_path = base_url.removeprefix("https://example.org")
    checked = 0
    for html in site.rglob("*.html"):
        url = base_path + html.relative_to(site).as_posix().removesuffix("index.html")
        for href in parse_page(html).links():
            if href.startswith("https://example.org"):
                href = href.removeprefix("https://example.org")
            target = resolve_internal(site, base_path, href, url)
            if target is not None:
                checked += 1
                assert target.is_file(), f"{href} on {url} leads nowhere"
    assert checked > 300


def test_two_builds_are_identical(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    assert cli("build", "--now", NOW, "--output", "one", "--quiet").status == 0
    assert cli("build", "--now", NOW, "--output", "two", "--quiet").status == 0
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_failed_build_leaves_previous_site(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    assert cli("build", "--now", NOW, "--quiet").status == 0
    before = tree(tmp_path / "_site")
    bad = tmp_path / "content/statements/2024/2024-07-01-chairs-statement.md"
    bad.write_text(bad.read_text().replace("issuers: [JP]", "issuers: [Japna]"))
    result = cli("build", "--now", NOW)
    assert result.status == 1 and "did you mean Japan?" in result.err
    assert tree(tmp_path / "_site") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".communique-cache", "_site", "content"]


@pytest.mark.parametrize("output", ["content", ".", "..", "/", "content/statements/out"])
def test_output_refuses_unsafe_folders(cli: Callable[..., Result], write_site: Callable[..., Path],
                                       tmp_path: Path, output: str) -> None:
    write_site({"statements/one.md": statement()})
    before = tree(tmp_path / "content")
    result = cli("build", "--output", output)
    assert result.status == 2
    assert "refusing to write the site" in result.err
    assert tree(tmp_path / "content") == before


def test_raw_html_is_shown_as_text(cli: Callable[..., Result], write_site: Callable[..., Path],
                                   tmp_path: Path) -> None:
    body = "Text <script>alert(1)</script> and <b onclick=x>bold</b>.\n\n[x](javascript:alert(1))\n"
    write_site({"statements/one.md": statement(VALID_FRONT.replace("A valid statement",
                                                                   "<i>Title</i>"), body)})
    assert cli("build", "--quiet").status == 0
    page = parse_page(tmp_path / "_site/statements/one/index.html")
    scripts = page.find("script")
    assert [e.attrs for e in scripts] == [{"type": "application/ld+json"}]  # data, never code
    assert not page.find("b") and not page.find("i")
    assert "<script>alert(1)</script>" in page.text and "<i>Title</i>" in page.text
    assert not [h for h in page.links() if h.startswith("javascript:")]


def test_long_lists_are_paginated(cli: Callable[..., Result], write_site: Callable[..., Path],
                                  tmp_path: Path) -> None:
    meeting = "meeting:\n  name: Long Series\n  hosts: [FR]\n"
    files: dict[str, str | bytes] = {
        f"statements/s{n:03d}.md": statement(VALID_FRONT.replace("2024-06-04", f"2024-06-{1 + n % 28:02d}")
                                             + meeting) for n in range(120)}
    write_site(files)
    assert cli("build", "--quiet").status == 0
    site = tmp_path / "_site"
    for base in ("meetings/long-series/", "hosts/france/", "archive/2024/"):
        assert (site / base / "page/3/index.html").is_file()
        assert not (site / base / "page/4").exists()
        first = parse_page(site / base / "index.html")
        assert first.find("nav", aria_label="Pagination")
        assert first.find("a", aria_current="page")
        assert first.find("a", href=f"/{base}page/2/", rel="next")
    home = parse_page(site / "index.html")
    assert len([li for li in home.find("li", **{"class": "statement-item"})]) == 20


def test_a_long_list_links_to_a_few_of_its_pages() -> None:
    checked = check_site(Options(content=FULL_SITE, now=dt.datetime.fromisoformat(NOW), jobs=1))
    env = make_environment(checked.site, theme_dirs(checked.site, FULL_SITE))
    page = parse_html(str(env.get_template("_macros.html").module.pagination(Page(50, 120, ()),
                                                                            "archive/2024/")))
    links = [(a.attrs["href"], a.attrs.get("rel")) for a in page.find("a")]
    assert links == [("/archive/2024/page/49/", "prev"), ("/archive/2024/", None),
                     *((f"/archive/2024/page/{n}/", None) for n in (49, 50, 51, 120)),
                     ("/archive/2024/page/51/", "next")]
    assert page.find("a", href="/archive/2024/page/50/", aria_current="page")
    assert len(page.find("li", **{"class": "pagination__gap"})) == 2


def test_drafts_preview_banners(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    assert cli("build", "--drafts", "--now", NOW, "--quiet").status == 0
    draft = parse_page(tmp_path / "_site/statements/2024-08-draft-statement/index.html")
    assert draft.find("div", role="note") and "Draft This statement is a draft" in draft.text
    embargoed = parse_page(tmp_path / "_site/statements/2024-09-embargoed-statement/index.html")
    assert "Embargoed until 1 January 2099, 12:00 (UTC)" in embargoed.text
    french = parse_page(tmp_path / "_site/statements/2024-09-embargoed-statement-fr/index.html")
    assert "Sous embargo jusqu’au 1 janvier 2099, 12:00 (UTC)" in french.text
    published = parse_page(tmp_path / "_site/statements/2024-07-01-chairs-statement/index.html")
    assert not published.find("div", role="note")


def test_check_lists_withheld_statements(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    result = cli("check", "--now", NOW)
    assert result.status == 0
    assert "content/statements/2024/2024-08-draft-statement.md: withheld (draft)" in result.out
    assert ("content/statements/2024/2024-09-embargoed-statement.md: withheld (embargo until "
            "2099-01-01T12:00:00+00:00)") in result.out
    assert "content/statements/2024/2024-09-embargoed-statement-fr.md: withheld (embargo" in result.out
    assert "11 statement(s) ready to publish, 3 withheld" in result.out


def test_template_error_names_template_and_line(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    (tmp_path / "content/site.yaml").write_text(
        (tmp_path / "content/site.yaml").read_text() + "theme_dir: theme\n")
    (tmp_path / "content/theme").mkdir()
    (tmp_path / "content/theme/statement.html").write_text(
        '{% extends "base.html" %}{% set heading = "x" %}\n{% block main %}\n'
        '{{ statement.no_such_field }}\n{% endblock %}\n')
    result = cli("build", "--now", NOW)
    assert result.status == 1
    assert re.search(r"content/theme/statement\.html:3: error: template error: .*no_such_field",
                     result.err), result.err
    assert not (tmp_path / "_site").exists()


def test_theme_overrides_by_name(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    (tmp_path / "content/site.yaml").write_text(
        (tmp_path / "content/site.yaml").read_text() + "theme_dir: theme\n")
    (tmp_path / "content/theme/static").mkdir(parents=True)
    (tmp_path / "content/theme/static/style.css").write_text("body { color: black; }\n")
    (tmp_path / "content/theme/404.html").write_text("<!DOCTYPE html><title>Gone</title><p>Gone</p>\n")
    assert cli("build", "--now", NOW, "--quiet").status == 0
    assert (tmp_path / "_site/static/style.css").read_text() == "body { color: black; }\n"
    assert "Gone" in (tmp_path / "_site/404.html").read_text()
    assert "Fixture Statements" in (tmp_path / "_site/index.html").read_text()


def test_the_site_made_in_memory_equals_the_site_written(full_site: Path) -> None:
    """What the dev server serves (each file made whole) is what a build writes (the open data
    made in pieces, large files written by the process that makes them)."""
    options = Options(content=full_site.parent / "content", output=full_site,
                      now=dt.datetime.fromisoformat(NOW.replace("Z", "+00:00")))
    output, copies = render_checked(check_site(options), options.content)
    made = {**render_all(output), **{name: source.read_bytes() for name, source in copies}}
    written = tree(full_site)
    assert "statements.jsonl" in made
    assert made == {path: data for path, data in written.items() if not path.startswith("pagefind/")}
