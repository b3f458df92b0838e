"""Whether a build would change nothing, told in a few milliseconds.

A build records the stamp of everything it read (see `inputs_stamp`) beside the output, in
`.communique-cache/build/<output>.stamp`, with what it reported. The next build with the same
options compares: when every file of the content folder, of the theme and of communique itself
has the same size, time and inode, the output folder is the one that build wrote, and no
embargo has lifted since, the site it would write is the one already there, and it stops.

This module imports almost nothing, so that such a build costs little more than starting
Python.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import __version__
from .options import Options
from .write import output_lock

CACHE_DIR = ".communique-cache"
"""Beside the output folder."""
FORMAT = b"communique-stamp-1"
"""Change when the stamp's layout changes."""
RACY_NS = 2_000_000_000
"""Files changed this close (ns) before a stamp is taken are stamped by their bytes too."""
PACKAGE = Path(__file__).resolve().parent
"""communique's own files: a change to them (an upgrade, an edit in a checkout) is a change."""

Signature = tuple[int, int, int]
"""A file's size, modification time and inode."""


def signature(path: str | os.PathLike[str]) -> Signature | None:
    """A file's signature; None when it cannot be looked at."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def file_signature(path: str | os.PathLike[str], racy_after: int) -> Signature | None:
    """A file's signature, if it can stand for its bytes next time: only for a file last changed
    before `racy_after`, a moment safely past (as git does), since a file changed again within
    the same tick of the file system's clock would otherwise keep its signature with new bytes;
    None too when the file cannot be looked at."""
    return kept_signature(signature(path), racy_after)


def kept_signature(found: Signature | None, racy_after: int) -> Signature | None:
    """`found`, if it can stand for the file's bytes next time (see `file_signature`)."""
    return found if found is not None and found[1] < racy_after else None


def default_theme_dir() -> Path:
    """The default theme: inside the installed package, or `templates/` of a source checkout."""
    packaged = PACKAGE / "templates"
    return packaged if packaged.is_dir() else PACKAGE.parents[1] / "templates"


def cache_root(output: Path) -> Path:
    """`.communique-cache/` beside `output`."""
    return output.absolute().parent / CACHE_DIR


def stamp_path(output: Path) -> Path:
    """Where the stamp of the site in `output` is kept."""
    return cache_root(output) / "build" / f"{output.absolute().name}.stamp"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a build reported, to report again when the next one has nothing to do."""

    published: int
    """Statements published."""
    files: int
    """Files of the site."""
    problems: tuple[object, ...]
    """Its warnings (`Problem`s)."""
    withheld: tuple[str, ...]
    """The lines `--verbose` prints about withheld statements."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a build read, and until when the same inputs give the same site."""

    inputs: bytes
    """Digest of the options and of the stamps of every input file."""
    racy_after: int
    """Files changed at or after this time (ns) were stamped by their bytes too (see
    `inputs_stamp`)."""
    extra_dirs: tuple[str, ...]
    """Folders outside the content folder that the build read (a theme elsewhere)."""
    valid_from: float | None
    """The same inputs gave this site from this instant (the last embargo that had lifted, a POSIX
    time; None: since ever) …"""
    valid_until: float | None
    """… until this one (the first embargo still to lift; None: for ever). `--now` outside the
    range publishes another set of statements."""
    outcome: Outcome
    """What the build reported."""


@dataclass(frozen=True, slots=True)
class Freshness:
    """How the inputs stand against the last build's stamp."""

    inputs: bytes
    """The inputs' stamp now."""
    racy_after: int
    """See `Stamp.racy_after`."""
    extra_dirs: tuple[str, ...]
    """The folders outside the content folder that it covers (see `Stamp.extra_dirs`)."""
    unchanged: Stamp | None
    """The last build's stamp when it still holds (the build has nothing to do)."""


def freshness(options: Options) -> Freshness:
    """Stamp the inputs and compare with the stamp of the site in the output folder."""
    racy_after = time.time_ns() - RACY_NS
    previous = None if options.clean else load_stamp(options.output)
    if previous is not None:
        # Both stamps in one walk: as the last build would take it, and as this one does.
        before, now = inputs_stamps(options, previous.extra_dirs, (previous.racy_after, racy_after))
        holds = (previous.inputs == before
                 and (previous.valid_from is None or previous.valid_from <= options.now.timestamp())
                 and (previous.valid_until is None or options.now.timestamp() < previous.valid_until))
        if holds:
            return Freshness(previous.inputs, previous.racy_after, previous.extra_dirs, previous)
        return Freshness(now, racy_after, previous.extra_dirs, None)
    return Freshness(inputs_stamp(options, (), racy_after), racy_after, (), None)


