"""The command line: parse options, call the pipeline, print problems, set the exit status.

Exit status: 0 success (warnings included), 1 the content has errors, 2 wrong usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__
from .dates import parse_instant
from .options import Options
from .problems import ContentError, Problem, UsageError, format_problems
from .progress import Progress
from .stamp import freshness, up_to_date
from .workers import default_jobs


def _instant(text: str) -> dt.datetime:
    value = parse_instant(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date and time with an offset or Z, such as "
            f"2024-06-04T12:00:00Z; found {text!r}")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=Path("content"),
                        help="the content folder (default: content)")
    parser.add_argument("--drafts", action="store_true",
                        help="include drafts and embargoed statements (previews only)")
    parser.add_argument("--now", type=_instant, default=None,
                        help="the instant embargoes are compared with (default: now)")


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, 1 or more; found {text!r}")
    return int(text)


def _parallel(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", "-j", type=_jobs, default=None,
                        help="how many processes parse and render (default: one per core)")


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="communique",
                                     description="Build a static site of joint statements.")
    parser.add_argument("--version", action="version", version=f"communique {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build the site")
    _common(build)
    build.add_argument("--output", type=Path, default=Path("_site"),
                       help="where to write the site (default: _site)")
    build.add_argument("--base-url", help="absolute URL of the site's root (overrides site.yaml)")
    build.add_argument("--clean", action="store_true", help="ignore any build cache")
    build.add_argument("--no-search", action="store_true", help="skip the search index")
    _parallel(build)
    verbosity = build.add_mutually_exclusive_group()
    verbosity.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    verbosity.add_argument("--verbose", "-v", action="store_true", help="print more detail")

    check = commands.add_parser("check", help="check the content without writing anything")
    _common(check)
    check.add_argument("--format", choices=("text", "json", "github"), default="text",
                       help="how to print problems (default: text)")
    _parallel(check)

    new = commands.add_parser("new", help="create a new draft statement")
    new.add_argument("title", help="the statement's title")
    new.add_argument("--content", type=Path, default=Path("content"))
    new.add_argument("--id", dest="statement_id", help="the id (default: from the title)")
    new.add_argument("--date", help="YYYY-MM-DD, YYYY-MM or YYYY (default: today)")
    new.add_argument("--type", dest="statement_type", help="the statement type")
    new.add_argument("--issuers", help="comma-separated countries or organisations")
    new.add_argument("--meeting", help="the meeting (series) name")
    new.add_argument("--host", help="the meeting's host")

    commands.add_parser("schema", help="print the JSON Schema of a statement's front matter")

    serve = commands.add_parser("serve", help="build and serve the site on 127.0.0.1")
    _common(serve)
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    return parser


def run() -> NoReturn:
    """The `communique` program: `main`, then exit.

    After a build or check the process ends at once instead of freeing every model one by one
    (a second at 10,000 statements); `serve` and the rest exit the ordinary way.
    """
    status = main()
    if len(sys.argv) > 1 and sys.argv[1] in ("build", "check"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = make_parser().parse_args(argv)
    if args.command == "schema":
        from .fieldspec import json_schema

        print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
        return 0
    if args.command == "new":
        from .new import create_statement

        return create_statement(args)
    if args.command in ("build", "check"):
        # Loading makes objects that live until the process ends and form no cycles worth
        # collecting: the cyclic collector would only re-scan them (a third of the time at
        # 10,000 statements). A build turns it back on for rendering (`collect_from_now_on`).
        gc.disable()
    options = Options(content=args.content, drafts=args.drafts,
                      now=args.now or dt.datetime.now(dt.UTC),
                      output=getattr(args, "output", Path("_site")),
                      base_url=getattr(args, "base_url", None),
                      search=not getattr(args, "no_search", False),
                      clean=getattr(args, "clean", False),
                      jobs=getattr(args, "jobs", None) or default_jobs())
    if args.command == "check":
        return run_check(options, args.format)
    if args.command == "serve":
        from .serve import serve

        return serve(options, args.port)
    return run_build(options, quiet=args.quiet, verbose=args.verbose)


def run_check(options: Options, fmt: str) -> int:
    """`communique check`. When a build left its cache beside the output, the check reads the
    site as that build last checked it whole, and only the statements changed since (see
    `build.recheck`); it writes nothing there but an unnamed file for the bodies it reads."""
    from contextlib import nullcontext

    from .build import check_site, withheld_summary
    from .cache import Spill
    from .stamp import cache_root

    cache = cache_root(options.output) / "build"
    try:
        with Spill(cache) if cache.is_dir() else nullcontext() as spill:
            checked = check_site(options, spill=spill)
    except ContentError as error:
        _print_problems(error.problems, fmt, sys.stdout)
        return 1
    _print_problems(list(checked.problems), fmt, sys.stdout)
    if fmt == "text":
        for line in withheld_summary(checked.assembly.withheld):
            print(line)
        print(f"{len(checked.assembly.published)} statement(s) ready to publish, "
              f"{len(checked.assembly.withheld)} withheld, {len(checked.problems)} warning(s)")
    return 0


def run_build(options: Options, *, quiet: bool, verbose: bool) -> int:
    """`communique build`."""
    progress = Progress(None if quiet else sys.stderr, verbose=verbose)
    try:
        fresh = freshness(options)
        if fresh.unchanged is not None:  # nothing to do: spare the imports of a whole build
            outcome = up_to_date(options, fresh.unchanged)
            unchanged, removed = outcome.files, 0
        else:
            from .build import build_site

            result = build_site(options, progress=progress, fresh=fresh)
            outcome, unchanged, removed = result.outcome, result.unchanged, result.removed
    except UsageError as error:
        progress.clear()
        _print_problems(error.problems, "text", sys.stderr)
        return 2
    except ContentError as error:
        progress.clear()
        _print_problems(error.problems, "text", sys.stderr)
        print(f"build failed; {options.output} was left as it was", file=sys.stderr)
        return 1
    progress.clear()
    _print_problems(list(outcome.problems), "text", sys.stderr)  # type: ignore[arg-type]
    if verbose:
        for line in outcome.withheld:
            print(line, file=sys.stderr)
    if not quiet:
        elapsed = progress.elapsed()
        done = (f"nothing changed since the last build of {options.output}" if fresh.unchanged
                else f"built {options.output}")
        print(f"{done}: {outcome.published} statement(s), {outcome.files} files, "
              f"{outcome.files - unchanged} written, {unchanged} unchanged, {removed} removed "
              f"({elapsed:.2f} s)", file=sys.stderr)
    return 0


def _print_problems(problems: list[Problem], fmt: str, stream: object) -> None:
    text = format_problems(problems, fmt)
    if text or fmt == "json":
        print(text, file=stream)  # type: ignore[call-overload]
