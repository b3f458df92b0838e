"""Hostile input: every attack gives a clear error or an inert, safe site; nothing crashes or is lost.

Pages are checked with a real HTML parser; a build killed half-way leaves the previous site, and
two builds at once never mix their output.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from communique import write
from communique.frontmatter import hidden_characters, parse_yaml, split_front_matter
from communique.problems import ContentError
from communique.slugs import MAX_SLUG_LENGTH, character_name, id_fault, slugify
from communique.write import write_site
from tests.conftest import NOW, ROOT, VALID_FRONT, Result, statement
from tests.htmltools import parse_page

HOSTILE_SITE = ROOT / "tests" / "sites" / "hostile"
PATH = "content/statements/bad.md"
UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "poster", "srcset", "xlink:href",
                            "background", "cite", "data", "ping"})
NEVER_RENDERED = frozenset({"iframe", "object", "embed", "base", "frame", "frameset", "applet"})


class MarkupAudit(HTMLParser):
    """Everything in a page that could run code: script elements, handlers, unsafe URLs.

    The only scripts allowed are the theme's own files (`<script src=".../static/…">`, empty)
    and inline JSON-LD data, which must parse as one JSON value.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self.script: list[str] | None = None
        self.script_is_data = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in NEVER_RENDERED:
            self.findings.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}> event handler")
            cleaned = "".join(ch for ch in (value or "") if ch > " ").lower()
            if name in URL_ATTRIBUTES and cleaned.startswith(UNSAFE_SCHEMES):
                self.findings.append(f"<{tag} {name}={value!r}>")
            if name == "content" and "url=" in cleaned and "javascript:" in cleaned:
                self.findings.append(f"<{tag} content={value!r}> refresh")
        if tag == "script":
            given = dict(attrs)
            source = given.get("src") or ""
            self.script_is_data = given.get("type") == "application/ld+json"
            if not self.script_is_data and not ("/static/" in source and ":" not in source):
                self.findings.append(f"<script {given}> element")
            self.script = []

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script.append(data)
        else:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.script is not None:
            inline = "".join(self.script)
            if self.script_is_data:
                try:  # inline JSON must stay one intact value: `</script>` in a title cannot end it
                    json.loads(inline)
                except ValueError:
                    self.findings.append("inline JSON that does not parse")
            elif inline.strip():
                self.findings.append("a script with inline code")
            self.script = None


def audit(page: Path) -> MarkupAudit:
    """Parse a page and collect what could run."""
    parser = MarkupAudit()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def test_hostile_content_is_inert_on_every_page(cli: Callable[..., Result], tmp_path: Path) -> None:
    shutil.copytree(HOSTILE_SITE, tmp_path / "content")
    result = cli("build", "--now", NOW)
    assert result.status == 0, result.err
    site = tmp_path / "_site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    texts = {}
    for page in pages:
        parsed = audit(page)
        assert parsed.findings == [], (page, parsed.findings)
        texts[page.relative_to(site).as_posix()] = " ".join("".join(parsed.text).split())
    assert not [name for name, text in texts.items() if "49" in text]  # {{ 7*7 }} never evaluated
    shown = texts["statements/2024-01-15-injection/index.html"]
    for literal in ("<script>alert('title')</script></script><script>alert('close')</script> {{ 7*7 }}",
                    "<script>alert('body')</script>", "{% for x in range(3) %}loop{% endfor %}",
                    "{% include 'base.html' %}", "<img src=x onerror=alert('person')>",
                    "[plain javascript](javascript:alert('link'))", "<script>alert('footnote')</script>"):
        assert literal in shown
    links = parse_page(site / "statements/2024-01-15-injection/index.html").links()
    assert "https://example.org/" in links and "mailto:press@example.org" in links
    records = json.loads((site / "statements.json").read_text())["statements"]
    assert "</script><script>alert('translation')</script> {{ 7*7 }}" in {r["title"] for r in records}
    assert "<script>alert('title')</script>" in "".join(ET.parse(site / "feed.xml").getroot().itertext())
    ET.parse(site / "sitemap.xml")


