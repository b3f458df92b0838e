"""Find the site's inputs: `site.yaml` and every statement file under `statements/`.

Only regular files inside the content folder are read. Symbolic links to folders are not
followed; a linked file must lead to a file inside the content folder; a link that leads nowhere,
a named pipe or a device is refused instead of being read (reading a pipe would wait forever).
A file whose name Windows reserves (`con.md`, `nul.md`) is refused too, so that the content
folder can be checked out anywhere.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .problems import Problem, Severity
from .slugs import RESERVED_NAMES

STATEMENTS_DIR = "statements"
MAX_STATEMENT_BYTES = 256 * 1024
"""A statement file larger than this (256 KiB) is refused. The longest communiqués (G20 leaders'
declarations) are about 100 KB; the limit also bounds the Markdown parser's worst cases (nested
brackets), which grow much faster than the text."""
MAX_FOLDER_DEPTH = 32
"""Deepest folder below `statements/` that is read: deeper ones are refused, not walked."""
_LOOKALIKE_SUFFIXES = (".markdown", ".mdown", ".mkd")
"""Markdown files under another name: reported, since only `.md` files are read."""


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


@dataclass(slots=True)
class _Walk:
    """What a walk of the statements folder found so far."""

    content: Path
    """The content folder as given."""
    shown: str
    """How to name it in messages."""
    content_real: str
    """Its real path, to tell where a symbolic link leads."""
    found: list[SourceFile]
    """The statement files."""
    problems: list[Problem]
    """Everything refused."""

    def refuse(self, relative: str, message: str, hint: str, severity: Severity = "error") -> None:
        """Record a problem with the file or folder at `relative`."""
        self.problems.append(Problem(shown_path(self.content, self.shown, relative), None, None,
                                     message, hint=hint, severity=severity))


def find_statement_files(content: Path, shown: str) -> tuple[list[SourceFile], list[Problem]]:
    """Every `statements/**/*.md`, sorted; what may not be read is refused with a problem."""
    root = content / STATEMENTS_DIR
    if not root.is_dir():
        return [], [Problem(shown_path(content, shown, STATEMENTS_DIR), None, None,
                            "the content folder has no 'statements' folder",
                            hint="put statement files in content/statements/")]
    real = content.resolve()
    walk = _Walk(content, shown, str(real), [], [])
    if root.is_symlink() and not _inside(os.path.realpath(root), walk.content_real):
        walk.refuse(STATEMENTS_DIR, "the statements folder is a symbolic link to a folder "
                                    "outside the content folder",
                    "move the statements into content/statements/")
        return [], walk.problems
    _walk(walk, real / STATEMENTS_DIR, STATEMENTS_DIR)
    return walk.found, walk.problems


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder + os.sep)


def _walk(walk: _Walk, folder: Path, relative: str) -> None:
    """Collect the `.md` files below `folder` (plain strings: this runs for every file)."""
    try:
        with os.scandir(folder) as entries:
            ordered = sorted(entries, key=lambda e: e.name)
    except OSError as error:
        walk.refuse(relative, f"the folder cannot be read: {error.strerror}",
                    "check its permissions")
        return
    for entry in ordered:
        inner = f"{relative}/{entry.name}"
        if entry.is_dir(follow_symlinks=False) and inner.count("/") > MAX_FOLDER_DEPTH:
            walk.refuse(inner, f"folders are nested deeper than {MAX_FOLDER_DEPTH} levels",
                        "keep statements in a few levels of folders, such as statements/<year>/")
        elif entry.is_dir(follow_symlinks=False):
            _walk(walk, Path(entry.path), inner)
        elif entry.is_symlink() and entry.is_dir():
            walk.refuse(inner, "symbolic links to folders are not followed",
                        "move the folder into content/")
        elif entry.name.endswith(".md"):
            if _statement_entry(walk, entry, inner):
                walk.found.append(SourceFile.at(shown_path(walk.content, walk.shown, inner),
                                                inner, entry.path))
        elif entry.name.lower().endswith((".md", *_LOOKALIKE_SUFFIXES)):
            walk.refuse(inner, "this file is not read: statement files end in '.md'",
                        f"rename it to '{entry.name.rsplit('.', 1)[0]}.md'", "warning")


def _statement_entry(walk: _Walk, entry: os.DirEntry[str], inner: str) -> bool:
    """True when `entry` may be read as a statement; otherwise say why not."""
    if entry.is_symlink():
        target = os.path.realpath(entry.path)
        if not _inside(target, walk.content_real):
            walk.refuse(inner, "symbolic link points outside the content folder",
                        "copy the file into content/ instead of linking it")
            return False
        if not os.path.exists(target):
            walk.refuse(inner, "symbolic link leads nowhere: its target does not exist",
                        "remove the link or restore the file it points to")
            return False
    try:
        mode = entry.stat().st_mode
    except OSError as error:
        walk.refuse(inner, f"the file cannot be read: {error.strerror}", "check its permissions")
        return False
    if not stat.S_ISREG(mode):
        walk.refuse(inner, "not a regular file (a named pipe, socket or device is never read)",
                    "put a plain text file here")
        return False
    stem = entry.name.removesuffix(".md")
    if stem in RESERVED_NAMES:
        walk.refuse(inner, f"the file name {entry.name!r} is a device name Windows reserves: "
                           "such a file cannot be checked out or copied there",
                    f"rename it, for example to '{stem}-statement.md'")
    return True


def read_source(source: SourceFile) -> tuple[bytes | None, list[Problem]]:
    """The file's bytes, refusing anything but a regular file within the size limit."""
    try:
        fd = os.open(source.absolute, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        return None, [_unreadable(source, error)]
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, [Problem(source.path, None, None,
                                  "not a regular file (a named pipe, socket or device is never read)",
                                  hint="put a plain text file here")]
        # Read one byte past the limit: the file may grow between the stat and the read.
        data = handle.read(MAX_STATEMENT_BYTES + 1) if info.st_size <= MAX_STATEMENT_BYTES else b""
    if info.st_size > MAX_STATEMENT_BYTES or len(data) > MAX_STATEMENT_BYTES:
        size = max(info.st_size, len(data))
        return None, [Problem(source.path, None, None,
                              f"the file is {size // 1024} KiB; the limit is "
                              f"{MAX_STATEMENT_BYTES // 1024} KiB",
                              hint="split it or move annexes out of the statement")]
    return data, []


def source_digest(data: bytes) -> bytes:
    """The digest of a statement file's bytes, as `ParsedFile.digest` and the store of parsed
    files record it."""
    return hashlib.blake2b(data, digest_size=16).digest()


def digest_of_file(path: str) -> bytes:
    """`source_digest` of the file at `path` (of the error, when it cannot be read)."""
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb", buffering=0) as file:
            while chunk := file.read(1 << 16):
                digest.update(chunk)
    except OSError as error:
        return f"!{error.errno}".encode()
    return digest.digest()


def _unreadable(source: SourceFile, error: OSError) -> Problem:
    gone = error.errno in (errno.ENOENT, errno.ELOOP)
    return Problem(source.path, None, None,
                   "the file disappeared while the site was read" if gone
                   else f"the file cannot be read: {error.strerror}",
                   hint="run the command again" if gone else "check its permissions")
