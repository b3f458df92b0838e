"""The site's configuration: `site.yaml`, read into a `Site` and checked."""

from __future__ import annotations

from pathlib import Path

from .discover import shown_path
from .entities import Registry
from .fields import Reader
from .frontmatter import decode_text, parse_yaml
from .models import Site
from .problems import Problem

SITE_FILE = "site.yaml"
SITE_FIELDS: dict[str, str] = {
    "title": "The site's name, shown in every page's header and title (required).",
    "base_url": "Absolute URL of the site's root, such as https://example.org/statements/ (required).",
    "language": "Language of the interface and default language of statements (default en).",
    "description": "What the archive holds; shown on the home page and in the feed.",
    "theme_dir": "Folder, inside the content folder, of templates and assets overriding the theme.",
}
"""Every key of `site.yaml` and what it does."""


def normalise_base_url(url: str) -> str:
    """The base URL with exactly one trailing slash."""
    return url.rstrip("/") + "/"


def load_site(content: Path, shown: str, base_url: str | None = None) -> tuple[Site | None, list[Problem]]:
    """Read `site.yaml`; `base_url` (from the command line) overrides the file's."""
    path = shown_path(content, shown, SITE_FILE)
    file = content / SITE_FILE
    if not file.is_file():
        return None, [Problem(path, None, None, "the content folder has no site.yaml",
                              hint="create it with at least 'title:' and 'base_url:'")]
    text, problems = decode_text(path, file.read_bytes())
    if text is None:
        return None, problems
    root, problems = parse_yaml(path, text, first_line=1)
    if root is None:
        return None, problems
    reader = Reader(path, Registry())
    reader.unknown_keys(root, tuple(SITE_FIELDS))
    values: dict[str, str] = {}
    entries = root.entries
    for key in ("title", "description", "theme_dir"):
        if key in entries and (value := reader.text(entries[key][1], key)):
            values[key] = value
    if "language" in entries and (lang := reader.language(entries["language"][1], "language")):
        values["language"] = lang
    if base_url is None and "base_url" in entries:
        base_url = reader.url(entries["base_url"][1], "base_url")
    for key in ("title", "base_url"):
        if key not in entries and not (key == "base_url" and base_url):
            reader.problems.append(Problem(path, None, None, f"site.yaml has no '{key}'", key,
                                           SITE_FIELDS[key]))
    theme = values.get("theme_dir")
    if theme and not (content / theme).resolve().is_relative_to(content.resolve()):
        node = entries["theme_dir"][1]
        reader.problems.append(Problem(path, node.line, node.column,
                                       f"'theme_dir' must be a folder inside the content folder, found "
                                       f"{theme!r}", "theme_dir", "move the theme into content/"))
    if reader.problems:
        return None, reader.problems
    return Site(
        title=values["title"],
        base_url=normalise_base_url(base_url or "/"),
        language=values.get("language", "en"),
        description=values.get("description", ""),
        theme_dir=values.get("theme_dir"),
    ), []
