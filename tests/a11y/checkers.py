"""Accessibility and validity checks for a built site.

Each check runs one tool (the Nu Html Checker, linkinator) or one probe in a
Playwright page (axe-core, keyboard, reflow, print) and returns what it found:
an empty list means the check passed. A missing tool raises ToolMissingError
that names the install step; it never lets a check pass unseen.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
PROBES_SCRIPT = Path(__file__).with_name("page_probes.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
MAX_TAB_PRESSES = 500
TOOL_TIMEOUT_SECONDS = 600

_AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""


class ToolMissingError(RuntimeError):
    """A tool that a check needs is not installed."""


def require_file(path: Path, install_step: str = "run `npm ci` at the repository root") -> Path:
    """Return `path`, or raise ToolMissingError telling how to install it."""
    if not path.is_file():
        raise ToolMissingError(f"{path} is missing: {install_step}")
    return path


def require_program(name: str, install_step: str) -> str:
    """Return the full path of program `name`, or raise ToolMissingError."""
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(f"`{name}` is not on PATH: {install_step}")
    return found


# --- Nu Html Checker -------------------------------------------------------


def run_vnu(paths: list[Path]) -> list[dict[str, Any]]:
    """Validate HTML files in one Nu Html Checker run; return its errors and warnings."""
    if not paths:
        return []
    jar = require_file(NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar")
    java = require_program("java", "install Java 17 or later (Debian: apt-get install default-jre-headless)")
    command = [java, "-jar", str(jar), "--format", "json", "--stdout", "--exit-zero-always", "--html"]
    completed = subprocess.run(
        [*command, *map(str, paths)],
        capture_output=True,
        encoding="utf-8",
        check=False,
        timeout=TOOL_TIMEOUT_SECONDS,
    )
    if completed.returncode != 0 or not completed.stdout.strip():
        raise RuntimeError(f"vnu.jar failed with status {completed.returncode}:\n{completed.stderr}")
    messages = json.loads(completed.stdout)["messages"]
    return [_vnu_problem(message) for message in messages if _vnu_severity(message)]


def _vnu_severity(message: dict[str, Any]) -> str:
    """'error', 'warning', or '' for the informational messages that do not count."""
    if message.get("type") == "info":
        return "warning" if message.get("subType") == "warning" else ""
    return "error"


def _vnu_problem(message: dict[str, Any]) -> dict[str, Any]:
    """Reduce a Nu Html Checker message to the fields a failure report needs."""
    return {
        "file": unquote(urlsplit(message.get("url", "")).path),
        "line": message.get("lastLine", message.get("firstLine", 0)),
        "column": message.get("firstColumn", 0),
        "severity": _vnu_severity(message),
        "message": message.get("message", ""),
        "extract": message.get("extract", ""),
    }


# --- Static HTTP server -----------------------------------------------------


_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}


class _SiteRequestHandler(SimpleHTTPRequestHandler):
    """Serves a built site under a path prefix, as a static host would."""

    def __init__(self, *args: Any, directory: str, base_path: str, **kwargs: Any) -> None:
        self.base_path = base_path
        self.not_found_page = Path(directory) / "404.html"
        self.extensions_map = {**self.extensions_map, **_CONTENT_TYPES}
        super().__init__(*args, directory=directory, **kwargs)

    def send_head(self) -> Any:
        if not urlsplit(self.path).path.startswith(self.base_path):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def translate_path(self, path: str) -> str:
        local = urlsplit(path).path[len(self.base_path) - 1 :]
        return super().translate_path(local)

    def list_directory(self, path: Any) -> None:
        # Static hosts answer a directory without index.html with 404, not a listing.
        self.send_error(HTTPStatus.NOT_FOUND)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code != HTTPStatus.NOT_FOUND or not self.not_found_page.is_file():
            super().send_error(code, message, explain)
            return
        body = self.not_found_page.read_bytes()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, message_format: str, *args: Any) -> None:
        """Stay quiet: test output should show failures, not requests."""


class _QuietServer(ThreadingHTTPServer):
    """A threaded server that ignores clients hanging up mid-response."""

    daemon_threads = True
    request_queue_size = 256  # the link checker opens many connections at once; the default is 5

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Browsers and crawlers drop connections freely; that is not a failure."""


