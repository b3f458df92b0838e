"""Write the site: into a fresh folder beside the output, swapped in only when complete.

Beside an output folder `_site`, a build uses folders of its own naming:

- `._site.new-*`: the site being written. Left behind only by a build that was killed, and
  removed by the next one.
- `._site.old-*`: the previous site, set aside for the moment between two renames where the
  atomic exchange of two folders (Linux `renameat2`) is not available. If a build is killed in
  that moment, the next one puts it back.
- `._site.del-*`: a previous site being deleted after the swap.

A build may also keep the site it replaced as a spare, in a folder the caller names (`build`
keeps it in its cache, see `cache.spare_path`), and the next build brings that folder up to
date instead of filling a fresh one: most of its files are already hard links to the live
site's, so an edit costs a few files, not one link per file of the site. A file there is never
written into, only unlinked and created anew, since it may be the live site's own file.

The caller holds the output lock (`build.output_lock`), so no other build uses these folders
while one runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import NamedTuple

from .problems import ContentError, Problem
from .slugs import RESERVED_NAMES
from .workers import stream_out, write_all

STAGING, RETIRED, DISCARDED = "new", "old", "del"
"""Kinds of folder a build keeps beside the output (see the module's docstring)."""
BACKGROUND_REMOVAL = 5000
"""A previous site with more files than this is deleted in the background."""
REMOVER = "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)"
"""The program that deletes a previous site in the background."""
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


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Lock the output's parent folder so two builds never swap at once (no lock file left)."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output.parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ContentError([Problem(str(output), None, None,
                                        "another build is writing this output folder",
                                        "output", "wait for it to finish")]) from None
        yield
    finally:
        os.close(fd)


class Written(NamedTuple):
    """One file of a written site, as the build cache records it (see `cache.Manifest`); a
    tuple, so that tens of thousands load quickly."""

    key: bytes
    """Digest of what the file's bytes follow from (see `output.File`); empty when unknown."""
    digest: bytes
    """Digest of the file's bytes (of a file made in pieces, of its pieces' digests: see `PIECED`)."""
    size: int
    """Its size in bytes."""
    mtime_ns: int
    """Its modification time: with the inode and size, tells that nobody changed it since."""
    inode: int
    """Its inode number."""
    pieces: bytes = b""
    """For a file made of keyed pieces, where each lies in it (see `PieceTable`)."""


@dataclass(slots=True)
class Staged:
    """A site being written into a folder beside the live one: a fresh folder, or a spare one
    holding an earlier site (see the module's docstring)."""

    folder: Path
    """The folder being filled."""
    live: Path
    """The output folder, holding the previous site (if any) until the swap."""
    present: dict[str, FileStat] = field(default_factory=dict)
    """The files the folder held before this build (other than folders), by path, with their
    inode, size and time when listed: any of them may be a hard link to the live site's file."""
    folders: set[str] = field(default_factory=set)
    """The folders below it before this build, by path."""
    placed: set[str] = field(default_factory=set)
    """Every file this build has put there."""

    def holds(self, path: str, record: Written) -> bool:
        """Whether the folder held the file that `record` describes at `path` (the same inode:
        a link to the live site's file)."""
        found = self.present.get(path)
        return found is not None and found[0] == record.inode

    def holds_intact(self, path: str, record: Written) -> bool:
        """Whether it held that file as `record` describes it: the same inode, size and time,
        so that nobody wrote into it since (through either of its names)."""
        return self.present.get(path) == (record.inode, record.size, record.mtime_ns)

    def read(self, path: str) -> bytes:
        """A file written so far."""
        return (self.folder / path).read_bytes()

    def locate(self, path: str) -> str:
        """Where a file written so far is."""
        return os.path.join(self.folder, path)

    def clear(self, path: str) -> None:
        """Make way for a new file at `path`: what the folder held there is unlinked, never
        written into."""
        target = os.path.join(self.folder, path)
        if path in self.present:
            os.unlink(target)
        elif path in self.folders:
            shutil.rmtree(target)

    def prune(self) -> None:
        """Remove what the folder held before this build and this build did not put there (a
        file where it put a folder, or the other way round, was replaced already). When that is
        more than `BACKGROUND_REMOVAL` files, the folders no longer used are set aside at once
        and deleted in the background."""
        needed = set()
        for path in self.placed:
            while (path := path.rpartition("/")[0]) and path not in needed:
                needed.add(path)
        files = self.present.keys() - self.placed - needed
        folders = self.folders - needed - self.placed
        if len(files) > BACKGROUND_REMOVAL:
            doomed = _new_name(self.live, DISCARDED)
            doomed.mkdir()
            tops = [f for f in folders if f.rpartition("/")[0] not in folders]
            for n, top in enumerate(tops):
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):  # where a file is now
                    os.rename(os.path.join(self.folder, top), os.path.join(doomed, str(n)))
            _delete(doomed, background=True)
            folders = set()
        for path in files:  # those in a folder set aside are gone already
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):  # or where a file is now
                os.unlink(os.path.join(self.folder, path))
        for folder in sorted(folders, key=len, reverse=True):  # the deepest first
            _remove(Path(self.folder, folder))

    @classmethod
    def holding(cls, folder: Path, live: Path, contents: Contents | None = None) -> Staged:
        """A folder as it is, to be brought up to date, with its `contents` (see
        `folder_contents`; listed now when not given)."""
        present, folders = contents if contents is not None else folder_contents(folder)
        return cls(folder, live, present, folders)


