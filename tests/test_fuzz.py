"""Random front matter and Markdown: only clean problems or a valid page, never an exception.

Examples are derandomized, so a run is repeatable and never flaky; the generated pages are
checked by the Nu Html Checker in one run at the end.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from communique.cli import main
from communique.discover import SourceFile
from communique.entities import Registry, load_registry
from communique.markdown import render_body
from communique.problems import Problem
from communique.validate import parse_statement_file
from tests.a11y.checkers import run_vnu
from tests.conftest import NOW, SITE_YAML
from tests.test_hardening import HOSTILE_SITE, audit

FUZZ = settings(max_examples=150, deadline=None, database=None, derandomize=True)
FIELDS = ["title", "date", "type", "issuers", "meeting", "participants", "observers", "people", "topics",
          "summary", "release_note", "source", "lang", "translation_of", "draft", "embargo", "corrections",
          "name", "location", "hosts", "start", "end", "role", "country", "note", "1", "<<"]
ODD = ["US", "IT", "NO", "yes", "on", "~", "null", "2024-06-04", "2024-13", "2024-06", "javascript:alert(1)",
       "https://example.org/", "data:text/html,x", "con", "../x", "a\\b", "joint-statement", "{{ 7*7 }}",
       "</script><script>alert(1)</script>", "\u202eevil", "zero\u200bwidth", "\ufeff", "é", "中文",
       "2024-06-04T17:00:00+02:00", "en", "pt-BR", "true", "false", ""]
YAML_PIECES = [":", ": ", " ", "\n", "\n  ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!", "!!str ",
               "!!python/object:os.system ", "|", ">", "'", '"', "#", "%", "@", "`", "? ", "---", "...",
               "\t", "\\", "\\u202e", "\\x00", "\x85", "\u2028", "\x07", *FIELDS, *ODD]
MARKDOWN_PIECES = [
    "# ", "## ", "###### ", "- ", "  - ", "    - ", "1. ", "> ", ">> ", "```", "~~~", "    code",
    "| a | b |\n|---|---|\n| c | d |\n", "|", "---", "===", "[^1]", "[^1]: note\n", "[^x]: ",
    "[link](", ")", "](", "![img](", "[ref]", "[ref]: ", "<", ">", "javascript:alert(1)",
    "JaVaScRiPt:x", "java\tscript:x", "&#106;avascript:x", "data:text/html,x", "vbscript:x",
    "mailto:a@b.c", "https://example.org/", "//evil.example/", "other.md", "../other.md",
    "%2e%2e/x.md", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "<a href='javascript:x'>", "</div>", "<!--", "-->", "<![CDATA[", "{{ 7*7 }}", "{% raw %}", "*",
    "_", "**", "`", "\\", "&amp;", "&#0;", "&#x110000;", "&#xFDD0;", "&nbsp;", "\u202e", "\u200b",
    "\ufeff", "é", "中文", "عربى", "👨\u200d👩\u200d👧", "\x0b", "\x0c", "\r", '"', "'", "\n", "\n\n",
    "  \n", "\t", ":",
]
SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
"""A URL's scheme, as browsers read it (control characters and spaces dropped)."""
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                  "track", "wbr"})

yamlish = st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=6), max_size=40).map("".join)
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.dates()
           | st.text(max_size=20) | st.sampled_from(ODD))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=4),
                      max_leaves=16)
mappings = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=8)
markdown = st.lists(st.sampled_from(MARKDOWN_PIECES) | st.text(max_size=10), max_size=50).map("".join)
visible = st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")),
                  max_size=12)
names = (st.sampled_from([o for o in ODD if o.isprintable() and o.strip() and o not in ("~", "null")])
         | visible.filter(str.strip))
printable_markdown = st.lists(st.sampled_from([m for m in MARKDOWN_PIECES if m.isprintable() or m.isspace()])
                              | visible, max_size=50).map("".join)


