"""The build cache on disk, `.communique-cache/` beside the output folder.

`build/<output>.manifest` records every file of the live site: the digest of its bytes, the
digest of its key (what its bytes follow from, see `output.File`) and the inode, size and time
the file had when written. The next build links a file whose key (or, once rendered, whose
bytes) are unchanged from the live site instead of writing it. `build/<output>.spare/` is the
site before the live one, which the next build brings up to date (see `write`).
`build/<output>.parsed/` holds the statement files as parsed (see `ParsedStore`), and
`build/<output>.checked` the site as last checked whole (see `CheckedStore`).

Nothing here is trusted blindly: a manifest is used only when its checksum is right, it was
written by this version of communique for this very output folder (same inode), and each
file it names still has the recorded inode, size and time. Anything else is a cache miss, and
`build --clean` ignores the cache altogether.
"""

from __future__ import annotations

import contextlib
import copyreg
import datetime as dt
import hashlib
import io
import operator
import os
import pickle
import shutil
import tempfile
import weakref
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

import jinja2

from . import __version__
from .crosscheck import Withheld
from .dates import PartialDate
from .discover import SourceFile, digest_of_file
from .fieldspec import Probe
from .incremental import MEMO_FROM, Keyed
from .indexes import EntityGroup, HostGroup, MeetingGroup, SiteIndex, TopicGroup, YearGroup
from .models import (
    Attachment,
    Body,
    Correction,
    Entity,
    Listing,
    Meeting,
    Person,
    Reader,
    Site,
    Statement,
    Withdrawal,
)
from .problems import Problem
from .stamp import (
    PACKAGE,
    OpenPayload,
    Signature,
    Summing,
    cache_root,
    checksum_of,
    kept_signature,
    open_payload,
    output_identity,
    payload_start,
    read_checked,
    read_payload,
    signature,
    write_checked,
    write_payload,
    write_streamed,
)
from .validate import ParsedFile, Place
from .write import Written

FORMAT = b"communique-build-6"
"""Change when the manifest's layout or the meaning of its keys changes."""


def manifest_path(output: Path) -> Path:
    """Where the manifest of the site in `output` is kept."""
    return cache_root(output) / "build" / f"{output.absolute().name}.manifest"


def spare_path(output: Path) -> Path:
    """Where the site before the one in `output` is kept (see `write.staged_site`)."""
    return cache_root(output) / "build" / f"{output.absolute().name}.spare"


def compiled_templates(output: Path, fresh: bool = False) -> Path | None:
    """Where the templates that Jinja compiles are kept between builds (see
    `theme.CompiledTemplates`): `.communique-cache/templates/<digest>/`, under a digest of
    communique's own files and Jinja's version, emptied first if `fresh` (`build --clean`).
    The folders of other digests are removed: they belong to a communique that is no longer the
    one installed. None if it cannot be made."""
    root = cache_root(output) / "templates"
    name = hashlib.blake2b(code_digest() + jinja2.__version__.encode(), digest_size=12).hexdigest()
    try:
        if fresh:
            shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir(parents=True, exist_ok=True)
        for other in root.iterdir():
            if other.name != name:
                shutil.rmtree(other, ignore_errors=True)
    except OSError:
        return None
    return root / name


def mirror_path(output: Path) -> Path:
    """Where the statement pages of the site in `output` are linked for Pagefind, year by year
    (see `search.mirror_site`)."""
    return cache_root(output) / "build" / f"{output.absolute().name}.pages"


