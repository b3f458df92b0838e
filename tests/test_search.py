"""Full-text search: the per-year Pagefind indexes, their cache, and the search page in Chromium."""

from __future__ import annotations

import errno
import gzip
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser, Page

from communique import build as build_module
from communique import search, workers
from communique.cache import mirror_path
from communique.cli import main
from communique.problems import ContentError
from communique.write import Staged
from tests.a11y.checkers import serve_directory
from tests.conftest import FULL_SITE, NOW

YEARS = [2024, 2023, 2022, 2016]
"""The years of the fixture site's published statements, newest first."""
SUB_PATH_URL = "https://example.org/statements/"


def build(content: Path, output: Path, *extra: str) -> None:
    """`communique build` in-process; the test fails if it does not succeed."""
    status = main(["build", "--content", str(content), "--output", str(output), "--now", NOW,
                   "--quiet", *extra])
    assert status == 0


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its relative path."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full fixture site, built once at the domain root."""
    output = tmp_path_factory.mktemp("search-root") / "site"
    build(FULL_SITE, output)
    return output


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    """One browser page for this module's searches."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def index_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The pages of each Pagefind run of the builds in a test, run by run."""
    runs: list[list[str]] = []
    index_pages = search.index_pages

    def counting(pagefind: Path, language: str, scratch: Path, bundle: Path) -> tuple[dict[str, bytes], bool]:
        site = scratch / "site"
        runs.append(sorted(page.relative_to(site).as_posix() for page in site.rglob("*") if page.is_file()))
        return index_pages(pagefind, language, scratch, bundle)

    monkeypatch.setattr(search, "index_pages", counting)
    return runs


def results_of(page: Page, base_url: str, query: str) -> list[str]:
    """Open the search page at `?query`, wait for it to report, and return the result links."""
    page.goto(f"{base_url}search/?{query}")
    return wait_for_results(page)


def wait_for_results(page: Page) -> list[str]:
    page.wait_for_function("document.getElementById('search-status').textContent !== ''")
    links: list[str] = page.eval_on_selector_all(
        "#search-results-list h3 a", "links => links.map((a) => a.getAttribute('href'))")
    return links


def page_text(site: Path, url: str) -> str:
    html = (site / url.lstrip("/") / "index.html").read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", " ", html)


def test_each_year_has_an_index_and_only_published_pages_are_in_them(site: Path) -> None:
    assert json.loads((site / "pagefind/years.json").read_bytes()) == {"version": 1, "years": YEARS}
    published = json.loads((site / "statements.json").read_bytes())["statements"]
    for year in YEARS:
        entry = json.loads((site / f"pagefind/{year}/pagefind-entry.json").read_bytes())
        pages = [s for s in published if s["date"].startswith(str(year))]
        assert [lang["page_count"] for lang in entry["languages"].values()] == [len(pages)]
        # The browser runs the first index's program: the others carry only their data.
        assert (site / f"pagefind/{year}/pagefind.js").is_file() == (year == YEARS[0])
    names = {p.name for p in (site / "pagefind").rglob("*")}
    assert not any(name.startswith("pagefind-ui") for name in names)
    data = b"".join(gzip.decompress(p.read_bytes()) for p in (site / "pagefind").rglob("*.pf_*"))
    assert b"Marrakech" in data
    for word in (b"secretdraftword", b"draftbodyword", b"embargobodyword", b"embargotitleword"):
        assert word not in data.lower()


def test_a_word_of_one_statement_finds_it_first(site: Path, page: Page) -> None:
    with serve_directory(site) as base_url:
        page.goto(f"{base_url}search/")
        page.fill("#search-query", "Marrakech")
        page.press("#search-query", "Enter")
        links = wait_for_results(page)
        assert page.url.endswith("/search/?q=Marrakech")
        assert links[0] == "/statements/2022-05-11-small-group-marrakech/"
        assert "Marrakech" in page.inner_text("#search-results-list li:first-child mark")
        assert page.inner_text("#search-status") == f"Statements found: {len(links)}"
        others = [url for url in links[1:] if "Marrakech" in page_text(site, url)]
        assert others == links[1:]  # anything after it does mention the word


