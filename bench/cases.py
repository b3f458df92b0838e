"""The benchmark's cases: what each tool runs, and what changes (untimed) before each run."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from corpus import Corpus, Statement
from hugo_site import BASE_LAYOUT, ITEM_MARK, LAYOUTS, write_hugo_statement
from measure import CommandFailed
from synth import write_communique_statement
from vocabulary import HOST_CAPITALS

REPO = Path(__file__).resolve().parents[1]
DEFAULT_THEME = REPO / "templates"
"""communique's default theme in this checkout (what a site's theme_dir overrides)."""
THEME_DIR = "theme"
BASE_TEMPLATE = "base.html"
NOW = "2030-01-01T00:00:00Z"
"""The fixed `--now` of every communique run, so every run publishes the same statements."""

Command = tuple[list[str], Path]
"""An argument list and the folder it runs in."""


@dataclass(frozen=True, slots=True)
class Tools:
    """The programs under test."""

    python: str
    """The interpreter that runs `-m communique`."""
    hugo: str | None
    """The Hugo binary, if installed."""
    pagefind: str | None
    """The Pagefind binary (or a command that runs it), if installed."""


@dataclass(frozen=True, slots=True)
class Workspace:
    """One generated corpus, as a communique content folder and as a Hugo site."""

    root: Path
    """`bench/work/<size>`."""
    corpus: Corpus
    """The statements the sites were written from."""

    @property
    def content(self) -> Path:
        """The communique content folder."""
        return self.root / "content"

    @property
    def output(self) -> Path:
        """communique's output folder."""
        return self.root / "_site"

    @property
    def hugo(self) -> Path:
        """The Hugo site."""
        return self.root / "hugo"

    @property
    def hugo_every_family(self) -> Path:
        """The Hugo site's twin that writes every family communique writes."""
        return self.root / "hugo-every-family"

    def hugo_site(self, every_family: bool) -> Path:
        """The Hugo site, or its twin if `every_family`."""
        return self.hugo_every_family if every_family else self.hugo

    @property
    def size(self) -> int:
        """How many statement files the corpus has."""
        return len(self.corpus.statements)


Prepare = Callable[[Workspace, int], None]
"""Untimed work before run number `n` (0 is the warm-up)."""


def unchanged(workspace: Workspace, run: int) -> None:
    """Nothing to change before this run."""


@dataclass(frozen=True, slots=True)
class Side:
    """What one tool does in a case."""

    commands: Callable[[Workspace], list[Command]]
    """The commands timed together, one after the other."""
    prepare: Prepare = unchanged
    """What changes before each run."""
    check: Callable[[Workspace], None] | None = None
    """What makes sure, after the warm-up, that the output is the one meant to be timed (raises
    `CommandFailed` if not)."""


@dataclass(frozen=True, slots=True)
class Case:
    """One row of the table."""

    label: str
    """How the row is named."""
    communique: Side
    """communique's side."""
    hugo: Side | None
    """Hugo's side; `None` when there is no equivalent or the tool is missing."""
    setup: Callable[[Workspace], None] | None = None
    """Untimed work once before the case's warm-up."""