@dataclass(slots=True)
class Manifest:
    """The files of the live site (see the module's docstring)."""

    files: dict[str, Written] = field(default_factory=dict)
    """Output path to what was written there."""
    global_key: bytes = b""
    """What every file depended on besides its own key (see `global_key`)."""
    statements: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    """The fingerprint and the shape of every statement the site published, by id (see
    `models.Statement`)."""
    layout: bytes = b""
    """The digest of the paths of the files rendered and copied (see `layout_digest`)."""

    def save(self, output: Path) -> None:
        """Record the site just put in place at `output`. Its files are kept by columns (the
        paths, then each field of `Written` in a list of its own), which pickle in half the time
        that a tuple per file takes, and load as fast."""
        columns = ([list(column) for column in zip(*self.files.values(), strict=True)]
                   or [[] for _ in Written._fields])
        write_checked(manifest_path(output), FORMAT, (output_identity(output), [list(self.files), *columns],
                                                      self.global_key, self.statements, self.layout))

    @classmethod
    def load(cls, output: Path) -> Manifest:
        """The manifest of the site at `output`; empty when there is none to trust."""
        found = read_checked(manifest_path(output), FORMAT)
        if not isinstance(found, tuple) or len(found) != 5:
            return cls()
        identity, columns, key, statements, layout = found
        if (identity != output_identity(output) or not isinstance(columns, list)
                or len(columns) != 1 + len(Written._fields) or not isinstance(key, bytes)
                or not isinstance(statements, dict) or not isinstance(layout, bytes)):
            return cls()
        paths, *fields = columns
        make = tuple.__new__  # as `Written._make`, less its check of the length: the file is FORMAT's
        try:
            rows = [make(Written, values) for values in zip(*fields, strict=True)]
            files = dict(zip(paths, rows, strict=True))
        except (TypeError, ValueError):  # columns of different lengths, or not columns
            return cls()
        return cls(files, key, statements, layout)


def layout_digest(paths: Iterable[str]) -> bytes:
    """The digest of a site's rendered files' paths: two builds with the same digest laid out the
    same files."""
    return hashlib.blake2b("\0".join(sorted(paths)).encode(), digest_size=16).digest()


def global_key(site: Site, theme: Iterable[Path], drafts: bool) -> bytes:
    """What every file depends on besides its own key: communique itself (its version and
    the files of the package, so that an upgrade in place is noticed), the templates and
    catalogs, the site's settings and the build's flags."""
    digest = hashlib.blake2b(folders_digest((PACKAGE, *theme)), digest_size=16)
    digest.update(repr((site, drafts)).encode())
    return digest.digest()


def code_digest() -> bytes:
    """Stamp of communique's own files (a parser changed in place is a change)."""
    return folders_digest((PACKAGE,))


def folders_digest(folders: Iterable[Path]) -> bytes:
    """communique's version and the path, size and time of every file below `folders`."""
    digest = hashlib.blake2b(FORMAT + __version__.encode(), digest_size=16)
    for folder in folders:
        for path in sorted(_files_below(folder)):
            info = os.stat(path)
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.digest()


def _files_below(folder: Path) -> Iterable[str]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            yield os.path.join(root, name)


class KeyDigests:
    """Digests of file keys that are the same in every process and every run.

    A key is a frozen value (see `incremental.freeze`): tuples of bytes, strings, numbers and
    small frozen models. Collections shared between pages (a meeting's listings) are digested
    once per build, by identity: `Keyed` values, listings and tuples of `MEMO_FROM` items or
    more; a smaller tuple is digested where it comes.

    A file's key digest is followed by the statements it depends on through their text (see
    `file_key`): the `tracked` fingerprints its key holds, the only way a statement's body
    reaches a key.
    """

    def __init__(self, prefix: bytes, tracked: Iterable[bytes] = ()) -> None:
        self.prefix = prefix
        self.memo: dict[int, tuple[object, bytes, tuple[bytes, ...]]] = {}
        self.tracked = frozenset(tracked)
        self._found: list[bytes] = []

    def of(self, key: Hashable) -> bytes:
        """The digest of `key`, under the build's global key."""
        self._found = []
        digest = hashlib.blake2b(self.prefix, digest_size=16)
        self._feed(digest, key)
        return digest.digest()

    def file_key(self, key: Hashable) -> bytes:
        """The digest of a file's `key` (`DIGEST_SIZE` bytes), then the first `DIGEST_SIZE`
        bytes of each tracked fingerprint it holds, in order (see `holds_any`)."""
        digest = self.of(key)
        return digest + b"".join(sorted({found[:DIGEST_SIZE] for found in self._found}))

    def _digest(self, value: object) -> bytes:
        known = self.memo.get(id(value))
        if known is not None:
            self._found += known[2]
            return known[1]
        outer, self._found = self._found, []
        digest = hashlib.blake2b(digest_size=16)
        self._feed(digest, value)
        result, found = digest.digest(), tuple(self._found)
        self._found = outer
        outer += found
        self.memo[id(value)] = (value, result, found)  # holding `value` keeps its id unique
        return result

    def _feed(self, digest: Any, value: object) -> None:
        update = digest.update
        kind = type(value)
        if kind is tuple:
            update(b"(%d:" % len(value))  # type: ignore[arg-type]
            tracked = self.tracked
            for item in value:  # type: ignore[attr-defined]
                kind = type(item)
                if kind is str:  # the common kinds inline: the keys of a site hold 10^5 items
                    data = item.encode()
                    update(b"s%d:" % len(data))
                    update(data)
                elif kind is bytes:
                    update(b"y%d:" % len(item))
                    update(item)
                    if item in tracked:
                        self._found.append(item)
                elif kind is Keyed or kind is Listing or (kind is tuple and len(item) >= MEMO_FROM):
                    update(b"d" + self._digest(item))
                else:
                    self._feed(digest, item)
        elif kind is bytes:
            update(b"y%d:" % len(value))  # type: ignore[arg-type]
            update(value)
            if value in self.tracked:
                self._found.append(value)
        elif kind is str:
            data = value.encode()  # type: ignore[attr-defined]
            update(b"s%d:" % len(data))
            update(data)
        elif kind is Keyed:
            update(b"k" + self._digest(value.value))  # type: ignore[attr-defined]
        else:  # numbers, None, dates and frozen models (Listing, Entity): their repr is their value
            data = repr(value).encode()
            update(b"r%d:" % len(data))
            update(data)


