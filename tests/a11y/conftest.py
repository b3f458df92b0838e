"""Fixtures for the accessibility suite: one headless Chromium and one page per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

# Test modules here import `checkers` whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).parent))

from checkers import ToolMissingError, require_program

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright; never a downloaded browser build."""
    chromium = require_program("chromium", "install Debian's browser: apt-get install chromium")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        except Exception as error:
            raise ToolMissingError(f"Chromium at {chromium} did not start: {error}") from error
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def session_page(browser: Browser) -> Iterator[Page]:
    """The one page every browser check reuses."""
    context = browser.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(session_page: Page) -> Page:
    """The session's page reset to a desktop screen with no media emulation."""
    session_page.set_viewport_size(DESKTOP)
    session_page.emulate_media(media="null", color_scheme="light", forced_colors="null")
    return session_page
