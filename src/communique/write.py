"""Write the site: into a fresh folder beside the output, swapped in only when complete.

Beside an output folder `_site`, a build uses folders of its own naming:

- `._site.new-*`: the site being written. Left behind only by a build that was killed, and
  removed by the next one.
- `._site.old-*`: the previous site, set aside for the moment between two renames where the
  atomic exchange of two folders (Linux `renameat2`) is not available. If a build is killed in
  that moment, the next one puts it back.
- `._site.del-*`: a previous site being deleted after the swap.

The caller holds the output lock (`build.output_lock`), so no other build uses these folders
while one runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path, PurePosixPath

from .problems import ContentError, Problem
from .slugs import RESERVED_NAMES

STAGING, RETIRED, DISCARDED = "new", "old", "del"
"""Kinds of folder a build keeps beside the output (see the module's docstring)."""
SITE_MARKERS = ("index.html", "404.html", "sitemap.xml")
"""Files every built site has: a folder holding other files is not replaced."""
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})
"""renameat2 errors meaning "this kernel or file system cannot exchange": fall back."""


def unsafe_output(output: Path, content: Path, project: Path) -> Problem | None:
    """A problem when `output` is a folder the build must never replace."""
    out = output.resolve()
    protected = {
        "the content folder": content.resolve(),
        "the project folder": project.resolve(),
        "your home folder": Path.home().resolve(),
    }
    if out == Path(out.anchor):
        return Problem(str(output), None, None, "refusing to write the site to the root folder",
                       "output", "choose a new folder such as _site")
    for what, place in protected.items():
        if out == place or place.is_relative_to(out):
            relation = "is" if out == place else "contains"
            return Problem(str(output), None, None,
                           f"refusing to write the site there: the output folder {relation} {what}",
                           "output", "choose a folder of its own, such as _site")
    if out.is_relative_to(content.resolve()):
        return Problem(str(output), None, None,
                       "refusing to write the site inside the content folder", "output",
                       "choose a folder outside content/, such as _site")
    return foreign_output(output)


def foreign_output(output: Path) -> Problem | None:
    """A problem when `output` exists but is not a site: a link, a file, or a folder of other files.

    The site replaces the output folder as a whole, so a link there would be replaced by a folder
    and the folder it leads to never updated.
    """
    if output.is_symlink():
        return Problem(str(output), None, None,
                       "refusing to write the site there: it is a symbolic link, which the new site "
                       "would replace", "output",
                       f"give the folder it leads to: --output {os.path.realpath(output)}")
    if not output.exists():
        return None
    if not output.is_dir():
        return Problem(str(output), None, None,
                       "refusing to write the site there: it is a file, not a folder", "output",
                       "choose a folder such as _site")
    with os.scandir(output) as entries:
        names = {entry.name for entry in entries}
    if names and not names.issuperset(SITE_MARKERS):
        return Problem(str(output), None, None,
                       "refusing to replace a folder that does not hold a built site (it has no "
                       + ", ".join(m for m in SITE_MARKERS if m not in names) + ")", "output",
                       "choose an empty or new folder, such as _site")
    return None


def write_site(output: Path, files: dict[str, bytes], copies: Iterable[tuple[str, Path]]) -> None:
    """Write every file into a new folder, then put it in place of `output` in one step.

    Until the swap the previous site is untouched; a failure before it leaves only a temporary
    folder, which is removed. A disk that is full or a name the file system refuses becomes a
    `ContentError`, and the previous site stays as it was.
    """
    output = output.absolute()
    copies = list(copies)
    check_output_paths([*files, *(relative for relative, _ in copies)], output)
    output.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted(output)
    staging = Path(tempfile.mkdtemp(prefix=_prefix(output, STAGING), dir=output.parent))
    try:
        _fill(staging, files, copies)
        os.chmod(staging, 0o755)
        swap_in(staging, output)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ContentError([Problem(str(output), None, None,
                                    f"could not write the site: {_describe(error, staging)}",
                                    "output", "the previous site was left as it was")]) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _fill(staging: Path, files: dict[str, bytes], copies: list[tuple[str, Path]]) -> None:
    made: set[Path] = set()
    for relative, data in sorted(files.items()):
        target = staging / relative
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(data)
    for relative, source in copies:
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _describe(error: OSError, staging: Path) -> str:
    where = str(error.filename or "")
    if where.startswith(str(staging) + os.sep):
        where = where[len(str(staging)) + 1 :]
    return f"{error.strerror or error} ({where})" if where else str(error.strerror or error)