DIGEST_SIZE = 16
"""Bytes of a key's digest, and of each fingerprint a file key names after it."""


def holds_any(file_key: bytes, fingerprints: frozenset[bytes]) -> bool:
    """Whether a file key (see `KeyDigests.file_key`) names one of `fingerprints` (each cut to
    `DIGEST_SIZE` bytes)."""
    if len(fingerprints) > FEW_EDITED:
        return any(file_key[at:at + DIGEST_SIZE] in fingerprints
                   for at in range(DIGEST_SIZE, len(file_key), DIGEST_SIZE))
    for fingerprint in fingerprints:  # a search of the bytes, where it stands at a fingerprint's place
        at = file_key.find(fingerprint, DIGEST_SIZE)
        while at != -1:
            if at % DIGEST_SIZE == 0:
                return True
            at = file_key.find(fingerprint, at + 1)
    return False


FEW_EDITED = 8
"""Up to this many fingerprints, `holds_any` searches a key for each in turn (a list page's key
names dozens of statements); beyond, it looks each of the key's up among them."""


ParsedEntry = tuple[bytes, ParsedFile, list[Problem], Signature | None]
"""A statement file's digest, what parsing it gave, the problems found, and the file's signature
when it can stand for the digest (see `current_digest`)."""


FileDigest = tuple[bytes, Signature | None]
"""A statement file's digest, and its signature when that can stand for the digest."""


def current_digest(path: str, known: FileDigest | None, racy_after: int) -> FileDigest:
    """The digest of a file's bytes (see `source_digest`), and its signature if that can stand
    for them next time (see `stamp.file_signature`). The file is read only when its signature is
    not the one `known` with its digest."""
    found = signature(path)
    if found is not None and known is not None and known[1] == found:
        return known[0], found
    return digest_of_file(path), kept_signature(found, racy_after)


