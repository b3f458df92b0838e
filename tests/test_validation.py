"""Every invalid input gives `path:line:col: error: message`, exit status 1 and no output."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import VALID_FRONT, Result, statement

PATH = "content/statements/bad.md"


@pytest.fixture
def reject(write_site: Callable[..., Path], cli: Callable[..., Result],
           tmp_path: Path) -> Callable[..., str]:
    """Write `files`, check and build; assert both fail and nothing is written; return the report."""

    def run(files: dict[str, str | bytes]) -> str:
        write_site(files)
        checked = cli("check", "--now", "2026-01-01T00:00:00Z")
        assert checked.status == 1, checked.out
        built = cli("build", "--now", "2026-01-01T00:00:00Z")
        assert built.status == 1
        assert not (tmp_path / "_site").exists()
        assert "build failed" in built.err
        return checked.out

    return run


def error_line(report: str, place: str) -> str:
    """The report's line for `place` (`path:line:col`), which must be an error."""
    for line in report.splitlines():
        if line.startswith(place + ": error: "):
            return line
    raise AssertionError(f"no error at {place} in:\n{report}")


def test_missing_front_matter(reject: Callable[..., str]) -> None:
    line = error_line(reject({"statements/bad.md": "Just text, no fields.\n"}), f"{PATH}:1:1")
    assert "missing front matter" in line and "'---'" in line


def test_unclosed_front_matter(reject: Callable[..., str]) -> None:
    report = reject({"statements/bad.md": "---\ntitle: A\ndate: 2024\n\nThe text.\n"})
    assert "unclosed front matter" in error_line(report, f"{PATH}:1:1")


def test_invalid_yaml(reject: Callable[..., str]) -> None:
    report = reject({"statements/bad.md": statement(VALID_FRONT + "summary: [unclosed\n")})
    line = error_line(report, f"{PATH}:7:1")
    assert "invalid YAML" in line


def test_duplicate_key(reject: Callable[..., str]) -> None:
    report = reject({"statements/bad.md": statement(VALID_FRONT + "title: Second title\n")})
    line = error_line(report, f"{PATH}:6:1")
    assert "duplicate key 'title'" in line and "first given on line 2" in line


def test_unknown_key_with_hint(reject: Callable[..., str]) -> None:
    front = VALID_FRONT.replace("issuers:", "isuers:")
    line = error_line(reject({"statements/bad.md": statement(front)}), f"{PATH}:5:1")
    assert "unknown field 'isuers'" in line and "did you mean 'issuers'?" in line


def test_missing_required_field(reject: Callable[..., str]) -> None:
    front = "\n".join(x for x in VALID_FRONT.splitlines() if not x.startswith("issuers")) + "\n"
    report = reject({"statements/bad.md": statement(front)})
    assert f"{PATH}: error: missing required field 'issuers'" in report


@pytest.mark.parametrize("written", ["May 14, 2024", "2024-13-01", "2024-02-30"])
def test_date_that_is_not_a_date(reject: Callable[..., str], written: str) -> None:
    front = VALID_FRONT.replace("date: 2024-06-04", f"date: {written}")
    line = error_line(reject({"statements/bad.md": statement(front)}), f"{PATH}:3:7")
    assert "'date' must be a date written YYYY-MM-DD, YYYY-MM or YYYY" in line
    assert repr(written) in line


def test_unknown_country_suggests(reject: Callable[..., str]) -> None:
    front = VALID_FRONT.replace("[US, IT]", "[US, Itlay]")
    line = error_line(reject({"statements/bad.md": statement(front)}), f"{PATH}:5:15")
    assert "unknown country or organisation 'Itlay' in 'issuers'" in line
    assert "did you mean Italy?" in line


def test_a_country_named_twice(reject: Callable[..., str]) -> None:
    front = VALID_FRONT.replace("[US, IT]", "[US, IT, Italy]")
    line = error_line(reject({"statements/bad.md": statement(front)}), f"{PATH}:5:19")
    assert "'issuers' names Italy twice" in line


def test_id_with_bad_characters(reject: Callable[..., str]) -> None:
    report = reject({"statements/Bad_Statement.md": statement()})
    assert ("content/statements/Bad_Statement.md: error: the file name gives the id "
            "'Bad_Statement', which has characters outside a-z, 0-9") in report
    assert "rename the file to 'bad-statement.md'" in report


def test_duplicate_id(reject: Callable[..., str]) -> None:
    report = reject({"statements/2023/same.md": statement(), "statements/2024/same.md": statement()})
    assert ("content/statements/2024/same.md: error: duplicate id 'same': "
            "content/statements/2023/same.md has the same file name") in report


def test_empty_body(reject: Callable[..., str]) -> None:
    line = error_line(reject({"statements/bad.md": statement(body="\n  \n")}), f"{PATH}:7")
    assert "no text after the front matter" in line


def test_not_utf8(reject: Callable[..., str]) -> None:
    data = statement().encode("utf-8").replace(b"A valid", b"A v\xe9lid")
    line = error_line(reject({"statements/bad.md": data}), f"{PATH}:2:11")
    assert "not UTF-8" in line and "0xe9" in line


