"""Split a statement file into front matter and body, and read the YAML safely.

The YAML is read from the parser's event stream (libyaml's C parser where present), never
constructed into Python objects by PyYAML: tags, anchors and aliases are refused at the first
event that carries one, so an alias bomb costs nothing; duplicate keys are errors; and every
scalar stays the text the editor wrote, with its line and column, for the validator to read with
YAML 1.2 rules (`NO` is Norway, not false).

A key is always text: `1: x` is the field named "1" (and so an unknown field), never the number
one; a key that is a list or a mapping (`? [a]`) is refused. Characters YAML itself refuses, and
the line and paragraph separators YAML would count as line breaks (so that its line numbers no
longer match the file's), are reported with their code point and place before parsing.
`hidden_characters` finds the invisible characters that can make a value read differently than
it is (U+202E), for the readers of every field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import yaml

from .problems import Problem
from .slugs import character_name

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

MAX_FRONT_MATTER_BYTES = 64 * 1024
"""Front matter larger than this is refused: a statement's metadata is a few hundred bytes."""
MAX_DEPTH = 8
"""Deepest nesting of mappings and sequences accepted in front matter."""
FENCE = "---"
_FORBIDDEN_IN_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\U0001fffe-\U0010ffff]")
"""Control characters other than tab and line feed (a form feed too: XML, and so the feed, cannot
hold one), and the noncharacters; past the first plane, every character from the first
noncharacter on matches, and `_forbidden_in_text` keeps only the noncharacters. (A class listing
the 34 noncharacters one by one is searched ten times slower.)"""
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
"""What front matter may not hold: control characters, surrogates, U+FFFE and U+FFFF (refused
by YAML), and NEL, U+2028 and U+2029 (line breaks to YAML, but not to editors)."""

_DECEPTIVE = frozenset({"Cf", "Cc", "Co", "Cs", "Zl", "Zp"})
"""Format, control, private-use and surrogate characters, and the line and paragraph
separators: invisible, or able to reorder how the text around them is shown (U+202E)."""
_JOINERS = frozenset("\u200c\u200d")
"""Zero-width non-joiner and joiner: needed between letters in Persian and Indic scripts and
inside emoji sequences, so they are accepted there and nowhere else."""
_JOINABLE = ("L", "M", "So")


_ASCII_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
"""The hidden characters of ASCII text: its control characters other than tab and line feed."""


def hidden_characters(text: str) -> list[str]:
    """Invisible or control characters in `text` (line breaks and tabs are not hidden)."""
    if text.isascii():  # most values: a search, not a loop over every character
        return list(dict.fromkeys(_ASCII_HIDDEN.findall(text)))
    hidden = []
    for position, ch in enumerate(text):
        if ch in "\n\t" or not _is_deceptive(ch):
            continue
        if ch in _JOINERS and 0 < position < len(text) - 1 and all(
                unicodedata.category(n).startswith(_JOINABLE)
                for n in (text[position - 1], text[position + 1])):
            continue
        hidden.append(ch)
    return list(dict.fromkeys(hidden))


def _is_deceptive(ch: str) -> bool:
    code = ord(ch)
    noncharacter = 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE
    return noncharacter or unicodedata.category(ch) in _DECEPTIVE