class ParsedStore:
    """Parsed statement files of earlier builds (and dev server sessions):
    `build/<output>.parsed/<n>.pickle`, in `SHARDS` shards by file path, so that an edit
    rewrites one shard.

    An entry is used while the file's bytes have the recorded digest and the shard's context
    is the build's: communique's own files, the content folder, the path of statement URLs, the
    entity files and the list of statement files (which decides where body links lead).
    """

    SHARDS = 32
    KIND = b"communique-parsed-5"

    def __init__(self, output: Path, context: bytes, *, read: bool = True, write: bool = True,
                 spill: Spill | None = None) -> None:
        self.folder = cache_root(output) / "build" / f"{output.absolute().name}.parsed"
        self.context = context
        self.read = read
        """Use what earlier builds stored (False for `--clean`)."""
        self.write = write
        """Store what this build parsed (False for `check`, which writes nothing)."""
        self.spill = spill
        """Where the bodies of what it loads are kept (a build's); None: in memory."""
        self.places: dict[str, StoredBody] = {}
        """Where the body of each file's entry lies in the store's files, as far as known: for
        the shards loaded in place, and those this build packed (see `unpack`)."""
        self.shard_files: dict[int, tuple[bytes, int]] = {}
        """The checksum and size of each shard file those places lie in (see `CheckedStore.save`)."""

    def shard_of(self, relative: str) -> int:
        """The shard that holds a file's entry."""
        return int.from_bytes(hashlib.blake2b(relative.encode(), digest_size=4).digest(), "big") % self.SHARDS

    def load(self) -> dict[str, ParsedEntry]:
        """Every stored entry of this context, by relative path.

        With a spill on disk, each shard's bodies stay in its file, which the spill holds open
        (see `Spill.keep`), and only the pickle is read; the shards' checksums are checked
        by a thread meanwhile (a damaged shard counts as missing). Otherwise each shard is read
        whole, checked, and its bodies moved to the spill or kept in memory."""
        entries: dict[str, ParsedEntry] = {}
        if not self.read:
            return entries
        if self.spill is None or not self.spill.on_disk:
            for shard in range(self.SHARDS):
                payload = read_payload(self._path(shard), self.KIND)
                found = _trusted(self.unpack, payload) if payload is not None else None
                if found is not None:
                    entries.update(found)
            return entries
        # Each file is closed when its `_OpenFile` is, or is collected: kept by the spill if used.
        shards = ((n, open_payload(self._path(n), self.KIND)) for n in range(self.SHARDS))
        opened = [(n, held, _OpenFile(held.fd)) for n, held in shards if held is not None]
        with ThreadPoolExecutor(max_workers=1) as checking:
            intact = checking.map(OpenPayload.intact, [held for _, held, _ in opened])
            unpacked = [_trusted(partial(self._unpack_in_place, held), file.read) for _, held, file in opened]
            for ok, shard_entries, (n, held, file) in zip(intact, unpacked, opened, strict=True):
                if ok and shard_entries is not None:
                    entries.update(shard_entries)
                    self.spill.keep(file)
                    self._record(n, held.checksum, held.end, shard_entries, 0)
                else:  # of another context, or damaged: closed now, not at the end of the build
                    file.close()
        return entries

    def _record(self, shard: int, checksum: bytes, size: int, entries: ShardEntries, offset: int) -> None:
        """Note where the bodies of a shard's `entries` lie in its file, of that `checksum` and
        `size`: each body's place, moved by `offset` (none for a body held in memory)."""
        self.shard_files[shard] = (checksum, size)
        for relative, entry in entries.items():
            place = entry[1].body.place
            if place is not None:
                self.places[relative] = (shard, place[0] + offset, place[1])
            else:
                self.places.pop(relative, None)

    def pack(self, shard: int, entries: dict[str, ParsedEntry]) -> bytes:
        """One shard's entries, packed (and stored when writing).

        The packed bytes are the context (after its length), the length of a pickle, the
        pickle, then the bodies' bytes one after the other, which the pickle points into: the
        process that unpacks them moves the bodies to its spill file without ever holding
        them as text.
        """
        bodies = io.BytesIO()
        pickled = io.BytesIO()
        _body_pickler(pickled, bodies).dump(entries)
        payload = _framed(self.context, pickled.getbuffer(), bodies.getbuffer())
        if self.write:
            with contextlib.suppress(OSError):  # a full disk: the next build parses the shard again
                write_payload(self._path(shard), self.KIND, payload)
        return payload

    def unpack(self, payload: bytes, placed: bool = False) -> dict[str, ParsedEntry] | None:
        """What `pack` packed (None when it is another context's), each body in the spill file
        if there is one, else in memory. When it is `placed` (packed by this build for its shard,
        and written there when writing), the places of its bodies in the shard's file are noted
        (see `places`): whether the file holds them is checked when they are used."""
        framed = _unframed(payload, self.context)
        if framed is None:
            return None
        pickled, data, data_start = framed
        at = self.spill.append(data) if self.spill is not None else None
        bodies = (_Bodies(len(data), read=self.spill.read, at=at) if self.spill is not None and at is not None
                  else _Bodies(len(data), data=data))
        found = _BodyUnpickler(io.BytesIO(pickled), _placed_body, partial(_body_from, bodies)).load()
        if not isinstance(found, dict):
            return None
        if placed and found and at is not None:
            head = payload_start(self.KIND)
            self._record(self.shard_of(next(iter(found))), checksum_of(payload), head + len(payload), found,
                         head + data_start - at)
        elif placed:  # held in memory: the places noted before are those of other bodies
            for relative in found:
                self.places.pop(relative, None)
        return found

    def _unpack_in_place(self, shard: OpenPayload, read: Reader) -> dict[str, ParsedEntry] | None:
        """`unpack` of a shard's open file, its bodies left there to be read with `read`."""
        head = os.pread(shard.fd, 2 + len(self.context) + 8, shard.start)
        if head[:-8] != len(self.context).to_bytes(2, "big") + self.context:
            return None
        length = int.from_bytes(head[-8:], "big")
        at = shard.start + len(head)
        if length > shard.end - at:
            return None
        pickled = os.pread(shard.fd, length, at)
        if len(pickled) != length:
            return None
        bodies = _Bodies(shard.end - at - length, read=read, at=at + length)
        found = _BodyUnpickler(io.BytesIO(pickled), _placed_body, partial(_body_from, bodies)).load()
        return found if isinstance(found, dict) else None

    def _path(self, shard: int) -> Path:
        return self.folder / f"{shard:02d}.pickle"


