"""`communique new`: write a new draft statement from a commented template."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .dates import parse_date
from .discover import STATEMENTS_DIR
from .models import STATEMENT_TYPES
from .slugs import id_fault, slugify

MAX_ID_LENGTH = 60
"""Ids made from long titles are cut at a word boundary to this length."""


def id_from_title(title: str) -> str:
    """A valid id from any title, in any script: transliterated, hyphenated, shortened."""
    slug = slugify(title) or "statement"
    if len(slug) > MAX_ID_LENGTH:
        slug = slug[:MAX_ID_LENGTH].rsplit("-", 1)[0] or slug[:MAX_ID_LENGTH]
    return slug


def free_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3` … whichever is free first."""
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def _yaml_text(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    import json

    return json.dumps(value, ensure_ascii=False)


def statement_template(title: str, date: str, statement_type: str, issuers: list[str],
                       meeting: str | None, host: str | None) -> str:
    """The new file's text: every field present, the optional ones commented out."""
    issuer_line = (f"issuers: [{', '.join(_yaml_text(i) for i in issuers)}]" if issuers
                   else "# issuers: [US, IT]            # required before publishing")
    lines = [
        "---",
        f"title: {_yaml_text(title)}",
        f"date: {date}                # YYYY-MM-DD, or YYYY-MM / YYYY when only that is known",
        f"type: {statement_type}        # " + " | ".join(STATEMENT_TYPES),
        issuer_line,
    ]
    if meeting:
        lines += ["meeting:", f"  name: {_yaml_text(meeting)}",
                  "  # location: Rome"]
        lines.append(f"  hosts: [{_yaml_text(host)}]" if host else "  # hosts: [IT, US]")
    else:
        lines += ["# meeting:", "#   name: Name of the meeting (series)", "#   location: Rome",
                  "#   hosts: [IT, US]"]
    lines += [
        "# participants: [BF, CM, KE]",
        "# observers: [UZ]",
        "# people:",
        "#   - {name: Full Name, role: Foreign Minister, country: IT}",
        "# topics: [counterterrorism]",
        "# summary: One or two sentences for lists, feeds and meta descriptions.",
        "# release_note: The text of the following statement was released by …",
        "# source: https://example.org/original",
        "# lang: en",
        "# translation_of: id-of-the-original",
        "# embargo: 2024-06-04T17:00:00+02:00",
        "# corrections:",
        "#   - {date: 2024-06-05, note: What was corrected.}",
        "draft: true                     # remove this line to publish",
        "---",
        "Write the text of the statement here.",
        "",
    ]
    return "\n".join(lines)


def create_statement(args: argparse.Namespace) -> int:
    """Write the file; print its path. Exit 2 when the request itself is wrong."""
    content: Path = args.content
    root = content / STATEMENTS_DIR
    taken = {p.stem for p in root.rglob("*.md")} if root.is_dir() else set()
    if args.statement_id:
        fault = id_fault(args.statement_id)
        if fault:
            print(f"communique new: error: --id {args.statement_id!r} must be lowercase a-z, 0-9 "
                  f"and hyphens: {fault}", file=sys.stderr)
            return 2
        if args.statement_id in taken:
            print(f"communique new: error: the id {args.statement_id!r} is taken",
                  file=sys.stderr)
            return 2
        statement_id = args.statement_id
    else:
        statement_id = free_id(id_from_title(args.title), taken)
    date = args.date or dt.date.today().isoformat()
    parsed = parse_date(date)
    if parsed is None:
        print(f"communique new: error: --date must be YYYY-MM-DD, YYYY-MM or YYYY, found {date!r}",
              file=sys.stderr)
        return 2
    statement_type = args.statement_type or "joint-statement"
    if statement_type not in STATEMENT_TYPES:
        print(f"communique new: error: --type must be one of {', '.join(STATEMENT_TYPES)}",
              file=sys.stderr)
        return 2
    issuers = [i.strip() for i in (args.issuers or "").split(",") if i.strip()]
    target = root / str(parsed.year) / f"{statement_id}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    text = statement_template(args.title, date, statement_type, issuers, args.meeting, args.host)
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(text)
    print(target)
    return 0
