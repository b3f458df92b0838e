"""`communique serve`: build the site and serve it on 127.0.0.1."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
import tempfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .build import Options, build_site
from .problems import ContentError, format_problems


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the built site; logs nothing but errors."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        not_found = Path(self.directory) / "404.html"
        if code == 404 and not_found.is_file():
            body = not_found.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)


def serve(options: Options, port: int) -> int:
    """Build into a temporary folder and serve it until interrupted."""
    with tempfile.TemporaryDirectory(prefix="communique-serve-") as folder:
        output = Path(folder) / "site"
        local = dataclasses.replace(options, output=output, base_url=f"http://127.0.0.1:{port}/")
        try:
            build_site(local, project=Path(folder))
        except ContentError as error:
            print(format_problems(error.problems, "text"), file=sys.stderr)
            return 1
        handler = functools.partial(QuietHandler, directory=str(output))
        with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
            print(f"serving {options.content} at http://127.0.0.1:{port}/ (Ctrl+C to stop)",
                  file=sys.stderr)
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()
    return 0