ShardEntries = dict[str, ParsedEntry]
"""A shard's entries by relative path."""


def _framed(context: bytes, head: bytes | memoryview, rest: bytes | memoryview) -> bytes:
    """The payload of a cache file that holds `head` and `rest` for a build of that `context`:
    the context after its length, the head after its length, then the rest."""
    return b"".join((len(context).to_bytes(2, "big"), context, len(head).to_bytes(8, "big"), head, rest))


def _unframed(payload: bytes, context: bytes) -> tuple[memoryview, memoryview, int] | None:
    """The head and the rest `_framed` put in `payload`, and where the rest begins there; None
    when it is another context's."""
    view = memoryview(payload)
    size = int.from_bytes(view[:2], "big")
    if bytes(view[2:2 + size]) != context:
        return None
    start = 2 + size + 8
    end = start + int.from_bytes(view[start - 8:start], "big")
    return view[start:end], view[end:], end


def _trusted(unpack: Callable[[Any], ShardEntries | None], packed: Any) -> ShardEntries | None:
    """What `unpack` gives, or None when it fails."""
    try:
        return unpack(packed)
    except Exception:  # the checksum matched (or is being checked) but the contents do not load
        return None


BodyPlace = tuple[int, tuple[int, int, int]]
"""Where a packed body lies among a shard's bodies: its offset and the sizes of its parts."""

StoredBody = tuple[int, int, tuple[int, int, int]]
"""Where a body lies in the parsed store: its shard, its offset in the shard's file and the sizes
of its parts."""


def _body_pickler(file: io.BytesIO, bodies: io.BytesIO) -> pickle.Pickler:
    """A pickler of parsed files that writes each body to `bodies` instead (see
    `ParsedStore.pack`): in the pickle, a call of `_placed_body` with where it lies, which
    `_BodyUnpickler` answers.

    A `persistent_id` would do the same, but the pickler asks it about every object, strings
    included: 1.6 million calls for 10,000 statements, a third of the pickling time. The
    pickler's `dispatch_table` is asked only about objects of other types, and, unlike a
    `reducer_override` method, does not tie the pickler in a cycle that keeps its memo alive."""
    def reduce_body(body: Body) -> tuple[Any, BodyPlace]:
        parts = [part.encode() for part in (body.html, body.text, body.markdown)]
        at = bodies.tell()
        bodies.write(b"".join(parts))
        return _placed_body, (at, (len(parts[0]), len(parts[1]), len(parts[2])))

    pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, **_STORED_REDUCERS, Body: reduce_body}
    return pickler


