"""How to cite a statement, and what machines read about it: a plain-text citation, CSL-JSON,
BibTeX, schema.org JSON-LD and Open Graph."""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup

from .models import Entity, Site, Statement
from .output import statement_url

_BIBTEX_SPECIAL = re.compile(r"([\\{}%&$#_~^])")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def permalink(statement: Statement, site: Site) -> str:
    """The statement's stable URL."""
    return site.base_url + statement_url(statement.id)


def authors(statement: Statement) -> str:
    """The issuers, as a citation names them."""
    return "; ".join(e.name for e in statement.issuers) or statement.type_label


def citation_text(statement: Statement, site: Site) -> str:
    """`United States; Italy. “Title.” December 2023. Site. URL.`"""
    return (f"{authors(statement)}. “{statement.title}.” {statement.date.human(statement.lang)}. "
            f"{site.title}. {permalink(statement, site)}")


def csl_json(statement: Statement, site: Site) -> list[dict[str, Any]]:
    """The statement as a CSL-JSON item (in a list, as reference managers import them)."""
    date = statement.date
    parts = [date.year] + ([date.month] if date.month else []) + ([date.day] if date.day else [])
    return [{
        "id": statement.id,
        "type": "document",
        "title": statement.title,
        "author": [{"literal": e.name} for e in statement.issuers],
        "issued": {"date-parts": [parts]},
        "publisher": site.title,
        "URL": permalink(statement, site),
        "language": statement.lang,
        **({"event-title": statement.meeting.name} if statement.meeting else {}),
        **({"event-place": statement.meeting.location} if statement.meeting and statement.meeting.location
           else {}),
    }]


def _bibtex_text(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(r"\\\1", text)


def bibtex(statement: Statement, site: Site) -> str:
    """The statement as a BibTeX `@misc` entry; each issuer is a corporate author in braces."""
    date = statement.date
    fields = [
        ("author", " and ".join("{" + _bibtex_text(e.name) + "}" for e in statement.issuers)),
        ("title", "{" + _bibtex_text(statement.title) + "}"),
        ("year", str(date.year)),
        *([("month", _MONTHS[date.month - 1])] if date.month else []),
        *([("day", str(date.day))] if date.day else []),
        ("howpublished", _bibtex_text(site.title)),
        ("url", permalink(statement, site)),
        ("language", statement.lang),
    ]
    body = ",\n".join(f"  {name} = {value if name == 'month' else '{' + value + '}'}"
                      for name, value in fields if value)
    return f"@misc{{{statement.id},\n{body}\n}}\n"


def _agent(entity: Entity) -> dict[str, str]:
    return {"@type": "Country" if entity.kind == "country" else "Organization", "name": entity.name}


def json_ld(statement: Statement, site: Site, original: Statement | None) -> Markup:
    """schema.org JSON-LD for a `<script type="application/ld+json">`, safe to inline."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": statement.title[:110],
        "name": statement.title,
        "url": permalink(statement, site),
        "datePublished": statement.date.instant(),
        "inLanguage": statement.lang,
        "author": [_agent(e) for e in statement.issuers],
        "publisher": {"@type": "Organization", "name": site.title},
        "isAccessibleForFree": True,
    }
    if statement.updated:
        data["dateModified"] = statement.updated.instant()
    if statement.summary:
        data["description"] = statement.summary
    if statement.meeting:
        data["about"] = {"@type": "Event", "name": statement.meeting.name,
                         **({"location": statement.meeting.location} if statement.meeting.location else {})}
    if original is not None and original.id != statement.id:
        data["translationOfWork"] = {"@id": permalink(original, site)}
    return Markup(inline_json(data))


def inline_json(data: object) -> str:
    """JSON that cannot end a `<script>` element or open a comment: `<`, `>` and `&` escaped."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
