"""The synthetic corpus as a Hugo site with the same page families as communique's output.

Statement pages at `/statements/<id>/`; taxonomies `meetings`, `hosts` and `years` (a list of every
term with its count, and one paginated list per term, years grouped by month); the home page with the
latest 20; an RSS feed of the latest 50 with full text; the sitemap; a 404 page. A translation has
its own page but, as in communique, appears in no list (`build.list: never`). Front matter values are
written as JSON, so codes such as `NO` stay strings whatever YAML version Hugo follows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from corpus import Corpus, Statement
from vocabulary import STATEMENT_TYPES

HUGO_CONFIG = """\
baseURL = "https://example.org/statements/"
title = "Joint Statements"
disableKinds = ["robotsTXT"]

[params]
description = "Synthetic joint statements, communiqués and declarations for benchmarking."

[taxonomies]
meeting = "meetings"
host = "hosts"
year = "years"

[pagination]
pagerSize = 50

[permalinks.page]
statements = "/statements/:slug/"

[outputs]
home = ["html", "rss"]
section = ["html"]
taxonomy = ["html"]
term = ["html"]
"""

BASEOF = """\
<!DOCTYPE html>
<html lang="{{ or .Params.statement_lang "en" }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if .IsHome }}{{ site.Title }}{{ else }}{{ .Title }} – {{ site.Title }}{{ end }}</title>
<meta name="description" content="{{ if .IsPage }}{{ with .Params.abstract }}{{ . }}{{ else }}\
{{ .Summary | plainify | truncate 200 }}{{ end }}{{ else }}{{ site.Params.description }}{{ end }}">
<link rel="canonical" href="{{ .Permalink }}">
<link rel="alternate" type="application/rss+xml" title="{{ site.Title }}" href="{{ "index.xml" | absURL }}">
</head>
<body>
<a href="#main">Skip to main content</a>
<header><a href="{{ "" | relURL }}">{{ site.Title }}</a>
<nav aria-label="Main"><ul>
<li><a href="{{ "meetings/" | relURL }}">Meetings</a></li>
<li><a href="{{ "hosts/" | relURL }}">Hosts</a></li>
<li><a href="{{ "years/" | relURL }}">Years</a></li>
</ul></nav></header>
<main id="main">
{{ block "main" . }}{{ end }}
</main>
<footer><p>{{ site.Params.description }}</p></footer>
</body>
</html>
"""

SINGLE = """\
{{ define "main" }}
<article>
<p>{{ .Params.statement_type }}</p>
<h1>{{ .Title }}</h1>
<dl>
<dt>Date</dt><dd>{{ partial "date.html" . }}</dd>
<dt>Issued by</dt><dd>{{ partial "entities.html" .Params.issuers }}</dd>
{{ range .GetTerms "meetings" }}<dt>Meeting</dt>\
<dd><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></dd>{{ end }}
{{ with .Params.location }}<dt>Location</dt><dd>{{ . }}</dd>{{ end }}
{{ with .GetTerms "hosts" }}<dt>Hosts</dt><dd><ul>{{ range . }}\
<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul></dd>{{ end }}
{{ with .Params.participants }}<dt>Participants</dt><dd>{{ partial "entities.html" . }}</dd>{{ end }}
{{ with .Params.observers }}<dt>Observers</dt><dd>{{ partial "entities.html" . }}</dd>{{ end }}
{{ with .Params.people }}<dt>People</dt><dd><ul>{{ range . }}\
<li>{{ .name }}, {{ .role }} ({{ index hugo.Data.entities .country }})</li>{{ end }}</ul></dd>{{ end }}
{{ with .Params.topics }}<dt>Topics</dt><dd><ul>{{ range . }}<li>{{ . }}</li>{{ end }}</ul></dd>{{ end }}
{{ with .Params.translations }}<dt>Languages</dt><dd><ul>{{ range . }}{{ with site.GetPage . }}\
<li><a href="{{ .RelPermalink }}" hreflang="{{ .Params.statement_lang }}">{{ .Title }}</a></li>\
{{ end }}{{ end }}</ul></dd>{{ end }}
{{ with .Params.translation_of }}{{ with site.GetPage . }}<dt>Original</dt>\
<dd><a href="{{ .RelPermalink }}">{{ .Title }}</a></dd>{{ end }}{{ end }}
</dl>
{{ with .Params.release_note }}<p>{{ . }}</p>{{ end }}
<div>
{{ .Content }}
</div>
{{ with .Params.source }}<p>Source: <a href="{{ . }}">{{ . }}</a></p>{{ end }}
{{ with .Params.corrections }}<section><h2>Corrections</h2><ul>{{ range . }}\
<li>{{ .date }}: {{ .note }}</li>{{ end }}</ul></section>{{ end }}
</article>
{{ range first 1 (.GetTerms "meetings") }}{{ $pages := .Pages }}
<section><h2>More from {{ .LinkTitle }}</h2><ul>
{{ with $pages.Next $ }}<li>Previous: <a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}
{{ with $pages.Prev $ }}<li>Next: <a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}
</ul><p><a href="{{ .RelPermalink }}">All {{ len $pages }} statements of this meeting</a></p></section>
{{ end }}
{{ end }}
"""

LIST = """\
{{ define "main" }}
<h1>{{ .Title }}{{ partial "page-note.html" .Paginator }}</h1>
<ol>{{ range .Paginator.Pages }}{{ partialCached "item.html" . .RelPermalink }}{{ end }}</ol>
{{ partial "pager.html" .Paginator }}
{{ end }}
"""

YEAR_TERM = """\
{{ define "main" }}
{{ $pager := .Paginate (.Pages.GroupByDate "January") }}
<h1>Statements of {{ .Title }}{{ partial "page-note.html" $pager }}</h1>
{{ range $pager.PageGroups }}<section><h2>{{ .Key }}</h2>
<ol>{{ range .Pages }}{{ partialCached "item.html" . .RelPermalink }}{{ end }}</ol></section>{{ end }}
{{ partial "pager.html" $pager }}
{{ end }}
"""

TAXONOMY = """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.Alphabetical }}\
<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }}</a> ({{ .Count }})</li>{{ end }}</ul>
{{ end }}
"""

HOME = """\
{{ define "main" }}
<h1>{{ site.Title }}</h1>
<p>{{ site.Params.description }}</p>
<ul>
<li><a href="{{ "meetings/" | relURL }}">By meeting</a> ({{ len site.Taxonomies.meetings }} meetings)</li>
<li><a href="{{ "hosts/" | relURL }}">By host</a> ({{ len site.Taxonomies.hosts }} hosts)</li>
<li><a href="{{ "years/" | relURL }}">By date</a> ({{ len site.Taxonomies.years }} years)</li>
</ul>
<h2>Latest statements</h2>
<ol>{{ range first 20 (where site.RegularPages "Section" "statements") }}\
{{ partialCached "item.html" . .RelPermalink }}{{ end }}</ol>
{{ end }}
"""

RSS = """\
{{ printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<rss version="2.0"><channel>
<title>{{ site.Title }}</title><link>{{ .Permalink }}</link>
<description>{{ site.Params.description }}</description>
{{ range first 50 (where site.RegularPages "Section" "statements") }}
<item><title>{{ .Title }}</title><link>{{ .Permalink }}</link><guid>{{ .Permalink }}</guid>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
<description>{{ .Content | transform.XMLEscape | safeHTML }}</description></item>
{{ end }}
</channel></rss>
"""

NOT_FOUND = """\
{{ define "main" }}<h1>Page not found</h1><p><a href="{{ "" | relURL }}">Home</a></p>{{ end }}
"""

ITEM_MARK = '<li><h2><a href="'
"""How every item of a list page starts (`item.html`)."""

PARTIALS = {
    "date.html": '<time datetime="{{ .Date.Format "2006-01-02" }}">{{ if eq .Params.date_precision '
                 '"month" }}{{ .Date.Format "January 2006" }}{{ else }}{{ .Date.Format "2 January 2006" }}'
                 "{{ end }}</time>\n",
    "entities.html": "<ul>{{ range . }}<li>{{ index hugo.Data.entities . }}</li>{{ end }}</ul>\n",
    "item.html": ITEM_MARK + '{{ .RelPermalink }}">{{ .Title }}</a></h2>\n'
                 '<p>{{ partial "date.html" . }} {{ .Params.statement_type }}'
                 "{{ with .Params.meetings }} {{ index . 0 }}{{ end }}"
                 "{{ with .Params.location }}, {{ . }}{{ end }}</p>\n"
                 "{{ with .Params.abstract }}<p>{{ . }}</p>{{ end }}\n"
                 "{{ with .Params.translations }}<p>Also in: {{ range . }}{{ with site.GetPage . }}"
                 '<a href="{{ .RelPermalink }}">{{ .Params.statement_lang }}</a>{{ end }}{{ end }}'
                 "</p>{{ end }}</li>\n",
    "pager.html": '{{ if gt .TotalPages 1 }}<nav aria-label="Pagination"><ul>{{ $current := . }}'
                  '{{ range .Pagers }}<li><a href="{{ .URL }}"{{ if eq .PageNumber $current.PageNumber }}'
                  ' aria-current="page"{{ end }}>{{ .PageNumber }}</a></li>{{ end }}</ul></nav>{{ end }}\n',
    "page-note.html": "{{ if gt .TotalPages 1 }} (page {{ .PageNumber }} of {{ .TotalPages }}){{ end }}",
}

LAYOUTS = {
    "baseof.html": BASEOF,
    "page.html": SINGLE,
    "section.html": LIST,
    "taxonomy.html": TAXONOMY,
    "term.html": LIST,
    "years/term.html": YEAR_TERM,
    "home.html": HOME,
    "home.rss.xml": RSS,
    "404.html": NOT_FOUND,
    **{f"_partials/{name}": text for name, text in PARTIALS.items()},
}
"""Every layout file, by path inside `layouts/`, named as Hugo's template system of 0.146 and
later looks them up (under the older names in `_default/`, Hugo 0.168 rendered every meeting and
host page with the taxonomy template: a heading over an empty list)."""

MIN_HUGO = "0.146"
"""The first Hugo whose template system `LAYOUTS` is written for."""

BASE_LAYOUT = "baseof.html"
"""The layout every page uses (the one the template-edit case changes)."""


EVERY_FAMILY_CONFIG = """\
contentDir = "../hugo/content"
""" + HUGO_CONFIG.replace("""year = "years"
""", """year = "years"
issuer = "issuers"
participant = "participants"
observer = "observers"
topic = "topics"
""").replace("""home = ["html", "rss"]
""", """home = ["html", "rss", "statementsjson", "statementsjsonl", "statementscsv"]
page = ["html", "citejson", "citebib"]
""") + """
[mediaTypes."application/jsonl"]
suffixes = ["jsonl"]
[mediaTypes."text/x-bibtex"]
suffixes = ["bib"]

[outputFormats.statementsjson]
mediaType = "application/json"
baseName = "statements"
isPlainText = true
[outputFormats.statementsjsonl]
mediaType = "application/jsonl"
baseName = "statements"
isPlainText = true
[outputFormats.statementscsv]
mediaType = "text/csv"
baseName = "statements"
isPlainText = true
[outputFormats.citejson]
mediaType = "application/json"
baseName = "cite"
isPlainText = true
[outputFormats.citebib]
mediaType = "text/x-bibtex"
baseName = "cite"
isPlainText = true

[[cascade]]
outputs = ["html", "rss"]
[cascade.target]
kind = "term"
path = "{/meetings/**,/hosts/**}"
"""
"""The configuration of the Hugo site's twin that writes every family communique writes (see
`write_hugo_twin`): the same statements (its content folder is the Hugo site's), with taxonomies of
issuers, participants, observers and topics, a feed per meeting and per host, a CSL-JSON and a BibTeX
file per statement, and the open data (`statements.json`, `statements.jsonl`, `statements.csv`)."""

RECORD = """\
{{- $names := hugo.Data.entities -}}
{{- $entities := dict -}}
{{- range slice "issuers" "participants" "observers" -}}
{{- $list := slice -}}
{{- range index $.Params . }}{{ $list = $list | append (dict "id" . "name" (index $names .)) }}{{ end -}}
{{- $entities = merge $entities (dict . $list) -}}
{{- end -}}
{{- return dict "id" .Params.slug "url" .Permalink "title" .Title "date" (.Date.Format "2006-01-02") \
"type" .Params.statement_type "lang" .Params.statement_lang "issuers" $entities.issuers \
"meeting" (dict "name" (index (.Params.meetings | default (slice "")) 0) "location" .Params.location \
"hosts" .Params.hosts) "participants" $entities.participants "observers" $entities.observers \
"topics" .Params.topics "summary" .Params.abstract "source" .Params.source -}}
"""

VERSIONS = """\
{{- $versions := slice . -}}
{{- range .Params.translations -}}
{{ with site.GetPage . }}{{ $versions = $versions | append . }}{{ end }}{{ end -}}
{{- return $versions -}}
"""
"""A statement page and its translations' (which are in no page collection, `build.list: never`,
but which communique's open data lists, each after its original)."""

EVERY_STATEMENT = ('{{ range where site.RegularPages "Section" "statements" }}'
                   '{{ range partial "versions.html" . }}')
"""Opens a loop over every statement page, translations included (closed by two `{{ end }}`)."""

CSV = """\
id,url,title,date,type,lang,issuers,meeting,location,hosts,participants,observers,topics,summary,source
""" + EVERY_STATEMENT + """
{{- $row := slice .Params.slug .Permalink .Title (.Date.Format "2006-01-02") .Params.statement_type
  .Params.statement_lang (delimit .Params.issuers ";") (delimit (.Params.meetings | default slice) ";")
  (.Params.location | default "") (delimit (.Params.hosts | default slice) ";")
  (delimit (.Params.participants | default slice) ";") (delimit (.Params.observers | default slice) ";")
  (delimit (.Params.topics | default slice) ";") (.Params.abstract | default "")
  (.Params.source | default "") -}}
{{ range $i, $value := $row }}{{ if $i }},{{ end }}"{{ replace (string $value) `"` `""` }}"{{ end }}
{{ end }}{{ end -}}
"""

CITE_JSON = """\
{{ $authors := slice -}}
{{ range .Params.issuers -}}
{{ $authors = $authors | append (dict "literal" (index hugo.Data.entities .)) }}{{ end -}}
{{ slice (dict "id" .Params.slug "type" "document" "title" .Title "author" $authors
  "issued" (dict "date-parts" (slice (slice .Date.Year (int .Date.Month) .Date.Day)))
  "publisher" site.Title "URL" .Permalink "language" .Params.statement_lang) | jsonify (dict "indent" "  ") }}
"""

EVERY_FAMILY_LAYOUTS = {
    "_partials/record.html": RECORD,
    "_partials/versions.html": VERSIONS,
    "home.statementsjson.json": '{"version": 1, "statements": [{{ $first := true }}' + EVERY_STATEMENT
                                + '{{ if not $first }},{{ end }}{{ $first = false }}\n'
                                '{{ partialCached "record.html" . .RelPermalink | jsonify }}'
                                '{{ end }}{{ end }}\n]}\n',
    "home.statementsjsonl.jsonl": EVERY_STATEMENT + '{{ merge (partialCached "record.html" . .RelPermalink) '
                                  '(dict "markdown" .RawContent "text" .Plain) | jsonify }}\n'
                                  '{{ end }}{{ end }}',
    "home.statementscsv.csv": CSV,
    "page.citejson.json": CITE_JSON,
    "page.citebib.bib": "@misc{ {{- .Params.slug }},\n"
                        "  author = { {{- range $i, $e := .Params.issuers }}{{ if $i }} and {{ end }}"
                        "{ {{- index hugo.Data.entities $e -}} }{{ end -}} },\n"
                        '  title = {{ printf "{{%s}}" .Title }},\n'
                        "  year = { {{- .Date.Year -}} },\n"
                        '  month = {{ lower (.Date.Format "Jan") }},\n'
                        "  day = { {{- .Date.Day -}} },\n"
                        "  howpublished = { {{- site.Title -}} },\n"
                        "  url = { {{- .Permalink -}} },\n"
                        "  language = { {{- .Params.statement_lang -}} }\n}\n",
    "term.rss.xml": RSS.replace('(where site.RegularPages "Section" "statements")', ".Pages"),
}
"""The layouts the twin adds to `LAYOUTS`."""


def page_path(statement: Statement) -> str:
    """The Hugo content path of a statement, as `site.GetPage` takes it."""
    return f"/statements/{statement.year}/{statement.id}"


def hugo_path(site: Path, statement: Statement) -> Path:
    """Where a statement's file lives in the Hugo site."""
    return site / "content" / f"{page_path(statement).lstrip('/')}.md"


def hugo_front_matter(s: Statement, names: dict[str, str]) -> dict[str, Any]:
    """Everything communique reads from the file, under names Hugo does not reserve."""
    matter: dict[str, Any] = {
        "title": s.title, "slug": s.id, "statement_type": STATEMENT_TYPES[s.type],
        "date_precision": "month" if len(s.date) == 7 else "day", "statement_lang": s.lang,
        "issuers": list(s.issuers), "participants": list(s.participants),
        "observers": list(s.observers), "topics": list(s.topics),
        "people": [{"name": p.name, "role": p.role, "country": p.country} for p in s.people],
        "abstract": s.summary, "release_note": s.release_note, "source": s.source,
        "corrections": [{"date": day, "note": note} for day, note in s.corrections],
        "translations": [f"/statements/{s.year}/{t}" for t in s.translations],
    }
    if s.meeting:
        matter["location"] = s.meeting.location
    if s.translation_of:
        matter["translation_of"] = f"/statements/{s.year}/{s.translation_of}"
        matter["build"] = {"list": "never"}
    else:
        matter["years"] = [str(s.year)]
        if s.meeting:
            matter["meetings"] = [s.meeting.name]
            matter["hosts"] = [names[h] for h in s.meeting.hosts]
    return {key: value for key, value in matter.items() if value not in (None, [])}


def write_hugo_statement(site: Path, statement: Statement, names: dict[str, str]) -> None:
    """Write (or overwrite) one statement's page source."""
    date = statement.date if len(statement.date) == 10 else f"{statement.date}-01"
    lines = ["---", f"date: {date}"]
    lines += [f"{key}: {json.dumps(value, ensure_ascii=False)}"
              for key, value in hugo_front_matter(statement, names).items()]
    path = hugo_path(site, statement)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, "---", statement.body]), encoding="utf-8")


