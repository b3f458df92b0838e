"""Save-to-reloaded latency of `communique serve`, measured in headless Chromium.

    python bench/serve_latency.py --content content
    python bench/serve_latency.py --size 10000          # a synthetic site (see synth.py)

For each run it edits one statement's body on disk and times how long the open page takes to
show the new text: file write → watcher → rebuild → server-sent event → reload → new text.
Prints the median, min and max over the runs, after one warm-up edit; and how long the server
took to start (from the command to the first statement page loaded).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def running_server(content: Path) -> Iterator[str]:
    """`communique serve` on a free port; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "communique", "serve", "--content", str(content), "--port", "0"],
        stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    url = ""
    while not url:
        line = process.stderr.readline()
        if not line:
            raise RuntimeError("the server exited before it started")
        if match := re.search(r"at (http://127\.0\.0\.1:\d+/)", line):
            url = match.group(1)
    threading.Thread(target=process.stderr.read, daemon=True).start()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


def pick_statement(content: Path) -> Path:
    """A published statement in the middle of the corpus (not a draft or an embargo)."""
    files = sorted((content / "statements").rglob("*.md"))
    for file in files[len(files) // 2:] + files:
        text = file.read_text(encoding="utf-8")
        if "draft: true" not in text and "embargo:" not in text and "translation_of" not in text:
            return file
    raise RuntimeError("no published statement to edit")


def measure_once(page: Page, file: Path, original: str, marker: str) -> float:
    """Write `marker` into the body; seconds until the reloaded page showing it was ready.

    The end is the new document's DOMContentLoaded as the page's own clock saw it (the same
    wall clock as ours), so the test driver's polling adds nothing to the figure.
    """
    started = time.time()
    file.write_text(original.rstrip("\n") + f"\n\n{marker}\n", encoding="utf-8")
    page.wait_for_function("m => document.body && document.body.innerText.includes(m)", arg=marker,
                           timeout=30_000)
    page.wait_for_load_state("domcontentloaded")
    ready_ms = page.evaluate("performance.timeOrigin + "
                             "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
    return float(ready_ms) / 1000 - started


def measure(content: Path, runs: int) -> tuple[float, list[float]]:
    """Seconds from starting the server to the first page loaded; latencies of `runs` edits
    (after one warm-up)."""
    file = pick_statement(content)
    original = file.read_text(encoding="utf-8")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            started = time.perf_counter()
            with running_server(content) as url:
                page.goto(f"{url}statements/{file.stem}/")
                startup = time.perf_counter() - started
                times = []
                for n in range(runs + 1):
                    elapsed = measure_once(page, file, original, f"Latency marker {n} {time.time_ns()}")
                    if n:
                        times.append(elapsed)
                    time.sleep(0.3)
            browser.close()
    finally:
        file.write_text(original, encoding="utf-8")
    return startup, times


def synthetic_site(size: int) -> Path:
    """The synthetic corpus of `size` statements, generated once into bench/work/."""
    content = HERE / "work" / str(size) / "content"
    if not content.is_dir():
        subprocess.run([sys.executable, str(HERE / "synth.py"), "--sizes", str(size),
                        "--out", str(HERE / "work")], check=True)
    return content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--content", type=Path, help="a content folder to serve")
    parser.add_argument("--size", type=int, default=10_000, help="synthetic site size")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    content = args.content or synthetic_site(args.size)
    startup, times = measure(content, args.runs)
    ms = [t * 1000 for t in times]
    print(f"{content}: first page served {startup:.2f} s after starting; save-to-reloaded over "
          f"{len(ms)} edits: median {statistics.median(ms):.0f} ms, min {min(ms):.0f} ms, "
          f"max {max(ms):.0f} ms")


if __name__ == "__main__":
    main()
