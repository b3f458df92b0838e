"""Parse one statement file into its checked field values, or a list of problems."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .discover import SourceFile, read_source
from .entities import Registry
from .fields import Reader
from .frontmatter import Node, decode_text, parse_yaml, split_front_matter
from .markdown import RenderedBody, render_body
from .models import STATEMENT_TYPES, Meeting
from .problems import Problem
from .slugs import ID_PATTERN, slugify

FieldRead = Callable[[Reader, Node, str], Any]

STATEMENT_FIELDS: dict[str, tuple[FieldRead, str]] = {
    "title": (Reader.text, "The statement's title (required)."),
    "date": (Reader.date, "Date issued (required): YYYY-MM-DD, or YYYY-MM / YYYY when only that "
                          "is known."),
    "type": (lambda r, n, f: r.choice(n, f, tuple(STATEMENT_TYPES)),
             "One of " + ", ".join(STATEMENT_TYPES) + " (default statement)."),
    "issuers": (Reader.entities, "Who released the text (required, at least one)."),
    "meeting": (lambda r, n, f: read_meeting(r, n), "The meeting the statement comes from."),
    "participants": (Reader.entities, "Countries and organisations that took part."),
    "observers": (Reader.entities, "Countries and organisations that attended as observers."),
    "people": (Reader.people, "People named: [{name, role, country}]."),
    "topics": (Reader.topics, "Free tags."),
    "summary": (Reader.text, "One or two sentences for lists, feeds and meta descriptions."),
    "release_note": (Reader.text, "The publisher's note, shown apart from the text."),
    "source": (Reader.url, "Where the text was first published (http or https)."),
    "lang": (Reader.language, "BCP 47 language of the text (default: the site's language)."),
    "translation_of": (Reader.identifier, "This file is a translation of the statement with "
                                          "this id."),
    "draft": (Reader.boolean, "Drafts are never published unless --drafts."),
    "embargo": (Reader.instant, "Not published before this instant (offset required)."),
    "corrections": (Reader.corrections, "Dated change history: [{date, note}]."),
}
"""Every front-matter field: how it is read and what it means."""

REQUIRED = ("title", "date", "issuers")
"""Fields an original statement must give (a translation inherits them)."""
MEETING_FIELDS = ("name", "location", "hosts", "date", "start", "end")


@dataclass(slots=True)
class ParsedFile:
    """One statement file, read and checked on its own."""

    source: SourceFile
    """Where it came from."""
    values: dict[str, Any] = field(default_factory=dict)
    """Field name to checked value, for the fields that were given and valid."""
    nodes: dict[str, Node] = field(default_factory=dict)
    """Field name to its YAML node, for messages that point at it."""
    body: RenderedBody | None = None
    """The rendered body, or None when it is empty."""
    body_line: int = 1
    """Line where the body starts."""
    invalid: bool = False
    """True when the file had errors: it is not assembled into a statement."""
    digest: bytes = b""
    """BLAKE2 digest of the file's bytes."""

    @property
    def id(self) -> str:
        """The statement id (the file's stem)."""
        return self.source.stem

    @property
    def is_draft(self) -> bool:
        """True when the front matter says `draft: true`."""
        return bool(self.values.get("draft", False))


def read_meeting(reader: Reader, node: Node) -> Meeting | None:
    """The `meeting:` mapping."""
    if node.kind != "mapping":
        reader.error(node, "meeting", f"'meeting' must be a mapping with at least 'name', "
                                      f"found {node.describe()}")
        return None
    reader.unknown_keys(node, MEETING_FIELDS, "meeting.")
    entries = node.entries
    if "name" not in entries:
        reader.error(node, "meeting.name", "the meeting has no 'name'",
                     "add 'name:' with the meeting (series) name under 'meeting:'")
        return None
    before = len(reader.problems)
    name = reader.text(entries["name"][1], "meeting.name")
    location = (reader.text(entries["location"][1], "meeting.location")
                if "location" in entries else None)
    hosts = (reader.entities(entries["hosts"][1], "meeting.hosts")
             if "hosts" in entries else ())
    dates = {key: reader.date(entries[key][1], f"meeting.{key}")
             for key in ("date", "start", "end") if key in entries}
    if "date" in dates and ("start" in dates or "end" in dates):
        reader.error(entries["date"][1], "meeting.date",
                     "give either 'date' or 'start' and 'end', not both")
    start = dates.get("date") or dates.get("start")
    end = dates.get("end")
    if start and end and end < start:
        reader.error(entries["end"][1], "meeting.end", "the meeting ends before it starts")
    if len(reader.problems) > before or name is None:
        return None
    return Meeting(name, slugify(name), location, hosts or (), start, end)


def parse_statement_file(
    source: SourceFile,
    registry: Registry,
    statement_files: Mapping[str, str],
    statement_url: str,
) -> tuple[ParsedFile, list[Problem]]:
    """Read one file: decode, split, parse YAML, read each field, render the body."""
    parsed = ParsedFile(source, invalid=True)
    path = source.path
    problems: list[Problem] = []
    if not ID_PATTERN.fullmatch(source.stem):
        problems.append(Problem(
            path, None, None,
            f"the file name gives the id {source.stem!r}, which has characters outside a-z, 0-9 "
            "and single hyphens", "id",
            f"rename the file to '{slugify(source.stem) or 'statement'}.md'",
        ))
    data, found = read_source(source)
    if data is None:
        return parsed, problems + found
    parsed.digest = hashlib.blake2b(data, digest_size=16).digest()
    text, found = decode_text(path, data)
    if text is None:
        return parsed, problems + found
    split, found = split_front_matter(path, text)
    if split is None:
        return parsed, problems + found
    root, found = parse_yaml(path, split.front_matter)
    if root is None:
        return parsed, problems + found
    reader = Reader(path, registry)
    reader.unknown_keys(root, tuple(STATEMENT_FIELDS))
    for name, (_key_node, node) in root.entries.items():
        if name not in STATEMENT_FIELDS:
            continue
        parsed.nodes[name] = node
        if node.is_null:
            reader.error(node, name, f"'{name}' is empty", "give a value or remove the line")
            continue
        value = STATEMENT_FIELDS[name][0](reader, node, name)
        if value is not None:
            parsed.values[name] = value
    parsed.body_line = split.body_line
    if split.body.strip():
        body, found = render_body(path, split.body, split.body_line, source.folder,
                                  statement_files, statement_url)
        parsed.body = body
        reader.problems.extend(found)
    problems += reader.problems
    parsed.invalid = any(p.is_error for p in problems)
    return parsed, problems
