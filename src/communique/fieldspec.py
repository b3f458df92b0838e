"""The statement format in one table: every front-matter field, how it is read, what it means
and its JSON Schema. The validator reads with it and `communique schema` prints it, so the two
never disagree.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .fields import Reader
from .frontmatter import Node
from .models import STATEMENT_TYPES, Attachment, Meeting, Withdrawal
from .slugs import slugify

FieldRead = Callable[[Any, Node, str], Any]


@dataclass(slots=True)
class StatementReader(Reader):
    """A `Reader` that knows where its statement file is (to find attachments)."""

    folder: str = ""
    """The statement file's folder."""
    stem: str = ""
    """The statement's id."""
    probes: list[Probe] = field(default_factory=list)
    """The other files looked at (see `probe`)."""


Probe = tuple[str, tuple[bool, int, str]]
"""A file looked at and what was found there (see `probe`)."""


def probe(path: str) -> tuple[bool, int, str]:
    """What reading a statement takes from a file it looks for: whether it is a file, its size
    and where it really is."""
    try:
        info = os.stat(path)
    except OSError:
        return False, -1, os.path.realpath(path)
    found = stat.S_ISREG(info.st_mode)
    return found, info.st_size if found else -1, os.path.realpath(path)


TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
DATE: dict[str, Any] = {"type": "string",
                        "pattern": r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"}
INSTANT: dict[str, Any] = {
    "type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"}
ID: dict[str, Any] = {"type": "string", "pattern": r"^[a-z0-9]+(-[a-z0-9]+)*$"}
ENTITY: dict[str, Any] = {"type": "string", "minLength": 1,
                          "description": "An ISO 3166 code or name, or an organisation id or name."}
ENTITIES: dict[str, Any] = {"anyOf": [ENTITY, {"type": "array", "items": ENTITY, "uniqueItems": True}]}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One front-matter field."""

    read: FieldRead
    """Turns the YAML node into a value, or records a problem and returns None."""
    doc: str
    """What the field means (shown in the README and the JSON Schema)."""
    schema: dict[str, Any]
    """Its JSON Schema, for editors."""


def _object(properties: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


MEETING_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "name": ("The meeting (series) name (required).", TEXT),
    "location": ("City, or \"virtual\".", TEXT),
    "hosts": ("Who hosted, co-hosted or chaired: the principal host first.", ENTITIES),
    "date": ("When it met (default: the statement's date).", DATE),
    "start": ("First day of a meeting of several days.", DATE),
    "end": ("Last day of a meeting of several days.", DATE),
}
"""The keys of `meeting:`."""


def read_meeting(reader: Reader, node: Node, name: str = "meeting") -> Meeting | None:
    """The `meeting:` mapping."""
    if node.kind != "mapping":
        reader.error(node, name, f"'{name}' must be a mapping with at least 'name', "
                                 f"found {node.describe()}")
        return None
    reader.unknown_keys(node, tuple(MEETING_FIELDS), f"{name}.")
    entries = node.entries
    if "name" not in entries:
        reader.error(node, f"{name}.name", "the meeting has no 'name'",
                     "add 'name:' with the meeting (series) name under 'meeting:'")
        return None
    before = len(reader.problems)
    title = reader.text(entries["name"][1], f"{name}.name")
    location = reader.text(entries["location"][1], f"{name}.location") if "location" in entries else None
    hosts = reader.entities(entries["hosts"][1], f"{name}.hosts") if "hosts" in entries else ()
    dates = {key: reader.date(entries[key][1], f"{name}.{key}")
             for key in ("date", "start", "end") if key in entries}
    if "date" in dates and ("start" in dates or "end" in dates):
        reader.error(entries["date"][1], f"{name}.date", "give either 'date' or 'start' and 'end', not both")
    start = dates.get("date") or dates.get("start")
    end = dates.get("end")
    if start and end and end < start:
        reader.error(entries["end"][1], f"{name}.end", "the meeting ends before it starts")
    if title is not None and not slugify(title):
        reader.error(entries["name"][1], f"{name}.name",
                     f"'{name}.name' needs a letter or a digit: it names the meeting's page; found {title!r}")
    if len(reader.problems) > before or title is None:
        return None
    return Meeting(title, slugify(title), location, hosts or (), start, end)


def read_withdrawn(reader: Reader, node: Node, name: str = "withdrawn") -> Withdrawal | None:
    """`withdrawn: {date: …, reason: …}`."""
    if node.kind != "mapping" or "date" not in node.entries or "reason" not in node.entries:
        reader.error(node, name, f"'{name}' must be a mapping with 'date' and 'reason', "
                                 f"found {node.describe()}",
                     "withdrawn: {date: 2024-06-05, reason: Issued in error.}")
        return None
    reader.unknown_keys(node, ("date", "reason"), f"{name}.")
    date = reader.date(node.entries["date"][1], f"{name}.date")
    reason = reader.text(node.entries["reason"][1], f"{name}.reason")
    return Withdrawal(date, reason) if date and reason else None


def read_aliases(reader: Reader, node: Node, name: str = "aliases") -> tuple[str, ...] | None:
    """Former ids of the statement: `[old-id, older-id]`."""
    found = [reader.identifier(item, name) for item in reader.items(node, name)]
    if any(f is None for f in found):
        return None
    return tuple(dict.fromkeys(f for f in found if f))


def read_attachments(reader: StatementReader, node: Node,
                     name: str = "attachments") -> tuple[Attachment, ...] | None:
    """`[{file: signed.pdf, title: Signed original}]`: files beside the statement, or in a folder
    named after its id."""
    found: list[Attachment] = []
    for item in reader.items(node, name):
        if item.kind != "mapping" or "file" not in item.entries or "title" not in item.entries:
            reader.error(item, name, f"each of '{name}' must be a mapping with 'file' and 'title', "
                                     f"found {item.describe()}",
                         "attachments: [{file: signed.pdf, title: Signed original}]")
            continue
        reader.unknown_keys(item, ("file", "title"), f"{name}.")
        file_node = item.entries["file"][1]
        file = reader.text(file_node, f"{name}.file")
        title = reader.text(item.entries["title"][1], f"{name}.title")
        if file is None or title is None:
            continue
        attachment = _locate(reader, file_node, file, title, name)
        if attachment:
            found.append(attachment)
    return tuple(found)


def _locate(reader: StatementReader, node: Node, file: str, title: str, name: str) -> Attachment | None:
    relative = PurePosixPath(file)
    if relative.is_absolute() or ".." in relative.parts or "\\" in file or not relative.name:
        reader.error(node, f"{name}.file", f"'{name}.file' must name a file beside the statement, "
                                           f"found {file!r}", "write a plain file name such as signed.pdf")
        return None
    folder = reader.folder or "."
    candidates = [os.path.join(folder, *relative.parts), os.path.join(folder, reader.stem, *relative.parts)]
    for candidate in candidates:
        reader.probes.append((candidate, probe(candidate)))
        if os.path.isfile(candidate):
            if not os.path.realpath(candidate).startswith(os.path.realpath(folder) + os.sep):
                reader.error(node, f"{name}.file", f"attachment {file!r} is a symbolic link to a file "
                                                   "outside the statement's folder",
                             "copy the file beside the statement instead of linking it")
                return None
            return Attachment(relative.name, title, os.path.getsize(candidate), candidate)
    reader.error(node, f"{name}.file", f"attachment not found: {file!r}",
                 f"put it beside the statement or in a folder named '{reader.stem}'")
    return None


STATEMENT_FIELDS: dict[str, FieldSpec] = {
    "title": FieldSpec(Reader.text, "The statement's title (required).", TEXT),
    "date": FieldSpec(Reader.date, "Date issued (required): YYYY-MM-DD, or YYYY-MM / YYYY when only "
                                   "that is known.", DATE),
    "type": FieldSpec(lambda r, n, f: r.choice(n, f, tuple(STATEMENT_TYPES)),
                      "One of " + ", ".join(STATEMENT_TYPES) + " (default statement).",
                      {"enum": list(STATEMENT_TYPES)}),
    "issuers": FieldSpec(Reader.entities, "Who released the text (required, at least one).", ENTITIES),
    "meeting": FieldSpec(read_meeting, "The meeting the statement comes from.",
                         _object({k: {**s, "description": d} for k, (d, s) in MEETING_FIELDS.items()},
                                 ["name"])),
    "participants": FieldSpec(Reader.entities, "Countries and organisations that took part.", ENTITIES),
    "observers": FieldSpec(Reader.entities, "Countries and organisations that attended as observers.",
                           ENTITIES),
    "people": FieldSpec(Reader.people, "People named: [{name, role, country}].",
                        {"type": "array", "items": _object({"name": TEXT, "role": TEXT, "country": ENTITY},
                                                           ["name"])}),
    "topics": FieldSpec(Reader.topics, "Free tags.",
                        {"anyOf": [TEXT, {"type": "array", "items": TEXT}]}),
    "summary": FieldSpec(Reader.text, "One or two sentences for lists, feeds and meta descriptions.", TEXT),
    "release_note": FieldSpec(Reader.text, "The publisher's note, shown apart from the text.", TEXT),
    "source": FieldSpec(Reader.url, "Where the text was first published (http or https).",
                        {"type": "string", "pattern": r"^https?://\S+$"}),
    "lang": FieldSpec(Reader.language, "BCP 47 language of the text (default: the site's language).",
                      {"type": "string", "pattern": r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$"}),
    "translation_of": FieldSpec(Reader.identifier, "This file is a translation of the statement with "
                                                   "this id.", ID),
    "draft": FieldSpec(Reader.boolean, "Drafts are never published unless --drafts.", {"type": "boolean"}),
    "embargo": FieldSpec(Reader.instant, "Not published before this instant (offset required).", INSTANT),
    "corrections": FieldSpec(Reader.corrections, "Dated change history: [{date, note}].",
                             {"type": "array", "items": _object({"date": DATE, "note": TEXT},
                                                                ["date", "note"])}),
    "aliases": FieldSpec(read_aliases, "Former ids: each gets a page that redirects here.",
                         {"anyOf": [ID, {"type": "array", "items": ID, "uniqueItems": True}]}),
    "withdrawn": FieldSpec(read_withdrawn, "The statement was withdrawn: {date, reason}. Its page stays, "
                                           "under a banner.",
                           _object({"date": DATE, "reason": TEXT}, ["date", "reason"])),
    "attachments": FieldSpec(read_attachments, "Files published with the statement: [{file, title}].",
                             {"type": "array", "items": _object({"file": TEXT, "title": TEXT},
                                                                ["file", "title"])}),
}
"""Every front-matter field."""

REQUIRED = ("title", "date", "issuers")
"""Fields an original statement must give (a translation inherits them)."""


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a statement's front matter (draft 2020-12)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "communique statement front matter",
        "type": "object",
        "properties": {name: {**spec.schema, "description": spec.doc}
                       for name, spec in STATEMENT_FIELDS.items()},
        "additionalProperties": False,
        "anyOf": [
            {"required": list(REQUIRED)},
            {"required": ["title", "lang", "translation_of"]},
            {"required": ["draft"], "properties": {"draft": {"const": True}}},
        ],
    }