def check_output_paths(paths: Iterable[str], output: Path) -> None:
    """Refuse any output path that could land outside the output or on another file.

    Every path comes from validated ids and slugs; this is the last line of defence, so that a
    page is never written over another one or outside the output folder.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for path in paths:
        fault = output_path_fault(path)
        if fault is None and path.casefold() in seen:
            fault = "another file of the site has the same path"
        seen.add(path.casefold())
        if fault:
            problems.append(Problem(str(output), None, None,
                                    f"refusing to write {path!r}: {fault}", "output",
                                    "a name in the content gives an empty or unusable path"))
    if problems:
        raise ContentError(problems)


def output_path_fault(path: str) -> str | None:
    """Why `path` is not a safe relative path inside the output, or None."""
    if not path or "\\" in path or "\x00" in path:
        return "it is empty or holds a backslash or NUL"
    parts = path.split("/")
    if PurePosixPath(path).is_absolute() or ".." in parts or "." in parts:
        return "it leads outside the output folder"
    if "" in parts:
        return "it has an empty folder name"
    reserved = next((p for p in parts if p.split(".")[0].lower() in RESERVED_NAMES), None)
    if reserved:
        return f"{reserved!r} is a device name Windows reserves"
    return None


def swap_in(staging: Path, output: Path) -> None:
    """Replace `output` with `staging`: one atomic exchange where the system has it."""
    if not os.path.lexists(output):
        staging.rename(output)
        return
    if exchange_directories(staging, output):
        discard(staging, output)  # it now holds the previous site
        return
    retired = _new_name(output, RETIRED)
    output.rename(retired)
    try:
        staging.rename(output)
    except BaseException:
        retired.rename(output)
        raise
    discard(retired, output)


def discard(folder: Path, output: Path) -> None:
    """Delete a folder of ours; renamed first, so a half-deleted one is never taken for a site."""
    try:
        doomed = _new_name(output, DISCARDED)
        folder.rename(doomed)
    except OSError:  # the swap is done: failing to tidy up must not fail the build
        doomed = folder
    _remove(doomed)


def recover_interrupted(output: Path) -> None:
    """Clean up after a build that was killed: restore the previous site if it was set aside
    and is not back in place, then delete every leftover folder of ours."""
    leftovers = {kind: _leftovers(output, kind) for kind in (STAGING, RETIRED, DISCARDED)}
    retired = leftovers[RETIRED]
    restorable = [p for p in retired if p.is_dir() and not p.is_symlink()]
    if restorable and not os.path.lexists(output):
        newest = max(restorable, key=lambda p: p.lstat().st_ctime_ns)
        newest.rename(output)
        retired.remove(newest)
    for folder in (*leftovers[STAGING], *retired, *leftovers[DISCARDED]):
        _remove(folder)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _prefix(output: Path, kind: str) -> str:
    return f".{output.name}.{kind}-"


def _leftovers(output: Path, kind: str) -> list[Path]:
    prefix = _prefix(output, kind)
    with os.scandir(output.parent) as entries:
        return sorted(Path(e.path) for e in entries if e.name.startswith(prefix))


def _new_name(output: Path, kind: str) -> Path:
    """A free name for a folder of ours beside `output` (made, then removed, to reserve it)."""
    folder = Path(tempfile.mkdtemp(prefix=_prefix(output, kind), dir=output.parent))
    folder.rmdir()
    return folder


def exchange_directories(first: Path, second: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2 with RENAME_EXCHANGE).

    False when the system cannot (another kernel, an old C library, a file system without the
    operation): the caller then falls back to two renames.
    """
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


@lru_cache(maxsize=1)
def _renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    """The C library's renameat2, or None where there is none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint)
    function.restype = ctypes.c_int
    return function
