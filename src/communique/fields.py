"""Readers for front-matter values: each turns a YAML `Node` into a value or a `Problem`.

A reader returns None when the value is unusable and has recorded why. Messages name the field,
what was expected and what was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .dates import PartialDate, parse_date, parse_instant
from .entities import Registry
from .frontmatter import Node, describe_hidden, hidden_characters
from .models import Correction, Entity, Person
from .problems import Problem, did_you_mean
from .slugs import describe_character, id_fault

_LANG = re.compile(r"[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
_URL_FORBIDDEN = frozenset('<>"`{}|\\^')
"""Characters a URL must not hold unencoded; a backslash also reads as `/` in browsers, so
`https://evil.example\\@good.example` would lead somewhere else than it seems to."""
def printable(text: str) -> str:
    """`text` with each invisible or control character written as its escape (`\\u202e`), so
    that a message quoting it cannot be reordered or hidden by it."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


@dataclass(slots=True)
class Reader:
    """Reads the fields of one file, collecting problems as it goes."""

    path: str
    """The file, as shown in problems."""
    registry: Registry
    """Known countries and organisations."""
    problems: list[Problem] = field(default_factory=list)
    """Everything found wrong so far."""

    def error(self, node: Node, name: str, message: str, hint: str | None = None) -> None:
        """Record an error at `node`."""
        self.problems.append(Problem(self.path, node.line, node.column, message, name, hint))

    def unknown_keys(self, mapping: Node, known: tuple[str, ...], prefix: str = "") -> None:
        """Report every key not in `known`, with the nearest known one."""
        for key, (key_node, _value) in mapping.entries.items():
            if key not in known:
                hidden = hidden_characters(key)
                hint = (f"the name holds invisible characters ({describe_hidden(hidden)})"
                        if hidden else did_you_mean(key, known)) or "known fields: " + ", ".join(known)
                shown = printable(prefix + key)
                self.error(key_node, shown, f"unknown field '{shown}'", hint)

    def text(self, node: Node, name: str) -> str | None:
        """A non-empty single line or paragraph of text."""
        if node.kind != "scalar" or node.is_null:
            self.error(node, name, f"'{name}' must be text, found {node.describe()}")
            return None
        value = node.text.strip()
        if not value:
            self.error(node, name, f"'{name}' must not be empty")
            return None
        hidden = hidden_characters(value)
        if hidden:
            self.error(node, name, f"'{name}' contains invisible or control characters "
                                   f"({describe_hidden(hidden)})",
                       "retype the text; such characters can make it read differently than it is")
            return None
        return value

    def date(self, node: Node, name: str) -> PartialDate | None:
        """`YYYY-MM-DD`, `YYYY-MM` or `YYYY`."""
        if node.kind == "scalar" and (parsed := parse_date(node.text)):
            return parsed
        self.error(node, name, f"'{name}' must be a date written YYYY-MM-DD, YYYY-MM or YYYY, "
                               f"found {node.describe()}",
                   "for 14 May 2024 write 2024-05-14")
        return None

    def instant(self, node: Node, name: str) -> object | None:
        """An ISO 8601 date and time with a UTC offset."""
        if node.kind == "scalar" and (parsed := parse_instant(node.text)):
            return parsed
        found = node.describe()
        if node.kind == "scalar" and parse_instant(node.text + "+00:00"):
            self.error(node, name, f"'{name}' needs a timezone offset, found {found}",
                       f"write it with its offset, such as {node.text.strip()}+01:00 or …Z for UTC")
        else:
            self.error(node, name, f"'{name}' must be a date and time with an offset such as "
                                   f"2024-06-04T17:00:00+02:00, found {found}")
        return None

    def boolean(self, node: Node, name: str) -> bool | None:
        """`true` or `false` (YAML 1.2: `yes`, `on` and `no` are not booleans)."""
        if node.kind == "scalar" and node.plain and node.text in ("true", "True", "TRUE"):
            return True
        if node.kind == "scalar" and node.plain and node.text in ("false", "False", "FALSE"):
            return False
        self.error(node, name, f"'{name}' must be true or false, found {node.describe()}")
        return None

    def choice(self, node: Node, name: str, choices: tuple[str, ...]) -> str | None:
        """One of a fixed set of words."""
        if node.kind == "scalar" and node.text.strip() in choices:
            return node.text.strip()
        found = node.describe()
        hint = (did_you_mean(node.text.strip(), choices) if node.kind == "scalar" else None)
        self.error(node, name, f"'{name}' must be one of {', '.join(choices)}; found {found}",
                   hint)
        return None

    def identifier(self, node: Node, name: str) -> str | None:
        """A statement id: lowercase a-z, 0-9 and single hyphens."""
        fault = id_fault(node.text.strip()) if node.kind == "scalar" else "it is not text"
        if fault is None:
            return node.text.strip()
        self.error(node, name, f"'{name}' must be a statement id (lowercase a-z, 0-9 and hyphens),"
                               f" found {node.describe()}: {fault}")
        return None

    def language(self, node: Node, name: str) -> str | None:
        """A BCP 47 language tag such as `en`, `it` or `pt-BR`."""
        if node.kind == "scalar" and _LANG.fullmatch(node.text.strip()):
            return node.text.strip()
        self.error(node, name, f"'{name}' must be a language tag such as en, fr or pt-BR, "
                               f"found {node.describe()}")
        return None

    def url(self, node: Node, name: str) -> str | None:
        """An absolute http or https URL."""
        value = node.text.strip() if node.kind == "scalar" else ""
        if not _URL.fullmatch(value):
            self.error(node, name, f"'{name}' must be an http:// or https:// address, "
                                   f"found {node.describe()}")
            return None
        fault = url_fault(value)
        if fault:
            self.error(node, name, f"'{name}' is not a usable address: {fault}",
                       "copy the address from the browser's address bar")
            return None
        return value

    def items(self, node: Node, name: str) -> list[Node]:
        """A list's items; a single scalar counts as a list of one."""
        if node.kind == "sequence":
            return node.items
        if node.kind == "scalar" and not node.is_null:
            return [node]
        self.error(node, name, f"'{name}' must be a list, found {node.describe()}")
        return []

    def entities(self, node: Node, name: str) -> tuple[Entity, ...] | None:
        """Countries or organisations by code or name: `[US, Italy, european-union]`."""
        found: dict[str, Entity] = {}  # by id: a list's `in` compared each pair, field by field
        ok = True
        for item in self.items(node, name):
            entity = self.entity(item, name)
            if entity is None:
                ok = False
            elif entity.id in found:
                self.error(item, name, f"'{name}' names {entity.name} twice")
                ok = False
            else:
                found[entity.id] = entity
        return tuple(found.values()) if ok else None

    def entity(self, node: Node, name: str) -> Entity | None:
        """One country or organisation."""
        if node.kind != "scalar" or node.is_null:
            self.error(node, name, f"'{name}' must name a country or organisation, "
                                   f"found {node.describe()}")
            return None
        entity = self.registry.resolve(node.text)
        if entity is None:
            hint = self.registry.suggest(node.text) or (
                "use an ISO 3166 code (IT, ITA) or name, or add it to countries.yaml "
                "or organisations.yaml")
            self.error(node, name, f"unknown country or organisation {node.text.strip()!r} "
                                   f"in '{name}'", hint)
        return entity

    def topics(self, node: Node, name: str) -> tuple[str, ...] | None:
        """Free tags, as text."""
        values = [self.text(item, name) for item in self.items(node, name)]
        if any(v is None for v in values):
            return None
        return tuple(dict.fromkeys(v for v in values if v))

    def people(self, node: Node, name: str) -> tuple[Person, ...] | None:
        """`[{name: …, role: …, country: …}]`."""
        people: list[Person] = []
        for item in self.items(node, name):
            if item.kind != "mapping":
                self.error(item, name, f"each of '{name}' must be a mapping with name, role and "
                                       f"country, found {item.describe()}")
                continue
            self.unknown_keys(item, ("name", "role", "country"), f"{name}.")
            entries = item.entries
            if "name" not in entries:
                self.error(item, f"{name}.name", f"a person in '{name}' has no 'name'")
                continue
            person_name = self.text(entries["name"][1], f"{name}.name")
            role = self.text(entries["role"][1], f"{name}.role") if "role" in entries else None
            country = (self.entity(entries["country"][1], f"{name}.country")
                       if "country" in entries else None)
            if person_name:
                people.append(Person(person_name, role, country))
        return tuple(people)

    def corrections(self, node: Node, name: str) -> tuple[Correction, ...] | None:
        """`[{date: …, note: …}]`, kept oldest first."""
        found: list[Correction] = []
        for item in self.items(node, name):
            if item.kind != "mapping" or "date" not in item.entries or "note" not in item.entries:
                self.error(item, name, f"each of '{name}' must be a mapping with 'date' and "
                                       f"'note', found {item.describe()}")
                continue
            self.unknown_keys(item, ("date", "note"), f"{name}.")
            date = self.date(item.entries["date"][1], f"{name}.date")
            note = self.text(item.entries["note"][1], f"{name}.note")
            if date and note:
                found.append(Correction(date, note))
        return tuple(sorted(found, key=lambda c: c.date))


def url_fault(url: str) -> str | None:
    """What makes an http(s) address unusable or misleading, or None."""
    hidden = hidden_characters(url)
    if hidden:
        return f"it contains invisible or control characters ({describe_hidden(hidden)})"
    forbidden = next((ch for ch in url if ch in _URL_FORBIDDEN), None)
    if forbidden:
        return f"{describe_character(forbidden)} must be percent-encoded"
    try:
        host = urlsplit(url).hostname
    except ValueError as error:
        return str(error)
    return None if host else "it names no host"
