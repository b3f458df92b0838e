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
    absolute: Path
    """Where to read it."""

    @property
    def stem(self) -> str:
        """The file name without `.md`: the statement's id."""
        return self.relative.rsplit("/", 1)[-1].removesuffix(".md")

    @property
    def folder(self) -> str:
        """The folder of the file inside the content folder."""
        return self.relative.rsplit("/", 1)[0] if "/" in self.relative else ""


def shown_path(content: Path, shown: str, relative: str) -> str:
    """`content/statements/x.md` as the user would type it."""
    return f"{shown.rstrip('/')}/{relative}" if shown not in ("", ".") else relative


def find_statement_files(content: Path, shown: str) -> tuple[list[SourceFile], list[Problem]]:
    """Every `statements/**/*.md`, sorted; symlinks leading outside the content folder refused."""
    root = content / STATEMENTS_DIR
    problems: list[Problem] = []
    found: list[SourceFile] = []
    if not root.is_dir():
        return [], [Problem(shown_path(content, shown, STATEMENTS_DIR), None, None,
                            "the content folder has no 'statements' folder",
                            hint="put statement files in content/statements/")]
    content_real = content.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in list(dirs):
            if (here / name).is_symlink():
                dirs.remove(name)
                relative = (here / name).relative_to(content).as_posix()
                problems.append(Problem(shown_path(content, shown, relative), None, None,
                                        "symbolic links to folders are not followed",
                                        hint="move the folder into content/"))
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".md"):
                continue
            file = here / name
            relative = file.relative_to(content).as_posix()
            path = shown_path(content, shown, relative)
            if file.is_symlink() and not file.resolve().is_relative_to(content_real):
                problems.append(Problem(path, None, None,
                                        "symbolic link points outside the content folder",
                                        hint="copy the file into content/ instead of linking it"))
                continue
            found.append(SourceFile(path, relative, file))
    return found, problems


def read_source(source: SourceFile) -> tuple[bytes | None, list[Problem]]:
    """The file's bytes, refusing files over the size limit."""
    size = source.absolute.stat().st_size
    if size > MAX_STATEMENT_BYTES:
        return None, [Problem(source.path, None, None,
                              f"the file is {size // 1024} KiB; the limit is "
                              f"{MAX_STATEMENT_BYTES // 1024} KiB",
                              hint="split it or move annexes out of the statement")]
    return source.absolute.read_bytes(), []