def write_hugo_site(corpus: Corpus, site: Path) -> None:
    """A fresh Hugo site holding the whole corpus."""
    _write_frame(corpus, site, HUGO_CONFIG, LAYOUTS)
    for statement in corpus.statements:
        write_hugo_statement(site, statement, corpus.names)


def write_hugo_twin(corpus: Corpus, twin: Path) -> None:
    """A fresh Hugo site beside the one of `write_hugo_site` (whose statements it reads) that
    writes every family communique writes: see `EVERY_FAMILY_CONFIG`. What remains different:
    communique also writes an overview page per country, and gives its open data more fields."""
    _write_frame(corpus, twin, EVERY_FAMILY_CONFIG, {**LAYOUTS, **EVERY_FAMILY_LAYOUTS})


def _write_frame(corpus: Corpus, site: Path, config: str, layouts: dict[str, str]) -> None:
    """A fresh Hugo site folder with its configuration, data and layouts."""
    shutil.rmtree(site, ignore_errors=True)
    (site / "data").mkdir(parents=True)
    (site / "hugo.toml").write_text(config, encoding="utf-8")
    (site / "data" / "entities.json").write_text(json.dumps(corpus.names, ensure_ascii=False),
                                                 encoding="utf-8")
    for name, text in layouts.items():
        path = site / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