@pytest.fixture
def check(write_site: Callable[..., Path], cli: Callable[..., Result]) -> Callable[..., str]:
    """Write `files`, run `check`; assert it fails; return its report."""

    def run(files: dict[str, str | bytes]) -> str:
        write_site(files)
        result = cli("check", "--now", NOW)
        assert result.status == 1, result.out
        return result.out

    return run


def front(extra: str, replace: tuple[str, str] = ("", "")) -> str:
    """A statement whose front matter is the valid one plus `extra`."""
    return statement(VALID_FRONT.replace(*replace) + extra)


@pytest.mark.parametrize(("extra", "expected"), [
    ("source: javascript:alert(1)\n", "'source' must be an http:// or https:// address"),
    ("source: 'data:text/html,<script>alert(1)</script>'\n", "'source' must be an http://"),
    ("source: ' JaVaScRiPt:alert(1)'\n", "'source' must be an http://"),
    ("source: 'https://evil.example\\@good.example/'\n", "U+005C REVERSE SOLIDUS) must be percent-encoded"),
    ("source: 'https://[::1/'\n", "'source' is not a usable address: Invalid IPv6 URL"),
    ("source: \"https://example.org/\\u202egnp.exe\"\n", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("translation_of: ../escape\n", "'.' (U+002E FULL STOP) is not allowed"),
    ("translation_of: /etc/passwd\n", "folder separator '/'"),
    ("translation_of: 'a\\b'\n", "folder separator '\\\\'"),
    ("translation_of: C:\\Windows\n", "'C' (U+0043 LATIN CAPITAL LETTER C) is an upper-case letter"),
    ("translation_of: con\n", "'con' is a device name Windows reserves"),
    ("aliases: [ok, ../../etc/cron.d]\n", "'aliases' must be a statement id"),
    ("translation_of: \u0430bc\n", "'а' (U+0430 CYRILLIC SMALL LETTER A) is not allowed"),
    ("summary: \"safe \\u202e txt.exe\"\n", "'summary' contains invisible or control characters "
                                              "(U+202E RIGHT-TO-LEFT OVERRIDE)"),
    ("release_note: \"\\u2066isolated\\u2069\"\n", "U+2066 LEFT-TO-RIGHT ISOLATE, U+2069 POP"),
    ("meeting: {name: \"G7\\u2067 Summit\"}\n", "'meeting.name' contains invisible"),
    ("meeting: {name: G7, location: \"Ro\\u200bme\"}\n", "U+200B ZERO WIDTH SPACE"),
    ("people: [{name: \"Ann\\u2068 Lee\"}]\n", "'people.name' contains invisible or control characters"),
    ("people: [{name: Ann, role: \"Min\\u202dister\"}]\n", "U+202D LEFT-TO-RIGHT OVERRIDE"),
    ("topics: [trade, \"secu\\ufeffrity\"]\n", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("corrections: [{date: 2024-06-05, note: \"x\\u2028y\"}]\n", "U+2028 LINE SEPARATOR"),
    ("summary: \"bell \\a\"\n", "(U+0007 a control character)"),
    ("summary: !!python/object/apply:os.system ['echo pwned']\n", "YAML tags are not allowed"),
    ("summary: !custom x\n", "YAML tags are not allowed (found '!custom')"),
    ("? [a, b]\n: c\n", "a field name must be text, found a list"),
    ("1: x\n", "unknown field '1'"),
    ("summary: one\nsummary: two\n", "duplicate key 'summary' (first given on line 6)"),
    ("summ\u200bary: x\n", "unknown field 'summ\\u200bary' (the name holds invisible characters "
                           "(U+200B ZERO WIDTH SPACE))"),
    ("summary: a\u0085b\n", "the file contains U+0085 a control character"),
    ("summary: a\u2028b\n", "the front matter contains U+2028 LINE SEPARATOR"),
])
def test_check_refuses_with_a_clear_message(check: Callable[..., str], extra: str, expected: str) -> None:
    report = check({"statements/bad.md": front(extra)})
    assert f"{PATH}:" in report and expected in report, report


@pytest.mark.parametrize("title", ["\u202eevil", "a\u2066b\u2069", "zero\u200bwidth", "bom\ufeffinside"])
def test_invisible_characters_in_a_title(check: Callable[..., str], title: str) -> None:
    report = check({"statements/bad.md": front("", ("A valid statement", title))})
    codes = ", ".join(character_name(ch) for ch in hidden_characters(title))
    assert f"{PATH}:2:8: error: 'title' contains invisible or control characters ({codes})" in report


def test_joiners_inside_words_are_text() -> None:
    assert hidden_characters("می\u200cخواهم") == []  # Persian needs the zero-width non-joiner
    assert hidden_characters("\U0001F468\u200d\U0001F469") == []  # an emoji sequence
    assert hidden_characters("\u200cstart") == ["\u200c"]


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("bad.md", b"---\ntitle: caf\xe9\n---\nx\n", f"{PATH}:2:11: error: the file is not UTF-8: byte 0xe9"),
    ("bad.md", b"---\ntitle: a\n---\nx\x00y\n", f"{PATH}:4: error: the file contains a NUL byte"),
    ("bad.md", b"", f"{PATH}:1:1: error: missing front matter"),
    ("bad.md", b"---\ntitle: a\n---\npage\x0cbreak\n", f"{PATH}:4:5: error: the file contains U+000C"),
    ("bad.md", "---\ntitle: a\n---\nx \ufdd0\n".encode(), f"{PATH}:4:3: error: the file contains U+FDD0"),
    ("bad.md", b"---\n" + b"x" * 2**20, f"{PATH}: error: the file is 1024 KiB; the limit is 256 KiB"),
    *[(f"{device}.md", statement().encode(), f"content/statements/{device}.md: error: the file name "
       f"'{device}.md' is a device name Windows reserves") for device in
      ("con", "nul", "com1", "lpt1", "aux", "prn")],
    ("\u0430bc.md", statement().encode(), "content/statements/\u0430bc.md: error: the file name gives"),
    ("...md", statement().encode(), "content/statements/...md: error: the file name gives the id '..'"),
    ("a\u202eb.md", statement().encode(), "the file name gives the id 'a\\u202eb'"),
    ("a\\b.md", statement().encode(), "content/statements/a\\b.md: error: the file name gives"),
])
def test_files_that_are_refused(check: Callable[..., str], name: str, data: bytes, expected: str) -> None:
    assert expected in check({f"statements/{name}": data})


