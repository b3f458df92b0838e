"""Check the statements against each other and assemble the final models.

Ids must be unique, translations must name an original, required fields are checked once a
translation has inherited its original's, and withheld statements (drafts, embargoes) are set
apart so that nothing of them reaches the output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, replace
from typing import Any

from .dates import PartialDate
from .fieldspec import REQUIRED
from .models import STATEMENT_TYPES, Listing, Site, Statement, text_direction
from .problems import Problem, Severity, did_you_mean
from .validate import ParsedFile

INHERITED = ("date", "type", "issuers", "meeting", "participants", "observers", "people",
             "topics", "source", "embargo", "draft", "corrections", "withdrawn", "attachments")
"""Fields a translation takes from its original unless it gives them itself."""


@dataclass(frozen=True, slots=True)
class Withheld:
    """A statement kept out of the output, and why."""

    id: str
    """Its id."""
    path: str
    """Its file."""
    reason: str
    """"draft" or "embargo" (a translation shares its original's)."""
    until: dt.datetime | None = None
    """When its embargo lifts."""


@dataclass(frozen=True, slots=True)
class Assembly:
    """The statements of the site, split into published and withheld."""

    published: tuple[Statement, ...]
    """What the build publishes, in file order."""
    withheld: tuple[Withheld, ...]
    """What it keeps back."""


def assemble(parsed: list[ParsedFile], site: Site, now: dt.datetime, drafts: bool,
             inputs: bytes = b"",
             reuse: dict[bytes, Statement] | None = None,
             found_by_id: dict[str, list[Problem]] | None = None) -> tuple[Assembly, list[Problem]]:
    """Cross-check the parsed files and build the statements.

    `inputs` is a digest of what every statement depends on besides its own file (the site's
    settings, the entity files, the list of statement files); it goes into each fingerprint.
    `reuse` maps fingerprints to the statements of an earlier build: an equal fingerprint means
    an equal statement, which is taken as it is; the map is updated for the next build.
    The problems found in each statement's own fields are also put in `found_by_id`, if given
    (see `reassemble`); the others are those of ids and of links between statements.
    """
    problems: list[Problem] = []
    by_id: dict[str, ParsedFile] = {}
    for file in parsed:
        if file.id in by_id:
            problems.append(Problem(file.source.path, None, None,
                                    f"duplicate id '{file.id}': "
                                    f"{by_id[file.id].source.path} has the same file name", "id",
                                    "ids are file names and must be unique across all folders"))
        else:
            by_id[file.id] = file
    statements: dict[str, Statement] = {}
    for file in by_id.values():
        values, found = _merged_values(file, by_id)
        problems += found
        if found_by_id is not None and found:
            found_by_id[file.id] = found
        if file.invalid or any(p.is_error for p in found):
            continue
        original = by_id.get(values.get("translation_of") or "")
        fingerprint = _fingerprint(inputs, file.id, file.digest, original.digest if original else None,
                                   values, now)
        known = reuse.get(fingerprint) if reuse is not None else None
        statements[file.id] = known or _statement(file, values, site, now, fingerprint,
                                                  _shape(inputs, file, original, values, now))
    if reuse is not None:
        reuse.clear()
        reuse.update((s.fingerprint, s) for s in statements.values())
    published, withheld = _split_withheld(statements, by_id, now, drafts)
    problems += _check_links(published, withheld, by_id)
    problems += _check_aliases(by_id)
    return Assembly(tuple(published), tuple(withheld)), problems


def reassemble(files: dict[str, ParsedFile], ids: Iterable[str],
               kept: Mapping[str, tuple[str | None, tuple[str, ...]]], withheld: Set[str], site: Site,
               now: dt.datetime,
               inputs: bytes) -> tuple[dict[str, Statement], dict[str, list[Problem]]] | None:
    """The statements of `ids`, published statements made again (as `assemble` makes them, with
    the same `inputs`) from their files read again (`files`, by id, holding their originals
    too), and the problems found in their fields. None when one has an error, or is no longer
    what the other statements were checked against: published, the translation of the same
    original, with the same former ids (`kept`: each one's original and aliases, by id), and
    linking to none of the `withheld` ones."""
    statements: dict[str, Statement] = {}
    problems: dict[str, list[Problem]] = {}
    for id_ in ids:
        file = files[id_]
        values, found = _merged_values(file, files)
        if file.invalid or any(p.is_error for p in found):
            return None
        original = files.get(values.get("translation_of") or "")
        fingerprint = _fingerprint(inputs, file.id, file.digest, original.digest if original else None,
                                   values, now)
        shape = _shape(inputs, file, original, values, now)
        statement = _statement(file, values, site, now, fingerprint, shape)
        if (statement.draft or (statement.embargo is not None and statement.embargo > now)
                or kept.get(id_) != (statement.translation_of, statement.aliases)
                or not withheld.isdisjoint(statement.links_to)):
            return None
        statements[id_] = statement
        if found:
            problems[id_] = found
    return statements, problems


def _merged_values(file: ParsedFile, by_id: dict[str, ParsedFile]) -> tuple[dict[str, Any],
                                                                           list[Problem]]:
    values = dict(file.values)
    problems: list[Problem] = []
    severity: Severity = "warning" if file.is_draft else "error"
    original_id = values.get("translation_of")
    if original_id is not None:
        place = file.places["translation_of"]
        original = by_id.get(original_id)
        if original is None:
            problems.append(Problem(file.source.path, place.line, place.column,
                                    f"'translation_of' names no statement: no statement has the "
                                    f"id '{original_id}'", "translation_of",
                                    did_you_mean(original_id, by_id)))
        elif "translation_of" in original.values:
            problems.append(Problem(file.source.path, place.line, place.column,
                                    f"'translation_of' names '{original_id}', which is itself a "
                                    "translation", "translation_of",
                                    f"name the original: "
                                    f"'{original.values['translation_of']}'"))
        else:
            for key in INHERITED:
                if key not in values and key in original.values:
                    values[key] = original.values[key]
            if "lang" not in file.values:
                problems.append(Problem(file.source.path, None, None,
                                        "a translation needs 'lang', the language it is in", "lang",
                                        severity=severity))
    unread = file.invalid and not file.places  # its front matter could not be read at all
    for key in () if unread else REQUIRED:
        if key not in values and key not in file.places:
            problems.append(Problem(file.source.path, None, None,
                                    f"missing required field '{key}'", key,
                                    _REQUIRED_HINTS[key], severity))
    if file.body.empty and not file.invalid:
        problems.append(Problem(file.source.path, file.body_line, None,
                                "the statement has no text after the front matter", "body",
                                "write the statement's text below the closing '---'", severity))
    return values, problems


_REQUIRED_HINTS = {
    "title": "add 'title:' with the statement's title",
    "date": "add 'date:' as YYYY-MM-DD, YYYY-MM or YYYY",
    "issuers": "add 'issuers:' with who released the text, such as [US, IT]",
}


def _fingerprint(inputs: bytes, id_: str, file: bytes, original: bytes | None, values: dict[str, Any],
                 now: dt.datetime) -> bytes:
    """The digest of the statement `id_` made from a file and its original's (each given by a
    digest of its bytes, or of the part that counts), `inputs` and `values`. The id counts: two
    files of the same bytes make two statements."""
    digest = hashlib.blake2b(inputs, digest_size=16)
    digest.update(id_.encode() + b"\0")
    digest.update(file)
    if original is not None:
        digest.update(original)
    if "date" not in values:  # a draft without a date stands in today's
        digest.update(now.date().isoformat().encode())
    if "attachments" in values:  # their sizes are shown
        digest.update(repr(values["attachments"]).encode())
    return digest.digest()


def _shape(inputs: bytes, file: ParsedFile, original: ParsedFile | None, values: dict[str, Any],
           now: dt.datetime) -> bytes:
    """The statement's fingerprint with its body and its original's left out, but not where its
    body links to (see `Statement.shape`)."""
    return _fingerprint(inputs, file.id, file.front_digest + repr(file.links_to).encode(),
                        original.front_digest if original else None, values, now)


def _statement(file: ParsedFile, values: dict[str, Any], site: Site, now: dt.datetime,
               fingerprint: bytes, shape: bytes) -> Statement:
    """The model; a draft's missing fields get stand-ins so that it can be previewed."""
    date = values.get("date") or PartialDate(now.year, now.month, now.day)
    meeting = values.get("meeting")
    if meeting is not None and meeting.start is None:
        meeting = replace(meeting, start=date)
    title = values.get("title", file.id)
    lang = values.get("lang", site.language)
    statement_type = values.get("type", "statement")
    listing = Listing(file.id, title, date, STATEMENT_TYPES.get(statement_type, statement_type), lang,
                      text_direction(lang), meeting.name if meeting else None,
                      meeting.location if meeting else None, values.get("summary"),
                      "withdrawn" in values)
    return Statement(
        id=file.id,
        path=file.source.path,
        title=title,
        date=date,
        type=statement_type,
        issuers=values.get("issuers", ()),
        body=file.body,
        lang=lang,
        meeting=meeting,
        participants=values.get("participants", ()),
        observers=values.get("observers", ()),
        people=values.get("people", ()),
        topics=values.get("topics", ()),
        summary=values.get("summary"),
        release_note=values.get("release_note"),
        source=values.get("source"),
        translation_of=values.get("translation_of"),
        draft=values.get("draft", False),
        embargo=values.get("embargo"),
        corrections=values.get("corrections", ()),
        links_to=file.links_to,
        fingerprint=fingerprint,
        shape=shape,
        listing=listing,
        aliases=values.get("aliases", ()),
        withdrawn=values.get("withdrawn"),
        attachments=values.get("attachments", ()),
    )


def _split_withheld(statements: dict[str, Statement], by_id: dict[str, ParsedFile],
                    now: dt.datetime, drafts: bool) -> tuple[list[Statement], list[Withheld]]:
    reasons: dict[str, Withheld] = {}
    for statement in statements.values():
        if statement.draft:
            reasons[statement.id] = Withheld(statement.id, statement.path, "draft")
        elif statement.embargo is not None and statement.embargo > now:
            reasons[statement.id] = Withheld(statement.id, statement.path, "embargo",
                                             statement.embargo)
    for statement in statements.values():
        original = statement.translation_of
        if original and statement.id not in reasons and original in reasons:
            reasons[statement.id] = replace(reasons[original], id=statement.id, path=statement.path)
    if drafts:  # a preview shows everything, each withheld statement marked as such
        previews = [replace(s, preview=reasons[s.id].reason,
                            fingerprint=s.fingerprint + reasons[s.id].reason.encode(),
                            shape=s.shape + reasons[s.id].reason.encode())
                    if s.id in reasons else s for s in statements.values()]
        return previews, []
    published = [s for s in statements.values() if s.id not in reasons]
    return published, sorted(reasons.values(), key=lambda w: w.path)


def _check_aliases(by_id: dict[str, ParsedFile]) -> list[Problem]:
    """An alias must not be a live id, nor the alias of two statements."""
    problems = []
    claimed: dict[str, str] = {}
    for file in by_id.values():
        found = file.places.get("aliases")
        for alias in file.values.get("aliases", ()):
            place = (file.source.path, found.line if found else None, found.column if found else None)
            if alias in by_id:
                problems.append(Problem(*place, f"alias '{alias}' is the id of a statement "
                                                f"({by_id[alias].source.path})", "aliases",
                                        "an alias is a former id; remove it or rename that file"))
            elif alias in claimed:
                problems.append(Problem(*place, f"alias '{alias}' is also an alias of '{claimed[alias]}'",
                                        "aliases", "give each former id to one statement"))
            else:
                claimed[alias] = file.id
    return problems


def _check_links(published: list[Statement], withheld: list[Withheld],
                 by_id: dict[str, ParsedFile]) -> list[Problem]:
    hidden = {w.id: w.reason for w in withheld}
    problems = []
    for statement in published:
        for target in statement.links_to:
            if target in hidden:
                problems.append(Problem(
                    statement.path, by_id[statement.id].body_line, None,
                    f"the text links to '{target}', which is not published ({hidden[target]})",
                    "body", "remove the link until that statement is published",
                ))
    return problems