def test_filters_narrow_the_results(site: Path, page: Page) -> None:
    with serve_directory(site) as base_url:
        everywhere = results_of(page, base_url, "q=Rome")
        assert len(everywhere) > 1
        page.select_option("#filter-year", "2016")
        page.click("form[role=search] button[type=submit]")
        page.wait_for_url("**year=2016")
        page.wait_for_function("n => document.querySelectorAll('#search-results-list li').length < n",
                               arg=len(everywhere))
        assert wait_for_results(page) == ["/statements/2016-02-02-small-group-rome/"]
        hosted = results_of(page, base_url, "host=Italy")
        assert hosted and set(hosted) < set(everywhere)
        dates = page.eval_on_selector_all("#search-results-list time", "ts => ts.map((t) => t.dateTime)")
        assert dates == sorted(dates, reverse=True)  # no words to rank by: newest first
        countries = page.eval_on_selector_all("#filter-country option", "os => os.map((o) => o.text)")
        assert "Kenya" in countries and "European Union" in countries


def test_withheld_statements_are_not_found(site: Path, page: Page) -> None:
    with serve_directory(site) as base_url:
        for word in ("SECRETDRAFTWORD", "DRAFTBODYWORD", "EMBARGOBODYWORD"):
            assert results_of(page, base_url, f"q={word}") == []
            assert page.inner_text("#search-status") == "No statement matches your search."


def test_search_works_under_a_sub_path(tmp_path: Path, page: Page) -> None:
    build(FULL_SITE, tmp_path / "site", "--base-url", SUB_PATH_URL)
    with serve_directory(tmp_path / "site", "/statements/") as base_url:
        links = results_of(page, base_url, "q=Marrakech")
        assert links[0] == "/statements/statements/2022-05-11-small-group-marrakech/"
        page.click("#search-results-list h3 a")
        page.wait_for_url("**/2022-05-11-small-group-marrakech/")
        assert "Marrakech" in page.inner_text("h1")


def test_without_javascript_the_page_explains_and_links_to_browsing(site: Path, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        no_js = context.new_page()
        with serve_directory(site) as base_url:
            no_js.goto(f"{base_url}search/")
            assert no_js.is_visible("#search-nojs")
            assert no_js.is_visible("form[role=search] label[for=search-query]")
            assert no_js.get_attribute("a:text('By meeting')", "href") == "/meetings/"
    finally:
        context.close()


def test_a_build_without_search(tmp_path: Path, page: Page) -> None:
    build(FULL_SITE, tmp_path / "site", "--no-search")
    assert not (tmp_path / "site/pagefind").exists()
    assert not (tmp_path / ".communique-cache/search").exists()
    with serve_directory(tmp_path / "site") as base_url:
        assert results_of(page, base_url, "q=Rome") == []
        assert page.inner_text("#search-status").startswith("Search is not available")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_same_content_gives_the_same_index(site: Path, tmp_path: Path, jobs: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "MIN_SHARE", 1)  # with "2", two processes write even this small site
    build(FULL_SITE, tmp_path / "site", "--jobs", jobs)  # a cache of its own: indexed afresh
    assert tree(tmp_path / "site") == tree(site)


def test_a_changed_statement_reindexes_only_its_year(tmp_path: Path, index_runs: list[list[str]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pages_read: list[str] = []
    read = Staged.read
    monkeypatch.setattr(Staged, "read", lambda staged, path: pages_read.append(path) or read(staged, path))
    cached_read: list[str] = []  # the files of cached indexes, not their manifests nor Pagefind's output
    read_bytes = Path.read_bytes

    def reading(path: Path) -> bytes:
        entry = path.relative_to(cache).parts[0] if path.is_relative_to(cache) else None
        if entry and path.name != search.MANIFEST and not entry.startswith("."):  # a new entry's, or scratch
            cached_read.append(entry)
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", reading)
    content, output = tmp_path / "content", tmp_path / "site"
    cache = tmp_path / ".communique-cache/search"
    shutil.copytree(FULL_SITE, content)
    build(content, output)
    assert len(index_runs) == len(YEARS)
    first = tree(output / "pagefind")
    entries = {p.name for p in cache.iterdir()}
    assert len(entries) == len(YEARS)

    changed = content / "statements/2022/2022-05-11-small-group-marrakech.md"
    original = changed.read_text(encoding="utf-8")
    changed.write_text(original + "\nThe ministers also discussed QUOKKAWORD.\n", encoding="utf-8")
    index_runs.clear()
    build(content, output)
    assert index_runs == [["statements/2022-05-11-small-group-marrakech/index.html"]]
    assert pages_read == []  # the build knows each page's digest, and Pagefind reads links
    assert cached_read == []  # the other years' files are linked from the live site
    second = tree(output / "pagefind")
    assert {n for n in first if not n.startswith("2022/")} == {n for n in second if not n.startswith("2022/")}
    assert first["2024/pagefind.js"] == second["2024/pagefind.js"]
    assert first["2022/pagefind-entry.json"] != second["2022/pagefind-entry.json"]
    assert entries < {p.name for p in cache.iterdir()}  # the earlier 2022 index is kept too

    changed.write_text(original, encoding="utf-8")
    index_runs.clear()
    build(content, output)
    assert index_runs == []  # both versions of 2022 are cached
    assert {entry.partition("-")[0] for entry in cached_read} == {"2022"}  # read from the cache
    assert tree(output / "pagefind") == first


@pytest.fixture(scope="module")
def cached_year(site: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[dict[int, dict[str, bytes]], Path, dict[str, bytes]]:
    """One year's pages, a cache holding their index, and the files it gives."""
    page = "statements/2016-02-02-small-group-rome/index.html"
    pages = {2016: {page: (site / page).read_bytes()}}
    cache = tmp_path_factory.mktemp("search-cache")
    return pages, cache, search.build_search_index(pages, cache)


@pytest.mark.parametrize("damage", [
    lambda entry: next((entry / "bundle/fragment").iterdir()).unlink(),
    lambda entry: (entry / "bundle/pagefind-entry.json").write_text("{}"),
    lambda entry: (entry / "manifest.json").write_text("not json"),
    lambda entry: (entry / "manifest.json").write_text('{"../../escape": "0"}'),
    lambda entry: (entry / "manifest.json").write_text("{}"),
    lambda entry: (entry / "bundle/fragment/en_0000000.pf_fragment").write_bytes(b"extra"),
])
def test_a_damaged_cache_entry_is_rebuilt(
        cached_year: tuple[dict[int, dict[str, bytes]], Path, dict[str, bytes]], tmp_path: Path,
        index_runs: list[list[str]], damage: Callable[[Path], None]) -> None:
    pages, cache, files = cached_year
    shutil.copytree(cache, tmp_path / "cache")
    damage(next((tmp_path / "cache").glob("2016-*")))
    assert search.build_search_index(pages, tmp_path / "cache") == files
    assert len(index_runs) == 1
    assert search.build_search_index(pages, tmp_path / "cache") == files
    assert len(index_runs) == 1  # repaired


@pytest.mark.parametrize("name", ["../escape", "fragment/../../escape", "/etc/passwd", "fragment//a",
                                  "fragment/./a", "fragment/", "", ".", "..", "a/.."])
def test_a_cached_file_name_must_stay_inside_its_folder(name: str) -> None:
    with pytest.raises(ValueError, match="not a relative path inside the folder"):
        search._relative_parts(name)


def test_a_cached_file_name_is_cut_into_its_folders() -> None:
    assert search._relative_parts("fragment/en_1a2b.pf_fragment") == ("fragment", "en_1a2b.pf_fragment")
    assert search._relative_parts("pagefind-entry.json") == ("pagefind-entry.json",)
    assert search._relative_parts("a..b/.c") == ("a..b", ".c")


def _filter_value(value: str, pages: list[int]) -> bytes:
    """One value of a Pagefind filter file, `[value, [page, …]]`, in CBOR."""
    return (search._cbor_head(4, 2) + search._cbor_string(value) + search._cbor_head(4, len(pages))
            + b"".join(search._cbor_head(0, page) for page in pages))


def test_a_filter_s_values_are_put_in_order_whatever_their_encoding() -> None:
    # Page numbers of one to nine bytes, a value of more than 23 bytes (a longer head), and a
    # value whose list holds a list (CBOR that is not walked by the short cuts for numbers and
    # short texts).
    pages = [0, 23, 24, 255, 256, 65_535, 65_536, 2**32 - 1, 2**32]
    long = "a value longer than twenty-three bytes"
    nested = (search._cbor_head(4, 2) + search._cbor_string("zz") + search._cbor_head(4, 1)
              + search._cbor_head(4, 1) + search._cbor_string(long))
    values = [_filter_value("zeta", pages), _filter_value(long, pages[::-1]), nested,
              _filter_value("alpha", [7])]
    head = search._cbor_head(4, 2) + search._cbor_string("country") + search._cbor_head(4, len(values))
    ordered = search._sorted_filter(head + b"".join(values))
    assert ordered == head + values[1] + values[3] + values[0] + values[2]
    assert search._sorted_filter(ordered) == ordered
    with pytest.raises((ValueError, IndexError)):
        search._sorted_filter(head + b"".join(values)[:-1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=40), st.lists(st.integers(0, 2**64 - 1), max_size=12)),
                max_size=12))
def test_any_filter_comes_out_as_its_values_sorted(values: list[tuple[str, list[int]]]) -> None:
    items = [_filter_value(value, pages) for value, pages in values]
    head = search._cbor_head(4, 2) + search._cbor_string("topic") + search._cbor_head(4, len(items))
    ordered = search._sorted_filter(head + b"".join(items))
    by_value = sorted(zip(values, items, strict=True), key=lambda pair: pair[0][0].encode())
    assert ordered == head + b"".join(item for _, item in by_value)


def test_cache_key_covers_every_page_byte_and_the_tool() -> None:
    pages = {"statements/a/index.html": b"<p>one</p>", "statements/b/index.html": b"<p>two</p>"}
    key = search.cache_key(pages, "pagefind 1.5.2", "en")
    assert key == search.cache_key(dict(reversed(pages.items())), "pagefind 1.5.2", "en")
    changed = {**pages, "statements/b/index.html": b"<p>twO</p>"}
    assert key != search.cache_key(changed, "pagefind 1.5.2", "en")
    assert key != search.cache_key(pages, "pagefind 1.5.3", "en")
    assert key != search.cache_key(pages, "pagefind 1.5.2", "fr")
    # Paths and contents cannot run into each other.
    assert search.cache_key({"ab": b"c"}, "v", "en") != search.cache_key({"a": b"bc"}, "v", "en")


def test_without_pagefind_the_build_says_how_to_go_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import pagefind.service

    monkeypatch.setattr(pagefind.service, "get_executable", lambda: None)
    status = main(["build", "--content", str(FULL_SITE), "--output", str(tmp_path / "site"), "--now", NOW])
    assert status == 1
    assert "pip install 'pagefind[bin]', or build with --no-search" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()


def test_pagefind_reads_links_to_the_pages_not_copies(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int]] = []
    places: set[Path] = set()
    run_pagefind = search.run_pagefind

    def looking(pagefind: Path, site: Path, bundle: Path, language: str, cwd: Path) -> None:
        seen.extend((page.name, page.stat().st_nlink) for page in site.rglob("*.html"))
        places.add(site.parent.parent)
        run_pagefind(pagefind, site, bundle, language, cwd)

    monkeypatch.setattr(search, "run_pagefind", looking)
    build(FULL_SITE, tmp_path / "site", "--jobs", "1")
    assert len(seen) == 11 and all(links == 2 for _, links in seen)  # the page in the site, and here
    # Beside the site: the system's temporary folder may be another file system.
    assert places == {mirror_path(tmp_path / "site")}


def mirrored(output: Path) -> dict[str, int]:
    """The pages the mirror of `output` holds (`<year>/site/<path>`), with their inodes."""
    root = mirror_path(output)
    return {page.relative_to(root).as_posix(): page.stat().st_ino
            for page in root.rglob("*") if page.is_file()}


def live(output: Path, year: int, paths: list[str]) -> dict[str, int]:
    """What `mirrored` should give for these pages of one year of the live site."""
    return {f"{year}/site/{path}": (output / path).stat().st_ino for path in paths}


def test_the_mirror_holds_each_indexed_year_s_pages_and_follows_edits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pagefind reads a year's pages from a folder kept between builds: an edit relinks the
    pages that changed, a page that left the year goes, and so does a year with no page left."""
    content, output = tmp_path / "content", tmp_path / "site"
    shutil.copytree(FULL_SITE, content)
    build(content, output, "--jobs", "1")
    marrakech = "statements/2022-05-11-small-group-marrakech/index.html"
    rome = "statements/2016-02-02-small-group-rome/index.html"
    first = mirrored(output)
    assert len(first) == 11
    assert {name: ino for name, ino in first.items() if name.startswith(("2016/", "2022/"))} == {
        **live(output, 2016, [rome]), **live(output, 2022, [marrakech])}

    linked: list[tuple[str, str]] = []
    link = os.link
    monkeypatch.setattr(os, "link", lambda source, target, **kw: linked.append((source, target))
                        or link(source, target, **kw))
    edited = content / "statements/2024/2024-03-15-weimar-triangle.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nQUOKKAWORD.\n", encoding="utf-8")
    build(content, output, "--jobs", "1")
    weimar = "statements/2024-03-15-weimar-triangle/index.html"
    mirror = mirror_path(output)
    to_mirror = [Path(target).relative_to(mirror).as_posix() for _, target in linked
                 if Path(target).is_relative_to(mirror)]
    assert to_mirror == [f"2024/site/{weimar}"]  # not the five other pages of 2024
    second = mirrored(output)
    # Linked when the page was rendered ahead of the rest of the site (see `build.index_ahead`).
    assert second[f"2024/site/{weimar}"] != first[f"2024/site/{weimar}"]
    assert (mirror / f"2024/site/{weimar}").read_bytes() == (output / weimar).read_bytes()
    assert {k: v for k, v in second.items() if k != f"2024/site/{weimar}"} == {
        k: v for k, v in first.items() if k != f"2024/site/{weimar}"}
    assert len([k for k in second if k.startswith("2024/")]) == 6

    # The 2022 statement moves to 2016: 2022 has no page left, and 2016 gains one.
    changed = content / "statements/2022/2022-05-11-small-group-marrakech.md"
    text = changed.read_text(encoding="utf-8").replace("date: 2022-05-11", "date: 2016-05-11")
    changed.write_text(text, encoding="utf-8")
    build(content, output, "--jobs", "1")
    third = mirrored(output)
    assert not (mirror_path(output) / "2022").exists()
    assert {k: v for k, v in third.items() if k.startswith("2016/")} == live(output, 2016, [rome, marrakech])
    assert "2016" in (output / marrakech).read_text(encoding="utf-8")


def test_a_page_of_the_mirror_replaced_by_hand_is_linked_again(tmp_path: Path) -> None:
    content, output = tmp_path / "content", tmp_path / "site"
    shutil.copytree(FULL_SITE, content)
    build(content, output)
    clean = tree(output / "pagefind")
    marrakech = "statements/2022-05-11-small-group-marrakech/index.html"
    mirror = mirror_path(output) / "2022" / "site" / marrakech
    mirror.unlink()
    mirror.write_text("<html><body><main>STRAYWORD</main></body></html>", encoding="utf-8")
    (mirror.parent.parent / "stray-page").mkdir()
    (mirror.parent.parent / "stray-page" / "index.html").write_text("<p>STRAYWORD</p>", encoding="utf-8")
    build(content, output, "--clean")  # every year indexed again
    assert tree(output / "pagefind") == clean
    assert mirror.stat().st_ino == (output / marrakech).stat().st_ino
    assert not (mirror.parent.parent / "stray-page").exists()


@pytest.fixture
def in_memory(tmp_path: Path) -> Iterator[Path]:
    """A folder on a file system in memory (/dev/shm), which lists a folder's files in the order
    they were made (ext4 lists them by a hash of their names): else `tmp_path`."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_statements_added_to_a_year_give_the_index_of_a_clean_build(in_memory: Path) -> None:
    """Pagefind's index follows the order in which the file system lists the pages (on some file
    systems, the order they were linked in): the mirror of a year whose pages are not the same
    is made again, in the order a clean build makes it."""
    tmp_path = in_memory
    content, output = tmp_path / "content", tmp_path / "site"
    shutil.copytree(FULL_SITE, content)
    build(content, output)
    for day in ("05-01", "05-02", "05-03", "08-01"):
        (content / f"statements/2024/2024-{day}-new.md").write_text(
            f"---\ntitle: New statement {day}\ndate: 2024-{day}\ntype: statement\nissuers: [UK]\n---\n"
            f"Words about ZEBRA{day.replace('-', '')}.\n", encoding="utf-8")
    build(content, output)
    build(content, tmp_path / "clean", "--clean")
    assert tree(output / "pagefind") == tree(tmp_path / "clean" / "pagefind")
    listed = os.listdir(mirror_path(output) / "2024/site/statements")
    assert listed == os.listdir(mirror_path(tmp_path / "clean") / "2024/site/statements")
    assert len(listed) == 10

    # The same pages in another order (a statement moved within its year) give the same index.
    moved = content / "statements/2024/2024-03-15-weimar-triangle.md"
    moved.write_text(moved.read_text(encoding="utf-8").replace("date: 2024-03-15", "date: 2024-12-15"),
                     encoding="utf-8")
    build(content, output)
    shutil.rmtree(tmp_path / "clean")
    shutil.rmtree(mirror_path(tmp_path / "clean"))
    build(content, tmp_path / "clean", "--clean")
    assert tree(output / "pagefind") == tree(tmp_path / "clean" / "pagefind")


def test_a_build_without_search_drops_the_mirror(tmp_path: Path) -> None:
    content, output = tmp_path / "content", tmp_path / "site"
    shutil.copytree(FULL_SITE, content)
    build(content, output)
    assert mirror_path(output).is_dir()
    build(content, output, "--no-search")
    assert not mirror_path(output).exists()


def test_a_killed_build_s_pagefind_output_in_the_mirror_is_not_published(tmp_path: Path) -> None:
    """Without a search cache to write into, Pagefind writes beside the mirrored pages: into a
    folder emptied first, since Pagefind adds to what it finds there."""
    content, output = tmp_path / "content", tmp_path / "site"
    shutil.copytree(FULL_SITE, content)
    build(content, output)
    clean = tree(output / "pagefind")
    cache = search.search_cache_dir(output)
    shutil.rmtree(cache)
    cache.write_text("a file where the search cache goes")
    stray = mirror_path(output) / "2024" / "bundle" / "fragment" / "en_deadbee.pf_fragment"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left by a killed build")
    build(content, output, "--clean")
    assert tree(output / "pagefind") == clean


def test_without_a_mirror_the_pages_are_linked_in_a_scratch_folder(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    content, output = tmp_path / "content", tmp_path / "site"
    shutil.copytree(FULL_SITE, content)
    build(content, output)
    clean = tree(output / "pagefind")
    shutil.rmtree(mirror_path(output))
    mirror_path(output).write_text("a file where the mirror goes")
    places: set[Path] = set()
    run_pagefind = search.run_pagefind

    def looking(pagefind: Path, site: Path, bundle: Path, language: str, cwd: Path) -> None:
        places.add(site.parent.parent)
        run_pagefind(pagefind, site, bundle, language, cwd)

    monkeypatch.setattr(search, "run_pagefind", looking)
    build(content, output, "--clean")
    assert places == {search.search_cache_dir(output)}
    assert tree(output / "pagefind") == clean
    assert not [p for p in search.search_cache_dir(output).iterdir() if p.name.startswith(".")]


def test_an_index_that_cannot_be_put_in_canonical_form_on_disk_is_not_cached(
        site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index_runs: list[list[str]]) -> None:
    """Pagefind writes into the new cache entry, whose renamed files are then written: on a full
    disk the index is still right, and the entry, which would not hold it, is not kept."""
    pages, _ = two_years(site, cached=2016)
    write_bytes = Path.write_bytes

    def full(path: Path, data: bytes) -> int:
        if path.suffix == ".pf_filter":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    cache = tmp_path / "cache"
    assert search.build_search_index(pages, cache) == search.build_search_index(pages, None)
    assert [p.name for p in cache.iterdir()] == []  # neither an entry nor its folder is left
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    index_runs.clear()
    search.build_search_index(pages, cache)
    assert len(index_runs) == 2  # indexed again, and cached this time
    assert len(list(cache.iterdir())) == 2


def two_years(site: Path, cached: int) -> tuple[dict[int, dict[str, bytes]], Path]:
    """A page of 2022 and one of 2016, and a cache holding the index of the `cached` year's."""
    paths = {2022: "statements/2022-05-11-small-group-marrakech/index.html",
             2016: "statements/2016-02-02-small-group-rome/index.html"}
    pages = {year: {path: (site / path).read_bytes()} for year, path in paths.items()}
    cache = site.parent / f"cache-{cached}"
    if not cache.exists():
        search.build_search_index({cached: pages[cached]}, cache)
    return pages, cache


def test_the_cached_years_are_written_while_pagefind_indexes_the_others(
        site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pages, cache = two_years(site, cached=2016)
    shutil.copytree(cache, tmp_path / "cache")
    started, release = threading.Event(), threading.Event()
    run_pagefind = search.run_pagefind

    def held(*args: Path | str) -> None:
        started.set()
        assert release.wait(timeout=60)
        run_pagefind(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "run_pagefind", held)
    with search.SearchIndexing(pages, tmp_path / "cache", jobs=1) as indexing:
        assert started.wait(timeout=60)
        cached = indexing.cached()
        assert not release.is_set()  # Pagefind is still indexing 2022
        release.set()
        files = indexing.result()
    assert sorted(cached) == sorted(path for path in files if not path.startswith("pagefind/2022/"))
    assert search.YEARS_FILE in cached
    assert all(cached[path] == files[path] for path in cached)
    assert files == search.build_search_index(pages, None)


def test_the_years_the_cache_lacks_are_indexed_at_once(site: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Pagefind starts on 2016 while 2022, newer, is still being taken from the cache."""
    pages, cache = two_years(site, cached=2022)
    shutil.copytree(cache, tmp_path / "cache")
    started = threading.Event()
    run_pagefind, open_cache_entry = search.run_pagefind, search.open_cache_entry
    monkeypatch.setattr(search, "run_pagefind", lambda *args: started.set() or run_pagefind(*args))

    def opening(entry: Path) -> dict[str, str] | None:
        assert started.wait(timeout=60)
        return open_cache_entry(entry)

    monkeypatch.setattr(search, "open_cache_entry", opening)
    found = search.build_search_index(pages, tmp_path / "cache", jobs=1)
    assert found == search.build_search_index(pages, None)


def test_no_scratch_folder_is_left_behind(site: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pages, _ = two_years(site, cached=2016)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    rmtree = shutil.rmtree
    monkeypatch.setattr(shutil, "rmtree", lambda *args, **kwargs: time.sleep(0.2) or rmtree(*args, **kwargs))
    search.build_search_index(pages, None, jobs=2)  # removed in the background, and waited for
    assert list(scratch.iterdir()) == []

    def fail(*args: object) -> None:
        raise ContentError([])

    monkeypatch.setattr(search, "run_pagefind", fail)
    with pytest.raises(ContentError):
        search.build_search_index(pages, None, jobs=1)
    assert list(scratch.iterdir()) == []


def test_a_removal_in_another_process_is_done_at_once(tmp_path: Path) -> None:
    """A process forked to write files ends as soon as it is done: a thread it started would
    end with it."""
    clean_up = search.CleanUp()
    doomed = tmp_path / "doomed"
    doomed.mkdir()

    def slowly(path: Path) -> None:
        time.sleep(0.5)
        path.rmdir()

    with workers.in_background(lambda: clean_up(slowly, doomed) or doomed.exists()) as left:
        assert left() is False
    later = tmp_path / "later"
    later.mkdir()
    clean_up(slowly, later)  # here, in a thread, until `wait`
    assert later.exists()
    clean_up.wait()
    assert not later.exists()


def test_the_cache_keeps_the_two_latest_indexes_of_a_year(site: Path, tmp_path: Path) -> None:
    path = "statements/2016-02-02-small-group-rome/index.html"
    page = (site / path).read_bytes()
    assert b"</main>" in page
    cache = tmp_path / "cache"
    cache.mkdir()
    abandoned = cache / ".2016-abandoned"  # the staging folder of a build killed long ago
    abandoned.mkdir()
    os.utime(abandoned, (0, 0))
    filling = cache / ".2016-filling"  # one that another build may still be filling
    filling.mkdir()
    left = cache / f"{search.SCRATCH_PREFIX}left"  # the scratch folder of a build killed long ago
    left.mkdir()
    os.utime(left, (0, 0))
    indexing = cache / f"{search.SCRATCH_PREFIX}indexing"  # another build's, under way
    indexing.mkdir()
    entries: list[set[str]] = []
    for word in (b"first", b"second", b"third"):
        search.build_search_index({2016: {path: page.replace(b"</main>", word + b"</main>")}}, cache)
        entries.append({p.name for p in cache.iterdir()} - {filling.name, indexing.name})
    first, second, third = entries
    assert len(first) == 1 and len(second) == 2 and len(third) == 2
    assert first < second and third == (second - first) | (third - second)  # the oldest went
    assert filling.is_dir() and indexing.is_dir()


def test_an_edited_year_is_indexed_while_the_site_is_laid_out(tmp_path: Path, index_runs: list[list[str]],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """After an edit of a statement's text, Pagefind starts on its year before the rest of the
    site is laid out, and the index is the one a clean build of the same content makes."""
    content, output = tmp_path / "content", tmp_path / "site"
    shutil.copytree(FULL_SITE, content)
    build(content, output)
    edited = content / "statements/2022/2022-05-11-small-group-marrakech.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nThey also discussed QUOKKAWORD.\n",
                      encoding="utf-8")
    started = threading.Event()
    run_pagefind, render_site = search.run_pagefind, build_module.render_site
    monkeypatch.setattr(search, "run_pagefind", lambda *args: started.set() or run_pagefind(*args))

    def laying_out(*args: object, **kwargs: object) -> object:
        assert started.wait(timeout=30), "Pagefind had not started when the site was laid out"
        return render_site(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "render_site", laying_out)
    index_runs.clear()
    build(content, output)
    assert index_runs == [["statements/2022-05-11-small-group-marrakech/index.html"]]
    cache = tmp_path / ".communique-cache/search"
    assert [entry.name.partition("-")[0] for entry in cache.iterdir()].count("2022") == 2  # before and after
    started.clear()
    edited.write_text(edited.read_text(encoding="utf-8") + "\nAnd QUOKKAWORD again.\n", encoding="utf-8")
    build(content, output)
    assert [entry.name.partition("-")[0] for entry in cache.iterdir()].count("2022") == 2  # the oldest went
    monkeypatch.setattr(build_module, "render_site", render_site)
    build(content, tmp_path / "clean", "--clean")
    assert tree(output) == tree(tmp_path / "clean")
    assert any(b"QUOKKAWORD" in gzip.decompress(data) for name, data in tree(output / "pagefind/2022").items()
               if name.startswith("fragment/"))


@pytest.mark.parametrize("forecast_holds", [True, False])
def test_a_year_indexed_ahead_serves_only_for_the_same_pages(site: Path, tmp_path: Path,
                                                               index_runs: list[list[str]],
                                                               forecast_holds: bool) -> None:
    """A year indexed ahead is taken when the year's pages are the ones it indexed; else the year
    is indexed again once it has ended, and the cache keeps no index of the pages forecast."""
    path = "statements/2022-05-11-small-group-marrakech/index.html"
    pages = {2022: {path: (site / path).read_bytes()}}
    forecast = pages[2022][path] if forecast_holds else pages[2022][path].replace(b"</main>", b"KIWI</main>")
    cache, mirror = tmp_path / "cache", tmp_path / "mirror"
    with (search.IndexAhead(2022, {}, {path: forecast}, cache, "en", mirror) as early,
          search.SearchIndexing(pages, cache, mirror=mirror, ahead={2022: early}) as indexing):
        files = indexing.result()
    assert len(index_runs) == (1 if forecast_holds else 2)
    assert files == search.build_search_index(pages, None)
    assert [entry.name for entry in cache.iterdir() if not entry.name.startswith(".")] == [
        f"2022-{search.cache_key(pages[2022], search.pagefind_version(search.find_pagefind()), 'en')}"]
    assert [p.name for p in mirror.iterdir()] == ["2022"]


def test_a_build_that_fails_after_indexing_ahead_leaves_site_and_cache_as_they_were(tmp_path: Path) -> None:
    """An edit of a statement's text starts its year's index at once; when the build then fails
    (here a static file in the way of a page, found when the site is laid out), the live site
    and the search cache are as the last build left them, and the next build is a clean one's."""
    content, output = tmp_path / "content", tmp_path / "site"
    shutil.copytree(FULL_SITE, content)
    build(content, output)
    live, cache = tree(output), tmp_path / ".communique-cache/search"
    entries = {entry.name for entry in cache.iterdir()}
    edited = content / "statements/2022/2022-05-11-small-group-marrakech.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nThey also discussed QUOKKAWORD.\n",
                      encoding="utf-8")
    in_the_way = content / "static/statements/2022-05-11-small-group-marrakech/index.html"
    in_the_way.parent.mkdir(parents=True)
    in_the_way.write_text("<p>a page of my own</p>\n", encoding="utf-8")
    indexed: list[str] = []
    run_pagefind = search.run_pagefind
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "run_pagefind",
                      lambda *args: indexed.append(str(args[1])) or run_pagefind(*args))
        status = main(["build", "--content", str(content), "--output", str(output), "--now", NOW, "--quiet"])
    assert status == 1
    assert len(indexed) == 1  # the year was indexed ahead, and the build failed after
    assert tree(output) == live
    assert {entry.name for entry in cache.iterdir()} == entries
    shutil.rmtree(content / "static")
    build(content, output)
    build(content, tmp_path / "clean", "--clean")
    assert tree(output) == tree(tmp_path / "clean")