def test_text_is_read_in_normalization_form_c(write_site: Callable[..., Path], cli: Callable[..., Result],
                                               tmp_path: Path) -> None:
    decomposed = "Cafe\u0301 \uf900"  # e + combining acute; a CJK compatibility ideograph
    write_site({"statements/one.md": front("", ("A valid statement", decomposed))})
    assert cli("build", "--now", NOW, "--quiet").status == 0
    page = (tmp_path / "_site/statements/one/index.html").read_text(encoding="utf-8")
    assert "Caf\u00e9 \u8c48" in page and decomposed not in page


def test_bom_and_crlf_build_the_same_site(write_site: Callable[..., Path], cli: Callable[..., Result],
                                          tmp_path: Path) -> None:
    text = statement(VALID_FRONT + "summary: Line endings.\n", "First.\n\nSecond line\nwrapped.")
    sites = {}
    for name, data in (("lf", text.encode()), ("crlf", text.replace("\n", "\r\n").encode()),
                       ("bom", b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())):
        write_site({"statements/one.md": data})
        assert cli("build", "--now", NOW, "--output", name, "--quiet").status == 0
        sites[name] = (tmp_path / name / "statements/one/index.html").read_bytes()
    assert sites["lf"] == sites["crlf"] == sites["bom"]


@pytest.mark.parametrize("kind", ["file outside", "folder", "statements folder", "broken", "fifo"])
def test_links_and_special_files_are_refused(write_site: Callable[..., Path], cli: Callable[..., Result],
                                             tmp_path: Path, kind: str) -> None:
    content = write_site({"statements/good.md": statement(), "shared/inside.md": statement()})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(statement())
    statements = content / "statements"
    if kind == "file outside":
        (statements / "secret.md").symlink_to(outside / "secret.md")
    elif kind == "folder":
        (statements / "linked").symlink_to(outside, target_is_directory=True)
    elif kind == "statements folder":
        shutil.rmtree(statements)
        statements.symlink_to(outside, target_is_directory=True)
    elif kind == "broken":
        (statements / ".#good.md").symlink_to("user@host.1234:1700000000")  # an editor's lock file
    else:
        os.mkfifo(statements / "pipe.md")
    (statements / "inside.md").symlink_to(content / "shared/inside.md")  # a link inside: accepted
    result = cli("check", "--now", NOW)
    assert result.status == 1
    expected = {"file outside": "secret.md: error: symbolic link points outside the content folder",
                "folder": "linked: error: symbolic links to folders are not followed",
                "statements folder": "statements: error: the statements folder is a symbolic link",
                "broken": ".#good.md: error: symbolic link leads nowhere",
                "fifo": "pipe.md: error: not a regular file"}[kind]
    assert expected in result.out
    assert [line for line in result.out.splitlines() if ": error:" in line] == [
        line for line in result.out.splitlines() if expected in line]


