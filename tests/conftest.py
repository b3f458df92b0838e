"""Shared fixtures: throwaway sites written from inline strings, and the CLI run in-process."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from communique.cli import main

ROOT = Path(__file__).resolve().parents[1]
FULL_SITE = ROOT / "tests" / "sites" / "full"
NOW = "2026-01-01T00:00:00Z"

SITE_YAML = "title: Test Statements\nbase_url: https://example.org/\nlanguage: en\n"

VALID_FRONT = """\
title: A valid statement
date: 2024-06-04
type: joint-statement
issuers: [US, IT]
"""


def statement(front: str = VALID_FRONT, body: str = "The text of the statement.") -> str:
    """A statement file from front matter and body."""
    return f"---\n{textwrap.dedent(front)}---\n{textwrap.dedent(body)}\n"


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
"""Debian's Chromium, headless, with nothing reaching out to the network."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (one for the whole run; never a downloaded build)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).is_file():
        raise RuntimeError("the browser tests need Debian's chromium: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Result:
    """What a CLI run printed and returned."""

    status: int
    out: str
    err: str


@pytest.fixture
def write_site(tmp_path: Path) -> Callable[..., Path]:
    """Write a content folder from `{relative path: text or bytes}`; returns its path."""

    def write(files: dict[str, str | bytes], site_yaml: str = SITE_YAML) -> Path:
        content = tmp_path / "content"
        (content / "statements").mkdir(parents=True, exist_ok=True)
        (content / "site.yaml").write_text(site_yaml, encoding="utf-8")
        for relative, data in files.items():
            target = content / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                target.write_bytes(data)
            else:
                target.write_text(data, encoding="utf-8")
        return content

    return write


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Callable[..., Result]:
    """Run `communique ARGS` in-process from `tmp_path`; returns status and output."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str | Path) -> Result:
        try:
            status = main([str(a) for a in args])
        except SystemExit as exit_:
            status = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return run
