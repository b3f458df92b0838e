"""The one currency of errors: a `Problem` names a file, a place, a field and a fix."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong (or worth knowing) about one input file."""

    path: str
    """The file, as the user named it (relative to the working directory where possible)."""
    line: int | None
    """1-based line, or None when no line applies (a whole file, a missing file)."""
    column: int | None
    """1-based column, or None."""
    message: str
    """What was expected and what was found."""
    field: str | None = None
    """The front-matter field at fault, dotted for nested ones (`meeting.hosts`)."""
    hint: str | None = None
    """How to fix it, such as a "did you mean" suggestion."""
    severity: Severity = "error"
    """`error` stops the build; `warning` is reported and the build goes on."""

    @property
    def is_error(self) -> bool:
        """True when this problem stops the build."""
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        """Problems sort by file, then position, then message."""
        return (self.path, self.line or 0, self.column or 0, self.message)

    def format_text(self) -> str:
        """`path:line:col: error: message (hint)` as compilers print it."""
        place = self.path
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        text = f"{place}: {self.severity}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def format_github(self) -> str:
        """A GitHub Actions workflow command, shown as an annotation on the line."""
        props = [f"file={_escape_property(self.path)}"]
        if self.line is not None:
            props.append(f"line={self.line}")
            if self.column is not None:
                props.append(f"col={self.column}")
        if self.field:
            props.append(f"title={_escape_property(self.field)}")
        text = self.message + (f" ({self.hint})" if self.hint else "")
        return f"::{self.severity} {','.join(props)}::{_escape_data(text)}"

    def as_json(self) -> dict[str, object]:
        """The JSON object of `check --format json`."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }


class ContentError(Exception):
    """Raised by a stage that found errors; carries every problem found so far."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{sum(p.is_error for p in problems)} error(s)")
        self.problems = list(problems)


class UsageError(ContentError):
    """The command was used wrongly (exit status 2), such as an unsafe output folder."""


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in a stable order, duplicates removed."""
    return sorted(set(problems), key=Problem.sort_key)


def format_problems(problems: Sequence[Problem], fmt: str) -> str:
    """Render problems as `text`, `json` or `github` output."""
    ordered = sorted_problems(problems)
    if fmt == "json":
        return json.dumps({"problems": [p.as_json() for p in ordered]}, indent=2)
    if fmt == "github":
        return "\n".join(p.format_github() for p in ordered)
    return "\n".join(p.format_text() for p in ordered)


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 0.6, n: int = 1) -> str | None:
    """A "did you mean …?" hint naming the closest choice (or `n` choices), or None."""
    matches = difflib.get_close_matches(word, list(choices), n=n, cutoff=cutoff)
    if not matches:
        return None
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