def _by_fields(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """Pickles an instance of the dataclass `cls` as a call of the class with its fields, in
    order: unpickling then runs the class's own `__init__`, where the dataclasses' default
    pickling looks the fields up again for every instance (a third of loading the store)."""
    # `attrgetter` of one name gives the value, not a tuple of it.
    assert len(fields(cls)) > 1 and all(f.init for f in fields(cls)), f"{cls.__name__} is not pickled so"
    values = operator.attrgetter(*(f.name for f in fields(cls)))
    return lambda instance: (cls, values(instance))


_STORED_REDUCERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    **{cls: _by_fields(cls) for cls in (ParsedFile, SourceFile, PartialDate, Entity, Meeting, Person,
                                         Correction, Withdrawal, Attachment, Problem)},
    Place: lambda place: (tuple.__new__, (Place, tuple(place))),
}
"""How the store pickles what a parsed file holds, other than plain values and bodies."""


def _placed_body(start: int, sizes: tuple[int, int, int]) -> Body:
    """Stands, in a pickle, for a body among a shard's bodies; only `_BodyUnpickler` reads it."""
    raise pickle.UnpicklingError("a body outside a shard of the parsed store")


@dataclass(frozen=True, slots=True)
class _Bodies:
    """A shard's bodies: in memory (`data`), or kept in a file `read` reads, from `at` there."""

    length: int
    """Their size in bytes."""
    data: memoryview | None = None
    read: Reader | None = None
    at: int = 0


class _BodyUnpickler(pickle.Unpickler):
    """Unpickles a pickle where calls of `stand_in` stand for bodies (see `_body_pickler`): each
    body is made by calling `make` with the same arguments instead."""

    def __init__(self, file: io.BytesIO, stand_in: Callable[..., Body], make: partial[Body]) -> None:
        super().__init__(file)
        self.stand_in = stand_in.__name__
        # Not a method of this unpickler: its memo would keep it, and so what it reads, in a cycle.
        self.make = make

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, self.stand_in):
            return self.make
        return super().find_class(module, name)


def _body_from(bodies: _Bodies, start: int, sizes: tuple[int, int, int]) -> Body:
    """The body `_placed_body` stands for: kept where the shard's bodies are, or read from them
    into memory."""
    if start < 0 or min(sizes) < 0 or start + sum(sizes) > bodies.length:
        raise pickle.UnpicklingError("a body lies outside the shard's bodies")
    if bodies.read is not None:
        return Body.kept(bodies.read, bodies.at + start, sizes)
    assert bodies.data is not None
    html_end = start + sizes[0]
    text_end = html_end + sizes[1]
    return Body(str(bodies.data[start:html_end], "utf-8"), str(bodies.data[html_end:text_end], "utf-8"),
                str(bodies.data[text_end:text_end + sizes[2]], "utf-8"))


@dataclass(frozen=True, slots=True)
class CheckedFiles:
    """What a build's check of the whole site read (see `CheckedStore`): enough to tell whether
    the next build may take what it found."""

    files: dict[str, FileDigest]
    """Each statement file checked, by relative path, with its digest."""
    probes: dict[str, tuple[Probe, ...]]
    """The other files that reading a statement file looked at, and what it found there."""
    published: dict[str, tuple[str | None, tuple[str, ...]]]
    """Each published statement's original and former ids (aliases), by id."""
    translations: dict[str, tuple[str, ...]]
    """The ids of each published original's published translations."""
    withheld: frozenset[str]
    """The ids of the statements kept back."""
    lifted: dt.datetime | None
    """The latest embargo of a published statement: what was found holds from that instant."""
    lifts: dt.datetime | None
    """The first moment a withheld statement's embargo lifts: what was found holds until then."""


@dataclass(frozen=True, slots=True)
class Checked:
    """What a build's check of the whole site found (see `CheckedStore`)."""

    published: tuple[Statement, ...]
    """The published statements, in file order."""
    withheld: tuple[Withheld, ...]
    """What was kept back."""
    index: SiteIndex
    """The published statements grouped."""
    read_problems: dict[str, list[Problem]]
    """The problems found in reading each file, by relative path (none when a file had none)."""
    file_problems: dict[str, list[Problem]]
    """The problems found in each statement's fields, by id (none when it had none); none was
    found between statements."""