def up_to_date(options: Options, stamp: Stamp) -> Outcome:
    """What to report of a build that has nothing to do, unless another build is writing the
    output (then refused as any build would be)."""
    with output_lock(options.output):
        return stamp.outcome


def inputs_stamp(options: Options, extra_dirs: Iterable[str], racy_after: int) -> bytes:
    """Digest of the options and of every file's path, size, time and inode under the content
    folder, communique's package, the default theme and `extra_dirs` (folders of a theme
    outside the content folder): a change anywhere is a change.

    A file's time can be too coarse to tell two saves apart (one tick of the system clock, or
    two seconds on some file systems), so a file changed at or after `racy_after` is stamped
    by its bytes as well: an edit made while the stamp was taken is never missed.
    """
    return inputs_stamps(options, extra_dirs, (racy_after,))[0]


def inputs_stamps(options: Options, extra_dirs: Iterable[str],
                  racy_after: tuple[int, ...]) -> tuple[bytes, ...]:
    """`inputs_stamp` for each instant of `racy_after`, in one walk of the folders."""
    digests = [hashlib.blake2b(FORMAT + __version__.encode(), digest_size=20) for _ in racy_after]
    settings = (str(options.content.absolute()), str(options.output.absolute()), options.base_url,
                options.drafts, options.search)
    content = options.content.absolute()
    _update(digests, repr(settings).encode())
    for folder in (str(content), str(PACKAGE), str(default_theme_dir()), *extra_dirs):
        _update(digests, f"\0{folder}\0".encode())
        _stamp_tree(digests, folder, racy_after)
    return tuple(digest.digest() for digest in digests)


def _update(digests: list[hashlib.blake2b], data: bytes) -> None:
    for digest in digests:
        digest.update(data)


