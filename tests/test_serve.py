"""`communique serve` driven for real: a server process, headless Chromium, files edited on disk."""

from __future__ import annotations

import datetime as dt
import gc
import re
import shutil
import subprocess
import sys
import threading
import time
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from communique import build, serve
from communique.cli import main
from communique.devserver import SiteState
from communique.models import Statement
from communique.options import Options
from communique.serve import DevBuilder, collect_garbage
from communique.stamp import default_theme_dir
from tests.conftest import FULL_SITE, NOW

STATEMENT = "statements/2024/2024-07-01-chairs-statement.md"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A copy of the fixture site served on a free port: (base URL, content folder)."""
    content = tmp_path / "content"
    shutil.copytree(FULL_SITE, content)
    process = subprocess.Popen(
        [sys.executable, "-m", "communique", "serve", "--content", str(content), "--port", "0",
         "--now", NOW],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert process.stderr is not None
    url = None
    deadline = time.monotonic() + 30
    while url is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        if match := re.search(r"at (http://127\.0\.0\.1:\d+/)", line):
            url = match.group(1)
    assert url, "the server did not start"
    drain = threading.Thread(target=process.stderr.read, daemon=True)  # never let the pipe fill
    drain.start()
    try:
        yield url, content
    finally:
        process.terminate()
        process.wait(10)
        drain.join(5)
        process.stderr.close()


def wait_for_text(page: Page, text: str) -> None:
    page.wait_for_function("t => document.body && document.body.innerText.includes(t)", arg=text,
                           timeout=15_000)


def test_edit_reload_error_and_recovery(browser: Browser, served: tuple[str, Path]) -> None:
    url, content = served
    page = browser.new_page()
    page.goto(url + "statements/2024-07-01-chairs-statement/")
    wait_for_text(page, "Japan, as chair")
    source = content / STATEMENT
    original = source.read_text()

    source.write_text(original.replace("Japan, as chair", "Japan, holding the chair"))
    wait_for_text(page, "Japan, holding the chair")

    source.write_text(original.replace("issuers: [JP]", "issuers: [Japn]"))
    wait_for_text(page, "The site could not be built")
    body = page.inner_text("body")
    assert f"{content.name}/{STATEMENT}, line 5, column 11" in body
    assert "unknown country or organisation 'Japn'" in body and "did you mean Japan?" in body
    other = browser.new_page()
    other.goto(url + "statements/2016-02-02-small-group-rome/")
    assert "this is the last good version of the page" in other.inner_text("body")
    assert "Ministers met in Rome" in other.inner_text("body")
    other.close()

    source.write_text(original)
    wait_for_text(page, "Japan, as chair")
    assert "could not be built" not in page.inner_text("body")
    page.close()


def test_several_saves_give_one_rebuild(served: tuple[str, Path]) -> None:
    url, content = served
    source = content / STATEMENT
    with urllib.request.urlopen(url) as response:
        first = response.read().decode()
    version = int(re.search(r'data-version="(\d+)"', first).group(1))  # type: ignore[union-attr]
    original = source.read_text()
    for n in range(5):
        source.write_text(original.replace("maritime security.", f"maritime security, save {n}."))
        time.sleep(0.005)
    time.sleep(1.0)
    with urllib.request.urlopen(url + "statements/2024-07-01-chairs-statement/") as response:
        page = response.read().decode()
    assert "maritime security, save 4." in page
    assert int(re.search(r'data-version="(\d+)"', page).group(1)) == version + 1  # type: ignore[union-attr]


def test_template_error_is_reported_with_its_line(served: tuple[str, Path], browser: Browser) -> None:
    url, content = served
    theme = content / "theme"
    theme.mkdir()
    (content / "site.yaml").write_text((content / "site.yaml").read_text() + "theme_dir: theme\n")
    page = browser.new_page()
    page.goto(url)
    wait_for_text(page, "Fixture Statements")
    broken = '{% extends "base.html" %}\n{% block main %}\n{% if %}\n{% endblock %}\n'
    (theme / "home.html").write_text(broken)
    wait_for_text(page, "The site could not be built")
    assert re.search(r"theme/home\.html, line 3", page.inner_text("body"))
    (theme / "home.html").unlink()
    wait_for_text(page, "Latest statements")
    home = (default_theme_dir() / "home.html").read_text()
    for word in ("First", "Second"):  # an override edited in place, while the site builds fine
        (theme / "home.html").write_text(home.replace("Latest statements", f"{word} home"))
        wait_for_text(page, f"{word} home")
    (theme / "note.txt").write_text("First note")  # a template the watcher knows by its folder
    (theme / "home.html").write_text(home.replace('{{ _("Latest statements") }}', '{% include "note.txt" %}'))
    wait_for_text(page, "First note")
    (theme / "note.txt").write_text("Second note")
    wait_for_text(page, "Second note")
    page.close()


def test_new_and_deleted_files_are_picked_up(browser: Browser, served: tuple[str, Path]) -> None:
    url, content = served
    page = browser.new_page()
    page.goto(url + "archive/2024/")
    wait_for_text(page, "Chair's Statement on Maritime Security")
    new = content / "statements/2024/2024-12-01-new.md"
    new.write_text("---\ntitle: A Brand New Statement\ndate: 2024-12-01\nissuers: [FR]\n---\nNew.\n")
    wait_for_text(page, "A Brand New Statement")
    new.unlink()
    page.wait_for_function("() => !document.body.innerText.includes('A Brand New Statement')",
                           timeout=15_000)
    page.close()


def test_a_session_starts_from_what_the_last_build_parsed(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    content = tmp_path / "content"
    shutil.copytree(FULL_SITE, content)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--content", str(content), "--now", NOW, "--no-search", "--quiet"]) == 0
    parsed: list[str] = []
    original = build.parse_statement_file
    monkeypatch.setattr(build, "parse_statement_file",
                        lambda source, *rest: parsed.append(source.relative) or original(source, *rest))
    options = Options(content=content, now=dt.datetime.fromisoformat(NOW.replace("Z", "+00:00")),
                      base_url="http://127.0.0.1:8000/")
    builder = DevBuilder(options, SiteState(), log=lambda line: None)
    assert builder.rebuild()
    assert parsed == []  # every file came from the store the build wrote
    assert builder.options.jobs == 1  # later builds, with the server's threads running, never fork
    source = content / STATEMENT
    source.write_text(source.read_text().replace("Japan, as chair", "Japan, holding the chair"))
    assert builder.rebuild()
    assert parsed == [STATEMENT]


def test_the_time_of_a_rebuild_leaves_out_the_pause_before_the_rest_is_rendered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = tmp_path / "content"
    shutil.copytree(FULL_SITE, content)
    monkeypatch.chdir(tmp_path)
    options = Options(content=content, now=dt.datetime.fromisoformat(NOW.replace("Z", "+00:00")),
                      base_url="http://127.0.0.1:8000/")
    lines: list[str] = []
    builder = DevBuilder(options, SiteState(), log=lines.append)
    assert builder.rebuild()
    # The open tabs reload during the pause, then the rest is rendered: here an hour later.
    clock = time.perf_counter
    monkeypatch.setattr(serve, "time", types.SimpleNamespace(perf_counter=lambda: clock() + 3600.0))
    builder.complete(stop=lambda: False)
    ready = [int(found.group(1)) for line in lines
             if (found := re.fullmatch(r"site ready in (\d+) ms", line))]
    rebuilt = re.fullmatch(r"rebuilt in (\d+) ms: \d+ statement\(s\), (\d+) page\(s\) rendered, .*",
                           lines[-1])
    assert len(ready) == 1 and rebuilt is not None
    assert ready[0] <= int(rebuilt.group(1)) < ready[0] + 60_000  # not the hour
    assert int(rebuilt.group(2)) > 0


def test_a_long_session_keeps_only_the_current_statements(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    content = tmp_path / "content"
    shutil.copytree(FULL_SITE, content)
    monkeypatch.chdir(tmp_path)
    options = Options(content=content, now=dt.datetime.fromisoformat(NOW.replace("Z", "+00:00")),
                      base_url="http://127.0.0.1:8000/")
    builder = DevBuilder(options, SiteState(), log=lambda line: None)
    source = content / STATEMENT
    live: list[int] = []
    try:
        for n in range(4):  # a statement added each time: every file is checked again
            (source.parent / f"added-{n}.md").write_text(
                source.read_text().replace("aliases: [maritime-security-2024]\n", ""))
            assert builder.rebuild()
            builder.complete(stop=lambda: False)
            collect_garbage()
            gc.unfreeze()  # to see what collect_garbage froze, as it left it
            live.append(sum(1 for o in gc.get_objects() if isinstance(o, Statement)))
            gc.freeze()
    finally:
        gc.unfreeze()
    assert live[-1] == live[0] + 3  # the three added: none of an earlier build's is left