class CheckedStore:
    """The last whole check of the site, `build/<output>.checked`, so that a build after an edit
    of a few statements takes the checked site from there and puts the edited statements in,
    instead of checking all of them again (see `build.recheck`).

    It holds what the check read (`CheckedFiles`), then what it found (`Checked`): the
    statements, their groups and the problems, not their bodies, which stay where the parsed
    store keeps them: each body is its place in a shard of the store, and the shard files it
    points into are recorded by checksum and size. It is used only when its context (as the
    store's, with every input of every statement) is the build's, every file it points into is
    the one recorded and intact, and its own checksum is right. What it found is unpickled only
    once the build knows it can take it: a build that cannot loses little time.
    """

    KIND = b"communique-checked-3"

    def __init__(self, output: Path, context: bytes, store: ParsedStore) -> None:
        self.path = cache_root(output) / "build" / f"{output.absolute().name}.checked"
        self.context = context
        self.store = store

    def save(self, read: CheckedFiles, found: Checked, relative_of: dict[str, str]) -> bool:
        """Store what a check `read` and `found`, whose statements' files are `relative_of` their
        ids: only when each body lies in a shard file the store wrote or read whole, as it is on
        the disk now."""
        places: dict[int, StoredBody] = {}
        for statement in found.published:
            place = self.store.places.get(relative_of[statement.id])
            if place is None:
                return False
            places[id(statement.body)] = place
        shards = {shard: self.store.shard_files[shard] for shard, _, _ in places.values()}
        for shard, recorded in shards.items():
            held = open_payload(self.store._path(shard), self.store.KIND)
            if held is None:
                return False
            os.close(held.fd)
            if (held.checksum, held.end) != recorded:
                return False

        def reduce_body(body: Body) -> tuple[Any, StoredBody]:
            return _stored_body, places[id(body)]

        def fill(out: Summing) -> None:  # the pickle straight to the file, not held whole (10 MB)
            out.write(_framed(self.context, pickle.dumps((shards, read), protocol=pickle.HIGHEST_PROTOCOL),
                              b""))
            pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = {**copyreg.dispatch_table, **_CHECKED_REDUCERS, Body: reduce_body}
            pickler.dump(found)

        try:
            write_streamed(self.path, self.KIND, fill)
        except (OSError, KeyError, pickle.PicklingError):  # a full disk; a body that lies in no shard
            return False
        return True

    def load(self) -> tuple[CheckedFiles, Callable[[Spill], Checked | None]] | None:
        """What the stored check read, in this context, and what gives what it found (see
        `_found`); None when there is none, or a shard file it points into is not the one it
        recorded."""
        payload = read_payload(self.path, self.KIND)
        framed = _unframed(payload, self.context) if payload is not None else None
        if framed is None:
            return None
        head, pickled, _ = framed
        # Each shard file is closed when its `_OpenFile` is collected, unless the spill keeps it.
        opened: dict[int, tuple[OpenPayload, _OpenFile]] = {}
        try:
            shards, read = pickle.loads(head)
            for shard, recorded in shards.items():
                held = open_payload(self.store._path(shard), self.store.KIND)
                if held is None:
                    return None
                opened[shard] = (held, _OpenFile(held.fd))
                if (held.checksum, held.end) != recorded:
                    return None
        except Exception:  # the checksum matched but the contents do not load: not trusted either
            return None
        if not isinstance(read, CheckedFiles):
            return None
        return read, partial(_found, opened, pickled)


def _found(opened: dict[int, tuple[OpenPayload, _OpenFile]], pickled: memoryview,
           spill: Spill) -> Checked | None:
    """What a stored check found, unpickled from `pickled`, its bodies read from the `opened`
    shards, which the `spill` then keeps open; None when a shard is damaged."""
    try:
        with ThreadPoolExecutor(max_workers=1) as checking:
            intact = checking.map(OpenPayload.intact, [held for held, _ in opened.values()])
            found = _BodyUnpickler(io.BytesIO(pickled), _stored_body, partial(_kept_body, opened)).load()
            if not all(intact) or not isinstance(found, Checked):
                return None
    except Exception:  # the checksum matched but the contents do not load: not trusted either
        return None
    for _, file in opened.values():
        spill.keep(file)
    return found


