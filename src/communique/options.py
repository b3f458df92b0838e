"""What a build or check was asked to do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .workers import default_jobs


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for."""

    content: Path = Path("content")
    """The content folder."""
    output: Path = Path("_site")
    """Where the site is written."""
    base_url: str | None = None
    """Overrides `site.yaml`'s base_url."""
    drafts: bool = False
    """Publish drafts and embargoed statements (previews only)."""
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    """The instant embargoes are compared with."""
    shown: str | None = None
    """How to name the content folder in messages (defaults to `content` as given)."""
    clean: bool = False
    """Ignore the build cache: render and index everything afresh (`--clean`)."""
    search: bool = True
    """Build the full-text search index (`--no-search` skips it)."""
    jobs: int = field(default_factory=default_jobs)
    """How many processes parse and render (`--jobs`; 1 keeps everything in this one)."""

    @property
    def content_shown(self) -> str:
        """The content folder as the user typed it."""
        return self.shown if self.shown is not None else str(self.content)