def edit_target(corpus: Corpus) -> Statement:
    """The statement the edit cases change: an original from the middle, with a meeting."""
    originals = [s for s in corpus.statements if s.meeting and not s.translation_of]
    return originals[len(originals) // 2]


def edited_body(statement: Statement, run: int) -> Statement:
    """The statement with one more paragraph, different for every run."""
    return replace(statement, body=statement.body + f"\nParagraph added for run {run}.\n")


def edited_host(statement: Statement, run: int) -> Statement:
    """The statement with its principal host replaced on odd runs and restored on even ones."""
    assert statement.meeting is not None
    hosts = statement.meeting.hosts
    if run % 2 == 0:
        return statement
    other = next(h for h in sorted(HOST_CAPITALS) if h not in hosts)
    return replace(statement, meeting=replace(statement.meeting, hosts=(other, *hosts[1:])))


def rewrite_communique(change: Callable[[Statement, int], Statement]) -> Prepare:
    """A preparation that rewrites the edit target's communique file with `change` applied."""
    def prepare(workspace: Workspace, run: int) -> None:
        write_communique_statement(workspace.content, change(edit_target(workspace.corpus), run))
    return prepare


def rewrite_hugo(change: Callable[[Statement, int], Statement]) -> Prepare:
    """A preparation that rewrites the edit target's Hugo file with `change` applied."""
    def prepare(workspace: Workspace, run: int) -> None:
        statement = change(edit_target(workspace.corpus), run)
        write_hugo_statement(workspace.hugo, statement, workspace.corpus.names)
    return prepare


CLEARED = ".cleared"
"""The folder of a workspace where earlier outputs wait to be deleted (see `set_aside`)."""


def set_aside(workspace: Workspace, folder: Path) -> None:
    """Move `folder` out of the way, into the workspace's `CLEARED` folder, for `purge_cleared`
    to delete once nothing is being timed.

    Deleting tens of thousands of files just before a timed build slows that build down on some
    file systems: ext4 without a journal passes over every inode freed in the last minutes, one by
    one, before it takes a free one. The cost would fall on whichever tool ran next, in proportion
    to the files it creates, and would measure the deletion rather than the build.
    """
    if not folder.exists():
        return
    aside = workspace.root / CLEARED
    aside.mkdir(exist_ok=True)
    folder.rename(aside / f"{folder.parent.name}-{folder.name}-{len(list(aside.iterdir()))}")


def purge_cleared(workspace: Workspace) -> None:
    """Delete what `set_aside` moved away (once every case has been timed)."""
    shutil.rmtree(workspace.root / CLEARED, ignore_errors=True)


def clear_communique(workspace: Workspace, run: int) -> None:
    """No previous output: a cold build."""
    set_aside(workspace, workspace.output)


def clear_hugo(workspace: Workspace, run: int, every_family: bool = False) -> None:
    """No previous output, resources or cache in the Hugo site (or its twin): a cold build."""
    for name in ("public", "resources", ".cache"):
        set_aside(workspace, workspace.hugo_site(every_family) / name)


def clear_hugo_every_family(workspace: Workspace, run: int) -> None:
    """`clear_hugo` for the twin that writes every family."""
    clear_hugo(workspace, run, every_family=True)


def install_theme_override(workspace: Workspace) -> None:
    """Copy the default theme into the content folder and name it as the site's theme_dir."""
    theme = workspace.content / THEME_DIR
    shutil.rmtree(theme, ignore_errors=True)
    shutil.copytree(DEFAULT_THEME, theme)
    site_yaml = workspace.content / "site.yaml"
    text = site_yaml.read_text(encoding="utf-8")
    if "theme_dir:" not in text:
        site_yaml.write_text(text + f"theme_dir: {THEME_DIR}/\n", encoding="utf-8")


def with_edition(template: str, run: int) -> str:
    """`template` with a visible line added to its footer, different for every run."""
    marker = "</footer>"
    line = f"<p>Edition {run}</p>\n"
    if marker not in template:
        return template + line
    head, _, tail = template.rpartition(marker)
    return head + line + marker + tail


def edit_communique_template(workspace: Workspace, run: int) -> None:
    """Change the overriding copy of the base template (every page uses it)."""
    original = (DEFAULT_THEME / BASE_TEMPLATE).read_text(encoding="utf-8")
    target = workspace.content / THEME_DIR / BASE_TEMPLATE
    target.write_text(with_edition(original, run), encoding="utf-8")


def edit_hugo_template(workspace: Workspace, run: int) -> None:
    """Change Hugo's base layout (every page uses it)."""
    target = workspace.hugo / "layouts" / BASE_LAYOUT
    target.write_text(with_edition(LAYOUTS[BASE_LAYOUT], run), encoding="utf-8")


def communique(tools: Tools, *args: str) -> Callable[[Workspace], list[Command]]:
    """`python -m communique ARGS` on the workspace's content folder."""
    def commands(workspace: Workspace) -> list[Command]:
        argv = [tools.python, "-m", "communique", *args, "--content", "content", "--now", NOW]
        if args[0] == "build":
            argv += ["--output", "_site", "--quiet"]
        return [(argv, workspace.root)]
    return commands


def hugo_commands(tools: Tools, *, search: bool,
                  every_family: bool = False) -> Callable[[Workspace], list[Command]]:
    """`hugo` (then `pagefind --site public` if `search`) in the Hugo site, or in its twin that
    writes `every_family`."""
    hugo, pagefind = tools.hugo, tools.pagefind
    assert hugo is not None

    def commands(workspace: Workspace) -> list[Command]:
        site = workspace.hugo_site(every_family)
        steps = [([hugo, "--quiet", "--cacheDir", str(site / ".cache")], site)]
        if search and pagefind:
            steps.append(([pagefind, "--site", "public"], site))
        return steps
    return commands


LISTED = ("meetings", "hosts", "years")
"""The taxonomies whose term pages list statements, in both Hugo sites."""
LISTED_BY_TWIN = ("issuers", "participants", "observers", "topics")
"""Those the twin adds."""
TWIN_PAIRED = (("statements/*/index.html", "statements/*/cite.json"),
               ("statements/*/index.html", "statements/*/cite.bib"),
               ("meetings/*/index.html", "meetings/*/index.xml"), ("hosts/*/index.html", "hosts/*/index.xml"))
"""Files of the twin's output (not empty) that come one for each of others: a citation pair for each
statement page, a feed for each meeting and host page."""
TWIN_OPEN_DATA = ("statements.json", "statements.jsonl", "statements.csv")
"""The twin's open data, each one file, not empty."""


def hugo_check(every_family: bool) -> Callable[[Workspace], None]:
    """A check that raises `CommandFailed` unless the Hugo site (or its twin, if `every_family`)
    wrote what it is meant to: term pages that list statements and, for the twin, a citation pair
    per statement, a feed per meeting and host, and the open data. A Hugo that looks a layout up
    under another name, or ignores a setting, does less work without a word (with `--quiet`, its
    warnings are not shown), and a benchmark against that would flatter communique."""
    def check(workspace: Workspace) -> None:
        site = workspace.hugo_site(every_family)
        public = site / "public"
        for taxonomy in LISTED + (LISTED_BY_TWIN if every_family else ()):
            pages = sorted(public.glob(f"{taxonomy}/*/index.html"))
            empty = [page.parent.name for page in pages if ITEM_MARK not in page.read_text(encoding="utf-8")]
            if not pages or empty:
                raise CommandFailed(f"{site.name}: {taxonomy} pages that list no statement ({len(empty)} of "
                                    f"{len(pages)}: {', '.join(empty[:3]) or 'none written'}); is Hugo "
                                    f"older than the layouts of bench/hugo_site.py?")
        if every_family:
            def count(pattern: str) -> int:
                return sum(1 for path in public.glob(pattern) if path.stat().st_size)
            missing = [f"{each} ({count(each)} for {count(of)})" for of, each in TWIN_PAIRED
                       if count(each) != count(of)]
            missing += [name for name in TWIN_OPEN_DATA if count(name) != 1]
            if missing:
                raise CommandFailed(f"{site.name} did not write every family: {', '.join(missing)}")
    return check


def hugo_side(tools: Tools, prepare: Prepare = unchanged, *, search: bool = False,
              every_family: bool = False) -> Side | None:
    """Hugo's side of a case (in the twin that writes `every_family`), or `None` when a tool it
    needs is missing."""
    if tools.hugo is None or (search and tools.pagefind is None):
        return None
    return Side(hugo_commands(tools, search=search, every_family=every_family), prepare,
                hugo_check(every_family))


def cold_cases(tools: Tools) -> list[Case]:
    """Full builds from nothing, without and with a search index."""
    return [
        Case("cold --clean --no-search / hugo",
             Side(communique(tools, "build", "--clean", "--no-search"), clear_communique),
             hugo_side(tools, clear_hugo)),
        Case("cold --clean / hugo + pagefind",
             Side(communique(tools, "build", "--clean"), clear_communique),
             hugo_side(tools, clear_hugo, search=True)),
        Case("cold --clean --no-search / hugo, every family",
             Side(communique(tools, "build", "--clean", "--no-search"), clear_communique),
             hugo_side(tools, clear_hugo_every_family, every_family=True)),
    ]


def rebuild_cases(tools: Tools) -> list[Case]:
    """Builds over a previous build: nothing changed, one body, one host, one template."""
    build = communique(tools, "build", "--no-search")
    return [
        Case("rebuild, nothing changed", Side(build), hugo_side(tools)),
        Case("rebuild, one body edited", Side(build, rewrite_communique(edited_body)),
             hugo_side(tools, rewrite_hugo(edited_body))),
        Case("rebuild, one meeting host changed", Side(build, rewrite_communique(edited_host)),
             hugo_side(tools, rewrite_hugo(edited_host))),
        Case("rebuild, base template edited", Side(build, edit_communique_template),
             hugo_side(tools, edit_hugo_template), setup=install_theme_override),
        Case("rebuild, one body edited, search / hugo + pagefind",
             Side(communique(tools, "build"), rewrite_communique(edited_body)),
             hugo_side(tools, rewrite_hugo(edited_body), search=True)),
    ]


def all_cases(tools: Tools) -> list[Case]:
    """Every case of the full benchmark, in the order they run."""
    check = Case("check only", Side(communique(tools, "check")), None)
    return [*cold_cases(tools), *rebuild_cases(tools), check]