def _stored_body(shard: int, at: int, sizes: tuple[int, int, int]) -> Body:
    """Stands, in a `CheckedStore`'s pickle, for a body in a shard of the parsed store; only
    `_BodyUnpickler` reads it."""
    raise pickle.UnpicklingError("a body outside the checked site")


def _kept_body(opened: dict[int, tuple[OpenPayload, _OpenFile]], shard: int, at: int,
               sizes: tuple[int, int, int]) -> Body:
    found, file = opened[shard]
    if at < found.start or min(sizes) < 0 or at + sum(sizes) > found.end:
        raise pickle.UnpicklingError("a body lies outside its shard")
    return Body.kept(file.read, at, sizes)


def _listing(listing: Listing) -> tuple[Any, tuple[Any, ...]]:
    return Listing, (listing.id, listing.title, listing.date, listing.type_label, listing.lang,
                     listing.direction, listing.meeting_name, listing.location, listing.summary,
                     listing.withdrawn)


_CHECKED_REDUCERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    **_STORED_REDUCERS,
    **{cls: _by_fields(cls) for cls in (Statement, Withheld, SiteIndex, MeetingGroup, HostGroup, YearGroup,
                                         EntityGroup, TopicGroup)},
    Listing: _listing,
}
"""How a `CheckedStore` pickles the checked site."""


class Spill:
    """Statement bodies kept in an unnamed file in the cache folder rather than in memory.

    Bodies are most of what a build holds (about 95 MB of 120 at 10,000 statements), and only
    the pages showing them need them: the bodies of a shard parsed by this build are written here
    as it is unpacked, those of a shard taken from the parsed store stay in the store's file,
    which the spill holds open (see `keep`), and each is read back where it is shown, by
    this process or by a forked child (which shares the open files). The spill's own file has no
    name (or loses it at once), so it goes when the build closes it or its last process ends,
    however that ends. Where it cannot be made or written (a full disk, a system without
    positioned reads), bodies stay in memory.
    """

    def __init__(self, folder: Path) -> None:
        self._file: _OpenFile | None = None
        if hasattr(os, "pread"):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=folder) as file:
                    self._file = _OpenFile(os.dup(file.fileno()))
            except OSError:
                self._file = None
        self._end = 0
        self._writable = self._file is not None
        self._kept: list[_OpenFile] = [self._file] if self._file is not None else []
        """Every file bodies are read from: its own, and the shards it keeps open."""

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def on_disk(self) -> bool:
        """Whether bodies are kept in files (else in memory)."""
        return self._file is not None and self._file.fd >= 0

    def close(self) -> None:
        """Close the file, and those it keeps open: a body kept in one can no longer be read
        (see `read`)."""
        self._writable = False
        for kept in self._kept:
            kept.close()

    def keep(self, file: _OpenFile) -> None:
        """Keep `file` (a shard of the parsed store, never written again) open until the spill is
        closed: the bodies in it are read from there."""
        self._kept.append(file)

    def append(self, data: memoryview) -> int | None:
        """Add `data` at the end of the file; where it begins, or None if it could not be written
        (then nothing more is added, and what was kept so far can still be read)."""
        if not self._writable or self._file is None:
            return None
        at = self._end
        try:
            while data:
                written = os.pwrite(self._file.fd, data, self._end)
                self._end, data = self._end + written, data[written:]
        except OSError:
            self._writable = False
            return None
        return at

    def read(self, at: int, size: int) -> str:
        """The text of `size` bytes at `at`."""
        if self._file is None:
            raise RuntimeError("a statement's body was asked for after its build had ended")
        return self._file.read(at, size)


class _OpenFile:
    """A file bodies are read from, open until `close` (or until it is collected)."""

    __slots__ = ("__weakref__", "_close", "fd")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._close = weakref.finalize(self, os.close, fd)

    def read(self, at: int, size: int) -> str:
        """The text of `size` bytes at `at`."""
        if self.fd < 0:
            raise RuntimeError("a statement's body was asked for after its build had ended")
        if not size:
            return ""
        data = os.pread(self.fd, size, at)
        if len(data) != size:
            raise RuntimeError("a statement's body was cut short: a file of the build cache was changed "
                               "during the build")
        return data.decode()

    def close(self) -> None:
        self._close()
        self.fd = -1
