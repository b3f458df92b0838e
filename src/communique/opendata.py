"""The corpus as data: `statements.json`, `statements.jsonl` (full text), `statements.csv`, and
the page that documents them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import partial
from typing import Any

from .indexes import SiteIndex
from .models import Entity, Site, Statement
from .output import File, Output, Piece, Renderer, statement_url

CSV_COLUMNS = ("id", "url", "title", "date", "date_precision", "type", "lang", "translation_of",
               "issuers", "issuer_names", "meeting", "location", "hosts", "host_names", "participants",
               "observers", "topics", "summary", "source", "withdrawn")
"""Columns of statements.csv; lists of entities are ISO codes (or organisation ids) joined by `;`."""
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these could run as a formula in a spreadsheet."""


def entity_json(entity: Entity) -> dict[str, str]:
    """An entity in the open data: its code (or id), kind and name."""
    return {"id": entity.id, "kind": entity.kind, "name": entity.name}


def statement_record(statement: Statement, site: Site) -> dict[str, Any]:
    """One statement's metadata, as in `statements.json`."""
    meeting = statement.meeting
    return {
        "id": statement.id,
        "url": site.base_url + statement_url(statement.id),
        "title": statement.title,
        "date": statement.date.iso(),
        "date_precision": statement.date.precision,
        "type": statement.type,
        "lang": statement.lang,
        "translation_of": statement.translation_of,
        "issuers": [entity_json(e) for e in statement.issuers],
        "meeting": None if meeting is None else {
            "name": meeting.name,
            "slug": meeting.slug,
            "location": meeting.location,
            "hosts": [entity_json(e) for e in meeting.hosts],
            "start": meeting.start.iso() if meeting.start else None,
            "end": meeting.end.iso() if meeting.end else None,
        },
        "participants": [entity_json(e) for e in statement.participants],
        "observers": [entity_json(e) for e in statement.observers],
        "people": [{"name": p.name, "role": p.role,
                    "country": entity_json(p.country) if p.country else None}
                   for p in statement.people],
        "topics": list(statement.topics),
        "summary": statement.summary,
        "release_note": statement.release_note,
        "source": statement.source,
        "corrections": [{"date": c.date.iso(), "note": c.note} for c in statement.corrections],
        "withdrawn": None if statement.withdrawn is None else {
            "date": statement.withdrawn.date.iso(), "reason": statement.withdrawn.reason},
        "attachments": [{"title": a.title, "url": site.base_url + statement_url(statement.id) + a.name,
                         "type": a.kind, "bytes": a.size} for a in statement.attachments],
    }


def full_text_record(statement: Statement, site: Site) -> dict[str, Any]:
    """One line of `statements.jsonl`: the metadata, the Markdown and the plain text."""
    return {**statement_record(statement, site), "markdown": statement.markdown.strip() + "\n",
            "text": statement.text}


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula: prefix such cells with `'`."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def csv_row(statement: Statement, site: Site) -> list[str]:
    """One row of `statements.csv`."""
    meeting = statement.meeting
    hosts = meeting.hosts if meeting else ()
    cells = {
        "id": statement.id, "url": site.base_url + statement_url(statement.id),
        "title": statement.title, "date": statement.date.iso(),
        "date_precision": statement.date.precision, "type": statement.type, "lang": statement.lang,
        "translation_of": statement.translation_of or "",
        "issuers": _codes(statement.issuers), "issuer_names": _names(statement.issuers),
        "meeting": meeting.name if meeting else "", "location": (meeting.location or "") if meeting else "",
        "hosts": _codes(hosts), "host_names": _names(hosts),
        "participants": _codes(statement.participants), "observers": _codes(statement.observers),
        "topics": ";".join(statement.topics), "summary": statement.summary or "",
        "source": statement.source or "",
        "withdrawn": statement.withdrawn.date.iso() if statement.withdrawn else "",
    }
    return [neutralise(cells[column]) for column in CSV_COLUMNS]


def _codes(entities: Iterable[Entity]) -> str:
    return ";".join(e.id for e in entities)


def _names(entities: Iterable[Entity]) -> str:
    return ";".join(e.name for e in entities)


def _csv_line(row: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(row)
    return buffer.getvalue().encode()


def _after(separator: bytes, make: Callable[[Statement], bytes], statement: Statement) -> bytes:
    return separator + make(statement)


def version(kind: str, statement: Statement) -> bytes:
    """What a record of the open data file `kind` follows from: the statement's fingerprint for
    the full text, else its shape, which its body does not change (see `Statement.shape`): an
    edit to a text alone leaves `statements.json` and `statements.csv` as they were, without a
    record of them encoded again."""
    return statement.fingerprint if kind == "jsonl" else statement.shape


def add_open_data(out: Output, r: Renderer, index: SiteIndex, site: Site) -> None:
    """`statements.json`, `statements.jsonl`, `statements.csv` and the `/data/` page."""

    def records(kind: str, make: Callable[[Statement], bytes], head: bytes, separator: bytes,
                tail: bytes) -> Iterator[Piece]:
        # In pieces, written as they come (`statements.jsonl` alone is about 7 KB per statement),
        # each record keyed by its statement, so that a build encodes only the records that changed.
        # A record after the first carries the separator before it: the records a build keeps
        # then follow each other in the live file, and are copied from it in one run.
        yield head
        for n, statement in enumerate(index.statements):
            key = (kind, n > 0, version(kind, statement))
            yield key, partial(r.part, key, partial(_after, separator if n else b"", make, statement))
        yield tail

    def json_file() -> Iterator[Piece]:
        return records("json", lambda s: json.dumps(statement_record(s, site), ensure_ascii=False).encode(),
                       b'{"version": 1, "statements": [\n', b",\n", b"\n]}\n")

    def jsonl_file() -> Iterator[Piece]:
        return records("jsonl", lambda s: json.dumps(full_text_record(s, site), ensure_ascii=False).encode(),
                       b"", b"\n", b"\n" if index.statements else b"")

    def csv_file() -> Iterator[Piece]:
        return records("csv", lambda s: _csv_line(csv_row(s, site)), _csv_line(list(CSV_COLUMNS)), b"", b"")

    def key(kind: str) -> Callable[[], Hashable]:
        return lambda: (kind, tuple(version(kind, s) for s in index.statements))

    out.add_file("statements.json", File.in_pieces(json_file, key("json")))
    out.add_file("statements.jsonl", File.in_pieces(jsonl_file, key("jsonl")))
    out.add_file("statements.csv", File.in_pieces(csv_file, key("csv")))
    out.add_page("data/", r.page("data.html", csv_columns=CSV_COLUMNS, count=len(index.statements),
                                 breadcrumbs=()))
