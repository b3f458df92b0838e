"""The HTTP side of `serve`: pages from memory, server-sent reload events, the error page."""

from __future__ import annotations

import html
import mimetypes
import threading
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import TemplateError

from .problems import Problem, sorted_problems
from .theme import template_problem

PREFIX = "/__communique/"
KEEPALIVE_SECONDS = 15.0


class LazySite:
    """The files of one build, each rendered the first time it is asked for."""

    def __init__(self, thunks: Mapping[str, Callable[[], bytes]], static: Mapping[str, bytes]) -> None:
        self.thunks = thunks
        self.done: dict[str, bytes] = dict(static)

    def __contains__(self, key: str) -> bool:
        return key in self.done or key in self.thunks

    def get(self, key: str) -> bytes | None:
        """The file's bytes (rendering it now if need be), or None if there is no such file."""
        found = self.done.get(key)
        if found is None and key in self.thunks:
            found = self.done[key] = self.thunks[key]()
        return found

    def paths(self) -> list[str]:
        """Every file's path."""
        return [*self.thunks, *(k for k in self.done if k not in self.thunks)]


class SiteState:
    """The pages being served and the problems of the last build, shared between threads."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.files = LazySite({}, {})
        self.version = 0
        self.problems: list[Problem] = []
        self.fault_pages: set[str] = set()
        self.closed = False

    def publish(self, files: LazySite) -> None:
        """A good build: serve these files, forget the problems, tell the tabs."""
        with self.changed:
            self.files, self.problems, self.fault_pages = files, [], set()
            self.version += 1
            self.changed.notify_all()

    def fail(self, problems: Iterable[Problem], pages: set[str]) -> None:
        """A failed build: keep the files, show the problems, tell the tabs."""
        with self.changed:
            self.problems, self.fault_pages = sorted_problems(problems), pages
            self.version += 1
            self.changed.notify_all()

    def close(self) -> None:
        """Release every waiting event stream."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the version differs from `seen` (or timeout); return the version."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen or self.closed, timeout)
            return self.version


def error_page(problems: list[Problem], version: int) -> bytes:
    """An accessible page listing every problem, where it is and how to fix it."""
    items = []
    for p in problems:
        place = p.path + (f", line {p.line}" if p.line else "") + (f", column {p.column}" if p.column else "")
        hint = f"<p class='hint'><strong>How to fix it:</strong> {html.escape(p.hint)}</p>" if p.hint else ""
        items.append(f"<li><p class='where'><strong>{html.escape(p.severity.capitalize())}</strong> in "
                     f"<code>{html.escape(place)}</code></p><p>{html.escape(p.message)}</p>{hint}</li>")
    count = sum(p.is_error for p in problems)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The site could not be built – communique</title>
<style>
body {{ font: 1.1875rem/1.5 system-ui, sans-serif; color: #0b0c0c; margin: 0; }}
main {{ max-width: 48rem; margin: 0 auto; padding: 1.5rem 1rem; }}
h1 {{ font-size: 2rem; }}
ol {{ padding-left: 1.25rem; }}
li {{ border-left: 5px solid #d4351c; padding: .25rem 0 .25rem 1rem; margin-bottom: 1rem; }}
code {{ font-size: 1rem; background: #f3f2f1; padding: 0 .25rem; }}
.hint {{ margin-top: .25rem; }}
</style>
</head>
<body>
<main id="main">
<h1>The site could not be built</h1>
<p role="alert">{count} error{'' if count == 1 else 's'} in the content. The server keeps the last good pages;
fix the files below and save, and this page reloads by itself.</p>
<ol>
{''.join(items)}
</ol>
</main>
<script src="{PREFIX}livereload.js" data-version="{version}"></script>
</body>
</html>
""".encode()


class DevServer(ThreadingHTTPServer):
    """Serves a `SiteState` on one address."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SiteState, script: bytes) -> None:
        super().__init__(address, DevHandler)
        self.state = state
        self.script = script


class DevHandler(BaseHTTPRequestHandler):
    """GET and HEAD for pages, the reload script, the event stream and the error page."""

    server: DevServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        path = unquote(urlsplit(self.path).path)
        state = self.server.state
        if path == PREFIX + "livereload.js":
            return self.send(200, "text/javascript; charset=utf-8", self.server.script, head)
        if path == PREFIX + "events":
            return self.stream_events()
        with state.changed:
            files, problems, faults, version = (state.files, state.problems, state.fault_pages,
                                                state.version)
        if path == PREFIX + "errors" or (problems and (path in faults or "*" in faults)
                                           and not path.startswith("/static/")):
            return self.send(500 if problems else 200, "text/html; charset=utf-8",
                             error_page(problems, version), head)
        key = path.lstrip("/")
        if key == "" or key.endswith("/"):
            key += "index.html"
        try:
            body = files.get(key)
        except TemplateError as error:  # rendered on demand: a template error shows up here first
            problems = [template_problem(error)]
            state.fail(problems, {"*"})
            return self.send(500, "text/html; charset=utf-8", error_page(problems, version + 1), head)
        if body is None and f"{key}/index.html" in files:
            self.send_response(301)
            self.send_header("Location", path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        status = 200
        if body is None:
            if problems:
                return self.send(500, "text/html; charset=utf-8", error_page(problems, version), head)
            status, key, body = 404, "404.html", files.get("404.html") or b"Not found"
        kind = mimetypes.guess_type(key)[0] or "application/octet-stream"
        if kind == "text/html":
            body = inject(body, version, len([p for p in problems if p.is_error]))
        if kind.startswith("text/") or kind in ("application/xml", "application/json"):
            kind += "; charset=utf-8"
        return self.send(status, kind, body, head)

    def send(self, status: int, kind: str, body: bytes, head: bool = False) -> None:
        """One complete response."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def stream_events(self) -> None:
        """Server-sent events: the site's version now and after every rebuild."""
        state = self.server.state
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = -1
        try:
            while not state.closed:
                version = state.wait_for_change(seen, KEEPALIVE_SECONDS)
                message = f"data: {version}\n\n" if version != seen else ": keep-alive\n\n"
                self.wfile.write(message.encode())
                self.wfile.flush()
                seen = version
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def inject(page: bytes, version: int, errors: int) -> bytes:
    """Add the reload script (and, after a failed build, a banner) to a served page."""
    script = f'<script src="{PREFIX}livereload.js" data-version="{version}"></script>\n</body>'
    page = page.replace(b"</body>", script.encode(), 1)
    if errors:
        banner = (f'<main id="main" tabindex="-1">\n<div class="banner banner--draft" role="alert">'
                  f'<p>The last save left {errors} error{"" if errors == 1 else "s"} in the content; '
                  f'this is the last good version of the page. <a href="{PREFIX}errors">See the '
                  f'errors</a>.</p></div>')
        page = page.replace(b'<main id="main" tabindex="-1">', banner.encode(), 1)
    return page
