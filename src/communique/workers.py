"""Share the work of a build between processes: one per core, forked so they start with every
model already in memory.

A build's costly steps (parsing statement files; rendering and writing pages) are independent
per item. `stream_out` splits the items between forked children while the calling process takes
in what they send (it unpacks parsed files, or records the pages written), and may take a share
itself; each child sends its results back through a pipe, pickled. Nothing else is shared: a
child writes only files nobody else writes, and ends with `os._exit`, so it never runs the
parent's clean-up.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import struct
import traceback
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar, cast

from .problems import ContentError, Problem

T = TypeVar("T")
R = TypeVar("R")

MIN_SHARE = 200
"""Fewer items than this per process is not worth a fork."""
PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process gets when its parent ends."""
MAX_JOBS = 8
"""More processes than this only add pickling for no gain on a site of statements."""


def default_jobs() -> int:
    """How many processes a build uses: the cores this process may run on (at most `MAX_JOBS`)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_JOBS))


def can_fork() -> bool:
    """Whether this system can fork (not on Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def runs(items: Sequence[T], count: int,
         group: Callable[[T], Hashable | None] | None = None) -> list[list[T]]:
    """`items` cut into runs for `count` processes to take in turn (see `Claims`): enough runs
    that the processes end together, few enough that taking one costs nothing next to doing it
    (and that their numbers fit in a pipe: at most `MAX_RUNS`).

    With `group`, the items of a group stay in one run, in their order (one process does them
    all), and the largest groups come first: the runs left for the end are small ones, which
    even out the processes' shares. An item whose group is None is a run of its own, before
    all others: a file that may cost as much as a group (the open data), started early.
    """
    alone: list[list[T]] = []
    units: list[list[T]] = []
    if group is None:
        units = [[item] for item in items]
    else:
        grouped: dict[Hashable, list[T]] = {}
        for item in items:
            this = group(item)
            if this is None:
                alone.append([item])
            else:
                grouped.setdefault(this, []).append(item)
        units = sorted(grouped.values(), key=len, reverse=True)  # stable: in order within a size
    room = max(1, min(count * RUNS_PER_PROCESS, MAX_RUNS) - len(alone) - 1)
    least = -(-sum(map(len, units)) // room)  # every run but the last this full: room + 1 at most
    cut: list[list[T]] = []
    for unit in units:
        if cut and len(cut[-1]) < least:
            cut[-1].extend(unit)
        else:
            cut.append(unit)
    return alone + cut if len(alone) + len(cut) <= MAX_RUNS else [*_merged(alone + cut)]


def _merged(cut: list[list[T]]) -> Iterator[list[T]]:
    """`cut` in `MAX_RUNS` runs or fewer (more items alone than there is room for)."""
    size = -(-len(cut) // MAX_RUNS)
    for start in range(0, len(cut), size):
        yield [item for run in cut[start:start + size] for item in run]


RUNS_PER_PROCESS = 64
"""About how many runs each process takes (see `runs`)."""
MAX_RUNS = 1000
"""At four bytes each, run numbers that fit in the smallest buffer a pipe has (one page, on a
system short of pipe memory) before any process reads them (see `Claims`)."""


class Claims:
    """Runs of items that processes take in turn, each the next one nobody took.

    Their numbers wait in a pipe, which forked processes share: four bytes each, and each
    process reads four bytes at a time (a read from a pipe is done under its lock, so no two
    readers share a number). `runs` makes at most `MAX_RUNS`, so they fit in the pipe's
    buffer before any process reads.
    """

    RECORD = struct.Struct("<I")

    def __init__(self, runs: list[list[T]]) -> None:
        self.runs: list[list[Any]] = runs
        self.reader, writer = os.pipe()
        try:
            write_all(writer, b"".join(self.RECORD.pack(n) for n in range(len(runs))))
        finally:
            os.close(writer)  # once every number is read, a reader finds the end

    def take(self) -> Iterator[Any]:
        """The items of each run this process takes, until none is left."""
        while record := os.read(self.reader, self.RECORD.size):
            yield from self.runs[self.RECORD.unpack(record)[0]]

    def close(self) -> None:
        os.close(self.reader)


def stream_out(items: Sequence[T], produce: Callable[[T], R], consume: Callable[[R], None], jobs: int,
               *, size: Callable[[R], int], batch: int = 1 << 20, min_share: int | None = None,
               local: bool = False, group: Callable[[T], Hashable | None] | None = None) -> None:
    """`consume(produce(item))` for every item, with `produce` shared between `jobs` processes
    and `consume` always in this one.

    For work whose last step must run in one process: the files a build parses are unpacked
    into this one's memory, and the files a build writes are recorded in its manifest. With
    `local`, this process is one of the `jobs` and produces too, consuming what the children
    sent between two of its own items; else it forks `jobs` children and only consumes, for work
    where consuming is costly (unpacking parsed files). The processes take runs of items in turn
    until none is left (see `runs`; items of one `group` go to the same process), so that they
    end together. A child sends its results in batches of about `batch` bytes (`size(result)`
    each). No more processes share the work than would each have `min_share` items (by
    default `MIN_SHARE`).
    """
    least = MIN_SHARE if min_share is None else min_share
    count = max(1, min(jobs, len(items) // max(1, least))) if can_fork() else 1
    if count == 1:
        for item in items:
            consume(produce(item))
        return
    claims = Claims(runs(items, count, group))
    try:
        children = _fork(_stream_child, [(produce, claims, size, batch)] * (count - 1 if local else count))
        open_ = {receiver for _, receiver in children}
        try:
            for item in claims.take() if local else ():
                consume(produce(item))
                if open_:
                    _drain(open_, consume, timeout=0)
            while open_:
                _drain(open_, consume)
        finally:
            _reap(children)
    finally:
        claims.close()


@contextmanager
def in_background(work: Callable[[], R]) -> Iterator[Callable[[], R | None]]:
    """Run `work()` in a forked child while the block runs. The function the block is given
    waits for its result, or gives None if the child failed; the child is ended with the block.
    Without fork, `work()` runs here before the block, as it would have started there."""
    if not can_fork():
        try:
            value: R | None = work()
        except Exception:  # as a child's failure is: the caller does the work again its own way
            value = None
        yield lambda: value
        return
    children = _fork(_background_child, [(work,)])
    done: list[R | None] = []

    def result() -> R | None:
        if not done:
            try:
                done.append(cast(R, _receive(children[0][1])))
            except (ContentError, OSError):
                done.append(None)
        return done[0]

    try:
        yield result
    finally:
        _reap(children)


def _background_child(work: Callable[[], object], sender: Connection, parent: int) -> None:
    _run_child(work, sender, parent)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to the file descriptor `fd`."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


Child = tuple[multiprocessing.process.BaseProcess, Connection]
"""A forked child and the end of the pipe it sends its results through."""


def _fork(target: Callable[..., None], arguments: list[tuple[object, ...]]) -> list[Child]:
    """One forked child per tuple of `arguments`, each running `target(*arguments, sender,
    parent)`: `sender` is the pipe's end it writes to, `parent` this process's id."""
    context = multiprocessing.get_context("fork")
    parent = os.getpid()
    children: list[Child] = []
    for args in arguments:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=target, args=(*args, sender, parent), daemon=True)
        process.start()
        sender.close()
        children.append((process, receiver))
    return children


def _reap(children: list[Child]) -> None:
    """Close the pipes and make sure every child has ended (killed if it still runs)."""
    for process, receiver in children:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()


def _drain(open_: set[Connection], consume: Callable[[R], None], timeout: float | None = None) -> None:
    """Consume what the children have sent, once some has come (or, with a `timeout`, what has
    come by then); forget a child that is done."""
    for receiver in wait(list(open_), timeout):
        assert isinstance(receiver, Connection)
        results = _receive(receiver)
        if results is None:
            open_.discard(receiver)
            continue
        for result in cast(list[R], results):
            consume(result)


def _stream_child(produce: Callable[[T], R], claims: Claims, size: Callable[[R], int], batch: int,
                  sender: Connection, parent: int) -> None:
    def stream() -> None:
        pending: list[R] = []
        held = 0
        for item in claims.take():
            result = produce(item)
            pending.append(result)
            held += size(result)
            if held >= batch:
                _send(sender, ("ok", pending))
                pending, held = [], 0
        _send(sender, ("ok", pending))

    _run_child(stream, sender, parent)  # ends with ("ok", None): nothing more to come


def _run_child(run: Callable[[], object], sender: Connection, parent: int) -> None:
    """Run a child's work and send its result, its problems, the system's refusal (a full
    disk: the parent raises it as its own, see `write.staged_site`) or its traceback as the
    last message."""
    _end_with(parent)
    try:
        message: tuple[str, object] = ("ok", run())
    except ContentError as error:
        message = ("problems", error.problems)
    except OSError as error:
        message = ("refused", (error.errno, error.strerror, error.filename))
    except BaseException:  # reported to the parent, which fails the build
        message = ("crash", traceback.format_exc())
    try:
        _send(sender, message)
    finally:
        sender.close()


def _send(sender: Connection, message: tuple[str, object]) -> None:
    sender.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _end_with(parent: int) -> None:
    """Have the system kill this process when its parent dies (Linux), so that a build killed
    half-way leaves no process behind still writing, or holding the output's lock."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (AttributeError, OSError):  # not Linux: the parent's pipe closing ends the child
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _receive(receiver: Connection) -> object:
    try:
        kind, value = pickle.loads(receiver.recv_bytes())
    except EOFError:
        kind, value = "crash", "a build process ended without a result (killed, or out of memory?)"
    if kind == "ok":
        return value
    if kind == "problems":
        raise ContentError(cast(list[Problem], value))
    if kind == "refused":
        raise OSError(*cast(tuple[int, str, str | None], value))
    raise ContentError([Problem("build", None, None, f"a build process failed:\n{value}", "build",
                                "this is a bug in communique: please report it with this message")])
