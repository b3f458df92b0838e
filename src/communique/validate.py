"""Parse one statement file into its checked field values, or a list of problems."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .discover import SourceFile, read_source, source_digest
from .entities import Registry
from .fieldspec import STATEMENT_FIELDS, Probe, StatementReader, probe
from .frontmatter import decode_text, parse_yaml, split_front_matter
from .markdown import render_body
from .models import Body
from .problems import Problem
from .slugs import ID_PATTERN, id_fault, slugify


class Place(NamedTuple):
    """Where a field's value is in its file (1-based)."""

    line: int
    column: int


@dataclass(slots=True)
class ParsedFile:
    """One statement file, read and checked on its own."""

    source: SourceFile
    """Where it came from."""
    values: dict[str, Any] = field(default_factory=dict)
    """Field name to checked value, for the fields that were given and valid."""
    places: dict[str, Place] = field(default_factory=dict)
    """Field name to where its value is, for messages that point at it."""
    body: Body = field(default_factory=Body)
    """The body: rendered, as plain text and as written."""
    links_to: tuple[str, ...] = ()
    """Ids of the statements its body links to."""
    body_line: int = 1
    """Line where the body starts."""
    invalid: bool = False
    """True when the file had errors: it is not assembled into a statement."""
    digest: bytes = b""
    """BLAKE2 digest of the file's bytes."""
    front_digest: bytes = b""
    """BLAKE2 digest of its front matter as written: with the same `links_to`, files of equal
    front matter differ in their bodies alone."""
    probes: tuple[Probe, ...] = ()
    """The other files reading it looked at (where its attachments may be), as it found them."""

    @property
    def id(self) -> str:
        """The statement id (the file's stem)."""
        return self.source.stem

    @property
    def is_draft(self) -> bool:
        """True when the front matter says `draft: true`."""
        return bool(self.values.get("draft", False))


def still_holds(parsed: ParsedFile, source: SourceFile) -> bool:
    """Whether an earlier result of reading a statement file (whose bytes are unchanged) stands
    for `source`: the same file, read where it is now (the content folder may be reached through
    a link that now leads elsewhere), and the other files it looked at (see `ParsedFile.probes`)
    as it found them: else reading it again may give another result (an attachment of another
    size, one that was missing, or one beside the file where it was in a folder)."""
    return parsed.source == source and all(probe(path) == found for path, found in parsed.probes)


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
            f"and single hyphens: {id_fault(source.stem)}", "id",
            f"rename the file to '{slugify(source.stem) or 'statement'}.md'",
        ))
    data, found = read_source(source)
    if data is None:
        return parsed, problems + found
    parsed.digest = source_digest(data)
    text, found = decode_text(path, data)
    if text is None:
        return parsed, problems + found
    split, found = split_front_matter(path, text)
    if split is None:
        return parsed, problems + found
    parsed.front_digest = hashlib.blake2b(split.front_matter.encode(), digest_size=16).digest()
    root, found = parse_yaml(path, split.front_matter)
    if root is None:
        return parsed, problems + found
    reader = StatementReader(path, registry, folder=os.path.dirname(source.absolute), stem=source.stem)
    reader.unknown_keys(root, tuple(STATEMENT_FIELDS))
    for name, (_key_node, node) in root.entries.items():
        if name not in STATEMENT_FIELDS:
            continue
        parsed.places[name] = Place(node.line, node.column)
        if node.is_null:
            reader.error(node, name, f"'{name}' is empty", "give a value or remove the line")
            continue
        value = STATEMENT_FIELDS[name].read(reader, node, name)
        if value is not None:
            parsed.values[name] = value
    parsed.probes = tuple(reader.probes)
    parsed.body_line = split.body_line
    if split.body.strip():
        body, found = render_body(path, split.body, split.body_line, source.folder,
                                  statement_files, statement_url)
        parsed.body = Body(body.html, body.text, split.body)
        parsed.links_to = body.links_to
        reader.problems.extend(found)
    else:
        parsed.body = Body(markdown=split.body)
    problems += reader.problems
    parsed.invalid = any(p.is_error for p in problems)
    return parsed, problems