def test_folders_nested_too_deep_are_refused(write_site: Callable[..., Path], cli: Callable[..., Result],
                                             tmp_path: Path) -> None:
    write_site({"statements/" + "d/" * 100 + "deep.md": statement()})
    result = cli("check", "--now", NOW)
    assert result.status == 1 and "error: folders are nested deeper than 32 levels" in result.out


def test_markdown_under_another_name_is_reported(write_site: Callable[..., Path],
                                                cli: Callable[..., Result]) -> None:
    write_site({"statements/one.md": statement(), "statements/two.MD": statement(),
                "statements/three.markdown": statement()})
    result = cli("check", "--now", NOW)
    assert result.status == 0
    assert "two.MD: warning: this file is not read: statement files end in '.md' (rename it to" in result.out
    assert "three.markdown: warning: this file is not read" in result.out


def test_many_files_in_one_folder(write_site: Callable[..., Path], cli: Callable[..., Result],
                                  tmp_path: Path) -> None:
    write_site({f"statements/s-{n:04d}.md": statement(VALID_FRONT.replace("A valid statement", f"S {n}"))
                for n in range(3000)})
    result = cli("build", "--now", NOW, "--quiet", "--no-search")
    assert result.status == 0, result.err
    assert len(list((tmp_path / "_site/statements").iterdir())) == 3000


@pytest.mark.parametrize("where", ["home", "link to root", "a file", "a folder of other files",
                                   "content through a link", "parent of home", "a link"])
def test_output_that_must_never_be_replaced(write_site: Callable[..., Path], cli: Callable[..., Result],
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            where: str) -> None:
    write_site({"statements/one.md": statement()})
    home = tmp_path / "users" / "me"
    (home / "notes").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "root").symlink_to("/", target_is_directory=True)
    (tmp_path / "file.txt").write_text("keep me")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("keep me")
    (tmp_path / "alias").symlink_to(tmp_path / "content", target_is_directory=True)
    (tmp_path / "link").symlink_to(home / "notes", target_is_directory=True)
    output = {"home": str(home), "link to root": "root", "a file": "file.txt",
              "a folder of other files": "src", "content through a link": "alias",
              "parent of home": str(tmp_path / "users"), "a link": "link"}[where]
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = cli("build", "--now", NOW, "--output", output)
    assert result.status == 2, result.err
    assert "refusing to" in result.err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "file.txt").read_text() == (tmp_path / "src/main.py").read_text() == "keep me"


