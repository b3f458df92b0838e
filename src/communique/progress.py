"""What a build tells the user while it runs.

On a terminal, the current stage shows on one line that the next stage overwrites ("rendering
35,001 files…"), and the summary replaces it at the end, so a long build is never silent and
a short one leaves a single line. Elsewhere (CI, a log file) stages are not shown unless asked
for with `--verbose`, which prints each stage as a plain line with its time.
"""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """Reports stages of a build on a stream (standard error)."""

    def __init__(self, stream: TextIO | None, *, verbose: bool = False) -> None:
        self.stream = stream
        """Where to report; None reports nothing (`--quiet`, and library use)."""
        self.verbose = verbose
        """Print every stage as a line with its time."""
        self.live = bool(stream is not None and not verbose and stream.isatty())
        """Show the current stage on one line that the next overwrites."""
        self.current: str | None = None
        self.started = time.perf_counter()
        self.stage_started = self.started

    def stage(self, what: str) -> None:
        """A new stage begins: `what` says what it does and to how many things."""
        self.end_stage()
        self.current, self.stage_started = what, time.perf_counter()
        if self.live and self.stream is not None:
            self.stream.write(f"\r\x1b[K{what}…")
            self.stream.flush()

    def end_stage(self) -> None:
        """The current stage is over (called by the next `stage` and by `summary`)."""
        if self.current is not None and self.verbose and self.stream is not None:
            self.stream.write(f"{self.current}: {time.perf_counter() - self.stage_started:.2f} s\n")
        self.current = None

    def clear(self) -> None:
        """Remove the stage line, before problems or the summary are printed."""
        self.end_stage()
        if self.live and self.stream is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def elapsed(self) -> float:
        """Seconds since the build began."""
        return time.perf_counter() - self.started


def count(number: int, noun: str) -> str:
    """`10,000 statement files`, `1 statement file`."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
