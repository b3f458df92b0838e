"""`communique serve`: the editor's loop.

Build in memory, serve on 127.0.0.1, watch the content and the theme, rebuild once the saves have
settled (reusing every parsed file and rendered page that did not change), and tell open tabs to
reload over server-sent events. A build with errors keeps the last good pages: the pages of the
files at fault (and any page not yet built) show the errors instead, every other page a banner.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable, Hashable
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment

from .build import Options, check_site, render_checked
from .devserver import DevServer, SiteState
from .discover import STATEMENTS_DIR
from .incremental import ParseCache, RenderCache
from .problems import ContentError, Problem, format_problems
from .render import default_theme_dir, make_environment, statement_url, theme_dirs

THEME_SUFFIXES = (".html", ".xml", ".css", ".js")
"""A change to such a file (a template or asset) re-renders every page."""
SETTLE_SECONDS = 0.05
"""How long the files must stay quiet after a save before rebuilding."""


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

    def templates_changed(self) -> None:
        """Forget rendered pages and compiled templates."""
        self.env = None
        self.render_cache.clear()

    def rebuild(self) -> bool:
        """Build once; publish the result (or the problems) to the server. True on success."""
        started = time.perf_counter()
        try:
            checked = check_site(self.options, self.parse_cache)
            dirs = theme_dirs(checked.site, self.options.content)
            if self.env is None or self.env_key != (checked.site, tuple(dirs)):
                self.templates_changed()
                self.env, self.env_key = make_environment(checked.site, dirs), (checked.site, tuple(dirs))
            output, assets = render_checked(checked, self.options.content, self.env, self.render_cache)
        except ContentError as error:
            self.env = None
            self.log(format_problems(error.problems, "text"))
            self.state.fail(error.problems, self.pages_at_fault(error.problems))
            self.log(f"build failed: serving the last good pages ({len(error.problems)} problem(s))")
            return False
        files = dict(output.files)
        for name, path in assets:
            files[name] = path.read_bytes()
        self.state.publish(files)
        if checked.problems:
            self.log(format_problems(list(checked.problems), "text"))
        elapsed = (time.perf_counter() - started) * 1000
        self.log(f"rebuilt in {elapsed:.0f} ms: {len(checked.assembly.published)} statement(s), "
                 f"{self.render_cache.rendered} page(s) rendered, {self.parse_cache.hits} file(s) reused")
        return True

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

    def __init__(self, builder: DevBuilder) -> None:
        self.builder = builder
        self.changed = threading.Event()
        self.templates = False
        self.last_event = 0.0
        self.stopped = threading.Event()

    def notice(self, path: str) -> None:
        """Record a change to `path` (ignoring editors' temporary files)."""
        name = Path(path).name
        if name.startswith((".#", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp")):
            return
        if name.endswith(THEME_SUFFIXES):
            self.templates = True
        self.last_event = time.monotonic()
        self.changed.set()

    def run(self) -> None:
        """Wait for changes, let them settle, rebuild; until stopped."""
        while not self.stopped.is_set():
            if not self.changed.wait(0.2):
                continue
            while time.monotonic() - self.last_event < SETTLE_SECONDS:
                time.sleep(SETTLE_SECONDS / 2)
            self.changed.clear()
            if self.templates:
                self.templates = False
                self.builder.templates_changed()
            self.builder.rebuild()


def start_watching(watcher: ChangeWatcher, folders: list[Path]) -> Any:
    """Start a watchdog observer on `folders`; returns it (call `.stop()`)."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("opened", "closed_no_write"):
                return
            watcher.notice(str(event.src_path))
            if getattr(event, "dest_path", ""):
                watcher.notice(str(event.dest_path))

    observer = Observer()
    for folder in folders:
        if folder.is_dir():
            observer.schedule(Handler(), str(folder), recursive=True)
    observer.start()
    return observer


def livereload_script() -> bytes:
    """The script injected into served pages (never into `build` output)."""
    return (resources.files("communique") / "data" / "livereload.js").read_bytes()


def serve(options: Options, port: int) -> int:
    """Serve until interrupted."""
    state = SiteState()
    server = DevServer(("127.0.0.1", port), state, livereload_script())
    actual_port = server.server_address[1]
    local = dataclasses.replace(options, base_url=f"http://127.0.0.1:{actual_port}/")
    builder = DevBuilder(local, state)
    builder.rebuild()
    watcher = ChangeWatcher(builder)
    observer = start_watching(watcher, [options.content, default_theme_dir()])
    worker = threading.Thread(target=watcher.run, name="rebuild", daemon=True)
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
