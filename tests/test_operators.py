"""What site operators need: static files, attachments, redirects, withdrawals, the editor
schema and the open data, through the command line and the built files."""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from communique.frontmatter import Node, parse_yaml, split_front_matter
from tests.conftest import FULL_SITE, NOW, VALID_FRONT, Result, statement
from tests.htmltools import parse_page

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def built(cli: Callable[..., Result], tmp_path: Path) -> Path:
    shutil.copytree(FULL_SITE, tmp_path / "content")
    result = cli("build", "--now", NOW)
    assert result.status == 0, result.err
    return tmp_path / "_site"


def test_static_files_are_copied_as_they_are(built: Path) -> None:
    assert (built / "robots.txt").read_bytes() == (FULL_SITE / "static/robots.txt").read_bytes()
    assert (built / "CNAME").read_text() == "statements.example.org\n"
    assert (built / ".well-known/security.txt").is_file()


def test_static_file_may_not_overwrite_a_page(cli: Callable[..., Result], write_site: Callable[..., Path],
                                              tmp_path: Path) -> None:
    write_site({"statements/one.md": statement(), "static/index.html": "<p>mine</p>",
                "static/statements/one/index.html": "<p>mine</p>", "static/fine.txt": "ok",
                "static/pagefind/years.json": "{}", "static/data": "a file where a page's folder is",
                "static/feed.xml/inside.txt": "a file in a folder where a generated file is"})
    result = cli("build")
    assert result.status == 1
    assert ("content/static/data: error: this file would take the place of the folder /data/, which holds "
            "generated pages") in result.err
    assert ("content/static/feed.xml/inside.txt: error: this file would go inside /feed.xml, which is a "
            "generated page") in result.err
    assert "content/static/index.html: error: this file would overwrite a generated page at /index.html" \
        in result.err
    assert "content/static/statements/one/index.html: error:" in result.err
    assert ("content/static/pagefind/years.json: error: this file would overwrite the search index at "
            "/pagefind/years.json") in result.err
    assert not (tmp_path / "_site").exists()


def test_attachments_are_copied_and_linked(built: Path) -> None:
    copied = built / "statements/2016-02-02-small-group-rome/signed.pdf"
    assert copied.read_bytes() == (FULL_SITE / "statements/2016/signed.pdf").read_bytes()
    page = parse_page(built / "statements/2016-02-02-small-group-rome/index.html")
    assert page.find("a", href="/statements/2016-02-02-small-group-rome/signed.pdf")
    assert "Signed original (PDF, 1 KB)" in page.text


def test_attachment_in_a_folder_named_after_the_id(cli: Callable[..., Result],
                                                   write_site: Callable[..., Path], tmp_path: Path) -> None:
    front = VALID_FRONT + "attachments:\n  - {file: annex.docx, title: Annex}\n"
    write_site({"statements/one.md": statement(front), "statements/one/annex.docx": "x" * 2_500_000})
    assert cli("build", "--quiet").status == 0
    page = parse_page(tmp_path / "_site/statements/one/index.html")
    assert "Annex (DOCX, 2.5 MB)" in page.text


def test_missing_attachment_is_an_error(cli: Callable[..., Result], write_site: Callable[..., Path]) -> None:
    front = (VALID_FRONT + "attachments:\n  - {file: missing.pdf, title: Signed}\n"
             "  - {file: ../x.pdf, title: X}\n")
    write_site({"statements/one.md": statement(front)})
    result = cli("check")
    assert result.status == 1
    assert "content/statements/one.md:7:12: error: attachment not found: 'missing.pdf'" in result.out
    assert "content/statements/one.md:8:12: error: 'attachments.file' must name a file beside" in result.out


def test_alias_redirects(built: Path) -> None:
    redirect = built / "statements/maritime-security-2024/index.html"
    page = parse_page(redirect)
    target = "/statements/2024-07-01-chairs-statement/"
    assert page.find("link", rel="canonical", href="https://example.org" + target)
    assert page.find("meta", http_equiv="refresh", content=f"0; url={target}")
    assert page.find("a", href=target)
    assert page.find("meta", name="robots", content="noindex")
    for other in built.rglob("*"):
        if other.is_file() and other != redirect:
            assert b"maritime-security-2024" not in other.read_bytes(), other


