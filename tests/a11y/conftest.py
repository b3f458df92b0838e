"""Fixtures for the accessibility suite: one page per session in the shared Chromium."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

# Test modules here import `checkers` whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).parent))


DESKTOP: ViewportSize = {"width": 1280, "height": 800}
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
