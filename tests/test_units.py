"""Units of the pipeline: dates, entities, slugs, the YAML reader, Markdown."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from communique import markdown
from communique.dates import PartialDate, parse_date, parse_instant
from communique.entities import load_registry
from communique.frontmatter import decode_text, parse_yaml
from communique.indexes import Page
from communique.markdown import is_safe_url, render_body
from communique.slugs import slugify
from tests.conftest import FULL_SITE


@pytest.mark.parametrize(("text", "human", "lang"), [
    ("2024-06-04", "4 June 2024", "en"),
    ("2023-12", "December 2023", "en"),
    ("2023", "2023", "en"),
    ("2024-06-04", "4 giugno 2024", "it"),
    ("2023-12", "dicembre 2023", "it"),
])
def test_dates_keep_their_precision(text: str, human: str, lang: str) -> None:
    date = parse_date(text)
    assert date is not None
    assert date.human(lang) == human
    assert date.iso() == text


def test_date_order_and_instants() -> None:
    assert PartialDate(2023, 12) < PartialDate(2023, 12, 1)
    assert PartialDate(2023, 12).instant() == "2023-12-01T00:00:00Z"
    assert parse_date("2024-02-29") and not parse_date("2023-02-29")
    assert parse_instant("2024-06-04T17:00:00") is None
    assert parse_instant("2024-06-04T17:00:00Z") is not None


@pytest.mark.parametrize(("written", "name"), [
    ("IT", "Italy"), ("ITA", "Italy"), ("Italy", "Italy"), ("Italian Republic", "Italy"),
    ("italy", "Italy"), ("AU", "Australia"), ("KR", "South Korea"), ("IR", "Iran"),
    ("TW", "Taiwan"), ("RU", "Russia"), ("EU", "European Union"), ("UN", "United Nations"),
    ("european-union", "European Union"), ("UK", "United Kingdom"), ("XK", "Kosovo"),
    ("MIKTA Foreign Ministers", "MIKTA"), ("Côte d'Ivoire", "Côte d'Ivoire"),
])
def test_entities_resolve(written: str, name: str) -> None:
    registry, problems = load_registry(FULL_SITE, "content")
    assert problems == []
    entity = registry.resolve(written)
    assert entity is not None and entity.name == name


def test_unknown_entity_suggestions() -> None:
    registry, _ = load_registry(FULL_SITE, "content")
    assert registry.resolve("Itlay") is None
    assert registry.suggest("Itlay") == "did you mean Italy?"
    assert registry.suggest("Kosvo") == "did you mean Kosovo?"


def test_site_entity_files_are_checked(tmp_path: Path) -> None:
    (tmp_path / "countries.yaml").write_text("xk: {name: Kosovo}\nGB: {alias: [UK]}\n")
    (tmp_path / "organisations.yaml").write_text("Bad Id: {name: X}\nnew-org: {}\n")
    _, problems = load_registry(tmp_path, "content")
    messages = sorted((p.path, p.line, p.message) for p in problems)
    assert messages == [
        ("content/countries.yaml", 1, "expected a two-letter upper-case country code, found 'xk'"),
        ("content/countries.yaml", 2, "unknown key 'alias'"),
        ("content/organisations.yaml", 1, "expected an organisation id of lowercase a-z, 0-9 and "
                                          "hyphens, found 'Bad Id'"),
        ("content/organisations.yaml", 2, "organisation 'new-org' needs a 'name'"),
    ]


@pytest.mark.parametrize(("name", "slug"), [
    ("Italy", "italy"), ("Côte d'Ivoire", "cote-d-ivoire"),
    ("Small Group of the Global Coalition to Defeat Daesh/ISIS",
     "small-group-of-the-global-coalition-to-defeat-daesh-isis"),
    ("Türkiye", "turkiye"), ("  --Weird__name--  ", "weird-name"),
])
def test_slugs(name: str, slug: str) -> None:
    assert slugify(name) == slug


NONCHARACTERS = frozenset([*map(chr, range(0xFDD0, 0xFDF0)), *(
    chr(plane + last) for plane in range(0, 0x110000, 0x10000) for last in (0xFFFE, 0xFFFF))])


def forbidden(ch: str) -> bool:
    """What no page may show, by definition: C0 controls but tab and line feed, DEL, C1, noncharacters."""
    return ((ch < " " and ch not in "\t\n") or "\x7f" <= ch <= "\x9f") or ch in NONCHARACTERS


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["a", "é", "\n", "\t", "\x0c", "\x85", "\ufdd0", "\ufdef", "\ufdf0",
                                 "\ufffd", "\uffff", "\U0001f600", "\U0001fffe", "\U0002fffd",
                                 "\U0010ffff", "\U000e0001"]), max_size=12))
def test_the_first_forbidden_character_is_the_one_reported(chars: list[str]) -> None:
    text = "".join(chars)
    decoded, problems = decode_text("f.md", text.encode())
    first = next((n for n, ch in enumerate(text) if forbidden(ch)), None)
    if first is None:
        assert problems == [] and decoded is not None
        return
    line = text.count("\n", 0, first) + 1
    column = first - (text.rfind("\n", 0, first) + 1) + 1
    assert decoded is None and (problems[0].line, problems[0].column) == (line, column), problems
    assert f"U+{ord(text[first]):04X}" in problems[0].message


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(1, 500).flatmap(lambda count: st.tuples(st.just(count), st.integers(1, count))))
def test_pagination_shows_the_ends_and_the_neighbours(count_and_number: tuple[int, int]) -> None:
    count, number = count_and_number
    shown = Page(number, count, ()).shown
    numbers = [n for n in shown if n is not None]
    assert {1, count, number} | {n for n in (number - 1, number + 1) if 1 <= n <= count} <= set(numbers)
    assert len(shown) <= 7 and numbers == sorted(set(numbers))
    assert count > 7 or shown == tuple(range(1, count + 1))  # all, when they fit
    for before, after in pairwise(shown):
        assert before is not None or after is not None  # never two gaps in a row
        if before is not None and after is not None:
            assert after == before + 1  # no page left out without a gap shown
    for n, item in enumerate(shown):
        if item is None:  # a gap stands for two pages or more
            assert shown[n + 1] - shown[n - 1] >= 3  # type: ignore[operator]


def test_yaml_keeps_text_and_places() -> None:
    root, problems = parse_yaml("f.md", "issuers: [NO, SE]\ndraft: yes\nn: 1.0\n")
    assert problems == [] and root is not None
    issuers = root.entries["issuers"][1]
    assert [(i.text, i.line, i.column) for i in issuers.items] == [("NO", 2, 11), ("SE", 2, 15)]
    assert root.entries["draft"][1].text == "yes"
    assert root.entries["n"][1].text == "1.0"


@pytest.mark.parametrize(("source", "message"), [
    ("? [a, b]\n: c\n", "a field name must be text"),
    ("a: " + "[" * 20 + "]" * 20 + "\n", "nested deeper than"),
    ("- a\n- b\n", "front matter must be a mapping"),
    ("a: 1\n---\nb: 2\n", "more than one YAML document"),
    ("a: !custom x\n", "YAML tags are not allowed"),
])
def test_yaml_refusals(source: str, message: str) -> None:
    root, problems = parse_yaml("f.md", source)
    assert root is None
    assert message in problems[0].message


@pytest.mark.parametrize(("url", "safe"), [
    ("https://example.org", True), ("mailto:a@b.c", True), ("../x.md", True), ("#fn1", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), (" java\tscript:x", False),
    ("data:text/html,x", False), ("vbscript:x", False), ("file:///etc/passwd", False),
])
def test_link_schemes(url: str, safe: bool) -> None:
    assert is_safe_url(url) is safe


def test_markdown_body() -> None:
    body = ("# Heading\n\n### Skipped a level\n\nText with [link](other.md#part) and <em>raw</em>.\n\n"
            "[x](data:text/html,hi)\n")
    rendered, problems = render_body("f.md", body, 10, "statements",
                                     {"statements/other.md": "other"}, "/statements/{id}/")
    assert problems == []
    assert "<h2>Heading</h2>" in rendered.html and "<h3>Skipped a level</h3>" in rendered.html
    assert '<a href="/statements/other/#part">link</a>' in rendered.html
    assert "&lt;em&gt;raw&lt;/em&gt;" in rendered.html
    assert 'href="data:' not in rendered.html
    assert rendered.links_to == ("other",)
    assert rendered.text.startswith("Heading")


FULL_PARSER = markdown._parser.__wrapped__()  # a parser of its own, with every rule
FULL_PARSER.enable(["html_block", "html_inline"])


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["a", "b c", " ", "\n", "\n\n", "-", "--- ", ":", ":-:", "# ", "> ", "1. ",
                                 "* ", "`", "```", "~~~", "[x]", "[^1]", "^[n]", "]:", "(y.md)", "<b>",
                                 "&amp;", "\\", "    ", "---\n", "a\n-\n", "|", "a | b\n", "[", "]",
                                 "[y]:/u\n", "#", ">", "a|b\n-|-\n", "\t", "\r\n", "\x00"]),
                max_size=40))
def test_a_body_parses_the_same_without_the_rules_it_cannot_match(parts: list[str]) -> None:
    body = "".join(parts)
    assert markdown._parser_for(body).render(body) == FULL_PARSER.render(body)
    active = markdown._parser_for(body).get_active_rules()
    for rule, marks in markdown._OPTIONAL_RULES:  # a rule is left out where its marks are missing
        assert (rule in active["block"]) == any(mark in body for mark in marks)
    assert ("footnote_ref" in active["inline"]) == ("[^" in body or "^[" in body)
    assert "html_block" not in active["block"]


@pytest.mark.parametrize(("body", "text"), [
    ("Two  spaces,\ta tab,  \t both.\nA `code  span`.\n\n- item\n",
     "Two spaces, a tab, both. A code span.\nitem"),
    ("Only\ta tab.\n", "Only a tab."),
    ("Only  spaces.\n", "Only spaces."),
])
def test_body_text_has_single_spaces(body: str, text: str) -> None:
    rendered, _ = render_body("f.md", body, 1, "", {}, "/statements/{id}/")
    assert rendered.text == text


def test_regrouping_after_an_edit_equals_grouping_again(tmp_path: Path) -> None:
    """The dev server's index after an edit (groups updated in place) is the one a fresh
    grouping gives, whether the edit touched the text, the title or the entities."""
    import shutil

    from communique.build import check_site
    from communique.incremental import ParseCache
    from communique.indexes import group_by_entity, group_by_topic
    from communique.options import Options

    content = tmp_path / "content"
    shutil.copytree(FULL_SITE, content)
    options = Options(content=content, base_url="http://127.0.0.1:1/")
    cache = ParseCache()
    before = check_site(options, cache).index
    file = content / "statements/2024/2024-03-15-weimar-triangle.md"
    original = file.read_text()
    for edited in (original + "\nOne more sentence.\n",
                   original.replace("meeting 1", "first meeting"),
                   original.replace("issuers: [DE, FR, PL]", "issuers: [DE, FR]"),
                   original.replace("topics: [european security]", "topics: [security]")):
        file.write_text(edited)
        index = check_site(options, cache).index
        assert index.entities == group_by_entity(index.originals)
        assert index.topics == group_by_topic(index.originals)
        assert any("first meeting" in s.title for g in index.entities for s in g.statements) == \
            ("first meeting" in edited)
        if edited.startswith(original):  # a text edit: the groups it does not touch are reused
            japan = [g for i in (before, index) for g in i.entities if g.entity.id == "JP"]
            assert japan[0] is japan[1]
