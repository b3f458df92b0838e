"""Run a command and measure it: wall time, CPU time and memory of the child process tree.

Peak RSS comes from the kernel (`os.wait4`'s `ru_maxrss`): the largest single process among the
child and the descendants it waited for. While the child runs, a thread samples `/proc` every
`SAMPLE_SECONDS` and adds up the RSS of the whole tree, so a tool that runs several processes at
once also shows their sum (sampled, so a short spike between two samples can be missed).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.05
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured run of one or more commands, one after the other."""

    seconds: float
    """Wall-clock time."""
    cpu_seconds: float
    """User plus system time of the children."""
    peak_kib: int
    """Largest resident set of any single process (KiB)."""
    tree_kib: int
    """Largest sampled sum of the resident sets of a process tree (KiB)."""

    def then(self, other: Sample) -> Sample:
        """This run followed by `other`: times add up, memory is the larger of the two."""
        return Sample(self.seconds + other.seconds, self.cpu_seconds + other.cpu_seconds,
                      max(self.peak_kib, other.peak_kib), max(self.tree_kib, other.tree_kib))


class CommandFailed(RuntimeError):
    """A measured command exited with a non-zero status."""


def tree_pids(root: int) -> list[int]:
    """`root` and every descendant still running (from /proc's children lists)."""
    pids, pending = [], [root]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return pids


def tree_rss_kib(root: int) -> int:
    """The summed resident set of `root`'s process tree now (KiB)."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            continue
    return total


class TreeSampler(threading.Thread):
    """Samples a process tree's summed RSS until stopped; keeps the largest."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.largest = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.largest = max(self.largest, tree_rss_kib(self.root))


def measured_environment() -> dict[str, str]:
    """The environment of a timed command: this one, less `PYTHONDONTWRITEBYTECODE`. An
    installed package keeps its modules compiled; with that variable set, communique (installed
    here in editable mode) would compile its own modules again at every run, 0.1 s of each."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_measured(argv: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
    """Run `argv` in `cwd` (in `env`, by default `measured_environment()`), its output discarded
    unless it fails; raise `CommandFailed` then."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(list(argv), cwd=cwd, env=measured_environment() if env is None else env,
                                 stdout=subprocess.DEVNULL, stderr=errors, stdin=subprocess.DEVNULL)
        sampler = TreeSampler(child.pid)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace")[-3000:]
            raise CommandFailed(f"{' '.join(argv)} (in {cwd}) exited {child.returncode}:\n{tail}")
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
                  max(sampler.largest, usage.ru_maxrss))


def run_quietly(argv: Sequence[str], cwd: Path) -> str:
    """Run an untimed helper command; return its standard output."""
    done = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout
