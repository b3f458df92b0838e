"""`communique serve`: the editor's loop.

Build in memory, serve on 127.0.0.1, watch the content and the theme, rebuild once the saves have
settled (reusing every parsed file and rendered page that did not change), and tell open tabs to
reload over server-sent events. A build with errors keeps the last good pages: the pages of the
files at fault (and any page not yet built) show the errors instead, every other page a banner.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Hashable
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateError

from .build import COLLECTOR_THRESHOLDS, check_site, render_checked
from .devserver import DevServer, LazySite, SiteState
from .discover import STATEMENTS_DIR
from .incremental import ParseCache, RenderCache
from .options import Options
from .output import statement_url
from .problems import ContentError, Problem, format_problems
from .stamp import default_theme_dir
from .theme import make_environment, template_problem, theme_dirs

THEME_SUFFIXES = (".html", ".xml", ".css", ".js")
"""A change to such a file (a template or asset), or to anything in a theme folder (a template
of another name, a folder moved), re-renders every page with the templates read afresh."""
SETTLE_SECONDS = 0.1
"""How long no change must come before a rebuild starts: an editor's "save all", or a save
the file watcher reports in several events, gives one rebuild even on a busy machine."""
COMPLETE_AFTER_SECONDS = 0.4
"""After a rebuild, the open tabs reload first (their pages are rendered on request); the rest
of the site is rendered after this pause, unless another save comes in."""


@dataclasses.dataclass(slots=True)
class DevBuilder:
    """Rebuilds the site in memory, reusing what did not change."""

    options: Options
    """Build options, with the local base URL."""
    state: SiteState
    """What the server serves."""
    parse_cache: ParseCache = dataclasses.field(default_factory=ParseCache)
    """Parsed files of earlier builds."""
    render_cache: RenderCache = dataclasses.field(default_factory=RenderCache)
    """Rendered pages of earlier builds."""
    env: Environment | None = None
    """The Jinja environment, made anew when a template or the site's settings change."""
    env_key: Hashable = None
    """The settings and theme folders `env` was made for."""
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr)
    """Where progress and problems are printed."""
    published: int = 0
    """Statements in the last good build."""
    worked: float = 0.0
    """How long the last rebuild has worked so far, in seconds (for the log): the pause before the
    rest of the site is rendered is not counted."""

    def templates_changed(self) -> None:
        """Forget rendered pages and compiled templates."""
        self.env = None
        self.render_cache.clear()

    def rebuild(self, changed: frozenset[str] | None = None) -> bool:
        """Build once; publish the result (or the problems) to the server. True on success.

        `changed`: the statement files written since the last build, when nothing else changed.
        """
        started = time.perf_counter()
        self.parse_cache.changed = changed
        options = self.options  # only the first build may fork: the server's threads run after it
        self.options = dataclasses.replace(options, jobs=1)
        try:
            checked = check_site(options, self.parse_cache, writes=True)
            dirs = theme_dirs(checked.site, self.options.content)
            if self.env is None or self.env_key != (checked.site, tuple(dirs)):
                self.templates_changed()
                self.env, self.env_key = make_environment(checked.site, dirs), (checked.site, tuple(dirs))
            output, assets = render_checked(checked, self.options.content, self.env, self.render_cache,
                                            self.options.content_shown)
        except ContentError as error:
            self.env = None
            self.log(format_problems(error.problems, "text"))
            self.state.fail(error.problems, self.pages_at_fault(error.problems))
            self.log(f"build failed: serving the last good pages ({len(error.problems)} problem(s))")
            return False
        thunks = {**output.thunks, **{name: path.read_bytes for name, path in assets}}
        self.state.publish(LazySite(thunks, {}))
        if checked.problems:
            self.log(format_problems(list(checked.problems), "text"))
        self.published = len(checked.assembly.published)
        self.worked = time.perf_counter() - started
        self.log(f"site ready in {self.worked * 1000:.0f} ms")
        return True

    def complete(self, stop: Callable[[], bool]) -> None:
        """Render every page not yet asked for (finding template errors, filling the cache).

        Stops early when `stop()` says another change is waiting.
        """
        started = time.perf_counter()
        site = self.state.files
        try:
            for key in site.paths():
                if stop():
                    return
                site.get(key)
        except TemplateError as error:
            self.env = None
            problem = template_problem(error)
            self.log(problem.format_text())
            self.state.fail([problem], {"*"})
            return
        self.render_cache.finish()
        self.worked += time.perf_counter() - started
        self.log(f"rebuilt in {self.worked * 1000:.0f} ms: {self.published} statement(s), "
                 f"{self.render_cache.rendered} page(s) rendered, {self.parse_cache.hits} file(s) reused")

    def in_theme(self, path: str) -> bool:
        """Whether `path` is in a theme folder of the last build."""
        dirs: tuple[Path, ...] = self.env_key[1] if isinstance(self.env_key, tuple) else ()
        return any(Path(path).is_relative_to(folder.resolve()) for folder in dirs)

    def pages_at_fault(self, problems: list[Problem]) -> set[str]:
        """URL paths of the statement pages whose files have errors; `*` for a template error."""
        if any(problem.field == "template" for problem in problems):
            return {"*"}
        prefix = f"{self.options.content_shown.rstrip('/')}/{STATEMENTS_DIR}/"
        pages = set()
        for problem in problems:
            if problem.path.startswith(prefix) and problem.path.endswith(".md"):
                stem = problem.path.rsplit("/", 1)[-1].removesuffix(".md")
                pages.add("/" + statement_url(stem))
        return pages


class ChangeWatcher:
    """Collects file-system events; a worker rebuilds once they have settled."""

    def __init__(self, builder: DevBuilder, statements: Path) -> None:
        self.builder = builder
        self.statements = str(statements.resolve()) + os.sep
        self.written: set[str] = set()
        self.structural = True
        self.changed = threading.Event()
        self.templates = False
        self.last_event = 0.0
        self.stopped = threading.Event()

    def notice(self, path: str, written: bool = False) -> None:
        """Record a change to `path` (ignoring editors' temporary files).

        `written`: the file was modified in place (not created, deleted or moved).
        """
        name = Path(path).name
        if name.startswith((".#", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp")):
            return
        if name.endswith(THEME_SUFFIXES) or self.builder.in_theme(path):
            self.templates = True
        if written and name.endswith(".md") and path.startswith(self.statements):
            self.written.add(path)
        else:
            self.structural = True
        self.last_event = time.monotonic()
        self.changed.set()

    def run(self, complete: bool = False) -> None:
        """Wait for changes, let them settle, rebuild; until stopped. First, if asked to
        `complete` the first build, render the pages nobody asked for yet (pages are served
        meanwhile, each rendered when asked for)."""
        if complete:
            self.builder.complete(stop=self.changed.is_set)
            collect_garbage()
        while not self.stopped.is_set():
            if not self.changed.wait(0.2):
                continue
            while time.monotonic() - self.last_event < SETTLE_SECONDS:
                time.sleep(SETTLE_SECONDS / 2)
            self.changed.clear()
            if self.templates:
                self.templates = False
                self.builder.templates_changed()
            hint = None if self.structural else frozenset(self.written)
            self.written, self.structural = set(), False
            gc.disable()  # a rebuild allocates much and frees it by reference counting
            try:
                if self.builder.rebuild(hint) and not self.changed.wait(COMPLETE_AFTER_SECONDS):
                    self.builder.complete(stop=self.changed.is_set)
            finally:
                gc.enable()
            if not self.changed.is_set():
                collect_garbage()


def collect_garbage() -> None:
    """While idle: collect cycles, then move what survives (the caches, long-lived and acyclic) out
    of the collector's sight, so that later collections do not re-scan 10^6 objects. What was
    moved there before is looked at again: the last build's pages hold cycles that became
    garbage when this build replaced them, and would never be freed otherwise."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def start_watching(watcher: ChangeWatcher, folders: list[Path]) -> Any:
    """Start a watchdog observer on `folders`; returns it (call `.stop()`)."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("opened", "closed_no_write"):
                return
            if event.is_directory and event.event_type == "modified":
                return  # a folder's times change with its files; the file events say what
            written = event.event_type in ("modified", "closed") and not event.is_directory
            watcher.notice(os.path.abspath(str(event.src_path)), written)
            if getattr(event, "dest_path", ""):
                watcher.notice(os.path.abspath(str(event.dest_path)))

    observer = Observer()
    for folder in folders:
        if folder.is_dir():
            observer.schedule(Handler(), str(folder.resolve()), recursive=True)
    observer.start()
    return observer


def livereload_script() -> bytes:
    """The script injected into served pages (never into `build` output)."""
    return (resources.files("communique") / "data" / "livereload.js").read_bytes()


def serve(options: Options, port: int) -> int:
    """Serve until interrupted."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    state = SiteState()
    server = DevServer(("127.0.0.1", port), state, livereload_script())
    actual_port = server.server_address[1]
    local = dataclasses.replace(options, base_url=f"http://127.0.0.1:{actual_port}/")
    builder = DevBuilder(local, state)
    built = builder.rebuild()
    collect_garbage()
    watcher = ChangeWatcher(builder, options.content / STATEMENTS_DIR)
    observer = start_watching(watcher, [options.content, default_theme_dir()])
    worker = threading.Thread(target=watcher.run, args=(built,), name="rebuild", daemon=True)
    worker.start()
    print(f"serving {options.content} at http://127.0.0.1:{actual_port}/ (Ctrl+C to stop)",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stopped.set()
        observer.stop()
        state.close()
        server.server_close()
    return 0