def _stamp_tree(digests: list[hashlib.blake2b], folder: str, racy_after: tuple[int, ...]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:
        _update(digests, f"!{error.errno}".encode())
        return
    for entry in entries:
        if entry.name == "__pycache__":
            continue
        try:
            info = entry.stat(follow_symlinks=True)
        except OSError:
            _update(digests, f"{entry.name}\0?\n".encode())
            continue
        _update(digests, f"{entry.name}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}\n".encode())
        if stat.S_ISDIR(info.st_mode):
            _stamp_tree(digests, entry.path, racy_after)
        elif info.st_mtime_ns >= min(racy_after):
            data = file_digest(entry.path)  # read once for every stamp that takes it
            for digest, instant in zip(digests, racy_after, strict=True):
                if info.st_mtime_ns >= instant:
                    digest.update(data)


def file_digest(path: str) -> bytes:
    """BLAKE2 digest of a file's bytes (of the error, when it cannot be read)."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "blake2b").digest()
    except OSError as error:
        return f"!{error.errno}".encode()


def output_identity(output: Path) -> tuple[int, int, int] | None:
    """The output folder's device, inode and time: another folder, or one changed by hand at
    its top level, is not the site the stamp describes."""
    try:
        info = os.stat(output)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_mtime_ns)


def load_stamp(output: Path) -> Stamp | None:
    """The stamp of the site at `output`, if there is one to trust."""
    found = read_checked(stamp_path(output), FORMAT)
    if not isinstance(found, tuple) or len(found) != 2:
        return None
    identity, stamp = found
    if identity != output_identity(output) or not isinstance(stamp, Stamp):
        return None
    return stamp


def save_stamp(output: Path, stamp: Stamp) -> None:
    """Record the stamp of the site just put at `output`."""
    write_checked(stamp_path(output), FORMAT, (output_identity(output), stamp))


def write_checked(path: Path, kind: bytes, value: object) -> None:
    """Pickle `value` into `path` behind a header (`kind` and communique's version) and a
    checksum; written beside and renamed, so a reader never sees half a file. The pickle goes
    straight to the file (a build's manifest would take about 10 MB more held whole), without
    the pickler's memo of every object written (15 MB more for the manifest of 35,000 files):
    the values are trees, each object in them once (a cycle would be refused, not written)."""
    def dump(out: Summing) -> None:
        pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.fast = True  # no memo
        pickler.dump(value)
    write_streamed(path, kind, dump)


def write_payload(path: Path, kind: bytes, payload: bytes) -> None:
    """`write_checked` of bytes made already (`read_payload` reads them back)."""
    write_streamed(path, kind, lambda out: out.write(payload))


def write_streamed(path: Path, kind: bytes, fill: Callable[[Summing], object]) -> None:
    """`write_payload` of the bytes `fill` writes to the file it is given, as it makes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}")
    header = _header(kind)
    try:
        with temporary.open("wb") as file:
            file.write(header + bytes(CHECKSUM_SIZE))
            out = Summing(file)
            fill(out)
            file.seek(len(header))
            file.write(out.digest())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class Summing:
    """Writes to a file and adds what it writes to a checksum."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.checksum = 0

    def write(self, data: bytes) -> int:
        self.checksum = zlib.crc32(data, self.checksum)
        return self.file.write(data)

    def digest(self) -> bytes:
        """The checksum of what was written."""
        return _checksum_bytes(self.checksum)


def read_checked(path: Path, kind: bytes) -> object | None:
    """What `write_checked` wrote; None when the file is missing, of another kind or version,
    or damaged."""
    payload = read_payload(path, kind)
    if payload is None:
        return None
    try:
        value: object = pickle.loads(payload)
    except Exception:  # the checksum matched but the contents do not load: not trusted either
        return None
    return value


def read_payload(path: Path, kind: bytes) -> bytes | None:
    """The bytes behind the header and checksum of a file `write_checked` or `write_payload`
    wrote; None when the file is missing, of another kind or version, or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = _header(kind)
    checksum, payload = data[len(header):len(header) + CHECKSUM_SIZE], data[len(header) + CHECKSUM_SIZE:]
    if not data.startswith(header) or _checksum_bytes(zlib.crc32(payload)) != checksum:
        return None
    return payload


@dataclass(frozen=True, slots=True)
class OpenPayload:
    """A file `write_payload` wrote, held open to be read in place (see `open_payload`)."""

    fd: int
    """The open file."""
    start: int
    """Where the payload begins in it."""
    end: int
    """Where it ends: the file's size when it was opened."""
    checksum: bytes
    """What the header records the payload's checksum to be."""

    def intact(self) -> bool:
        """Whether the payload's bytes can be read and have the recorded checksum. They are
        read and hashed in large chunks, which let other threads run meanwhile."""
        checksum = 0
        offset = self.start
        while offset < self.end:
            try:
                chunk = os.pread(self.fd, min(CHUNK, self.end - offset), offset)
            except OSError:
                return False
            if not chunk:
                return False
            checksum = zlib.crc32(chunk, checksum)
            offset += len(chunk)
        return _checksum_bytes(checksum) == self.checksum


CHUNK = 1 << 22
"""How much of a file is read at a time to check it."""


def open_payload(path: Path, kind: bytes) -> OpenPayload | None:
    """The file at `path`, opened to read what `write_payload` wrote there in place, without
    reading it whole (the caller checks it with `OpenPayload.intact` before trusting it, and
    closes it); None when the file is missing or of another kind or version. The file is never
    written again: a new one replaces it, and the open one keeps its bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    header = _header(kind)
    try:
        head = os.pread(fd, len(header) + CHECKSUM_SIZE, 0)
        size = os.fstat(fd).st_size
    except OSError:
        os.close(fd)
        return None
    if len(head) != len(header) + CHECKSUM_SIZE or not head.startswith(header):
        os.close(fd)
        return None
    return OpenPayload(fd, len(head), size, head[len(header):])


CHECKSUM_SIZE = 4
"""Bytes of the checksum after a cache file's header: a CRC-32 of the payload, which finds a file
cut short or damaged (what it is for: nobody forges a cache file beside the output) five times
faster than a BLAKE2 digest, and a build checks the whole parsed store, about 100 MB at 10,000
statements."""


def checksum_of(payload: bytes) -> bytes:
    """The checksum `write_payload` records for `payload`."""
    return _checksum_bytes(zlib.crc32(payload))


def payload_start(kind: bytes) -> int:
    """Where the payload begins in a file of `kind` that `write_payload` wrote."""
    return len(_header(kind)) + CHECKSUM_SIZE


def _checksum_bytes(checksum: int) -> bytes:
    return checksum.to_bytes(CHECKSUM_SIZE, "big")


def _header(kind: bytes) -> bytes:
    return kind + b" " + __version__.encode() + b" crc32\n"
