"""Incremental builds: whatever the edits, the site equals a clean build of the final content.

A build reuses the previous one in three ways (see `communique.cache` and `communique.stamp`):
it stops at once when no input changed, links a file whose key is unchanged, and links a file
whose bytes came out the same. Hypothesis drives sequences of edits, additions, deletions and
renames of statements and of a template, building after each, and compares every file of the
output with a clean build of the final state, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import itertools
import os
import pickle
import shutil
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import jinja2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from communique import build as build_module
from communique import cache, opendata, stamp, validate, workers, write
from communique.build import check_site
from communique.cli import main
from communique.discover import SourceFile
from communique.incremental import ParseCache
from communique.models import Body
from communique.options import Options
from communique.problems import ContentError, Problem
from tests.conftest import NOW, ROOT, SITE_YAML

T = TypeVar("T")
HOSTS = ("IT", "FR", "JP", "BR")
MEETINGS = ("Rome Talks", "Pacific Forum")


def statement_text(n: int, host: int, year: int, title: str, extra: str = "") -> str:
    meeting = MEETINGS[n % len(MEETINGS)]
    return (f"---\ntitle: {title}\ndate: {year}-0{1 + n % 9}-1{n % 10}\ntype: joint-statement\n"
            f"issuers: [US, {HOSTS[host]}]\nmeeting:\n  name: {meeting}\n  hosts: [{HOSTS[host]}]\n"
            f"topics: [trade]\n---\nThe text of statement {n}.{extra}\n")


TRANSLATION = ("---\ntitle: Déclaration 0\nlang: fr\ntranslation_of: t-0\n---\nLe texte de la "
               "déclaration 0.\n")
"""A translation of `statements/translated/t-0.md`, in `statements/translated/t-0-fr.md`."""


def statements(count: int) -> dict[str, str]:
    """`count` statement files, s-0 to s-{count - 1}, for `write_site`."""
    return {f"statements/s-{n}.md": statement_text(n, n % 4, 2020, f"S {n}") for n in range(count)}


def tree(folder: Path) -> dict[str, str]:
    """Every file below `folder` by its relative path, as a digest of its bytes."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


class Editor:
    """Changes a content folder the way an editor would."""

    def __init__(self, content: Path) -> None:
        self.content = content
        self.statements = content / "statements"
        self.counter = 0

    def files(self) -> list[Path]:
        return sorted(self.statements.glob("*.md"))

    def add(self, host: int, year: int) -> None:
        self.counter += 1
        n = 100 + self.counter
        (self.statements / f"added-{n}.md").write_text(statement_text(n, host, year, f"Added {n}"))

    def edit_body(self, pick: int) -> None:
        if files := self.files():
            path = files[pick % len(files)]
            path.write_text(path.read_text().rstrip("\n") + " More text.\n")

    def edit_translated_body(self, pick: int) -> None:
        """The text of a statement that has a translation, or of the translation."""
        path = self.statements / "translated" / ("t-0.md", "t-0-fr.md")[pick % 2]
        path.write_text(path.read_text().rstrip("\n") + " More text.\n")

    def link_body(self, pick: int) -> None:
        """A link to another statement (one no edit deletes or renames), at the end of a text."""
        if files := self.files():
            path = files[pick % len(files)]
            path.write_text(path.read_text().rstrip("\n") + " See [this](translated/t-0.md).\n")

    def edit_title(self, pick: int) -> None:
        if files := self.files():
            path = files[pick % len(files)]
            text = path.read_text()
            path.write_text(text.replace("title: ", "title: New ", 1))

    def move_host(self, pick: int, host: int) -> None:
        if files := self.files():
            path = files[pick % len(files)]
            text = path.read_text()
            for old in HOSTS:
                text = text.replace(f"[{old}]", f"[{HOSTS[host]}]")
            path.write_text(text)

    def delete(self, pick: int) -> None:
        if len(files := self.files()) > 1:
            files[pick % len(files)].unlink()

    def rename(self, pick: int) -> None:
        if files := self.files():
            self.counter += 1
            path = files[pick % len(files)]
            path.rename(path.with_name(f"renamed-{self.counter}.md"))

    def touch(self, pick: int) -> None:
        if files := self.files():
            path = files[pick % len(files)]
            path.write_bytes(path.read_bytes())  # same bytes, new time

    def edit_template(self, pick: int) -> None:
        footer = self.content / "theme" / "base.html"
        text = footer.read_text()
        footer.write_text(text.replace("</footer>", f"<p>Edition {pick}</p></footer>", 1))


EDITS = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 3), st.integers(2019, 2024)),
    st.tuples(st.just("edit_body"), st.integers(0, 20)),
    st.tuples(st.just("edit_translated_body"), st.integers(0, 1)),
    st.tuples(st.just("link_body"), st.integers(0, 20)),
    st.tuples(st.just("edit_title"), st.integers(0, 20)),
    st.tuples(st.just("move_host"), st.integers(0, 20), st.integers(0, 3)),
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("rename"), st.integers(0, 20)),
    st.tuples(st.just("touch"), st.integers(0, 20)),
    st.tuples(st.just("edit_template"), st.integers(0, 1000)),
)

