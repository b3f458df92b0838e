"""Read built pages with a real HTML parser: links, text, elements."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Element:
    """A start tag with its attributes."""

    tag: str
    attrs: dict[str, str | None]


@dataclass
class ParsedPage:
    """What a page holds."""

    elements: list[Element] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str, **attrs: str) -> list[Element]:
        """Elements with this tag and these attribute values."""
        return [e for e in self.elements if e.tag == tag
                and all(e.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]

    def links(self) -> list[str]:
        """Every href and src."""
        return [str(e.attrs[a]) for e in self.elements for a in ("href", "src")
                if e.attrs.get(a) is not None]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.elements.append(Element(tag, dict(attrs)))
        if tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def parse_page(path: Path) -> ParsedPage:
    """Parse one HTML file."""
    return parse_html(path.read_text(encoding="utf-8"))


def parse_html(html: str) -> ParsedPage:
    """Parse HTML."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    collector.page.text = " ".join(" ".join(collector.parts).split())
    return collector.page


def resolve_internal(site: Path, base_path: str, href: str, page_url: str) -> Path | None:
    """The file an internal link leads to (None for external links and bare fragments)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = parts.path
    if not path.startswith("/"):
        path = page_url.rsplit("/", 1)[0] + "/" + path
    assert path.startswith(base_path), f"{href} on {page_url} leaves the base path {base_path}"
    target = site / path[len(base_path):]
    return target / "index.html" if path.endswith("/") else target