def test_alias_colliding_with_an_id_is_an_error(cli: Callable[..., Result],
                                                write_site: Callable[..., Path]) -> None:
    write_site({"statements/one.md": statement(VALID_FRONT + "aliases: [two]\n"),
                "statements/two.md": statement()})
    result = cli("check")
    assert result.status == 1
    assert ("content/statements/one.md:6:10: error: alias 'two' is the id of a statement "
            "(content/statements/two.md)") in result.out


def test_withdrawn_statement(built: Path) -> None:
    url = "/statements/2024-06-04-balkans-readout/"
    page = parse_page(built / url.strip("/") / "index.html")
    banner = page.find("div", role="note")
    assert banner and "Withdrawn on 10 June 2024" in page.text
    assert "issued before all participants had agreed" in page.text
    assert "Ministers from the region met in London" in page.text  # the text stays
    feed = ET.parse(built / "feed.xml").getroot()
    assert all(url not in (e.findtext(f"{ATOM}id") or "") for e in feed.iter(f"{ATOM}entry"))
    assert not parse_page(built / "index.html").find("a", href=url)
    year = parse_page(built / "archive/2024/index.html")
    assert year.find("a", href=url) and "Withdrawn" in year.text
    data = json.loads((built / "statements.json").read_text())
    record = next(s for s in data["statements"] if s["id"] == "2024-06-04-balkans-readout")
    assert record["withdrawn"]["date"] == "2024-06-10"


def test_schema_validates_fixture_statements(cli: Callable[..., Result]) -> None:
    result = cli("schema")
    assert result.status == 0
    schema = json.loads(result.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted((FULL_SITE / "statements").rglob("*.md"))
    assert len(files) == 14
    for file in files:
        errors = list(validator.iter_errors(front_matter_data(file.read_text())))
        assert not errors, f"{file.name}: {errors[0].message}"
    broken = front_matter_data(statement(VALID_FRONT.replace("issuers:", "isuers:")
                                         .replace("2024-06-04", "June 4")))
    messages = " ".join(e.message for e in validator.iter_errors(broken))
    assert "'isuers' was unexpected" in messages and "does not match" in messages


def front_matter_data(text: str) -> object:
    """Front matter as an editor's YAML 1.2 language server sees it."""
    split, _ = split_front_matter("f.md", text)
    assert split is not None
    root, problems = parse_yaml("f.md", split.front_matter)
    assert root is not None, problems
    return plain(root)


def plain(node: Node) -> object:
    if node.kind == "mapping":
        return {k: plain(v) for k, (_, v) in node.entries.items()}
    if node.kind == "sequence":
        return [plain(item) for item in node.items]
    if node.plain and node.text in ("true", "false"):
        return node.text == "true"
    return node.text


def test_full_text_jsonl(built: Path) -> None:
    lines = (built / "statements.jsonl").read_text().splitlines()
    assert len(lines) == 11
    records = [json.loads(line) for line in lines]
    rome = next(r for r in records if r["id"] == "2016-02-02-small-group-rome")
    assert "| Line of effort | Lead |" in rome["markdown"]
    assert rome["text"].startswith("Ministers met in Rome")
    assert rome["attachments"][0]["url"].endswith("/signed.pdf")
    assert parse_page(built / "data/index.html").find("a", href="/statements.jsonl")


def test_csv_parses_and_neutralises_formulas(cli: Callable[..., Result], write_site: Callable[..., Path],
                                             tmp_path: Path) -> None:
    front = VALID_FRONT.replace("A valid statement", '"=HYPERLINK(\\"http://x\\")"') + \
        'summary: "+1 and -1 @home"\n'
    write_site({"statements/one.md": statement(front), "statements/two.md": statement()})
    assert cli("build", "--quiet").status == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "_site/statements.csv").read_text())))
    assert len(rows) == 2
    one = next(r for r in rows if r["id"] == "one")
    assert one["title"] == "'=HYPERLINK(\"http://x\")"
    assert one["summary"] == "'+1 and -1 @home"
    assert one["issuers"] == "US;IT" and one["issuer_names"] == "United States;Italy"