TEXT_EDITS = st.one_of(
    st.tuples(st.just("edit_body"), st.integers(0, 20)),
    st.tuples(st.just("edit_translated_body"), st.integers(0, 1)),
)
"""The edits of a statement's text alone, which start its year's search index ahead of the build."""


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Share even a small site between two processes, as a large one is."""
    monkeypatch.setattr(workers, "MIN_SHARE", 1)


def build(content: Path, output: Path, *extra: str) -> None:
    """A build with two processes; without the search index unless `extra` has `--search`."""
    search = "--search" in extra
    status = main(["build", "--content", str(content), "--output", str(output), "--now", NOW,
                   *([] if search else ["--no-search"]), "--quiet", "--jobs", "2",
                   *(flag for flag in extra if flag != "--search")])
    assert status == 0


def clean_build(content: Path, tmp_path: Path, *extra: str) -> dict[str, str]:
    """The site a clean build of a copy of `content` gives (in `tmp_path / "clean"`), as `tree`."""
    shutil.copytree(content, tmp_path / "again")
    build(tmp_path / "again", tmp_path / "clean", *extra)
    return tree(tmp_path / "clean")


@pytest.mark.usefixtures("forking")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(EDITS, min_size=1, max_size=6))
def test_incremental_builds_equal_a_clean_build(tmp_path_factory: pytest.TempPathFactory,
                                                edits: list[tuple[object, ...]]) -> None:
    builds_equal_a_clean_build(tmp_path_factory.mktemp("incremental"), edits)


@pytest.mark.usefixtures("forking")
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.one_of(TEXT_EDITS, EDITS), min_size=2, max_size=4))
def test_incremental_builds_with_search_equal_a_clean_build(tmp_path_factory: pytest.TempPathFactory,
                                                            edits: list[tuple[object, ...]]) -> None:
    """The same with the search index, which an edit of a statement's text has indexed ahead of
    the rest of the build (see `build.index_ahead`)."""
    builds_equal_a_clean_build(tmp_path_factory.mktemp("incremental-search"), edits, "--search")


def builds_equal_a_clean_build(root: Path, edits: list[tuple[object, ...]], *flags: str) -> None:
    """After each of the `edits`, an incremental build gives the site a clean build gives."""
    content = root / "content"
    (content / "statements").mkdir(parents=True)
    (content / "site.yaml").write_text(SITE_YAML + "theme_dir: theme\n")
    (content / "theme").mkdir()
    shutil.copy(ROOT / "templates" / "base.html", content / "theme" / "base.html")
    editor = Editor(content)
    for n in range(5):
        (content / "statements" / f"s-{n}.md").write_text(
            statement_text(n, n % len(HOSTS), 2020 + n % 3, f"Statement {n}"))
    translated = content / "statements" / "translated"  # out of reach of the edits that delete and rename
    translated.mkdir()
    (translated / "t-0.md").write_text(statement_text(0, 1, 2021, "Translated 0"))
    (translated / "t-0-fr.md").write_text(TRANSLATION)
    build(content, root / "site", *flags)
    for step, (name, *args) in enumerate(edits):
        edit: Callable[..., None] = getattr(editor, str(name))
        edit(*args)
        live, folder = tree(root / "site"), (root / "site").stat().st_ino
        build(content, root / "site", *flags)
        if (root / "site").stat().st_ino != folder:  # a new site, so the one it replaced is the spare:
            assert tree(cache.spare_path(root / "site")) == live  # not a byte of it was changed
        # After every edit, not only the last: a later edit that changes every file would hide
        # a file an earlier build left as it was when it should have changed it.
        build(content, root / f"clean-{step}", "--clean", *flags)
        assert tree(root / "site") == tree(root / f"clean-{step}")


def test_an_edit_brings_the_spare_site_up_to_date(write_site: Callable[..., Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    content = write_site(statements(20))
    site = tmp_path / "site"
    build(content, site)
    links: list[str] = []
    link = os.link
    for n in (1, 2):
        (content / f"statements/s-{n}.md").write_text(statement_text(n, n % 4, 2020, f"S {n}", " Edited."))
        spare = cache.spare_path(site)
        spare_folder = spare.stat().st_ino if spare.exists() else None
        links.clear()
        monkeypatch.setattr(os, "link", lambda source, target: links.append(target) or link(source, target))
        build(content, site, "--jobs", "1")
        monkeypatch.undo()
        files = len(tree(site))
        if spare_folder is None:  # a fresh folder: every unchanged file linked from the live site
            assert len(links) > files / 2
        else:  # the spare site: its files are the live site's but for the few the last edit changed
            assert site.stat().st_ino == spare_folder
            assert 0 < len(links) < files / 10
    assert tree(site) == clean_build(content, tmp_path)


def test_no_spare_is_used_where_names_ignore_case(write_site: Callable[..., Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert write._case_sensitive(tmp_path)  # as Linux file systems are
    content = write_site(statements(6))
    spare = spare_after_edits(content, tmp_path / "site")
    monkeypatch.setattr(write, "_case_sensitive", lambda folder: False)
    links: list[str] = []
    link = os.link
    monkeypatch.setattr(os, "link", lambda source, target: links.append(target) or link(source, target))
    (content / "statements/s-3.md").write_text(statement_text(3, 3, 2020, "S 3", " Edited."))
    build(content, tmp_path / "site", "--jobs", "1")
    assert len(links) > len(tree(tmp_path / "site")) / 2  # a fresh folder, each unchanged file linked
    assert spare.is_dir()  # the site just replaced


def spare_after_edits(content: Path, site: Path, edits: int = 3) -> Path:
    """The spare site after `edits` builds of edits to one statement."""
    for n in range(edits):
        (content / "statements/s-0.md").write_text(statement_text(0, 0, 2020, "S 0", " Edited." * n))
        build(content, site)
    return cache.spare_path(site)


def test_a_body_edit_hands_on_only_the_files_that_name_it(write_site: Callable[..., Path], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With the spare site to bring up to date, the files whose keys do not name the edited
    statement are kept where they are at once (see `write.keep_in_place`): none of them is
    handed to a process to place."""
    content = write_site(statements(12))
    site = tmp_path / "site"
    spare_after_edits(content, site)
    placed: list[str] = []
    place = write._place
    monkeypatch.setattr(write, "_place", lambda *args: placed.append(args[-1]) or place(*args))
    (content / "statements/s-5.md").write_text(statement_text(5, 1, 2020, "S 5", " Edited."))
    build(content, site, "--jobs", "1")
    files = tree(site)
    assert "statements/s-5/index.html" in placed and not any("s-6" in path for path in placed)
    assert len(placed) < 20 < len(files)
    assert files == clean_build(content, tmp_path)


@pytest.mark.parametrize("written_into", [True, False])
def test_a_live_file_changed_by_hand_is_put_right_by_a_body_edit(write_site: Callable[..., Path],
                                                                 tmp_path: Path, written_into: bool) -> None:
    """A page of the live site changed by hand: written into, which its link in the spare site
    shows too (same inode, another time), so that the page is made again; or replaced by
    another file, when the spare's link to the recorded file is kept. Either way, a body edit to
    another statement leaves the page as a clean build has it."""
    content = write_site(statements(6))
    site = tmp_path / "site"
    spare_after_edits(content, site)
    page = site / "statements/s-3/index.html"
    assert (cache.spare_path(site) / "statements/s-3/index.html").stat().st_ino == page.stat().st_ino
    if written_into:
        with page.open("r+b") as opened:
            opened.write(b"defaced")
    else:
        page.unlink()
        page.write_text("defaced")
    (content / "statements/s-1.md").write_text(statement_text(1, 1, 2020, "S 1", " Edited."))
    build(content, site)
    assert tree(site) == clean_build(content, tmp_path)


