"""Tables of results: medians, ranges, memory and the communique/Hugo ratio."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from measure import Sample

NA = "n/a"


@dataclass(frozen=True, slots=True)
class Row:
    """The measured runs of one case at one size."""

    size: int
    """Statement files in the corpus."""
    label: str
    """The case."""
    communique: list[Sample]
    """communique's timed runs."""
    hugo: list[Sample] | None
    """Hugo's timed runs, or `None` (n/a)."""
    error: str | None = None
    """Why the case stopped early, if it did."""


def median_seconds(samples: Sequence[Sample]) -> float:
    """Median wall time."""
    return statistics.median(s.seconds for s in samples)


def wall(samples: Sequence[Sample] | None) -> str:
    """'2.41 (2.38–2.45)': median and range of wall time, in seconds."""
    if not samples:
        return NA
    times = [s.seconds for s in samples]
    return f"{statistics.median(times):.2f} ({min(times):.2f}–{max(times):.2f})"


def cpu(samples: Sequence[Sample] | None) -> str:
    """Median CPU time (user + system), in seconds."""
    if not samples:
        return NA
    return f"{statistics.median(s.cpu_seconds for s in samples):.2f}"


def memory(samples: Sequence[Sample] | None) -> str:
    """Peak RSS of the largest process in MiB; '/ sum' when a tree of processes used more."""
    if not samples:
        return NA
    peak = max(s.peak_kib for s in samples) / 1024
    tree = max(s.tree_kib for s in samples) / 1024
    return f"{peak:.0f}" if tree < peak * 1.05 else f"{peak:.0f} / {tree:.0f}"


def ratio(row: Row) -> str:
    """communique's median wall time divided by Hugo's."""
    if not row.hugo or not row.communique:
        return NA
    return f"{median_seconds(row.communique) / median_seconds(row.hugo):.2f}×"


COLUMNS = ("size", "case", "communique s", "cpu s", "RSS MiB", "Hugo s", "cpu s", "RSS MiB", "ratio")


def render_table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; text left, numbers right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]

    def format_line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(w) if i < 2 else cell.rjust(w)
                  for i, (cell, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([format_line(header), rule, *(format_line(line) for line in lines)])


def result_line(row: Row) -> tuple[str, ...]:
    """One line of the main table."""
    label = f"{row.label} (FAILED)" if row.error else row.label
    return (f"{row.size:,}", label, wall(row.communique), cpu(row.communique), memory(row.communique),
            wall(row.hugo), cpu(row.hugo), memory(row.hugo), ratio(row))


def results_table(rows: Sequence[Row]) -> str:
    """The main table: one line per case and size, then why any case failed."""
    table = render_table(COLUMNS, [result_line(row) for row in rows])
    failures = [f"{row.size:,} {row.label}: {row.error}" for row in rows if row.error]
    return "\n".join([table, *failures])


SCALING_COLUMNS = ("size", "tool", "cold s", "s per 1k", "cpu s", "RSS MiB", "MiB per 1k")


def scaling_lines(size: int, tool: str, samples: list[Sample] | None) -> tuple[str, ...]:
    """One line of the scaling table."""
    if not samples:
        return (f"{size:,}", tool, NA, NA, NA, NA, NA)
    seconds = median_seconds(samples)
    peak = max(s.peak_kib for s in samples) / 1024
    thousands = size / 1000
    return (f"{size:,}", tool, f"{seconds:.2f}", f"{seconds / thousands:.3f}", cpu(samples),
            f"{peak:.0f}", f"{peak / thousands:.1f}")


def scaling_table(rows: Sequence[Row]) -> str:
    """Cold builds per size: time and memory, also per 1,000 statements."""
    lines = []
    for row in rows:
        lines.append(scaling_lines(row.size, "communique", row.communique))
        lines.append(scaling_lines(row.size, "hugo", row.hugo))
    return render_table(SCALING_COLUMNS, lines)