FileStat = tuple[int, int, int]
"""A file's inode, size and modification time (nanoseconds)."""
Contents = tuple[dict[str, FileStat], set[str]]
"""What a folder holds below it: its files by path with their inodes, sizes and times, and its
folders."""


def folder_contents(folder: Path) -> Contents:
    """The files and folders below `folder`; any symbolic link or special file there is removed
    on the way, so that nothing done in the folder leads outside it."""
    present: dict[str, FileStat] = {}
    folders: set[str] = set()
    pending = [("", str(folder))]
    while pending:
        prefix, place = pending.pop()
        with os.scandir(place) as entries:
            for entry in entries:
                path = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.add(path)
                    pending.append((path + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    present[path] = (info.st_ino, info.st_size, info.st_mtime_ns)
                else:
                    os.unlink(entry.path)
    return present, folders


@contextmanager
def staged_site(output: Path, previous: Mapping[str, Written] | None = None, spare: Path | None = None,
                adopt: bool = False, spare_contents: Callable[[], Contents | None] | None = None
                ) -> Iterator[Staged]:
    """A folder to write the site into, put in place of `output` in one step when the block
    ends without error.

    Until the swap the previous site is untouched; a failure before it leaves only the folder
    being filled, which is removed (or, if it was the spare and the failure was not the disk's,
    kept as the spare). A disk that is full or a name the file system refuses becomes a
    `ContentError`, and the previous site stays as it was.

    With a `spare` folder, the site the swap replaces is kept there, and when the caller asks
    to `adopt` it, the folder is the spare brought up to date rather than a fresh one, provided
    most of its files are still the files `previous` records (the live site's, see
    `cache.Manifest`); `spare_contents()` gives what the spare holds, if the caller listed it
    already (see `folder_contents`). A previous site (or spare) of more than
    `BACKGROUND_REMOVAL` files is deleted by a process of its own, so that the build need not
    wait for it.
    """
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted(output)
    previous = previous or {}
    background = len(previous) > BACKGROUND_REMOVAL
    staged = (_adopted(spare, output, previous, background, spare_contents) if spare is not None and adopt
              else None)
    if staged is None:
        if spare is not None and os.path.lexists(spare):
            discard(spare, output, background or _holds_more_than(spare, BACKGROUND_REMOVAL))
        staged = Staged(Path(tempfile.mkdtemp(prefix=_prefix(output, STAGING), dir=output.parent)), output)
    staging = staged.folder
    try:
        yield staged
        staged.prune()
        os.chmod(staging, 0o755)
        swap_in(staging, output, background, spare)
    except OSError as error:
        _give_up(staged, output, None)  # a spare may be what failed: not kept
        raise ContentError([Problem(str(output), None, None,
                                    f"could not write the site: {_describe(error, staging)}",
                                    "output", "the previous site was left as it was")]) from error
    except BaseException:
        _give_up(staged, output, spare)
        raise


def _adopted(spare: Path, output: Path, previous: Mapping[str, Written], background: bool,
             contents: Callable[[], Contents | None] | None = None) -> Staged | None:
    """The spare folder, moved beside the output to be brought up to date, when at least half
    of the live site's files (as `previous` records them) are in it already; `contents()`
    gives what it holds when that was listed already."""
    if not os.path.isdir(spare) or os.path.islink(spare):
        return None
    try:
        staging = _new_name(output, STAGING)
        spare.rename(staging)
    except OSError:
        return None
    try:
        staged = (Staged.holding(staging, output, contents() if contents is not None else None)
                  if _case_sensitive(staging) else None)
    except OSError:
        staged = None
    if staged is None or 2 * sum(staged.holds(path, file) for path, file in previous.items()) < len(previous):
        discard(staging, output, background)
        return None
    return staged


def _case_sensitive(folder: Path) -> bool:
    """Whether the file system tells names apart by case (elsewhere, a spare whose names differ
    from the new site's only by case would keep the old names; it is not used there)."""
    probe = folder / ".communique-Probe"
    probe.touch()
    try:
        return not os.path.lexists(folder / ".communique-probe")
    finally:
        probe.unlink()


def _holds_more_than(folder: Path, count: int) -> bool:
    """Whether there are more than `count` files and folders below `folder` (counted only so far)."""
    pending, seen = [str(folder)], 0
    while pending:
        with contextlib.suppress(OSError), os.scandir(pending.pop()) as entries:
            for entry in entries:
                seen += 1
                if seen > count:
                    return True
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
    return False


def _give_up(staged: Staged, output: Path, spare: Path | None) -> None:
    """After a failure: keep a folder that held an earlier site as the `spare` (it is scanned
    before each use), else delete it."""
    if staged.present and spare is not None and not os.path.lexists(spare):
        with contextlib.suppress(OSError):
            staged.folder.rename(spare)
            return
    discard(staged.folder, output, len(staged.present) > BACKGROUND_REMOVAL)


def write_site(output: Path, files: dict[str, bytes], copies: Iterable[tuple[str, Path]]) -> None:
    """Write `files` and copies of other files (output path, source) into a new folder, then
    put it in place of `output` in one step (see `staged_site`)."""
    sources = dict(copies)
    check_output_paths([*files, *sources], output)
    files = {**files, **{name: source.read_bytes() for name, source in sources.items()}}
    with staged_site(output) as staged:
        write_files(staged, sorted(files), files.__getitem__, lambda path: b"", {}, 1)


DigestedPiece = bytes | tuple[bytes, Callable[[], bytes]]
"""Part of a file: its bytes, or the digest of its key and how to make them (`output.Piece` with
its key digested). A file made of keyed pieces takes from the live file every piece whose key is
unchanged (an edit to one statement re-encodes one record of `statements.jsonl`, not ten
thousand)."""
Made = bytes | Iterator[DigestedPiece]
"""A file's bytes, whole or in pieces (a large file is made piece by piece, written as it comes)."""


class PieceTable:
    """Where the keyed pieces of a file lie in it: 44 bytes each (key digest, offset, length,
    digest of the piece's bytes)."""

    ENTRY = struct.Struct("<16sQI16s")

    @classmethod
    def pack(cls, rows: Iterable[tuple[bytes, int, int, bytes]]) -> bytes:
        return b"".join(cls.ENTRY.pack(*row) for row in rows)

    @classmethod
    def unpack(cls, table: bytes, size: int) -> dict[bytes, tuple[int, int, bytes]]:
        """Key digest to (offset, length, digest), for the pieces that lie inside a file of
        `size` bytes."""
        return {key: (offset, length, digest) for key, offset, length, digest in cls.ENTRY.iter_unpack(table)
                if offset + length <= size}


def write_files(staged: Staged, paths: Sequence[str], make: Callable[[str], Made],
                key: Callable[[str], bytes], previous: Mapping[str, Written],
                jobs: int, local: bool = True) -> dict[str, Written]:
    """Write `make(path)` for every path, shared between `jobs` processes, this one included
    unless it has other work (not `local`): each writes the files it makes, the files of one
    folder all in the same process (creating files in one folder from two processes is slower
    than from one: the file system takes turns), see `_share_of`.

    A file the previous build wrote is linked from the live site instead (hard links: no bytes
    copied), when its key is the one recorded, without calling `make`, or else when its bytes
    are; and only while the live file is the one recorded (same inode, size and time).
    """
    written: dict[str, Written] = {}

    def record(placed: tuple[str, Written]) -> None:
        written[placed[0]] = placed[1]

    folders = set(staged.folders)  # those known to exist; each process adds its own
    stream_out(paths, partial(_place, staged, previous, make, key, folders), record, jobs,
               size=lambda _: _PLACED_SIZE, local=local, group=_share_of)
    staged.placed.update(written)
    return written


def keep_in_place(staged: Staged, previous: Mapping[str, Written],
                  keyed: Iterable[tuple[str, bytes]]) -> dict[str, Written]:
    """Of the files `keyed` (path and key), those whose key is the one the `previous` build
    recorded and that the folder holds as recorded: the live site's own file, nobody having
    written into it since (a spare folder brought up to date holds links to most of them).
    They are recorded as they are, placed without a call to the file system or another process
    each; the others are left to `write_files`."""
    kept: dict[str, Written] = {}
    for path, key in keyed:
        old = previous.get(path)
        if old is not None and key and old.key == key and staged.holds_intact(path, old):
            kept[path] = old
    staged.placed.update(kept)
    return kept


_PLACED_SIZE = 120
"""About the size of one file's record, pickled (see `stream_out`'s batches)."""


def _share_of(path: str) -> str | None:
    """What must be written by the same process as the file at `path`: a folder of a statement
    or of the search index, or every other page outside `statements/` (the list pages, whose
    items are rendered once by the process that renders them and kept: split between processes,
    a third of them were rendered twice); None for a file at the top of the site, which stands
    alone and is started first (the open data, the costliest files to make, are among them)."""
    section, _, rest = path.partition("/")
    if not rest:
        return None
    return path.rpartition("/")[0] if section in ("statements", "pagefind") else ""


def _place(staged: Staged, previous: Mapping[str, Written], make: Callable[[str], Made],
           key: Callable[[str], bytes], folders: set[str], path: str) -> tuple[str, Written]:
    """Put the file at `path` into the new site, and record it: the live file linked when its
    key, else its bytes, are unchanged; else the bytes made."""
    old = previous.get(path)
    file_key = key(path)
    if old is not None and file_key and old.key == file_key and live_intact(staged.live, path, old):
        return path, _keep(staged, folders, path, old._replace(key=file_key), make)
    data = make(path)
    if isinstance(data, bytes):
        digest = bytes_digest(data)
        if old is not None and old.digest == digest and live_intact(staged.live, path, old):
            return path, _keep(staged, folders, path, old._replace(key=file_key), make)
        return path, _write(_clear(staged, folders, path), data, file_key, digest)
    target = _clear(staged, folders, path)
    live = (os.path.join(staged.live, path)
            if old is not None and old.pieces and live_intact(staged.live, path, old) else None)
    placed = _write(target, data, file_key, previous=(live, old))
    if old is not None and old.digest == placed.digest and live_intact(staged.live, path, old):
        os.unlink(target)  # the same bytes as the live file: link that one, with today's piece keys
        return path, _keep(staged, folders, path, old._replace(key=file_key, pieces=placed.pieces), make,
                           cleared=True)
    return path, placed


def _keep(staged: Staged, folders: set[str], path: str, record: Written, make: Callable[[str], Made],
          cleared: bool = False) -> Written:
    """Link the live site's file at `path` into the new site, unless it is there already (a
    spare folder holds links to the live files), or write it anew where linking fails."""
    if not cleared and staged.holds(path, record):
        return record
    target = os.path.join(staged.folder, path) if cleared else _clear(staged, folders, path)
    try:
        os.link(os.path.join(staged.live, path), target)
    except OSError:  # gone since, or a file system without hard links: write it
        return _write(target, make(path), record.key)
    return record


def _clear(staged: Staged, folders: set[str], path: str) -> str:
    """Make way for a new file at `path` (its folder made, whatever was there removed); where
    it goes."""
    parent = os.path.dirname(path)
    if parent not in folders:
        _make_folder(staged.folder, parent)
        folders.add(parent)
    staged.clear(path)
    return os.path.join(staged.folder, path)


def bytes_digest(data: bytes) -> bytes:
    """The digest of a file's bytes, as `Written.digest` records it."""
    return hashlib.blake2b(data, digest_size=16).digest()


def live_intact(live: Path, path: str, old: Written) -> bool:
    """Whether the file at `path` of the live site (in the folder `live`) is still the one the
    manifest records as `old`."""
    try:
        info = os.lstat(os.path.join(live, path))
    except OSError:
        return False
    return (info.st_ino, info.st_size, info.st_mtime_ns) == (old.inode, old.size, old.mtime_ns)


def _make_folder(root: Path, folder: str) -> None:
    """Make `folder` below `root`, and the folders it is in, removing any file in the way (a
    spare site may hold a file where this one has a folder)."""
    try:
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            place = os.path.join(root, *parts[:depth])
            if os.path.lexists(place) and not os.path.isdir(place):
                with contextlib.suppress(FileNotFoundError):  # another process was first
                    os.unlink(place)
        os.makedirs(os.path.join(root, folder), exist_ok=True)


def _write(target: str, data: Made, key: bytes, digest: bytes | None = None,
           previous: tuple[str | None, Written | None] = (None, None)) -> Written:
    """Create `target` holding `data`, and record it (with the digest of its bytes, worked out
    on the way when not given). A keyed piece is copied from the `previous` file (a live file of
    the site, checked unchanged, and its record) when that holds a piece of the same key."""
    # A new file, always (O_EXCL): never one of the live site's, which a spare folder links to.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        if isinstance(data, bytes):
            write_all(fd, data)
            digest, table = digest or bytes_digest(data), b""
        else:
            digest, table = _write_pieces(fd, data, previous)
        info = os.fstat(fd)
    finally:
        os.close(fd)
    return Written(key, digest, info.st_size, info.st_mtime_ns, info.st_ino, table)


def _write_pieces(fd: int, pieces: Iterator[DigestedPiece],
                  previous: tuple[str | None, Written | None]) -> tuple[bytes, bytes]:
    """Write `pieces` to `fd`: the file's digest (see `PIECED`) and the table of its keyed
    pieces. A run of pieces kept from the live file is copied by the kernel in one call, and their
    recorded digests stand for their bytes, which never pass through this process."""
    hashing = hashlib.blake2b(digest_size=16, person=PIECED)
    rows: list[tuple[bytes, int, int, bytes]] = []
    offset = 0
    with contextlib.ExitStack() as stack:
        old = _old_pieces(stack, *previous)
        kept = _KeptRun(fd, old[0]) if old is not None else None
        for piece in pieces:
            if isinstance(piece, tuple):
                piece_key, make = piece
                place = old[1].get(piece_key) if old is not None else None
                if kept is not None and place is not None:
                    start, length, content = place
                    kept.add(start, length, make)
                    rows.append((piece_key, offset, length, content))
                    hashing.update(content)
                    offset += length
                    continue
                chunk = make()
                content = bytes_digest(chunk)
                rows.append((piece_key, offset, len(chunk), content))
            else:
                chunk = piece
                content = bytes_digest(chunk)
            if kept is not None:
                kept.flush()
            hashing.update(content)
            offset += len(chunk)
            write_all(fd, chunk)
        if kept is not None:
            kept.flush()
    return hashing.digest(), PieceTable.pack(rows)


PIECED = b"communique-piece"
"""Sets apart the digest of a file made in pieces (of its pieces' digests, in order, so that a
piece kept from the live file need not be read to be counted) from that of a file made whole."""


class _KeptRun:
    """Consecutive pieces kept from the live file, copied to the new one together."""

    __slots__ = ("length", "makers", "source", "start", "target")

    def __init__(self, target: int, source: int) -> None:
        self.target, self.source = target, source
        self.start, self.length = 0, 0
        self.makers: list[tuple[int, Callable[[], bytes]]] = []

    def add(self, start: int, length: int, make: Callable[[], bytes]) -> None:
        """One more kept piece: `length` bytes at `start` in the live file."""
        if self.makers and start != self.start + self.length:
            self.flush()
        if not self.makers:
            self.start = start
        self.length += length
        self.makers.append((length, make))

    def flush(self) -> None:
        """Copy the run; what the live file no longer holds (cut short since) is made again."""
        if not self.makers:
            return
        copied = _copy_range(self.source, self.target, self.start, self.length)
        for length, make in self.makers:
            if copied < length:
                write_all(self.target, make()[max(copied, 0):])
            copied -= length
        self.start, self.length, self.makers = 0, 0, []


def _copy_range(source: int, target: int, start: int, length: int) -> int:
    """Append up to `length` bytes of `source` from `start` to `target`: by the kernel where it
    can (Linux `copy_file_range`), else through a buffer. How many bytes were copied (fewer only
    if the source ends sooner or cannot be read)."""
    copied = 0
    kernel = getattr(os, "copy_file_range", None)
    while copied < length:
        if kernel is not None:
            try:
                done = kernel(source, target, length - copied, start + copied)
            except OSError as error:
                if error.errno in _FULL:
                    raise  # the build fails, and the live site stays as it was
                kernel = None  # not between these two files: through a buffer, which tells
                continue  # a source that cannot be read from a target that cannot be written
        else:
            try:
                chunk = os.pread(source, min(length - copied, 1 << 20), start + copied)
            except OSError:
                return copied  # the live file cannot be read: what is missing is made again
            write_all(target, chunk)
            done = len(chunk)
        if done == 0:
            return copied
        copied += done
    return copied


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""Errors meaning the new file cannot grow."""


def _old_pieces(stack: contextlib.ExitStack, live: str | None,
                old: Written | None) -> tuple[int, dict[bytes, tuple[int, int, bytes]]] | None:
    """The live file, open, and where its pieces lie, when it has any to give."""
    if live is None or old is None or not old.pieces or not old.size:
        return None
    try:
        fd = os.open(live, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    stack.callback(os.close, fd)
    if os.fstat(fd).st_size != old.size:
        return None
    return fd, PieceTable.unpack(old.pieces, old.size)


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
    if path.startswith("/") or ".." in parts or "." in parts:
        return "it leads outside the output folder"
    if "" in parts:
        return "it has an empty folder name"
    reserved = next((p for p in parts if p.split(".")[0].lower() in RESERVED_NAMES), None)
    if reserved:
        return f"{reserved!r} is a device name Windows reserves"
    return None


def swap_in(staging: Path, output: Path, background: bool = False, spare: Path | None = None) -> None:
    """Replace `output` with `staging`: one atomic exchange where the system has it. The
    previous site is then kept as the `spare`, if given, else deleted."""
    if not os.path.lexists(output):
        staging.rename(output)
        return
    if exchange_directories(staging, output):
        retired = staging  # it now holds the previous site
    else:
        retired = _new_name(output, RETIRED)
        output.rename(retired)
        try:
            staging.rename(output)
        except BaseException:
            retired.rename(output)
            raise
    if spare is not None and not os.path.lexists(spare):
        with contextlib.suppress(OSError):
            spare.parent.mkdir(parents=True, exist_ok=True)
            retired.rename(spare)
            return
    discard(retired, output, background)


def discard(folder: Path, output: Path, background: bool = False) -> None:
    """Delete a folder of ours; renamed first, so a half-deleted one is never taken for a site.

    In the `background`, a process of its own deletes it after this one has gone on (and the
    next build deletes what a killed one left, see `recover_interrupted`).
    """
    try:
        doomed = _new_name(output, DISCARDED)
        folder.rename(doomed)
    except OSError:  # the swap is done: failing to tidy up must not fail the build
        doomed = folder
    _delete(doomed, background)


def _delete(doomed: Path, background: bool) -> None:
    """Delete a folder of ours, now or by a process of its own."""
    if background:
        try:
            subprocess.Popen([sys.executable, "-c", REMOVER, str(doomed)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
            return
        except OSError:
            pass
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
