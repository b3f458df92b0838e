"""What readers and researchers get: country and topic pages, citations, JSON-LD and Open
Graph, charts, and feeds per host and per meeting."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import FULL_SITE, NOW, Result
from tests.htmltools import parse_page

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from communique.cli import main

    root = tmp_path_factory.mktemp("readers")
    shutil.copytree(FULL_SITE, root / "content")
    assert main(["build", "--content", str(root / "content"), "--output", str(root / "_site"),
                 "--now", NOW, "--quiet"]) == 0
    return root / "_site"


def test_country_pages_group_by_role(site: Path) -> None:
    index = parse_page(site / "countries/index.html")
    assert "Italy (2 statements)" in index.text  # issued and hosted both Rome statements
    assert index.find("a", href="/countries/european-union/")  # organisations too
    italy = parse_page(site / "countries/italy/index.html")
    assert [h.attrs.get("id") for h in italy.find("h2")] == ["issued", "hosted"]
    assert "Issued (2)" in italy.text and "Hosted (2)" in italy.text
    assert italy.find("a", href="/hosts/italy/")
    us = parse_page(site / "countries/united-states/index.html")
    assert "Co-hosted (3)" in us.text
    kenya = parse_page(site / "countries/kenya/index.html")
    assert "Took part (2)" in kenya.text
    uzbekistan = parse_page(site / "countries/uzbekistan/index.html")
    assert "Observed (1)" in uzbekistan.text


def test_every_mention_links_to_the_entity(site: Path) -> None:
    page = parse_page(site / "statements/2023-12-small-group-rome/index.html")
    for slug in ("united-states", "italy", "burkina-faso", "togo", "uzbekistan"):
        assert page.find("a", href=f"/countries/{slug}/"), slug
    marrakech = parse_page(site / "statements/2022-05-11-small-group-marrakech/index.html")
    assert marrakech.find("a", href="/countries/global-coalition-to-defeat-daesh-isis/")
    assert marrakech.find("a", href="/countries/european-union/")


def test_topics(site: Path) -> None:
    index = parse_page(site / "topics/index.html")
    assert "counterterrorism (1 statement)" in index.text
    assert "european security (4 statements)" in index.text
    topic = parse_page(site / "topics/european-security/index.html")
    assert len(topic.find("li", **{"class": "statement-item"})) == 4
    statement = parse_page(site / "statements/2024-03-15-weimar-triangle/index.html")
    assert statement.find("a", href="/topics/european-security/")


def test_citation_block_and_downloads(site: Path) -> None:
    page = parse_page(site / "statements/2023-12-small-group-rome/index.html")
    assert ("United States; Italy. “Joint Statement on the Small Group of the Global Coalition to "
            "Defeat Daesh/ISIS.” December 2023. Fixture Statements. "
            "https://example.org/statements/2023-12-small-group-rome/") in page.text
    csl = json.loads((site / "statements/2023-12-small-group-rome/cite.json").read_text())
    assert csl[0]["type"] == "document" and csl[0]["issued"] == {"date-parts": [[2023, 12]]}
    assert [a["literal"] for a in csl[0]["author"]] == ["United States", "Italy"]
    bib = (site / "statements/2023-12-small-group-rome/cite.bib").read_text()
    assert bib.startswith("@misc{2023-12-small-group-rome,")
    assert "author = {{United States} and {Italy}}" in bib and "month = dec" in bib
    assert bib.count("{") == bib.count("}")


def test_json_ld_and_open_graph(site: Path) -> None:
    html = (site / "statements/2023-12-small-group-rome-it/index.html").read_text()
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(scripts) == 1
    data = json.loads(scripts[0])
    assert data["@type"] == "Article" and data["inLanguage"] == "it"
    assert data["datePublished"] == "2023-12-01T00:00:00Z"
    assert data["translationOfWork"] == {"@id": "https://example.org/statements/2023-12-small-group-rome/"}
    assert {a["@type"] for a in data["author"]} == {"Country"}
    page = parse_page(site / "statements/2023-12-small-group-rome-it/index.html")
    assert page.find("meta", property="og:type", content="article")
    assert page.find("meta", property="og:url",
                     content="https://example.org/statements/2023-12-small-group-rome-it/")
    assert page.find("meta", property="og:locale", content="it")


def test_json_ld_cannot_close_its_script(cli: Callable[..., Result], write_site: Callable[..., Path],
                                         tmp_path: Path) -> None:
    from tests.conftest import VALID_FRONT, statement

    front = VALID_FRONT.replace("A valid statement", '"</script><script>alert(1)</script>"')
    write_site({"statements/one.md": statement(front + 'summary: "<!-- & -->"\n')})
    assert cli("build", "--quiet").status == 0
    html = (tmp_path / "_site/statements/one/index.html").read_text()
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    assert json.loads(scripts[0])["name"] == "</script><script>alert(1)</script>"
    assert "<!--" not in scripts[0]


class _Charts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.svg: list[str] = []
        self.capturing = False
        self.cells: list[str] = []
        self.in_td = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.capturing = True
        if self.capturing:
            attributes = "".join(f' {k}="{v}"' for k, v in attrs)
            self.svg.append(f"<{tag}{attributes}>")
        self.in_td = tag == "td"

    def handle_endtag(self, tag: str) -> None:
        if self.capturing:
            self.svg.append(f"</{tag}>")
        if tag == "svg":
            self.capturing = False
        self.in_td = False

    def handle_data(self, data: str) -> None:
        if self.capturing:
            self.svg.append(data)
        elif self.in_td:
            self.cells.append(data)


def test_archive_chart_and_its_table(site: Path) -> None:
    charts = _Charts()
    charts.feed((site / "archive/index.html").read_text())
    svg = ET.fromstring("".join(charts.svg).replace("<svg", f'<svg xmlns="{SVG[1:-1]}"', 1))
    assert svg.get("role") == "img"
    assert svg.findtext(f"{SVG}title") == "Statements per year"
    assert "bar chart" in (svg.findtext(f"{SVG}desc") or "")
    labels = svg.get("aria-labelledby", "").split()
    assert len(labels) == 2
    bars = [int(float(r.get("height", 0))) for r in svg.iter(f"{SVG}rect")]
    assert len(bars) == 4  # 2016, 2022, 2023, 2024 (years between at zero have no bar)
    table = dict(zip(charts.cells[0::2], charts.cells[1::2], strict=True))
    assert table["2016"] == "1" and table["2017"] == "0" and table["2024"] == "6"
    assert len(table) == 9  # every year from 2016 to 2024


def test_feeds_per_host_and_meeting(site: Path) -> None:
    feed = ET.parse(site / "meetings/weimar-triangle/feed.xml").getroot()
    assert len(feed.findall(f"{ATOM}entry")) == 4
    self_link = next(e for e in feed.findall(f"{ATOM}link") if e.get("rel") == "self")
    assert self_link.get("href") == "https://example.org/meetings/weimar-triangle/feed.xml"
    host = ET.parse(site / "hosts/italy/feed.xml").getroot()
    assert {e.findtext(f"{ATOM}id") for e in host.findall(f"{ATOM}entry")} == {
        "https://example.org/statements/2023-12-small-group-rome/",
        "https://example.org/statements/2016-02-02-small-group-rome/"}
    page = parse_page(site / "meetings/weimar-triangle/index.html")
    assert page.find("link", rel="alternate", type="application/atom+xml",
                     href="/meetings/weimar-triangle/feed.xml")
    assert parse_page(site / "hosts/italy/index.html").find("link", rel="alternate",
                                                           href="/hosts/italy/feed.xml")