BILLION_LAUGHS = "\n".join(['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"{chr(n)}: &{chr(n)} [" + ",".join([f"*{chr(n - 1)}"] * 9) + "]" for n in range(ord("b"), ord("k"))])
BOMBS = {
    "alias expansion": (BILLION_LAUGHS, "YAML anchors are not allowed"),
    "aliases without anchors": ("a: [" + ",".join(["*x"] * 10000) + "]", "YAML aliases are not allowed"),
    "flow nesting": ("a: " + "[" * 20000 + "]" * 20000, "nested deeper than 8 levels"),
    "mapping nesting": ("a: " + "{b: " * 10000 + "c" + "}" * 10000, "nested deeper than 8 levels"),
    "block nesting": ("".join(f"{'  ' * n}k{n}:\n" for n in range(150)) + "  " * 150 + "x",
                      "nested deeper than 8 levels"),
    "oversized": ("a: [" + ",".join(["1"] * 40000) + "]", "front matter is larger than 64 KiB"),
}


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_yaml_bombs_are_refused_fast_in_little_memory(bomb: str) -> None:
    source, expected = BOMBS[bomb]
    tracemalloc.start()
    started = time.perf_counter()
    split, problems = split_front_matter("f.md", f"---\n{source}\n---\nText.\n")
    if split is not None:
        root, problems = parse_yaml("f.md", split.front_matter)
        assert root is None
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert expected in problems[0].message
    assert elapsed < 0.5 and peak < 20 * 2**20, (elapsed, peak)


MEASURE_CHECK = """
import contextlib, io, json, resource, sys, time
from communique.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["check", "--content", sys.argv[1]])  # a clean site first: imports, entity data
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    status = main(["check", "--content", sys.argv[2]])
    elapsed = time.perf_counter() - started
extra = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"status": status, "seconds": elapsed, "extra_kib": extra}))
"""


def test_a_check_of_every_bomb_stays_small(write_site: Callable[..., Path], tmp_path: Path) -> None:
    """Peak memory of the whole process (the C parser's too, which tracemalloc cannot see)."""
    clean = write_site({"statements/one.md": statement()})
    shutil.copytree(clean, tmp_path / "clean")
    bombs = write_site({f"statements/b{n}.md": f"---\n{source}\n---\nText.\n"
                        for n, (source, _) in enumerate(BOMBS.values())})
    done = subprocess.run([sys.executable, "-c", MEASURE_CHECK, str(tmp_path / "clean"), str(bombs)],
                          capture_output=True, text=True, check=True)
    measured = json.loads(done.stdout)
    assert measured["status"] == 1
    assert measured["seconds"] < 0.5 and measured["extra_kib"] < 20 * 1024, measured


def test_long_and_reserved_names_make_portable_slugs() -> None:
    long_names = [f"{'Conference on Security and Co-operation ' * 6}{n}" for n in range(2)]
    slugs = [slugify(name) for name in long_names]
    assert all(len(s) <= MAX_SLUG_LENGTH and id_fault(s) is None for s in slugs)
    assert slugs[0] != slugs[1]
    assert slugify("CON") != "con" and slugify("CON").startswith("con-")
    assert id_fault(slugify("CON")) is None
    assert slugify("!!!") == ""


def test_a_long_meeting_name_builds(write_site: Callable[..., Path], cli: Callable[..., Result],
                                    tmp_path: Path) -> None:
    name = "Long " * 80
    write_site({"statements/one.md": front(f"meeting: {{name: {name.strip()}}}\n")})
    assert cli("build", "--now", NOW, "--quiet").status == 0
    (folder,) = [p for p in (tmp_path / "_site/meetings").iterdir() if p.is_dir()]
    assert len(folder.name) <= MAX_SLUG_LENGTH


def tree_digest(folder: Path) -> str:
    """One digest of every file's path and bytes (a site of thousands of pages compares fast)."""
    digest = hashlib.blake2b()
    for path in sorted(folder.rglob("*")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def leftovers(parent: Path, output: str = "_site") -> list[str]:
    """The build's own folders left beside the output."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{output}."))


@pytest.mark.parametrize("path", ["../escape.html", "/etc/passwd", "a//index.html", "a/./b", "a\\b",
                                  "meetings//index.html", "con/index.html", "static/nul.txt", ""])
def test_write_refuses_paths_outside_or_over_others(tmp_path: Path, path: str) -> None:
    (tmp_path / "_site").mkdir()
    with pytest.raises(ContentError) as error:
        write_site(tmp_path / "_site", {"index.html": b"home", path: b"x"}, [])
    assert "refusing to write" in error.value.problems[0].message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]


def test_paths_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="error"):
        write_site(tmp_path / "_site", {"a/Page.html": b"1", "a/page.html": b"2"}, [])


def test_a_write_that_fails_keeps_the_previous_site(tmp_path: Path) -> None:
    write_site(tmp_path / "_site", {"index.html": b"old"}, [])
    with pytest.raises(ContentError) as error:
        write_site(tmp_path / "_site", {"index.html": b"new", "x" * 300 + "/index.html": b"y"}, [])
    assert "could not write the site: File name too long" in error.value.problems[0].message
    assert (tmp_path / "_site/index.html").read_bytes() == b"old"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("atomic", [True, False])
def test_swap_with_and_without_an_atomic_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  atomic: bool) -> None:
    if not atomic:
        monkeypatch.setattr(write, "exchange_directories", lambda first, second: False)
    for text in (b"first", b"second", b"third"):
        write_site(tmp_path / "_site", {"index.html": text, "static/s.css": text}, [])
        assert (tmp_path / "_site/index.html").read_bytes() == text
        assert leftovers(tmp_path) == []


def test_exchange_directories_swaps_two_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/f").write_text("a")
    (tmp_path / "b").mkdir()
    # Linux (where CI runs) has renameat2(RENAME_EXCHANGE); elsewhere the two-rename fallback,
    # tested above, is used instead.
    assert write.exchange_directories(tmp_path / "a", tmp_path / "b") == sys.platform.startswith("linux")
    if sys.platform.startswith("linux"):
        assert not (tmp_path / "a/f").exists() and (tmp_path / "b/f").read_text() == "a"


def test_the_previous_site_set_aside_by_a_killed_build_is_restored(tmp_path: Path) -> None:
    write_site(tmp_path / "_site", {"index.html": b"old"}, [])
    (tmp_path / "_site").rename(tmp_path / "._site.old-abc123")  # killed between the two renames
    (tmp_path / "._site.new-def456").mkdir()  # and its new site, complete or not
    (tmp_path / "._site.del-ghi789").mkdir()  # and an earlier one's half-deleted site
    write.recover_interrupted(tmp_path / "_site")
    assert (tmp_path / "_site/index.html").read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def big_site(folder: Path, count: int, title: str = "Big Site") -> Path:
    """A content folder of `count` statements in one folder."""
    statements = folder / "content" / "statements" / "all"
    statements.mkdir(parents=True, exist_ok=True)
    (folder / "content/site.yaml").write_text(f"title: {title}\nbase_url: https://example.org/\n")
    for n in range(count):
        (statements / f"s-{n:04d}.md").write_text(
            f"---\ntitle: Statement {n}\ndate: {2000 + n % 25}-{1 + n % 12:02d}-{1 + n % 28:02d}\n"
            f"issuers: [US, IT]\nmeeting:\n  name: Meeting {n % 40}\n  hosts: [IT]\n---\nText {n}.\n")
    return folder / "content"


BUILD = [sys.executable, "-m", "communique", "build", "--now", NOW, "--quiet", "--no-search"]


def kill_when(folder: Path, ready: Callable[[], bool], delay: float, command: list[str] = BUILD) -> bool:
    """Start a build, SIGKILL it `delay` seconds after `ready()`; True if it was still running."""
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while process.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(delay)
    running = process.poll() is None
    process.kill()
    process.wait()
    return running


def test_a_killed_build_leaves_the_previous_site(tmp_path: Path) -> None:
    big_site(tmp_path, 800)
    subprocess.run(BUILD, cwd=tmp_path, check=True)
    previous = tree_digest(tmp_path / "_site")
    (tmp_path / "content/site.yaml").write_text("title: Changed\nbase_url: https://example.org/\n")

    def appears(kind: str) -> Callable[[], bool]:
        """True once a folder of this kind appears that was not there before (not a leftover)."""
        before = set(os.listdir(tmp_path))
        return lambda: any(n.startswith(f"._site.{kind}-") for n in set(os.listdir(tmp_path)) - before)

    seen = []
    for kind, delay in ((None, 0.3), ("new", 0.0), ("del", 0.0)):  # checking, writing, swapped
        ready = appears(kind) if kind else lambda: True
        seen.append((kill_when(tmp_path, ready, delay), tree_digest(tmp_path / "_site")))
    assert seen[0] == (True, previous)  # the others may end first on a busy machine: either way
    subprocess.run(BUILD, cwd=tmp_path, check=True)  # the output is the previous or the new site
    assert leftovers(tmp_path) == []
    rebuilt = tree_digest(tmp_path / "_site")
    assert rebuilt != previous and all(digest in (previous, rebuilt) for _, digest in seen)


DIE_BETWEEN_RENAMES = """
import os, signal, sys
from pathlib import Path
import communique.write as write
write.exchange_directories = lambda first, second: False
rename = Path.rename
def rename_or_die(self, target):
    if ".new-" in self.name:  # the previous site is aside and the new one about to go in
        os.kill(os.getpid(), signal.SIGKILL)
    return rename(self, target)
Path.rename = rename_or_die
from communique.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_build_killed_between_two_renames_is_recovered(tmp_path: Path) -> None:
    big_site(tmp_path, 5)
    subprocess.run(BUILD, cwd=tmp_path, check=True)
    previous = tree_digest(tmp_path / "_site")
    (tmp_path / "content/site.yaml").write_text("title: Changed\nbase_url: https://example.org/\n")
    die = [sys.executable, "-c", DIE_BETWEEN_RENAMES, *BUILD[3:]]
    assert subprocess.run(die, cwd=tmp_path, capture_output=True).returncode == -signal.SIGKILL
    assert not (tmp_path / "_site").exists()
    (aside,) = [tmp_path / n for n in leftovers(tmp_path) if ".old-" in n]
    assert tree_digest(aside) == previous
    subprocess.run(BUILD, cwd=tmp_path, check=True)
    assert leftovers(tmp_path) == [] and tree_digest(tmp_path / "_site") != previous


def test_a_second_build_at_once_is_refused(write_site: Callable[..., Path], cli: Callable[..., Result],
                                         tmp_path: Path) -> None:
    write_site({"statements/one.md": statement()})
    assert cli("build", "--now", NOW, "--quiet").status == 0
    before = tree_digest(tmp_path / "_site")
    held = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build holds it
        result = cli("build", "--now", NOW)
    finally:
        os.close(held)
    assert result.status == 1
    assert "another build is writing this output folder" in result.err
    assert tree_digest(tmp_path / "_site") == before


def test_builds_started_together_never_mix(tmp_path: Path) -> None:
    big_site(tmp_path, 100)
    subprocess.run([*BUILD, "--output", "reference"], cwd=tmp_path, check=True)
    for _ in range(2):
        builds = [subprocess.Popen(BUILD, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
                  for _ in range(2)]
        outcomes = [(b.wait(), b.communicate()[1]) for b in builds]
        assert any(status == 0 for status, _ in outcomes), outcomes
        assert all(status == 0 or "another build is writing" in err for status, err in outcomes)
        assert tree_digest(tmp_path / "_site") == tree_digest(tmp_path / "reference")
        assert leftovers(tmp_path) == []


def _unsafe_case(name: str, expected: str, module: str, **files: str) -> object:
    """A case refused by `module` (named to say where the check lives)."""
    return pytest.param(files, expected, id=name)


@pytest.mark.parametrize(("files", "expected"), [
    _unsafe_case("attachment linked outside", "is a symbolic link to a file outside", "fieldspec.py",
                 att=VALID_FRONT + "attachments: [{file: signed.pdf, title: Signed}]\n"),
    _unsafe_case("meeting without letters", "'meeting.name' needs a letter or a digit", "fieldspec.py",
                 meet=VALID_FRONT + "meeting: {name: '!!!'}\n"),
    _unsafe_case("organisation name", "U+202E RIGHT-TO-LEFT OVERRIDE", "entities.py",
                 org=VALID_FRONT.replace("[US, IT]", "[evil]")),
    _unsafe_case("look-alike file name", "(U+0430 CYRILLIC SMALL LETTER A) is not allowed", "validate.py",
                 **{"\u0430bc": VALID_FRONT}),
])
def test_refusals_outside_the_reading_stage(write_site: Callable[..., Path], cli: Callable[..., Result],
                                            files: dict[str, str], expected: str) -> None:
    content = write_site({f"statements/{name}.md": statement(front) for name, front in files.items()}
                         | {"organisations.yaml": "evil: {name: \"\\u202eOrg\"}\n"})
    (content / "statements/signed.pdf").symlink_to("/etc/hostname")
    result = cli("check", "--now", NOW)
    assert result.status == 1 and expected in result.out, result.out