def test_embargo_without_timezone(reject: Callable[..., str]) -> None:
    front = VALID_FRONT + "embargo: 2024-06-04T17:00:00\n"
    line = error_line(reject({"statements/bad.md": statement(front)}), f"{PATH}:6:10")
    assert "'embargo' needs a timezone offset" in line and "+01:00" in line


def test_translation_of_unknown(reject: Callable[..., str]) -> None:
    files = {
        "statements/original-text.md": statement(),
        "statements/bad.md": statement("title: Testo\nlang: it\ntranslation_of: original-txt\n"),
    }
    line = error_line(reject(files), f"{PATH}:4:17")
    assert "'translation_of' names no statement" in line and "original-txt" in line
    assert "did you mean 'original-text'?" in line


def test_meeting_without_name(reject: Callable[..., str]) -> None:
    front = VALID_FRONT + "meeting:\n  location: Rome\n  hosts: [IT]\n"
    line = error_line(reject({"statements/bad.md": statement(front)}), f"{PATH}:7:3")
    assert "the meeting has no 'name'" in line


def test_yaml_tag(reject: Callable[..., str]) -> None:
    front = VALID_FRONT + "summary: !!python/object/apply:os.system ['echo pwned']\n"
    line = error_line(reject({"statements/bad.md": statement(front)}), f"{PATH}:6:10")
    assert "YAML tags are not allowed" in line and "python/object/apply:os.system" in line


def test_anchor_and_alias(reject: Callable[..., str]) -> None:
    front = VALID_FRONT.replace("issuers: [US, IT]", "issuers: &who [US, IT]") + "participants: *who\n"
    line = error_line(reject({"statements/bad.md": statement(front)}), f"{PATH}:5:10")
    assert "YAML anchors are not allowed" in line


def test_alias_bomb_refused_fast(reject: Callable[..., str]) -> None:
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(ord("b"), ord("j")):
        prev = chr(n - 1)
        rows.append(f"{chr(n)}: &{chr(n)} [" + ",".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    report = reject({"statements/bad.md": statement(VALID_FRONT + "\n".join(rows) + "\n")})
    assert time.perf_counter() - started < 1.0
    assert "YAML anchors are not allowed" in error_line(report, f"{PATH}:6:4")


def test_link_to_missing_statement_file(reject: Callable[..., str]) -> None:
    body = "Intro.\n\nSee [the 2016 statement](2016-02-02-small-group-rome.md).\n"
    line = error_line(reject({"statements/bad.md": statement(body=body)}), f"{PATH}:9")
    assert "link to a statement file that does not exist: '2016-02-02-small-group-rome.md'" in line


def test_every_problem_reported_at_once(reject: Callable[..., str]) -> None:
    front = "title: X\ndate: 2024-13-01\ntype: jont-statement\nissuers: [Itlay]\ncolour: red\n"
    files = {"statements/bad.md": statement(front), "statements/Other.md": statement()}
    report = reject(files)
    errors = [line for line in report.splitlines() if ": error: " in line]
    assert len(errors) == 5, report
    assert "did you mean 'joint-statement'?" in report


def test_yaml_12_scalars_norway_is_not_false(write_site: Callable[..., Path],
                                             cli: Callable[..., Result], tmp_path: Path) -> None:
    write_site({"statements/nordic.md": statement(VALID_FRONT.replace("[US, IT]", "[NO, SE]"))})
    assert cli("build", "--quiet").status == 0
    data = json.loads((tmp_path / "_site" / "statements.json").read_text())
    assert [e["name"] for e in data["statements"][0]["issuers"]] == ["Norway", "Sweden"]


def test_json_and_github_formats(write_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_site({"statements/bad.md": statement(VALID_FRONT.replace("issuers:", "isuers:"))})
    result = cli("check", "--format", "json")
    assert result.status == 1
    problems = json.loads(result.out)["problems"]
    by_field = {p["field"]: p for p in problems}
    assert by_field["isuers"] == {
        "path": PATH, "line": 5, "column": 1, "severity": "error", "field": "isuers",
        "message": "unknown field 'isuers'", "hint": "did you mean 'issuers'?",
    }
    github = cli("check", "--format", "github")
    assert github.status == 1
    assert re.search(rf"^::error file={re.escape(PATH)},line=5,col=1,title=isuers::unknown field "
                     r"'isuers' \(did you mean 'issuers'\?\)$", github.out, re.M)


def test_draft_may_be_incomplete(write_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    write_site({"statements/wip.md": statement("title: Work in progress\ndraft: true\n", body="")})
    result = cli("check")
    assert result.status == 0, result.out
    assert "content/statements/wip.md: warning: missing required field 'date'" in result.out
    assert "withheld (draft)" in result.out
    write_site({"statements/wip.md": statement("title: Work in progress\ndraft: false\n", body="")})
    result = cli("check")
    assert result.status == 1
    assert "content/statements/wip.md: error: missing required field 'date'" in result.out


def test_malformed_values_are_errors_in_drafts(write_site: Callable[..., Path],
                                               cli: Callable[..., Result]) -> None:
    write_site({"statements/wip.md": statement("title: X\ndate: soon\ndraft: true\n")})
    result = cli("check")
    assert result.status == 1
    assert "content/statements/wip.md:3:7: error: 'date' must be a date" in result.out
