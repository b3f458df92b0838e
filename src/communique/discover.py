"""Find the site's inputs: `site.yaml` and every statement file under `statements/`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .problems import Problem

STATEMENTS_DIR = "statements"
MAX_STATEMENT_BYTES = 1024 * 1024
"""A statement file larger than this (1 MiB) is refused: the longest communiqués are ~100 KB."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One statement file found on disk."""

    path: str
    """How problems name it: the content folder as given, then the path inside it."""
    relative: str
    """Path inside the content folder, with `/` separators."""
    absolute: str
    """Where to read it: an absolute path below the content folder's real path."""
    stem: str = ""
    """The file name without `.md`: the statement's id."""
    folder: str = ""
    """The folder of the file inside the content folder."""

    @classmethod
    def at(cls, path: str, relative: str, absolute: str) -> SourceFile:
        """A source file, its stem and folder worked out once."""
        folder, _, name = relative.rpartition("/")
        return cls(path, relative, absolute, name.removesuffix(".md"), folder)


def shown_path(content: Path, shown: str, relative: str) -> str:
    """`content/statements/x.md` as the user would type it."""
    return f"{shown.rstrip('/')}/{relative}" if shown not in ("", ".") else relative


def find_statement_files(content: Path, shown: str) -> tuple[list[SourceFile], list[Problem]]:
    """Every `statements/**/*.md`, sorted; symlinks leading outside the content folder refused."""
    root = content / STATEMENTS_DIR
    if not root.is_dir():
        return [], [Problem(shown_path(content, shown, STATEMENTS_DIR), None, None,
                            "the content folder has no 'statements' folder",
                            hint="put statement files in content/statements/")]
    found: list[SourceFile] = []
    problems: list[Problem] = []
    real = content.resolve()
    _walk(real / STATEMENTS_DIR, STATEMENTS_DIR, content, shown, str(real), found, problems)
    return found, problems


def _walk(folder: Path, relative: str, content: Path, shown: str, content_real: str,
          found: list[SourceFile], problems: list[Problem]) -> None:
    """Collect the `.md` files below `folder` (plain strings: this runs for every file)."""
    with os.scandir(folder) as entries:
        ordered = sorted(entries, key=lambda e: e.name)
    for entry in ordered:
        inner = f"{relative}/{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            _walk(Path(entry.path), inner, content, shown, content_real, found, problems)
        elif entry.is_symlink() and entry.is_dir():
            problems.append(Problem(shown_path(content, shown, inner), None, None,
                                    "symbolic links to folders are not followed",
                                    hint="move the folder into content/"))
        elif entry.name.endswith(".md"):
            if entry.is_symlink() and not os.path.realpath(entry.path).startswith(content_real + os.sep):
                problems.append(Problem(shown_path(content, shown, inner), None, None,
                                        "symbolic link points outside the content folder",
                                        hint="copy the file into content/ instead of linking it"))
                continue
            found.append(SourceFile.at(shown_path(content, shown, inner), inner, entry.path))


def read_source(source: SourceFile) -> tuple[bytes | None, list[Problem]]:
    """The file's bytes, refusing files over the size limit."""
    size = os.stat(source.absolute).st_size
    if size > MAX_STATEMENT_BYTES:
        return None, [Problem(source.path, None, None,
                              f"the file is {size // 1024} KiB; the limit is "
                              f"{MAX_STATEMENT_BYTES // 1024} KiB",
                              hint="split it or move annexes out of the statement")]
    with open(source.absolute, "rb") as handle:
        return handle.read(), []