@contextlib.contextmanager
def serve_directory(site_dir: Path, base_path: str = "/") -> Iterator[str]:
    """Serve `site_dir` at `base_path` on 127.0.0.1; yield the base URL."""
    if not (base_path.startswith("/") and base_path.endswith("/")):
        raise ValueError(f"base_path must start and end with '/': {base_path!r}")
    handler = functools.partial(_SiteRequestHandler, directory=str(site_dir), base_path=base_path)
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{base_path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- linkinator --------------------------------------------------------------


def run_linkinator(site_dir: Path, base_path: str = "/", site_url: str = "") -> list[dict[str, Any]]:
    """Crawl the served site from its home page, 404 page and sitemap; return the broken links.

    Links leaving the local server are skipped (the machine is offline). When
    `site_url` is given, absolute links to its origin are checked against the
    local copy, so a canonical or feed link with a wrong path is caught too.
    """
    require_program("node", "install Node.js 20 or later (Debian: apt-get install nodejs)")
    with serve_directory(site_dir, base_path) as base_url:
        origin = base_url[: -len(base_path)]
        starts = [base_url] + ([f"{base_url}404.html"] if (site_dir / "404.html").is_file() else [])
        command = _linkinator_command(starts, origin, site_url)
        if (site_dir / "sitemap.xml").is_file():
            command += ["--sitemap-url", f"{base_url}sitemap.xml"]
        completed = subprocess.run(
            command,
            capture_output=True,
            encoding="utf-8",
            check=False,
            timeout=TOOL_TIMEOUT_SECONDS,
        )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise RuntimeError(f"linkinator failed ({completed.returncode}):\n{completed.stderr}") from error
    return [_broken_link(link, origin) for link in report["links"] if link["state"] == "BROKEN"]


def _linkinator_command(starts: list[str], origin: str, site_url: str) -> list[str]:
    """The linkinator command line; skip rules see links before they are rewritten."""
    linkinator = require_file(NODE_MODULES / ".bin" / "linkinator")
    command = [str(linkinator), *starts, "--recurse", "--check-fragments", "--format", "json",
               "--concurrency", "8", "--retry-errors", "--retry-errors-count", "2"]
    command += ["--timeout", "20000", "--verbosity", "error"]
    checked_origins = [re.escape(origin)]
    if site_url:
        site_origin = re.escape("{0.scheme}://{0.netloc}".format(urlsplit(site_url)))
        checked_origins.append(site_origin)
        command += ["--url-rewrite-search", f"^{site_origin}(?=/|$)", "--url-rewrite-replace", origin]
    return [*command, "--skip", f"^(?!(?:{'|'.join(checked_origins)})(?:/|$))"]


def _broken_link(link: dict[str, Any], origin: str) -> dict[str, Any]:
    """Reduce a linkinator result to site paths, status and reason."""
    details = [detail.get("message") or detail.get("status") for detail in link.get("failureDetails") or []]
    return {
        "url": link["url"].removeprefix(origin),
        "status": link.get("status"),
        "parent": (link.get("parent") or "").removeprefix(origin),
        "details": "; ".join(str(detail) for detail in details if detail),
    }


# --- Browser probes -----------------------------------------------------------


def install_probes(page: Page) -> None:
    """Install page_probes.js into the current document, once per document."""
    if not page.evaluate("typeof window.__a11yProbes === 'object'"):
        page.evaluate(PROBES_SCRIPT.read_text(encoding="utf-8"))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core with the WCAG 2.2 AA and best-practice rules; return the violations."""
    if not page.evaluate("typeof window.axe === 'object'"):
        axe_script = require_file(NODE_MODULES / "axe-core" / "axe.min.js")
        page.evaluate(axe_script.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN, AXE_TAGS)
    return violations


def responds_to_dark_scheme(page: Page) -> bool:
    """Whether the page's CSS or color-scheme can change with the reader's dark preference."""
    install_probes(page)
    responds: bool = page.evaluate("window.__a11yProbes.respondsToDarkScheme()")
    return responds


def start_focus_from_top(page: Page) -> None:
    """Make the next Tab focus the page's first tab stop, as on a fresh load."""
    install_probes(page)
    page.evaluate("window.__a11yProbes.startFocusFromTop()")


def first_tab_target(page: Page) -> str:
    """Describe the element that the first Tab from the top of the page focuses."""
    start_focus_from_top(page)
    page.keyboard.press("Tab")
    description: str = page.evaluate("window.__a11yProbes.describe(document.activeElement)")
    return description


def skip_link_problems(page: Page) -> list[str]:
    """Check the first tab stop is a visible skip link that moves focus into <main>."""
    start_focus_from_top(page)
    page.keyboard.press("Tab")
    state = page.evaluate("window.__a11yProbes.skipLinkState()")
    if not state["isSamePageLink"]:
        return [f"the first tab stop is {state['description']}, not a skip link to the main content"]
    problems = []
    if state["obscured"]:
        problems.append(f"the focused skip link {state['description']} cannot be seen: {state['obscured']}")
    if not state["target"]:
        return [*problems, f"the skip link {state['description']} points to no element"]
    if not state["targetInMain"]:
        problems.append(f"the skip link targets {state['target']}, which is not <main> or inside it")
    page.keyboard.press("Enter")
    if not page.evaluate("window.__a11yProbes.focusInsideMain()"):
        landed = page.evaluate("window.__a11yProbes.describe(document.activeElement)")
        problems.append(
            f"after activating the skip link focus is on {landed}, not in <main>"
            ' (give the target tabindex="-1")'
        )
    return problems


def tab_through(page: Page, max_presses: int = MAX_TAB_PRESSES) -> list[dict[str, Any]]:
    """Press Tab from the top until focus leaves the page or comes round again.

    Returns a snapshot of each focused element: its index, description, focus
    indicator signature, outline, and whether it is obscured.
    """
    start_focus_from_top(page)
    snapshots: list[dict[str, Any]] = []
    seen: set[int] = set()
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        snapshot = page.evaluate("window.__a11yProbes.activeSnapshot()")
        if snapshot is None or snapshot["index"] in seen:
            break
        seen.add(snapshot["index"])
        snapshots.append(snapshot)
    return snapshots


def focus_indicator_problems(page: Page) -> list[str]:
    """Tab through the page; report unreachable, obscured or indicator-less tab stops."""
    install_probes(page)
    page.evaluate("window.__a11yProbes.freezeMotion()")
    expected: list[str] = page.evaluate("window.__a11yProbes.markTabbables()")
    snapshots = tab_through(page, min(len(expected) + 20, MAX_TAB_PRESSES))
    resting: dict[str, str] = page.evaluate("window.__a11yProbes.restingSignatures()")
    reached = {snapshot["index"] for snapshot in snapshots}
    problems = [
        f"{name} cannot be reached with Tab" for index, name in enumerate(expected) if index not in reached
    ]
    for snapshot in snapshots:
        if snapshot["obscured"]:
            problems.append(f"{snapshot['description']} is focused but {snapshot['obscured']}")
        if resting.get(str(snapshot["index"])) == snapshot["signature"]:
            problems.append(f"{snapshot['description']} looks the same focused and unfocused")
    return problems


def forced_colors_focus_problems(page: Page) -> list[str]:
    """In forced-colours mode, report tab stops whose focus outline disappears."""
    page.emulate_media(forced_colors="active")
    try:
        install_probes(page)
        page.evaluate("window.__a11yProbes.freezeMotion()")
        snapshots = tab_through(page)
    finally:
        page.emulate_media(forced_colors="null")
    return [
        f"{snapshot['description']} has no focus outline in forced colours"
        f" (outline {snapshot['outlineStyle']} {snapshot['outlineWidth']}px)"
        for snapshot in snapshots
        if snapshot["outlineStyle"] == "none" or snapshot["outlineWidth"] <= 0
    ]


# --- Reflow, text spacing, print ---------------------------------------------


def horizontal_overflow(page: Page, width: int = 320) -> list[str]:
    """At `width` CSS px, report whether the page scrolls sideways and which boxes cause it."""
    page.set_viewport_size({"width": width, "height": 640})
    install_probes(page)
    overflow: list[str] = page.evaluate("window.__a11yProbes.overflowingElements()")
    return overflow


def text_spacing_clipping(page: Page) -> list[str]:
    """Apply the WCAG 1.4.12 text spacing; report text that is clipped or overflows the page."""
    install_probes(page)
    page.evaluate("window.__a11yProbes.applyTextSpacing()")
    overflow: list[str] = page.evaluate("window.__a11yProbes.overflowingElements()")
    clipped: list[str] = page.evaluate("window.__a11yProbes.clippedText()")
    return [f"with text spacing: {line}" for line in overflow] + clipped


def print_problems(page: Page) -> list[str]:
    """In print media, navigation and the skip link must be hidden and main's text shown."""
    install_probes(page)
    page.evaluate("window.__a11yProbes.markMainText()")
    page.emulate_media(media="print")
    try:
        problems: list[str] = page.evaluate("window.__a11yProbes.printProblems()")
    finally:
        page.emulate_media(media="null")
    return problems


def broken_page_resources(page: Page) -> list[str]:
    """Fetch every same-origin link, style sheet, script and image of the loaded page; report failures.

    Meant for the 404 page loaded at a deep, missing path, where a static host
    serves it: relative URLs that work at the site root break there.
    """
    install_probes(page)
    urls: list[str] = page.evaluate("window.__a11yProbes.sameOriginResources()")
    problems = []
    for url in urls:
        response = page.request.get(url, max_redirects=5)
        if not response.ok:
            problems.append(f"{urlsplit(url).path} answers {response.status}")
        response.dispose()
    return problems
