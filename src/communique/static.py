"""Files copied into the site as they are: the site's `static/` folder and statements' attachments.

Nothing copied may take the place of a generated page; every collision is reported at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .discover import shown_path
from .models import Statement
from .output import statement_url
from .problems import Problem

STATIC_DIR = "static"
"""`content/static/` is copied to the site's root: robots.txt, favicon.ico, CNAME, .well-known/."""

Copy = tuple[str, Path, str]
"""(output path, file to copy, how to name the file in a message)."""


def find_static_files(content: Path, shown: str) -> tuple[list[Copy], list[Problem]]:
    """Every file under `content/static/`, refusing symbolic links that lead outside `content/`."""
    root = content / STATIC_DIR
    if not root.is_dir():
        return [], []
    real = os.path.realpath(content)
    copies: list[Copy] = []
    problems: list[Problem] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            file = Path(folder) / name
            relative = file.relative_to(root).as_posix()
            named = shown_path(content, shown, f"{STATIC_DIR}/{relative}")
            if not os.path.realpath(file).startswith(real + os.sep):
                problems.append(Problem(named, None, None, "symbolic link points outside the content folder",
                                        hint="copy the file into content/static/ instead of linking it"))
                continue
            copies.append((relative, file, named))
    return copies, problems


def attachment_files(statements: Iterable[Statement]) -> list[Copy]:
    """Each statement's attachments, at the statement's URL."""
    return [(statement_url(s.id) + a.name, Path(a.source), f"{s.path}: attachment '{a.name}'")
            for s in statements for a in s.attachments]


def collisions(generated: Iterable[str], copies: list[Copy], reserved: dict[str, str]) -> list[Problem]:
    """A problem for every copied file that would overwrite a generated file or another copy,
    land in a `reserved` folder (its path, ending in `/`, to what is generated there), take the
    place of a folder that holds such files, or need a folder where one of them is."""
    taken = {name: "a generated page" for name in generated}
    folders = {folder.rstrip("/"): what for folder, what in reserved.items()}
    for name in taken:
        for parent in _parents(name):
            if parent in folders:
                break
            folders[parent] = "generated pages"
    problems = []
    for name, _file, named in copies:
        what = named.partition(": ")[2] or "this file"
        folder = next((folder for folder in reserved if name.startswith(folder)), None)
        inside = next((parent for parent in _parents(name) if parent in taken), None)
        if name in taken or folder is not None:
            message = f"{what} would overwrite {taken.get(name) or reserved[folder or '']} at /{name}"
        elif name in folders:
            message = f"{what} would take the place of the folder /{name}/, which holds {folders[name]}"
        elif inside is not None:
            message = f"{what} would go inside /{inside}, which is {taken[inside]}"
        else:
            taken[name] = named
            for parent in _parents(name):
                folders.setdefault(parent, named)
            continue
        problems.append(Problem(named.split(": ")[0], None, None, message, "static",
                                "rename or move it; generated pages cannot be replaced this way"))
    return problems


def _parents(path: str) -> Iterator[str]:
    """The folders `path` is in, the nearest first: `a/b/c` gives `a/b`, then `a`."""
    while "/" in path:
        path = path.rpartition("/")[0]
        yield path