def describe_hidden(characters: list[str]) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH SPACE`."""
    return ", ".join(character_name(ch) for ch in characters)


NodeKind = Literal["scalar", "sequence", "mapping"]


@dataclass(slots=True)
class Node:
    """One YAML value with its place in the file (1-based line and column)."""

    kind: NodeKind
    """scalar, sequence or mapping."""
    line: int
    """Line of the value in the statement file."""
    column: int
    """Column of the value in the statement file."""
    text: str = ""
    """A scalar's text as written (empty for collections)."""
    plain: bool = True
    """True for an unquoted scalar: only plain scalars can be null or booleans."""
    items: list[Node] = field(default_factory=list)
    """A sequence's items."""
    entries: dict[str, tuple[Node, Node]] = field(default_factory=dict)
    """A mapping's entries: key text to (key node, value node), in file order."""

    @property
    def is_null(self) -> bool:
        """True for `~`, `null` or an empty plain scalar (YAML 1.2 core schema)."""
        return self.kind == "scalar" and self.plain and self.text in ("", "~", "null", "Null", "NULL")

    def describe(self) -> str:
        """How the value reads in a message: `'May 14, 2024'`, `a list`, `nothing`."""
        if self.kind == "sequence":
            return "a list"
        if self.kind == "mapping":
            return "a mapping"
        if self.is_null:
            return "nothing"
        return repr(self.text)


@dataclass(frozen=True, slots=True)
class SplitFile:
    """A statement file cut into its parts."""

    front_matter: str
    """The YAML between the fences."""
    body: str
    """The Markdown after the closing fence."""
    body_line: int
    """File line on which the body starts."""


def decode_text(path: str, data: bytes) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (a byte-order mark is dropped, CRLF becomes LF) or report where it fails.

    Control characters other than tab and line breaks, and noncharacters, are refused anywhere
    in the file: no page may show them (HTML and XML forbid them) and they hide in an editor.
    The text is put in Unicode normalization form C, as the web expects: an `é` typed as `e`
    and a combining accent is the same text as a precomposed `é`, and is shown the same.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        bad = data[exc.start : exc.start + 1].hex()
        return None, [Problem(path, data.count(b"\n", 0, exc.start) + 1, column,
                              f"the file is not UTF-8: byte 0x{bad} cannot be decoded",
                              hint="save the file as UTF-8")]
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    found = _forbidden_in_text(text)
    if found is None:
        return (text if unicodedata.is_normalized("NFC", text)
                else unicodedata.normalize("NFC", text)), []
    line = text.count("\n", 0, found.start()) + 1
    if found.group() == "\x00":
        return None, [Problem(path, line, None, "the file contains a NUL byte",
                              hint="a statement is plain text; remove the binary content")]
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return None, [Problem(path, line, column,
                          f"the file contains {character_name(found.group())}, which no page may show",
                          hint="retype the text around it; such characters are invisible in most "
                               "editors")]


def _forbidden_in_text(text: str) -> re.Match[str] | None:
    """The first character of `text` that no page may show, if any."""
    found = _FORBIDDEN_IN_TEXT.search(text)
    while found is not None and ord(found.group()) > 0xFFFF and ord(found.group()) & 0xFFFE != 0xFFFE:
        found = _FORBIDDEN_IN_TEXT.search(text, found.end())
    return found


def split_front_matter(path: str, text: str) -> tuple[SplitFile | None, list[Problem]]:
    """Cut `text` at its `---` fences."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        return None, [Problem(
            path, 1, 1,
            "missing front matter: expected the first line to be '---', found "
            + (repr(lines[0][:40]) if lines and lines[0] else "an empty line"),
            hint="start the file with '---', the YAML fields, then '---' and the text",
        )]
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() == FENCE:
            front = "\n".join(lines[1 : number - 1])
            if len(front.encode()) > MAX_FRONT_MATTER_BYTES:
                return None, [Problem(
                    path, 1, 1,
                    f"front matter is larger than {MAX_FRONT_MATTER_BYTES // 1024} KiB",
                    hint="front matter holds metadata only; the text goes after the closing '---'",
                )]
            return SplitFile(front, "\n".join(lines[number:]), number + 1), []
    return None, [Problem(
        path, 1, 1,
        "unclosed front matter: the '---' on line 1 has no closing '---' line",
        hint="end the front matter with a line holding only '---'",
    )]


def parse_yaml(path: str, source: str, first_line: int = 2) -> tuple[Node | None, list[Problem]]:
    """Parse front matter into a `Node` tree, refusing what the format does not allow."""
    unreadable = unreadable_character(path, source, first_line)
    if unreadable:
        return None, [unreadable]
    builder = _TreeBuilder(path, first_line)
    try:
        for event in yaml.parse(source, Loader=_Loader):
            if not builder.feed(event):
                break
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        column = mark.column + 1 if mark else None
        what = (exc.problem or "malformed YAML").strip()
        if "maximum nesting depth" in what:  # libyaml's own limit can be reached before ours
            return None, [Problem(path, line, column,
                                  f"front matter is nested deeper than {MAX_DEPTH} levels",
                                  hint="flatten the structure")]
        context = f" {exc.context.strip()}" if exc.context else ""
        return None, [Problem(path, line, column, f"invalid YAML: {what}{context}",
                              hint="check the indentation and quoting around this line")]
    except yaml.YAMLError as exc:
        return None, [Problem(path, first_line, None, f"invalid YAML: {exc}")]
    if builder.problems:
        return None, builder.problems
    root = builder.root
    if root is None:
        return Node("mapping", first_line, 1), []
    if root.kind != "mapping":
        return None, [Problem(path, root.line, root.column,
                              f"front matter must be a mapping of fields, found {root.describe()}",
                              hint="write one 'field: value' per line")]
    return root, []


def unreadable_character(path: str, source: str, first_line: int = 2) -> Problem | None:
    """A problem at the first character YAML refuses or would read as a line break, if any."""
    found = _UNREADABLE.search(source)
    if found is None:
        return None
    ch = found.group()
    line = source.count("\n", 0, found.start())
    column = found.start() - (source.rfind("\n", 0, found.start()) + 1) + 1
    return Problem(path, first_line + line, column,
                   f"the front matter contains {character_name(ch)}, which it may not hold",
                   hint="retype the line; for a line break inside a value use a YAML block (|)")


class _TreeBuilder:
    """Turns parser events into `Node`s; stops at the first refused construct."""

    def __init__(self, path: str, first_line: int) -> None:
        self.path = path
        self.first_line = first_line
        self.root: Node | None = None
        self.stack: list[tuple[Node, Node | None]] = []  # (collection, pending key)
        self.problems: list[Problem] = []
        self.documents = 0

    def _refuse(self, event: yaml.Event, message: str, hint: str) -> bool:
        line, column = self._place(event)
        self.problems.append(Problem(self.path, line, column, message, hint=hint))
        return False

    def _place(self, event: yaml.Event) -> tuple[int, int]:
        mark = event.start_mark
        if mark is None:  # pragma: no cover - the parser always marks events
            return self.first_line, 1
        return self.first_line + mark.line, mark.column + 1

    def feed(self, event: yaml.Event) -> bool:
        """Take one event; False once the tree is refused."""
        if type(event) is yaml.ScalarEvent and event.anchor is None and not event.tag:
            line, column = self._place(event)  # the common case first: a plain value
            return self._add(Node("scalar", line, column, text=event.value,
                                  plain=not event.style), event)
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                return self._refuse(event, "front matter holds more than one YAML document",
                                    "keep one block of fields between the '---' lines")
            return True
        if isinstance(event, yaml.AliasEvent):
            return self._refuse(event, f"YAML aliases are not allowed (found '*{event.anchor}')",
                                "write the value out in full")
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            return self._refuse(event, f"YAML anchors are not allowed (found '&{event.anchor}')",
                                "write the value out in full")
        if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent) and event.tag:
            return self._refuse(event, f"YAML tags are not allowed (found '{event.tag}')",
                                "front matter is plain data; remove the tag")
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            return self._open(event)
        if isinstance(event, yaml.CollectionEndEvent):
            self.stack.pop()
        return True

    def _open(self, event: yaml.CollectionStartEvent) -> bool:
        if len(self.stack) >= MAX_DEPTH:
            return self._refuse(event, f"front matter is nested deeper than {MAX_DEPTH} levels",
                                "flatten the structure")
        line, column = self._place(event)
        kind: NodeKind = "sequence" if isinstance(event, yaml.SequenceStartEvent) else "mapping"
        node = Node(kind, line, column)
        if not self._add(node, event):
            return False
        self.stack.append((node, None))
        return True

    def _add(self, node: Node, event: yaml.Event) -> bool:
        if not self.stack:
            self.root = node
            return True
        parent, key = self.stack[-1]
        if parent.kind == "sequence":
            parent.items.append(node)
            return True
        if key is None:
            if node.kind != "scalar":
                return self._refuse(event, f"a field name must be text, found {node.describe()}",
                                    "write 'name: value'")
            if node.text in parent.entries:
                first = parent.entries[node.text][0]
                return self._refuse(
                    event, f"duplicate key '{node.text}' (first given on line {first.line})",
                    "give each field once; YAML would silently keep only the last",
                )
            self.stack[-1] = (parent, node)
            return True
        parent.entries[key.text] = (key, node)
        self.stack[-1] = (parent, None)
        return True
