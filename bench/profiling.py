"""Where a cold communique build spends its time: one build under cProfile, summarised."""

from __future__ import annotations

import pstats
import re

from cases import NOW, Tools, Workspace, clear_communique, purge_cleared
from measure import run_measured

PACKAGE_MARK = "/communique/"
TOP_OWN = 15
TOP_CUMULATIVE = 25

FunctionKey = tuple[str, int, str]


def short_name(key: FunctionKey) -> str:
    """'communique/render.py:120 render_site', 'jinja2/runtime.py:80 markup_join', '{built-in}'."""
    filename, line, function = key
    if filename == "~":
        return function
    short = re.sub(r"^.*/(site-packages|python3\.\d+|src)/", "", filename)
    return f"{short}:{line} {function}"


def profile_table(title: str, entries: list[tuple[FunctionKey, tuple[int, int, float, float]]],
                  total: float) -> list[str]:
    """Lines of 'cumulative s, own s, share of the run, calls, function'."""
    lines = [title, f"{'cumul s':>8} {'own s':>8} {'share':>6} {'calls':>9}  function"]
    for key, (_, calls, own, cumulative) in entries:
        lines.append(f"{cumulative:8.2f} {own:8.2f} {cumulative / total:6.0%} {calls:9d}  {short_name(key)}")
    return lines


def owner(filename: str) -> str:
    """Who a function belongs to: `communique/<module>.py`, a library's top package, or Python."""
    if filename == "~":
        return "(built-in functions)"
    short = re.sub(r"^.*/(site-packages|src)/", "", filename)
    if short != filename:
        return short if short.startswith("communique/") else short.split("/")[0]
    return "(standard library)"


def own_time_by_owner(table: dict[FunctionKey, tuple[int, int, float, float]], total: float) -> list[str]:
    """Own time added up per communique module and per library."""
    sums: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _) in table.items():
        sums[owner(filename)] = sums.get(owner(filename), 0.0) + own
    ranked = sorted(sums.items(), key=lambda item: item[1], reverse=True)[:TOP_OWN]
    lines = ["own time by module or library:", f"{'own s':>8} {'share':>6}  where"]
    return lines + [f"{own:8.2f} {own / total:6.0%}  {name}" for name, own in ranked]


def summarise(path: str) -> str:
    """communique's functions by cumulative time, own time by module, the costliest functions."""
    stats = pstats.Stats(path)
    table = {key: value[:4] for key, value in stats.stats.items()}  # type: ignore[attr-defined]
    total = max(value[3] for value in table.values())
    ours = sorted(((k, v) for k, v in table.items() if PACKAGE_MARK in k[0]),
                  key=lambda item: item[1][3], reverse=True)[:TOP_CUMULATIVE]
    own = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:TOP_OWN]
    lines = [f"profiled run: {total:.2f} s in total (cProfile overhead included)", ""]
    lines += profile_table("communique's functions by cumulative time:", ours, total)
    lines += ["", *own_time_by_owner(table, total)]
    lines += ["", *profile_table("every function by its own time:", own, total)]
    return "\n".join(lines)


def profile_cold_build(tools: Tools, workspace: Workspace) -> str:
    """Run one cold `build --clean --no-search --jobs 1` under cProfile and summarise it."""
    clear_communique(workspace, 0)
    path = str(workspace.root / "cold-build.prof")
    # `python -m communique` ends with os._exit after a build, before cProfile could write its
    # file: the profile wraps `main`, which returns. One process, so that the parsing and the
    # rendering (done by forked children otherwise) are in it.
    args = ["build", "--clean", "--no-search", "--jobs", "1", "--content", "content", "--output", "_site",
            "--quiet", "--now", NOW]
    code = (f"import cProfile, sys; from communique.cli import main; sys.argv = ['communique', *{args!r}]; "
            f"cProfile.run('main()', {path!r})")
    argv = [tools.python, "-c", code]
    try:
        sample = run_measured(argv, workspace.root)
    finally:
        purge_cleared(workspace)
    header = (f"{workspace.size:,} statements, cold build under cProfile: {sample.seconds:.2f} s wall, "
              f"{sample.peak_kib / 1024:.0f} MiB peak RSS")
    return header + "\n" + summarise(path)