class BalanceCheck(HTMLParser):
    """Every element closed in order, and nothing that could run."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.faults: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" or any(name.startswith("on") for name, _ in attrs):
            self.faults.append(f"<{tag}> runs code")
        for name, value in attrs:
            scheme = SCHEME.match("".join(ch for ch in (value or "") if ch > " "))
            if name in ("href", "src") and scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
                self.faults.append(f"<{tag} {name}={value!r}>")
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.faults.append(f"<{tag} /> is not a void element")
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.faults.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def balance_faults(html: str) -> list[str]:
    """What is wrong with an HTML fragment (empty when it is sound)."""
    checker = BalanceCheck()
    checker.feed(html)
    checker.close()
    return checker.faults + [f"<{tag}> never closed" for tag in checker.open]


@pytest.fixture(scope="module")
def registry() -> Registry:
    """The built-in countries and organisations."""
    with tempfile.TemporaryDirectory() as empty:
        return load_registry(Path(empty), "content")[0]


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """A folder for the files of every example (tmp_path is per test, not per example)."""
    with tempfile.TemporaryDirectory() as made:
        (Path(made) / "statements").mkdir()
        yield Path(made)


def parse(folder: Path, registry: Registry, data: bytes) -> list[Problem]:
    """Parse one statement file; assert the result is a parsed file or clean problems."""
    file = folder / "statements" / "fuzz.md"
    file.write_bytes(data)
    source = SourceFile.at("content/statements/fuzz.md", "statements/fuzz.md", str(file))
    parsed, problems = parse_statement_file(source, registry, {"statements/fuzz.md": "fuzz"},
                                            "/statements/{id}/")
    assert all(isinstance(p, Problem) and p.message for p in problems)
    assert parsed.invalid == any(p.is_error for p in problems)
    if parsed.body is not None:
        assert balance_faults(parsed.body.html) == []
    return problems


@FUZZ
@given(front=yamlish, body=markdown)
def test_yamlish_front_matter(folder: Path, registry: Registry, front: str, body: str) -> None:
    parse(folder, registry, f"---\n{front}\n---\n{body}".encode("utf-8", "surrogatepass"))


@FUZZ
@given(fields=mappings, body=markdown)
def test_random_mappings_as_yaml(folder: Path, registry: Registry, fields: dict[str, Any], body: str) -> None:
    dumped = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False)
    parse(folder, registry, f"---\n{dumped}---\n{body}".encode())


@settings(FUZZ, max_examples=300)
@given(body=markdown)
def test_markdown_is_sound_html(body: str) -> None:
    rendered, problems = render_body("f.md", body, 5, "statements", {"statements/other.md": "other"},
                                     "/statements/{id}/")
    assert balance_faults(rendered.html) == [], rendered.html
    assert all(p.line is not None and p.line >= 5 for p in problems)


@st.composite
def statements(draw: st.DrawFn) -> str:
    """A statement with random text in every text field and a random body."""
    fields = {"title": draw(names), "date": "2024-06-04", "issuers": ["US", "IT"],
              "meeting": {"name": draw(names), "location": draw(names), "hosts": ["IT"]},
              "people": [{"name": draw(names), "role": draw(names)}], "topics": [draw(names)],
              "summary": draw(names), "release_note": draw(names)}
    return f"---\n{yaml.safe_dump(fields, allow_unicode=True)}---\n{draw(printable_markdown)}\n"


def test_whole_sites_from_random_statements(tmp_path: Path) -> None:
    pages: list[Path] = []
    sites = itertools.count()

    @settings(FUZZ, max_examples=25)
    @given(text=statements())
    def build(text: str) -> None:
        site = tmp_path / f"site-{next(sites)}"
        (site / "content/statements").mkdir(parents=True)
        (site / "content/site.yaml").write_text(SITE_YAML)
        (site / "content/statements/fuzz.md").write_text(text, encoding="utf-8")
        errors = io.StringIO()
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            status = main(["build", "--content", str(site / "content"), "--output", str(site / "out"),
                           "--now", NOW, "--quiet", "--no-search"])
        assert status in (0, 1) and "Traceback" not in errors.getvalue()
        if status == 0:
            for page in sorted((site / "out").rglob("*.html")):
                assert audit(page).findings == [], page
            ET.parse(site / "out/feed.xml")  # XML 1.0 holds fewer characters than HTML
            json.loads((site / "out/statements.json").read_text(encoding="utf-8"))
            pages.extend(sorted((site / "out").glob("*/*/index.html")))
        else:
            assert ": error: " in errors.getvalue()

    build()
    assert len(pages) > 20
    with contextlib.redirect_stderr(io.StringIO()):  # and the hand-written hostile site
        assert main(["build", "--content", str(HOSTILE_SITE), "--output", str(tmp_path / "hostile"),
                     "--now", NOW, "--quiet"]) == 0
    pages.extend(sorted((tmp_path / "hostile").rglob("*.html")))
    problems = [f"{m['file']}:{m['line']}: {m['message']}" for m in run_vnu(pages)]
    assert problems == []