def test_the_output_paths_are_checked_again_only_when_they_change(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    content = write_site(statements(3))
    checked: list[int] = []
    check = build_module.check_output_paths
    monkeypatch.setattr(build_module, "check_output_paths", lambda paths, output: (
        checked.append(len(paths)) or check(paths, output)))
    build(content, tmp_path / "site")
    (content / "statements/s-1.md").write_text(statement_text(1, 1, 2020, "S 1", " Edited."))
    build(content, tmp_path / "site")
    assert len(checked) == 1  # the same paths as the last build's
    (content / "static").mkdir()
    (content / "static/INDEX.HTML").write_text("<p>mine</p>")
    status = main(["build", "--content", str(content), "--output", str(tmp_path / "site"), "--now", NOW,
                   "--no-search", "--quiet"])
    assert status == 1 and "another file of the site has the same path" in capsys.readouterr().err


def test_a_spare_site_changed_by_hand_is_still_brought_up_to_date(write_site: Callable[..., Path],
                                                                  tmp_path: Path) -> None:
    content = write_site(statements(6))
    site = tmp_path / "site"
    spare = spare_after_edits(content, site)
    (spare / "stray.html").write_text("stray")
    shutil.rmtree(spare / "statements/s-1")
    (spare / "statements/s-1").write_text("a file where a folder was")
    (spare / "feed.xml").unlink()
    (spare / "feed.xml").mkdir()
    (spare / "feed.xml/inside").write_text("a folder where a file was")
    (spare / "statements/s-2/index.html").unlink()
    (spare / "statements/s-2/index.html").symlink_to(content / "statements/s-2.md")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    shutil.rmtree(spare / "static")
    (spare / "static").symlink_to(outside, target_is_directory=True)
    before, spare_folder = (content / "statements/s-2.md").read_bytes(), spare.stat().st_ino
    (content / "statements/s-3.md").write_text(statement_text(3, 3, 2020, "S 3", " Edited."))
    build(content, site)
    assert site.stat().st_ino == spare_folder
    assert (content / "statements/s-2.md").read_bytes() == before  # links in the spare lead nowhere
    assert tree(outside) == {"keep.txt": hashlib.sha256(b"keep").hexdigest()}
    assert tree(site) == clean_build(content, tmp_path)


def test_the_spare_site_is_listed_by_another_process_while_the_content_is_read(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = write_site(statements(6))
    site = tmp_path / "site"
    spare = spare_after_edits(content, site)
    listers = tmp_path / "listers"
    real = write.folder_contents

    def listing(folder: Path) -> write.Contents:
        with listers.open("a") as out:
            out.write(f"{os.getpid()} {folder}\n")
        return real(folder)

    monkeypatch.setattr(build_module, "folder_contents", listing)
    monkeypatch.setattr(write, "folder_contents", listing)
    (content / "statements/s-3.md").write_text(statement_text(3, 3, 2020, "S 3", " Edited."))
    build(content, site)
    listed = [line.split() for line in listers.read_text().splitlines()]
    assert len(listed) == 1, listed  # listed once
    [(pid, folder)] = listed
    assert folder == str(spare)  # where it is, before it is moved to be brought up to date
    assert int(pid) != os.getpid()
    assert tree(site) == clean_build(content, tmp_path)


@pytest.mark.parametrize("fork", [True, False])
def test_work_in_the_background_gives_its_result_or_none(fork: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "can_fork", lambda: fork)
    started = []
    with workers.in_background(lambda: started.append(1) or len(started)) as count:
        started.append(2)  # after the work started, in this process or its copy
        assert count() == 1
    with workers.in_background(lambda: os.getpid()) as result:
        assert (result() != os.getpid()) == fork
        assert result() == result()  # asked twice, sent once
    with workers.in_background(lambda: 1 // 0) as failed:
        assert failed() is None


def test_work_still_at_work_ends_with_its_block() -> None:
    with workers.in_background(lambda: time.sleep(60)):
        started = time.monotonic()
    assert time.monotonic() - started < 30  # the block ends the child that is still at work


@pytest.mark.usefixtures("forking")
@pytest.mark.parametrize("failure, kept, jobs", [
    (KeyboardInterrupt(), True, "1"),
    (OSError(errno.ENOSPC, "No space left on device"), False, "1"),
    (OSError(errno.ENOSPC, "No space left on device"), False, "2"),  # in whichever process
])
def test_a_build_that_fails_leaves_the_site_as_it_was(failure: BaseException, kept: bool, jobs: str,
                                                      write_site: Callable[..., Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    content = write_site(statements(6))
    site = tmp_path / "site"
    spare = spare_after_edits(content, site)
    live, spare_folder = tree(site), spare.stat().st_ino
    (content / "statements/s-3.md").write_text(statement_text(3, 3, 2020, "S 3", " Edited."))

    parent, written = os.getpid(), write._write
    failed = tmp_path / "failed"

    def fail(*args: Any, **kwargs: Any) -> write.Written:
        if jobs == "2" and os.getpid() == parent:  # with two processes, the forked one fails
            deadline = time.monotonic() + 30
            while not failed.exists() and time.monotonic() < deadline:  # it has files left to take
                time.sleep(0.01)
            return written(*args, **kwargs)
        failed.touch()
        raise failure
    monkeypatch.setattr(write, "_write", fail)
    try:  # interrupted, the spare is kept; after a disk error (which it may have caused), not
        status = main(["build", "--content", str(content), "--output", str(site), "--now", NOW,
                       "--no-search", "--quiet", "--jobs", jobs])
    except KeyboardInterrupt:
        status = 130
    assert status == (130 if kept else 1)
    if not kept:
        err = capsys.readouterr().err
        assert "No space left on device" in err and "bug in communique" not in err
    monkeypatch.undo()
    assert tree(site) == live
    assert (spare.exists() and spare.stat().st_ino == spare_folder) == kept
    build(content, site)
    if kept:
        assert site.stat().st_ino == spare_folder
    assert tree(site) == clean_build(content, tmp_path)


def test_an_unchanged_site_is_left_as_it_is(write_site: Callable[..., Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    content = write_site({"statements/one.md": statement_text(1, 0, 2020, "One")})
    build(content, tmp_path / "site")
    os.utime(content / "statements/one.md", ns=(1, 1))  # long before any stamp: not racy
    build(content, tmp_path / "site")
    before = {p: p.stat().st_ino for p in (tmp_path / "site").rglob("*")}
    capsys.readouterr()
    assert main(["build", "--content", str(content), "--output", str(tmp_path / "site"),
                 "--now", NOW, "--no-search"]) == 0
    assert "nothing changed since the last build" in capsys.readouterr().err
    assert {p: p.stat().st_ino for p in (tmp_path / "site").rglob("*")} == before


def test_the_stamps_taken_in_one_walk_are_those_taken_one_by_one(write_site: Callable[..., Path]) -> None:
    """`freshness` takes the last build's stamp and this one's in one walk: each is the stamp
    `inputs_stamp` takes alone, a file counting by its bytes in those whose instant it is not
    older than."""
    content = write_site(statements(3))
    for n, age in enumerate((1, 5, 9)):  # seconds before now
        os.utime(content / f"statements/s-{n}.md", ns=(time.time_ns() - age * 10**9,) * 2)
    options = Options(content=content, output=content.parent / "site")
    instants = (time.time_ns() - 7 * 10**9, time.time_ns() - 3 * 10**9, time.time_ns() + 10**9)
    alone = tuple(stamp.inputs_stamp(options, (), instant) for instant in instants)
    assert len(set(alone)) == 3  # each instant takes another set of files by their bytes
    assert stamp.inputs_stamps(options, (), instants) == alone
    assert stamp.inputs_stamps(options, (), instants[::-1]) == alone[::-1]


def test_an_edit_in_the_same_clock_tick_is_seen(write_site: Callable[..., Path], tmp_path: Path) -> None:
    content = write_site({"statements/one.md": statement_text(1, 0, 2020, "One")})
    source = content / "statements/one.md"
    build(content, tmp_path / "site")
    stamp = source.stat()
    source.write_text(source.read_text().replace("One", "Two"))  # same size, same inode
    os.utime(source, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # and the same time
    build(content, tmp_path / "site")
    assert "Two" in (tmp_path / "site/statements/one/index.html").read_text()


def test_an_embargo_that_lifts_is_published(write_site: Callable[..., Path], tmp_path: Path) -> None:
    text = statement_text(1, 0, 2020, "Embargoed").replace("topics:",
                                                           "embargo: 2026-06-01T00:00:00Z\ntopics:")
    content = write_site({"statements/one.md": text})
    os.utime(content / "statements/one.md", ns=(1, 1))
    build(content, tmp_path / "site")
    assert not (tmp_path / "site/statements/one").exists()
    assert main(["build", "--content", str(content), "--output", str(tmp_path / "site"), "--quiet",
                 "--no-search", "--now", "2026-06-01T00:00:01Z"]) == 0
    assert (tmp_path / "site/statements/one/index.html").is_file()
    build(content, tmp_path / "site")  # --now back before the embargo: withheld again
    assert not (tmp_path / "site/statements/one").exists()


def test_a_damaged_cache_is_ignored(write_site: Callable[..., Path], tmp_path: Path) -> None:
    content = write_site({"statements/one.md": statement_text(1, 0, 2020, "One")})
    build(content, tmp_path / "site")
    clean = tree(tmp_path / "site")
    for cached in (tmp_path / ".communique-cache/build").rglob("*.*"):
        if cached.is_dir():
            continue
        data = bytearray(cached.read_bytes())
        data[len(data) // 2] ^= 0xFF
        cached.write_bytes(bytes(data))
    (content / "statements/one.md").write_text(statement_text(1, 1, 2021, "One"))
    build(content, tmp_path / "site")
    (content / "statements/one.md").write_text(statement_text(1, 0, 2020, "One"))
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean


ANNEXED = statement_text(0, 0, 2020, "Annexed").replace(
    "topics:", "attachments:\n  - {file: annex.pdf, title: Annex}\ntopics:")
"""A statement with an attachment, `annex.pdf` beside it."""


def test_an_attachment_changed_alone_is_seen_by_the_next_build(write_site: Callable[..., Path],
                                                                tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A page shows its attachments' sizes, and a missing one is an error: what the statement
    file's parse found of them is not taken from the last build once they changed."""
    content = write_site({**statements(3), "statements/annexed.md": ANNEXED})
    annex = content / "statements/annex.pdf"
    annex.write_bytes(b"%PDF" + b"x" * 5000)
    build(content, tmp_path / "site")
    annex.write_bytes(b"%PDF" + b"x" * 3_000_000)
    build(content, tmp_path / "site")
    assert "(PDF, 3.0 MB)" in (tmp_path / "site/statements/annexed/index.html").read_text()
    annex.unlink()
    assert main(["build", "--content", str(content), "--output", str(tmp_path / "site"), "--now", NOW,
                 "--no-search", "--quiet"]) == 1
    assert "attachment not found: 'annex.pdf'" in capsys.readouterr().err
    annex.write_bytes(b"%PDF" + b"x" * 1000)
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean_build(content, tmp_path)


def test_an_attachment_put_beside_the_file_is_seen_by_the_next_build(write_site: Callable[..., Path],
                                                                     tmp_path: Path) -> None:
    """An attachment is looked for beside the statement, then in a folder named after it: one
    put beside it later is the one published, whatever the statement's own file."""
    content = write_site({**statements(3), "statements/annexed.md": ANNEXED})
    (content / "statements/annexed").mkdir()
    (content / "statements/annexed/annex.pdf").write_bytes(b"%PDF" + b"x" * 5000)
    build(content, tmp_path / "site")
    (content / "statements/annex.pdf").write_bytes(b"%PDF" + b"x" * 3_000_000)
    build(content, tmp_path / "site")
    assert "(PDF, 3.0 MB)" in (tmp_path / "site/statements/annexed/index.html").read_text()
    assert tree(tmp_path / "site") == clean_build(content, tmp_path)


def test_a_body_edit_after_a_failed_build_shows_the_front_matter_of_before(
        write_site: Callable[..., Path], tmp_path: Path) -> None:
    """What changed since the last build that succeeded counts, not since the last one that
    read the files: a title changed in a build that failed, then a body edit."""
    content = write_site(statements(4))
    build(content, tmp_path / "site")
    path = content / "statements/s-1.md"
    text = path.read_text()
    path.write_text(text.replace("title: S 1", "title: Renamed").replace("The text of statement 1.", ""))
    assert main(["build", "--content", str(content), "--output", str(tmp_path / "site"), "--now", NOW,
                 "--no-search", "--quiet"]) == 1  # a statement without text
    path.write_text(text.replace("title: S 1", "title: Renamed") + "More text.\n")
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean_build(content, tmp_path)


def test_a_body_edit_to_an_undated_draft_on_another_day(write_site: Callable[..., Path],
                                                        tmp_path: Path) -> None:
    """A draft without a date stands in the day of the build: its lists change with the day,
    even when its text alone was edited."""
    undated = statement_text(9, 1, 2024, "Undated").replace("date: 2024-01-19\n", "draft: true\n")
    content = write_site({**statements(4), "statements/undated.md": undated})
    build(content, tmp_path / "site", "--drafts", "--now", "2024-03-01T12:00:00Z")
    (content / "statements/undated.md").write_text(undated + "More text.\n")
    next_day = ("--drafts", "--now", "2024-03-02T12:00:00Z")
    build(content, tmp_path / "site", *next_day)
    assert tree(tmp_path / "site") == clean_build(content, tmp_path, *next_day)


def test_two_files_of_the_same_bytes_are_two_statements(write_site: Callable[..., Path],
                                                        tmp_path: Path) -> None:
    """A file copied to start another statement: each keeps its own record in the open data,
    and its own page in the dev server, until one is edited."""
    content = write_site(statements(6))
    shutil.copy(content / "statements/s-3.md", content / "statements/s-3-copy.md")
    build(content, tmp_path / "site")
    (content / "statements/s-0.md").write_text(statement_text(0, 0, 2020, "S 0", " Edited."))
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean_build(content, tmp_path)
    options = Options(content=content, output=tmp_path / "served", now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    parsed = ParseCache()
    for _ in range(2):  # the second time, statements are taken from the first build's
        ids = [s.id for s in check_site(options, cache=parsed).index.statements]
    assert sorted(ids) == sorted(["s-0", "s-1", "s-2", "s-3", "s-3-copy", "s-4", "s-5"])


def test_a_content_folder_reached_through_a_link_that_moves(write_site: Callable[..., Path],
                                                            tmp_path: Path) -> None:
    """`current -> releases/1`, then `releases/2` with the same statement file and another
    attachment: the build reads the files where the link now leads."""
    first = write_site({**statements(3), "statements/annexed.md": ANNEXED})
    (first / "statements/annex.pdf").write_bytes(b"%PDF" + b"x" * 5000)
    second = tmp_path / "second"
    shutil.copytree(first, second)
    (second / "statements/annex.pdf").write_bytes(b"%PDF" + b"x" * 3_000_000)
    current = tmp_path / "current"
    current.symlink_to(first, target_is_directory=True)
    build(current, tmp_path / "site")
    current.unlink()
    current.symlink_to(second, target_is_directory=True)
    build(current, tmp_path / "site")
    assert "(PDF, 3.0 MB)" in (tmp_path / "site/statements/annexed/index.html").read_text()
    assert tree(tmp_path / "site") == clean_build(second, tmp_path)


def test_the_dev_server_sees_an_attachment_changed_alone(write_site: Callable[..., Path],
                                                         tmp_path: Path) -> None:
    content = write_site({**statements(3), "statements/annexed.md": ANNEXED})
    annex = content / "statements/annex.pdf"
    annex.write_bytes(b"%PDF" + b"x" * 5000)
    options = Options(content=content, output=tmp_path / "site", now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    parsed = ParseCache()
    sizes = []
    for size in (5000, 3_000_000):
        annex.write_bytes(b"%PDF" + b"x" * size)
        checked = check_site(options, cache=parsed)
        sizes += [a.size for s in checked.index.statements for a in s.attachments]
    assert sizes == [5004, 3_000_004]


def test_a_file_changed_by_hand_in_the_output_is_rewritten(write_site: Callable[..., Path],
                                                           tmp_path: Path) -> None:
    content = write_site({"statements/one.md": statement_text(1, 0, 2020, "One"),
                          "statements/two.md": statement_text(2, 0, 2020, "Two")})
    build(content, tmp_path / "site")
    clean = tree(tmp_path / "site")
    page = tmp_path / "site/statements/one/index.html"
    page.write_text("defaced")
    (content / "statements/two.md").write_text(statement_text(2, 1, 2020, "Two"))
    build(content, tmp_path / "site")  # two changed; one is rendered again, not linked
    assert page.read_bytes() != b"defaced"
    (content / "statements/two.md").write_text(statement_text(2, 0, 2020, "Two"))
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean


def test_templates_are_compiled_once_for_all_builds(write_site: Callable[..., Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A build compiles only the templates whose source changed since the last one, and those
    of a base path or language it has not compiled them for."""
    files = statements(3)
    files["theme/statement.html"] = (ROOT / "templates/statement.html").read_text(encoding="utf-8")
    content = write_site(files, SITE_YAML + "theme_dir: theme\n")
    compiled: list[str | None] = []
    compile_ = jinja2.Environment.compile

    def counting(env: jinja2.Environment, source: str, name: str | None = None, *args: Any,
                 **kwargs: Any) -> Any:
        compiled.append(name)
        return compile_(env, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    site = tmp_path / "site"
    build(content, site, "--jobs", "1")
    assert "statement.html" in compiled and "base.html" in compiled
    compiled.clear()
    (content / "statements/s1.md").write_text(statement_text(1, 0, 2020, "One", "More words."))
    build(content, site, "--jobs", "1")
    assert compiled == []
    theme = content / "theme/statement.html"
    theme.write_text(theme.read_text(encoding="utf-8").replace("</article>", "<p>Edition 2</p></article>"))
    build(content, site, "--jobs", "1")
    assert compiled == ["statement.html"]
    assert "Edition 2" in (site / "statements/s1/index.html").read_text(encoding="utf-8")
    compiled.clear()
    build(content, site, "--jobs", "1", "--base-url", "https://example.org/other/")  # URLs are folded in
    assert "statement.html" in compiled
    assert tree(site) == clean_build(content, tmp_path, "--base-url", "https://example.org/other/", "--clean")
    compiled.clear()
    build(content, site, "--jobs", "1", "--clean")  # ignores every cache
    assert "statement.html" in compiled


def test_a_damaged_compiled_template_is_compiled_again(write_site: Callable[..., Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    content = write_site(statements(3))
    build(content, tmp_path / "site")
    cached = [p for p in (tmp_path / ".communique-cache/templates").rglob("*") if p.is_file()]
    assert cached
    for file in cached:  # Jinja's header (and the source's checksum) intact, the code cut short
        file.write_bytes(file.read_bytes()[:60])
    (content / "statements/s1.md").write_text(statement_text(1, 0, 2020, "One", "More words."))
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean_build(content, tmp_path, "--clean")
    compiled: list[str | None] = []
    compile_ = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda env, source, name=None, *args, **kwargs: compiled.append(name)
                        or compile_(env, source, name, *args, **kwargs))
    (content / "statements/s1.md").write_text(statement_text(1, 0, 2020, "One", "Other words."))
    build(content, tmp_path / "site", "--jobs", "1")
    assert compiled == []  # written anew


def test_a_template_cache_that_cannot_be_written_loses_only_itself(write_site: Callable[..., Path],
                                                                    tmp_path: Path) -> None:
    content = write_site(statements(3))
    (tmp_path / ".communique-cache").mkdir()
    (tmp_path / ".communique-cache/templates").write_text("a file where the folder goes")
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean_build(content, tmp_path, "--clean")


@pytest.mark.usefixtures("forking")
def test_a_template_error_in_a_second_process_is_reported(write_site: Callable[..., Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    files = statements(6)
    files["theme/statement.html"] = "<p>{{ nothing.here }}</p>"
    content = write_site(files, SITE_YAML + "theme_dir: theme\n")
    status = main(["build", "--content", str(content), "--output", str(tmp_path / "site"), "--now", NOW,
                   "--no-search", "--jobs", "2"])
    err = capsys.readouterr().err
    assert status == 1
    assert "statement.html:1: error: template error" in err and "nothing" in err
    assert "a build process failed" not in err
    assert not (tmp_path / "site").exists()


@pytest.mark.usefixtures("forking")
@pytest.mark.parametrize("failure, words", [
    (ContentError([Problem("statements/x.md", 3, 1, "bad field", "title")]), "statements/x.md"),
    (ZeroDivisionError("boom"), "a build process failed"),
])
def test_a_failure_in_a_child_process_reaches_the_build(failure: Exception, words: str) -> None:
    parent = os.getpid()

    def produce(item: int) -> int:
        if os.getpid() != parent:
            raise failure
        return item

    with pytest.raises(ContentError) as raised:
        workers.stream_out(range(10), produce, lambda _: None, 2, size=lambda _: 1, min_share=1)
    assert words in str(raised.value.problems[0])


@given(groups=st.lists(st.integers(0, 60), max_size=1000), count=st.integers(1, 8))
def test_runs_keep_each_group_whole_and_every_item_once(groups: list[int], count: int) -> None:
    items = [(group, n) for n, group in enumerate(groups)]  # a group's items need not be together
    cut = workers.runs(items, count, group=lambda item: item[0])
    assert sorted(item for run in cut for item in run) == sorted(items)
    where = {group: {n for n, run in enumerate(cut) if any(item[0] == group for item in run)}
             for group in set(groups)}
    assert all(len(runs) == 1 for runs in where.values())  # a group is never split between runs
    for run in cut:
        assert all(a < b for a, b in itertools.pairwise(run) if a[0] == b[0])  # in order within a group
    assert len(cut) <= workers.MAX_RUNS  # the pipe holds every claim


@given(groups=st.lists(st.one_of(st.none(), st.integers(0, 5)), max_size=3000), count=st.integers(1, 300))
@example(groups=[None] * 1500, count=2)  # more items alone than the pipe has room for
@example(groups=[0] * 70_000, count=300)
def test_items_alone_come_first_and_the_runs_fit_in_a_pipe(groups: list[int | None], count: int) -> None:
    items = list(enumerate(groups))
    cut = workers.runs(items, count, group=lambda item: item[1])
    assert sorted(item for run in cut for item in run) == items
    assert len(cut) <= workers.MAX_RUNS
    alone = [item for item in items if item[1] is None]
    if len(alone) < workers.MAX_RUNS - 2:  # each alone, first (unless too many to fit)
        assert cut[:len(alone)] == [[item] for item in alone]


def slowly(value: T) -> T:
    """`value`, after a moment: an item that takes time, as rendering a page does, so that a
    forked process has started before the work is done."""
    time.sleep(0.002)
    return value


def test_every_process_takes_runs_until_none_is_left() -> None:
    parent, seen = os.getpid(), []
    workers.stream_out(range(400), lambda item: slowly((os.getpid(), item)), seen.append, 2,
                       size=lambda _: 1, local=True)
    assert sorted(item for _, item in seen) == list(range(400))  # each item once
    done_by = {pid for pid, _ in seen}
    assert parent in done_by and len(done_by) == 2  # this process took a share, and one child


@pytest.mark.usefixtures("forking")
def test_the_files_of_one_folder_are_written_by_one_process(tmp_path: Path) -> None:
    paths = [f"statements/s{n}/{name}" for n in range(40) for name in ("cite.bib", "index.html")]
    paths += [f"topics/t{n % 3}/page/{n}/index.html" for n in range(12)] + ["feed.xml", "index.html"]
    paths += [f"archive/{year}/index.html" for year in range(2000, 2006)]  # before `statements/`
    with write.staged_site(tmp_path / "site") as staged:
        write.write_files(staged, sorted(paths), lambda path: slowly(str(os.getpid()).encode()),
                          lambda path: b"", {}, 2)
    writer = {path: (tmp_path / "site" / path).read_text() for path in paths}
    assert len(set(writer.values())) == 2  # both processes wrote
    for n in range(40):
        assert writer[f"statements/s{n}/cite.bib"] == writer[f"statements/s{n}/index.html"]
    list_pages = [path for path in paths if "/" in path and not path.startswith("statements/")]
    assert len({writer[path] for path in list_pages}) == 1  # they share their list items


@pytest.mark.usefixtures("forking")
def test_files_are_written_where_they_are_made(tmp_path: Path) -> None:
    files = {f"f{n}.txt": bytes([65 + n]) * (10_000 if n % 2 else 10) for n in range(8)}
    live = tmp_path / "site"
    with write.staged_site(live) as staged:
        first = write.write_files(staged, sorted(files), files.__getitem__, lambda p: p.encode(), {}, 2)
    assert {p.name: p.read_bytes() for p in live.iterdir()} == files
    for path, record in first.items():
        info = (live / path).stat()
        assert (record.inode, record.size, record.mtime_ns) == (info.st_ino, info.st_size, info.st_mtime_ns)
    with write.staged_site(live) as staged:
        again = write.write_files(staged, sorted(files), files.__getitem__, lambda p: p.encode(), first, 2)
    assert again == first  # every file linked from the previous site, large ones too


def test_an_edit_to_a_text_alone_works_out_only_the_keys_that_name_it(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement edited in its body alone, whose translation's fingerprint changes with it:
    only the files whose keys named one of the two have their keys worked out again (the two
    pages, their citation files, the feeds that carry the original and the full text of the open
    data: `statements.json` and `.csv` follow the statements' shapes); every other file keeps
    the last build's key. An edit to the front matter works out every key."""
    content = write_site({**statements(12), "statements/translated/t-0.md": statement_text(0, 1, 2021, "T 0"),
                          "statements/translated/t-0-fr.md": TRANSLATION})
    build(content, tmp_path / "site")
    keyed: list[object] = []
    real = cache.KeyDigests.file_key

    def spy(self: cache.KeyDigests, key: object) -> bytes:
        keyed.append(key)
        return real(self, key)  # type: ignore[arg-type]

    monkeypatch.setattr(cache.KeyDigests, "file_key", spy)
    original = content / "statements" / "translated" / "t-0.md"
    original.write_text(original.read_text() + "More text.\n")
    build(content, tmp_path / "site", "--jobs", "1")
    files = tree(tmp_path / "site")
    # The 2 pages, 4 citation files, 3 feeds (the site's, the meeting's, the host's), statements.jsonl
    assert len(keyed) == 10
    assert files == clean_build(content, tmp_path)
    keyed.clear()
    original.write_text(original.read_text().replace("title: T 0", "title: T 0 again"))
    build(content, tmp_path / "site", "--jobs", "1")
    assert len(keyed) > len(files) // 2


def test_an_edit_encodes_only_its_own_open_data_records(write_site: Callable[..., Path], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    content = write_site(statements(5))
    build(content, tmp_path / "site", "--jobs", "1")
    encoded: list[str] = []
    for name in ("statement_record", "csv_row"):  # every open data file encodes through these
        original = getattr(opendata, name)
        monkeypatch.setattr(opendata, name, lambda statement, site, original=original: (
            encoded.append(statement.id) or original(statement, site)))
    for edited in (3, 1):  # a body edit: its own full-text record only
        encoded.clear()
        (content / f"statements/s-{edited}.md").write_text(
            statement_text(edited, edited % 4, 2020, f"S {edited}", " Edited."))
        build(content, tmp_path / "site", "--jobs", "1")
        assert encoded == [f"s-{edited}"]  # .jsonl; .json and .csv follow shapes, which are as they were
    lines = (tmp_path / "site/statements.jsonl").read_text().splitlines()
    assert len(lines) == 5 and sum("Edited." in line for line in lines) == 2
    encoded.clear()
    (content / "statements/s-1.md").write_text(statement_text(1, 1, 2020, "S 1 again", " Edited."))
    build(content, tmp_path / "site", "--jobs", "1")
    assert encoded == ["s-1"] * 3  # a title edit: its own record in each file
    assert tree(tmp_path / "site") == clean_build(content, tmp_path, "--jobs", "1")


def test_kept_open_data_records_are_copied_in_runs(write_site: Callable[..., Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The records an edit leaves alone are copied from the live file in one run before the
    edited record and one after it, not one by one."""
    content = write_site(statements(6))
    build(content, tmp_path / "site", "--jobs", "1")
    runs: list[int] = []
    copy_range = write._copy_range
    monkeypatch.setattr(write, "_copy_range", lambda source, target, start, length: (
        runs.append(length) or copy_range(source, target, start, length)))
    (content / "statements/s-2.md").write_text(statement_text(2, 2, 2020, "S 2", " Edited."))
    build(content, tmp_path / "site", "--jobs", "1")
    assert len(runs) == 2  # in statements.jsonl: .json and .csv are kept whole (see `opendata.version`)
    runs.clear()
    (content / "statements/s-2.md").write_text(statement_text(2, 2, 2020, "S 2 again", " Edited."))
    build(content, tmp_path / "site", "--jobs", "1")
    assert len(runs) == 6  # two runs in each of the three open data files
    assert tree(tmp_path / "site") == clean_build(content, tmp_path, "--jobs", "1")
    edited, clean = cache.Manifest.load(tmp_path / "site"), cache.Manifest.load(tmp_path / "clean")
    for name in ("statements.json", "statements.jsonl", "statements.csv"):  # recorded as if made anew
        assert edited.files[name].pieces and edited.files[name].pieces == clean.files[name].pieces
        assert edited.files[name].digest == clean.files[name].digest


@pytest.mark.parametrize("kernel", [True, False], ids=["copy_file_range", "buffer"])
def test_a_kept_run_the_live_file_no_longer_holds_is_made_again(tmp_path: Path, kernel: bool,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if not kernel:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    pieces = [b"first record;", b"second record;", b"third record;"]
    live = tmp_path / "live"
    live.write_bytes(b"".join(pieces)[:len(pieces[0]) + 5])  # cut short in the second piece
    source = os.open(live, os.O_RDONLY)
    target = os.open(tmp_path / "new", os.O_WRONLY | os.O_CREAT)
    try:
        run = write._KeptRun(target, source)
        offset = 0
        for piece in pieces:
            run.add(offset, len(piece), lambda piece=piece: piece)
            offset += len(piece)
        run.flush()
    finally:
        os.close(source)
        os.close(target)
    assert (tmp_path / "new").read_bytes() == b"".join(pieces)


def settled_statements(write_site: Callable[..., Path], count: int) -> tuple[Path, int]:
    """A content folder of `count` statements last changed an hour ago (not racy: their signatures
    are kept), and that time in nanoseconds."""
    content = write_site({f"statements/s-{n}.md": statement_text(n, 0, 2020, f"S {n}") for n in range(count)})
    an_hour_ago = time.time_ns() - 3600 * 10**9
    for path in content.glob("statements/*.md"):
        os.utime(path, ns=(an_hour_ago, an_hour_ago))
    return content, an_hour_ago


def test_a_statement_file_is_read_again_only_when_its_signature_changes(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content, an_hour_ago = settled_statements(write_site, 4)
    build(content, tmp_path / "site", "--jobs", "1")
    read: list[str] = []
    original = cache.digest_of_file
    monkeypatch.setattr(cache, "digest_of_file", lambda path: read.append(Path(path).name) or original(path))
    edited = content / "statements/s-2.md"
    replaced = edited.with_name("s-2.new")  # same size and time, another inode: as an editor saves
    replaced.write_text(edited.read_text().replace("S 2", "T 2"))
    os.utime(replaced, ns=(an_hour_ago, an_hour_ago))
    replaced.replace(edited)
    build(content, tmp_path / "site", "--jobs", "1")
    assert read == ["s-2.md"]
    assert "T 2" in (tmp_path / "site/statements/s-2/index.html").read_text()


def test_a_statement_file_is_read_once_when_parsed_and_its_digest_stands_next_time(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content, an_hour_ago = settled_statements(write_site, 4)
    hashed: list[str] = []
    original = cache.digest_of_file
    monkeypatch.setattr(cache, "digest_of_file",
                        lambda path: hashed.append(Path(path).name) or original(path))
    build(content, tmp_path / "site", "--jobs", "1")
    assert hashed == []  # each file's digest is that of the bytes parsed
    parsed: list[str] = []
    parse = build_module.parse_statement_file
    monkeypatch.setattr(build_module, "parse_statement_file",
                        lambda source, *args: parsed.append(source.stem) or parse(source, *args))
    os.utime(content / "statements/s-1.md", ns=(an_hour_ago - 10**9,) * 2)  # the same bytes
    build(content, tmp_path / "site", "--jobs", "1")
    assert hashed == ["s-1.md"] and parsed == []


def test_a_statement_file_that_could_not_be_read_is_read_again_next_time(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its signature does not stand for bytes never read: made readable again (`chmod` changes
    neither its size, its time nor its inode), it is read."""
    content, _ = settled_statements(write_site, 3)
    read = validate.read_source
    monkeypatch.setattr(validate, "read_source", lambda source: (
        (None, [Problem(source.path, None, None, "the file cannot be read: Permission denied")])
        if source.stem == "s-1" else read(source)))
    assert main(["build", "--content", str(content), "--output", str(tmp_path / "site"), "--now", NOW,
                 "--no-search", "--quiet", "--jobs", "1"]) != 0
    monkeypatch.setattr(validate, "read_source", read)
    build(content, tmp_path / "site", "--jobs", "1")
    assert "S 1" in (tmp_path / "site/statements/s-1/index.html").read_text()


def test_the_dev_server_sees_a_file_saved_while_it_was_read(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content, an_hour_ago = settled_statements(write_site, 3)
    options = Options(content=content, output=tmp_path / "served", now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
                      jobs=1)
    served = ParseCache()
    check_site(options, cache=served)
    target = content / "statements/s-1.md"

    def save(title: str, seconds: int) -> None:  # the same size each time, at times long past
        target.write_text(statement_text(1, 0, 2020, title))
        os.utime(target, ns=(an_hour_ago + seconds * 10**9,) * 2)
    save("T 1", 1)
    parse = build_module.parse_statement_file

    def saved_meanwhile(source: SourceFile, *args: Any) -> Any:
        found = parse(source, *args)
        if source.stem == "s-1":
            save("U 1", 2)
        return found
    monkeypatch.setattr(build_module, "parse_statement_file", saved_meanwhile)
    check_site(options, cache=served)
    monkeypatch.setattr(build_module, "parse_statement_file", parse)
    assert [s.title for s in check_site(options, cache=served).index.statements if s.id == "s-1"] == ["U 1"]


def long_statements(count: int) -> dict[str, str]:
    """`count` statements of about 20 KB of text each, every one saying which it is, in
    characters of one to four bytes."""
    paragraph = "The parties reaffirm — réaffirment, 再確認する, 🕊 — the principles agreed in Rome. " * 30
    return {f"statements/s-{n}.md": statement_text(n, n % 4, 2020, f"S {n}",
                                                   f" Statement number {n}.\n\n" + f"{paragraph}\n\n" * 9)
            for n in range(count)}


def test_bodies_are_pickled_beside_the_pickle_and_checked_when_read() -> None:
    body = Body("<p>Qu’il 🕊</p>", "Qu’il 🕊", "Qu’il 🕊")
    pickled, bodies = io.BytesIO(), io.BytesIO()
    cache._body_pickler(pickled, bodies).dump({"a.md": (body, "title")})
    assert "Qu’il".encode() not in pickled.getvalue() and "Qu’il".encode() in bodies.getvalue()

    def load(beside: bytes) -> object:
        return cache._BodyUnpickler(io.BytesIO(pickled.getvalue()), cache._placed_body, partial(
            cache._body_from, cache._Bodies(len(beside), data=memoryview(beside)))).load()
    assert load(bodies.getvalue()) == {"a.md": (body, "title")}
    with pytest.raises(pickle.UnpicklingError, match="outside the shard's bodies"):
        load(bodies.getvalue()[:-1])
    with pytest.raises(pickle.UnpicklingError, match="outside a shard"):
        pickle.loads(pickled.getvalue())  # only the store's unpickler reads a body's place


def traced(run: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, int]:
    """What `run(*args, **kwargs)` returns, and how many bytes it leaves allocated."""
    tracemalloc.start()
    try:
        return run(*args, **kwargs), tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


@pytest.mark.usefixtures("forking")
def test_a_build_keeps_the_bodies_out_of_memory(write_site: Callable[..., Path], tmp_path: Path) -> None:
    files = long_statements(100)
    content = write_site(files)
    bodies = sum(len(text.encode()) for text in files.values())  # about 2.5 MB, three forms of each
    options = Options(content=content, output=tmp_path / "site", now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
                      jobs=2)
    check_site(options)  # the country data and such, loaded once for all
    for spilled, clean in ((True, True), (True, False), (False, False)):  # parsed, then from the store
        with cache.Spill(tmp_path / "spill") as spill:
            checked, held = traced(check_site, replace(options, clean=clean), writes=True,
                                   spill=spill if spilled else None)
            statements = checked.index.statements
            assert [s.id for s in statements if f"Statement number {s.id[2:]}." not in s.body_html] == []
            assert all(s.text.startswith(f"The text of statement {s.id[2:]}.") for s in statements)
            assert all(s.markdown.count("再確認する, 🕊 — the principles") == 270 for s in statements)
        if spilled:  # a build: the bodies are in its spill file
            assert held < bodies / 4
            with pytest.raises(RuntimeError, match="after its build had ended"):
                _ = statements[0].body_html
        else:  # the dev server's first build, or a library's call: they are in memory
            assert held > 2 * bodies


def open_below(folder: Path) -> list[str]:
    """What this process has open inside `folder`, unlinked files included."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.usefixtures("forking")
def test_a_build_leaves_no_spill_file_open(write_site: Callable[..., Path], tmp_path: Path) -> None:
    content = write_site(long_statements(8))
    for extra in (["--clean"], ["--clean"], []):  # the last reads the parsed store in place
        with (content / "statements/s-0.md").open("a", encoding="utf-8") as file:
            file.write("\nOne more paragraph.\n")
        build(content, tmp_path / "site", *extra)
        assert open_below(tmp_path / ".communique-cache") == []


def test_the_parsed_store_holds_open_only_the_shards_it_uses(write_site: Callable[..., Path],
                                                             tmp_path: Path) -> None:
    content = write_site(long_statements(8))
    build(content, tmp_path / "site")
    folder = tmp_path / ".communique-cache/build/site.parsed"
    shards = sorted(str(path) for path in folder.glob("*.pickle"))
    payload = stamp.read_payload(Path(shards[0]), cache.ParsedStore.KIND)
    assert payload is not None
    context = payload[2:2 + int.from_bytes(payload[:2], "big")]  # what `ParsedStore.pack` puts first
    for used in (context, b"another context"):
        with cache.Spill(tmp_path / "spill") as spill:
            found = cache.ParsedStore(tmp_path / "site", used, write=False, spill=spill).load()
            assert len(found) == (8 if used == context else 0)
            assert sorted(open_below(folder)) == (shards if used == context else [])
            assert all(f"Statement number {path[13:-3]}." in parsed.body.markdown  # read from there
                       for path, (_, parsed, _, _) in found.items())
        assert open_below(folder) == []


def cut_short(shard: Path) -> None:
    """The shard's last 100 bytes gone, under a right checksum."""
    payload = stamp.read_payload(shard, cache.ParsedStore.KIND)
    assert payload is not None
    stamp.write_payload(shard, cache.ParsedStore.KIND, payload[:-100])


def changed(shard: Path) -> None:
    """A letter of the shard's last body changed, the checksum left as it was."""
    data = bytearray(shard.read_bytes())
    data[data.rindex(b"Statement number")] = ord("s")
    shard.write_bytes(bytes(data))


@pytest.mark.usefixtures("forking")
@pytest.mark.parametrize("damage", [cut_short, changed])
def test_a_damaged_shard_is_not_trusted(write_site: Callable[..., Path], tmp_path: Path,
                                        damage: Callable[[Path], None]) -> None:
    content = write_site(long_statements(8))
    build(content, tmp_path / "site")
    clean = tree(tmp_path / "site")
    shards = sorted((tmp_path / ".communique-cache/build/site.parsed").glob("*.pickle"))
    assert shards
    for shard in shards:
        damage(shard)
    shutil.rmtree(tmp_path / "site")  # every page made again, from the store
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean


@pytest.mark.usefixtures("forking")
def test_a_parsed_store_that_cannot_be_written_is_only_skipped(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = write_site(statements(6))
    clean = clean_build(content, tmp_path)

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(cache, "write_payload", full)  # in whichever process parses
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean


@pytest.mark.usefixtures("forking")
def test_a_spill_file_that_cannot_be_written_leaves_the_bodies_in_memory(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = write_site(long_statements(12))
    clean = clean_build(content, tmp_path)
    written = 0
    pwrite = os.pwrite

    def fill_up(fd: int, data: bytes, offset: int) -> int:
        nonlocal written
        if written >= 60_000:  # the disk is full after the first shards
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written += len(data)
        return pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", fill_up)
    build(content, tmp_path / "site", "--clean")
    assert 0 < written < sum(len(text) for text in long_statements(12).values())
    assert tree(tmp_path / "site") == clean


CHECKED_SITE = {
    **statements(5),
    "statements/translated/t-0.md": statement_text(0, 1, 2021, "Translated 0"),
    "statements/translated/t-0-fr.md": TRANSLATION,
    "statements/embargoed.md": statement_text(7, 2, 2021, "Embargoed").replace(
        "topics:", "embargo: 2026-06-01T00:00:00Z\ntopics:"),
    "statements/draft.md": "---\ntitle: Undated draft\nissuers: [US]\ndraft: true\n---\nA draft.\n",
}
"""A site with a translation, a statement under embargo and a draft with a warning (no date)."""


def watch_checks(monkeypatch: pytest.MonkeyPatch) -> tuple[list[bool], list[str]]:
    """Lists that the checks from now on fill: with True for each whole check (else one from the
    last whole check, see `build.recheck`), and with the id of each statement file read."""
    whole: list[bool] = []
    read: list[str] = []
    parse_files, parse = build_module.parse_files, build_module.parse_statement_file
    monkeypatch.setattr(build_module, "parse_files", lambda *args: whole.append(True) or parse_files(*args))
    monkeypatch.setattr(build_module, "parse_statement_file",
                        lambda source, *args: read.append(source.stem) or parse(source, *args))
    return whole, read


def checked_again(content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  now: str = NOW) -> tuple[bool, list[str]]:
    """Check the site as a build after the last one does, and check it whole: both must find the
    same. Whether the first checked every file (else only some, from the last whole check, see
    `build.recheck`), and the files it read."""
    whole, read = watch_checks(monkeypatch)
    options = Options(content=content, output=tmp_path / "site", now=dt.datetime.fromisoformat(now), jobs=1)
    with cache.Spill(tmp_path / ".communique-cache/build") as spill:
        checked = check_site(options, writes=False, spill=spill)
        kept = (bool(whole), sorted(read))
        again = check_site(replace(options, clean=True), writes=False, spill=spill)
        assert checked.problems == again.problems
        assert checked.assembly.withheld == again.assembly.withheld
        for mine, theirs in zip(checked.assembly.published, again.assembly.published, strict=True):
            assert ((mine, mine.fingerprint, mine.shape, mine.listing, mine.body)
                    == (theirs, theirs.fingerprint, theirs.shape, theirs.listing, theirs.body))
        assert checked.index == again.index
    return kept


def append(content: Path, name: str, text: str = "More text.\n") -> None:
    with (content / "statements" / f"{name}.md").open("a", encoding="utf-8") as file:
        file.write(text)


def replace_in(content: Path, name: str, old: str, new: str) -> None:
    path = content / "statements" / f"{name}.md"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def edit_title(content: Path) -> None:
    replace_in(content, "s-1", "title: ", "title: New ")


@pytest.mark.parametrize(("edit", "read"), [
    (lambda content: append(content, "s-1"), ["s-1"]),
    (lambda content: append(content, "translated/t-0"), ["t-0", "t-0-fr"]),
    (lambda content: append(content, "translated/t-0-fr"), ["t-0", "t-0-fr"]),
    (lambda content: [append(content, name) for name in ("s-1", "s-2", "translated/t-0")],
     ["s-1", "s-2", "t-0", "t-0-fr"]),
    (lambda content: None, []),
    (edit_title, ["s-1"]),
    (lambda content: replace_in(content, "s-2", f"hosts: [{HOSTS[2]}]", "hosts: [BR, IT]"), ["s-2"]),
    (lambda content: replace_in(content, "s-3", "date: 2020-", "date: 2019-"), ["s-3"]),  # another order
    (lambda content: replace_in(content, "translated/t-0", "date: 2021-", "date: 2018-"), ["t-0", "t-0-fr"]),
])
def test_an_edit_of_a_few_statements_is_checked_from_the_last_whole_check(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        edit: Callable[[Path], None], read: list[str]) -> None:
    """Only the edited files are read again, with the translations of an edited original and the
    original of an edited translation (each made from both files), and the site is the one a
    whole check finds, problems included: after an edit of a text, of a title, of the countries
    (the groups made again), of a date (the order)."""
    content = write_site(CHECKED_SITE)
    build(content, tmp_path / "site")
    (content / "statements/s-9.md").write_text(statement_text(9, 0, 2022, "S 9"))
    build(content, tmp_path / "site")  # checked whole, the other files taken from the parsed store
    assert (tmp_path / ".communique-cache/build/site.checked").is_file()
    edit(content)
    assert checked_again(content, tmp_path, monkeypatch) == (False, read)


def edit_draft(content: Path) -> None:
    append(content, "draft")


def add_statement(content: Path) -> None:
    (content / "statements/s-9.md").write_text(statement_text(9, 0, 2022, "S 9"))


def damage_a_shard(content: Path) -> None:
    append(content, "s-1")
    folder = content.parent / ".communique-cache/build/site.parsed"
    shard = next(path for path in folder.glob("*.pickle") if b"The text of statement 3." in path.read_bytes())
    data = bytearray(shard.read_bytes())
    data[data.index(b"The text of statement 3.")] = ord("t")  # the checksum left as it was
    shard.write_bytes(bytes(data))


def damage_the_checked_site(content: Path) -> None:
    append(content, "s-1")
    checked = content.parent / ".communique-cache/build/site.checked"
    payload = stamp.read_payload(checked, cache.CheckedStore.KIND)
    assert payload is not None
    stamp.write_payload(checked, cache.CheckedStore.KIND, payload[:-100])  # under a right checksum


@pytest.mark.parametrize(("change", "now"), [
    (lambda content: replace_in(content, "s-1", "topics:", "draft: true\ntopics:"), NOW),
    (lambda content: replace_in(content, "s-1", "topics:", "embargo: 2027-01-01T00:00:00Z\ntopics:"), NOW),
    (lambda content: replace_in(content, "s-1", "topics:", "aliases: [old-s-1]\ntopics:"), NOW),
    (lambda content: replace_in(content, "translated/t-0-fr", "of: t-0", "of: s-0"), NOW),
    (edit_draft, NOW), (add_statement, NOW), (damage_a_shard, NOW), (damage_the_checked_site, NOW),
    (lambda content: None, "2026-06-01T00:00:00Z"), (lambda content: None, "2025-01-01T00:00:00Z")])
def test_the_site_is_checked_whole_when_more_than_a_few_statements_changed(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        change: Callable[[Path], None], now: str) -> None:
    """A statement that is withheld now, that has other former ids, or is the translation of
    another; a change to a withheld statement or to the list of files; a damaged cache; and a
    build at a time on the other side of an embargo (which lifts at the first instant it names;
    the site was checked last at NOW, before it; and a clock put back before the last published
    statement's embargo is one)."""
    files = dict(CHECKED_SITE)
    if now < NOW:
        files["statements/s-0.md"] = files["statements/s-0.md"].replace(
            "topics:", "embargo: 2025-06-01T00:00:00Z\ntopics:")
    content = write_site(files)
    build(content, tmp_path / "site")
    change(content)
    assert checked_again(content, tmp_path, monkeypatch, now)[0]


def test_an_edit_with_an_error_is_reported_as_a_whole_check_reports_it(
        write_site: Callable[..., Path], tmp_path: Path) -> None:
    content = write_site(CHECKED_SITE)
    build(content, tmp_path / "site")
    append(content, "s-1", "See [the draft](draft.md).\n")
    options = Options(content=content, output=tmp_path / "site", now=dt.datetime.fromisoformat(NOW), jobs=1)
    found = []
    with cache.Spill(tmp_path / ".communique-cache/build") as spill:
        for clean in (False, True):
            with pytest.raises(ContentError) as error:
                check_site(replace(options, clean=clean), writes=False, spill=spill)
            found.append(error.value.problems)
    assert found[0] == found[1]
    assert any("which is not published (draft)" in problem.message for problem in found[0])


def test_more_edits_than_are_checked_alone_check_the_site_whole(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "MAX_RECHECKED", 2)
    content = write_site(CHECKED_SITE)
    build(content, tmp_path / "site")
    append(content, "s-0")
    append(content, "s-1")
    assert checked_again(content, tmp_path, monkeypatch) == (False, ["s-0", "s-1"])
    append(content, "s-2")
    assert checked_again(content, tmp_path, monkeypatch)[0]


@pytest.mark.parametrize("others", [0, 20])  # a few edited statements, and more than `FEW_EDITED`
def test_a_file_key_names_a_fingerprint_only_in_its_place(others: int) -> None:
    digest, named, edited = b"k" * 16, bytes(range(16)), bytes(range(100, 116))
    spare = frozenset(hashlib.blake2b(bytes([n]), digest_size=16).digest() for n in range(others))
    assert cache.holds_any(digest + b"a" * 16 + edited + b"b" * 16, spare | {edited})
    assert not cache.holds_any(digest + named, spare | {edited})
    # Across two fingerprints' places, or within the key's own digest, it is not named.
    astride = b"x" * 8 + edited + b"y" * 8
    assert not cache.holds_any(digest + astride, spare | {edited})
    assert not cache.holds_any(edited + named, spare | {edited})
    assert cache.holds_any(digest + astride + edited, spare | {edited})


@pytest.mark.parametrize("columns", [
    lambda columns: [*columns[:-1], columns[-1][:-1]],  # a file's last field missing
    lambda columns: [columns[0][:-1], *columns[1:]],  # a path missing
    lambda columns: columns[:-1],  # a field missing for every file
    lambda columns: [columns[0], *([None] * (len(columns) - 1))],  # not lists
])
def test_a_manifest_whose_columns_do_not_match_is_not_trusted(
        write_site: Callable[..., Path], tmp_path: Path, columns: Callable[[list[Any]], list[Any]]) -> None:
    """The manifest lists the site's files by columns; columns that do not line up give an
    empty manifest (a clean build), not an error nor files put together wrongly."""
    content = write_site(statements(3))
    build(content, tmp_path / "site")
    path = cache.manifest_path(tmp_path / "site")
    identity, found, *rest = stamp.read_checked(path, cache.FORMAT)
    assert len(cache.Manifest.load(tmp_path / "site").files) == len(found[0]) > 0
    stamp.write_checked(path, cache.FORMAT, (identity, columns(found), *rest))
    assert cache.Manifest.load(tmp_path / "site").files == {}
    build(content, tmp_path / "site")
    assert tree(tmp_path / "site") == clean_build(content, tmp_path)


def test_a_body_the_parsed_store_does_not_hold_is_never_taken_from_it(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build whose spill and parsed store could not be written (a full disk) holds an edited
    body in memory alone: the checked site it stores must not point to the store's older one."""
    content = write_site(CHECKED_SITE)
    build(content, tmp_path / "site")
    append(content, "s-1", "A new sentence.\n")
    replace_in(content, "s-3", "topics:", "draft: true\ntopics:")  # checked whole, the others read in place
    pack = cache.ParsedStore.pack

    def not_stored(store: cache.ParsedStore, *args: Any) -> bytes:
        store.write = False
        return pack(store, *args)

    with monkeypatch.context() as full:
        full.setattr(cache.ParsedStore, "pack", not_stored)
        full.setattr(cache.Spill, "append", lambda spill, data: None)
        build(content, tmp_path / "site")
    append(content, "s-2")
    checked_again(content, tmp_path, monkeypatch)  # which compares the bodies too


def test_check_reads_only_the_files_changed_since_a_build(
        write_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`check` takes the site as the last build checked it whole; with no build cache beside the
    output it checks everything and leaves no cache behind."""
    monkeypatch.chdir(tmp_path)
    content = write_site(CHECKED_SITE)
    whole, read = watch_checks(monkeypatch)
    check = ["check", "--content", str(content), "--now", NOW, "--jobs", "1"]
    assert main(check) == 0
    assert whole and len(read) == len(CHECKED_SITE) and not (tmp_path / ".communique-cache").exists()
    first = capsys.readouterr().out
    build(content, tmp_path / "_site")
    append(content, "s-1")
    read.clear()
    whole.clear()
    assert main(check) == 0
    assert not whole and read == ["s-1"] and capsys.readouterr().out == first
