"""The validated models every later stage works on: site, entity, person, meeting, statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .dates import PartialDate

EntityKind = Literal["country", "organisation"]

STATEMENT_TYPES: dict[str, str] = {
    "joint-statement": "Joint statement",
    "joint-communique": "Joint communiqué",
    "declaration": "Declaration",
    "chairs-statement": "Chair’s statement",
    "readout": "Readout",
    "statement": "Statement",
}
"""Each statement type and how it is labelled on pages."""

RTL_LANGUAGES = frozenset({"ar", "arc", "dv", "fa", "ha", "he", "khw", "ks", "ku", "ps", "sd",
                           "ur", "yi"})
"""Primary language subtags written right to left."""


def text_direction(lang: str) -> str:
    """`rtl` for right-to-left languages, else `ltr`."""
    return "rtl" if lang.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


@dataclass(frozen=True, slots=True)
class Entity:
    """A country or an international organisation that issues, hosts or attends."""

    id: str
    """ISO 3166-1 alpha-2 code for a country (`IT`, or a site's own such as `XK`); the
    lowercase id of an organisation (`european-union`)."""
    kind: EntityKind
    """country or organisation."""
    name: str
    """The short display name people use: "Italy", "South Korea", "European Union"."""
    slug: str
    """URL segment derived from the name: `italy`, `cote-d-ivoire`."""
    alpha3: str | None = None
    """ISO 3166-1 alpha-3 code, for countries that have one."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named in a statement's metadata."""

    name: str
    """Full name as it should be printed."""
    role: str | None = None
    """Office held at the time: "Deputy Foreign Minister"."""
    country: Entity | None = None
    """The country or organisation the person represented."""


@dataclass(frozen=True, slots=True)
class Meeting:
    """The meeting (or series of meetings) a statement comes from."""

    name: str
    """Name of the series: "Small Group of the Global Coalition to Defeat Daesh/ISIS"."""
    slug: str
    """URL segment of the series page."""
    location: str | None = None
    """City, or "virtual"."""
    hosts: tuple[Entity, ...] = ()
    """Who hosted or chaired: the principal host first, then co-hosts."""
    start: PartialDate | None = None
    """When the meeting began (the statement's date unless given)."""
    end: PartialDate | None = None
    """Last day of a meeting of several days, or None."""


@dataclass(frozen=True, slots=True)
class Correction:
    """One dated entry of a statement's change history."""

    date: PartialDate
    """When the change was made."""
    note: str
    """What changed."""


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A statement's withdrawal: its page stays, under a banner."""

    date: PartialDate
    """When it was withdrawn."""
    reason: str
    """Why."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file published with a statement, at the statement's URL."""

    name: str
    """File name, as published."""
    title: str
    """What it is: "Signed original"."""
    size: int
    """Size in bytes."""
    source: str
    """Where it is on disk."""

    @property
    def kind(self) -> str:
        """The file type as readers know it: "PDF", "DOCX"."""
        return self.name.rpartition(".")[2].upper() if "." in self.name else "file"

    @property
    def human_size(self) -> str:
        """"245 KB", "1.2 MB"."""
        if self.size < 1_000_000:
            return f"{max(1, round(self.size / 1000))} KB"
        return f"{self.size / 1_000_000:.1f} MB"


@dataclass(frozen=True, slots=True)
class Listing:
    """What a list of statements shows of one: list pages are rendered from these alone, so
    they change only when one of these fields does, not when a statement's text does."""

    id: str
    """The statement's id."""
    title: str
    """Its title."""
    date: PartialDate
    """Its date."""
    type_label: str
    """Its type, as shown."""
    lang: str
    """Its language."""
    direction: str
    """`ltr` or `rtl`."""
    meeting_name: str | None
    """The meeting series' name."""
    location: str | None
    """Where the meeting was."""
    summary: str | None
    """The summary."""
    withdrawn: bool = False
    """Whether it was withdrawn (lists mark it)."""
    _hash: int = field(init=False, compare=False, repr=False, default=0)
    """Computed once: listings are hashed for every list page of every build."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.id, self.title, self.date, self.type_label,
                                                self.lang, self.meeting_name, self.location,
                                                self.summary, self.withdrawn)))

    def __hash__(self) -> int:
        return self._hash


Reader = Callable[[int, int], str]
"""Reads `size` bytes at an offset, decoded (see `cache.Spill`)."""


class Body:
    """What a statement says: its HTML, its plain text and its Markdown as written.

    Held in memory, or `kept` in a file by a reader and read again each time it is asked for:
    a build keeps its bodies out of memory that way (they are most of it), and the processes
    that render the pages read each one where it is shown. Bodies compare, hash and pickle by
    what they say, wherever they are kept.
    """

    __slots__ = ("_at", "_parts", "_read", "_sizes")

    def __init__(self, html: str = "", text: str = "", markdown: str = "") -> None:
        self._parts = (html, text, markdown)
        self._read: Reader | None = None
        self._at = 0
        self._sizes = (0, 0, 0)

    @classmethod
    def kept(cls, read: Reader, at: int, sizes: tuple[int, int, int]) -> Body:
        """The body whose three parts lie one after the other from `at`, of `sizes` bytes each."""
        body = cls()
        body._read, body._at, body._sizes = read, at, sizes
        return body

    @property
    def place(self) -> tuple[int, tuple[int, int, int]] | None:
        """Where a kept body lies in its file (see `kept`): the offset and the parts' sizes;
        None for a body held in memory."""
        return (self._at, self._sizes) if self._read is not None else None

    def _part(self, n: int) -> str:
        if self._read is None:
            return self._parts[n]
        return self._read(self._at + sum(self._sizes[:n]), self._sizes[n])

    @property
    def html(self) -> str:
        """The rendered body (the only HTML taken from content); empty when there is none."""
        return self._part(0)

    @property
    def text(self) -> str:
        """Its plain text, for feeds, search and descriptions."""
        return self._part(1)

    @property
    def markdown(self) -> str:
        """The body as written, for the full-text open data."""
        return self._part(2)

    @property
    def empty(self) -> bool:
        """True when nothing but blank lines follows the front matter (a body with HTML is not:
        known without reading a kept body)."""
        has_html = bool(self._sizes[0]) if self._read is not None else bool(self._parts[0])
        return not has_html and not self.markdown.strip()

    def _said(self) -> tuple[str, str, str]:
        return (self.html, self.text, self.markdown)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Body) and self._said() == other._said()

    def __hash__(self) -> int:
        return hash(self._said())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Body, self._said())

    def __repr__(self) -> str:
        return f"Body({self.markdown[:40]!r}…)"


@dataclass(frozen=True, slots=True)
class Statement:
    """One published (or withheld) statement, translations resolved."""

    id: str
    """The file's stem and the permalink segment: `/statements/<id>/`."""
    path: str
    """Source file, as reported in problems."""
    title: str
    """The statement's title."""
    date: PartialDate
    """When it was issued, with its precision."""
    type: str
    """One of STATEMENT_TYPES."""
    issuers: tuple[Entity, ...]
    """Who released the text."""
    body: Body
    """What it says."""
    lang: str
    """BCP 47 language of the text."""
    meeting: Meeting | None = None
    """The meeting the statement comes from."""
    participants: tuple[Entity, ...] = ()
    """Who took part."""
    observers: tuple[Entity, ...] = ()
    """Who attended as observers."""
    people: tuple[Person, ...] = ()
    """People named in the metadata."""
    topics: tuple[str, ...] = ()
    """Free tags."""
    summary: str | None = None
    """One or two sentences for lists, feeds and meta descriptions."""
    release_note: str | None = None
    """The publisher's note, shown apart from the text."""
    source: str | None = None
    """Where the text was first published (http or https URL)."""
    translation_of: str | None = None
    """The id of the original when this is a translation."""
    draft: bool = False
    """Drafts are published only with --drafts."""
    embargo: dt.datetime | None = None
    """Not published before this instant."""
    corrections: tuple[Correction, ...] = ()
    """Dated change history, oldest first."""
    links_to: tuple[str, ...] = ()
    """Ids of the statements its body links to."""
    aliases: tuple[str, ...] = ()
    """Former ids, each published as a redirect."""
    withdrawn: Withdrawal | None = None
    """Set when the statement was withdrawn."""
    attachments: tuple[Attachment, ...] = ()
    """Files published with it."""
    preview: str | None = None
    """Why only a --drafts preview shows it: "draft" or "embargo"; None when it is published."""
    listing: Listing | None = field(default=None, compare=False, repr=False)
    """What lists show of it (always set by the pipeline; see `Listing`)."""
    fingerprint: bytes = field(default=b"", compare=False, repr=False)
    """Digest of everything the statement was made from (its file, its original's, the site's
    settings and files): equal fingerprints mean equal statements, so caches compare these."""
    shape: bytes = field(default=b"", compare=False, repr=False)
    """The same digest with its body and its original's left out (but where its body links
    to kept): two versions of equal shape differ in their bodies alone."""

    @property
    def body_html(self) -> str:
        """The rendered Markdown body (the only HTML taken from content)."""
        return self.body.html

    @property
    def text(self) -> str:
        """The plain text of the body, for feeds and search."""
        return self.body.text

    @property
    def markdown(self) -> str:
        """The body as written, for the full-text open data."""
        return self.body.markdown

    @property
    def direction(self) -> str:
        """`rtl` for right-to-left languages, else `ltr`."""
        return text_direction(self.lang)

    @property
    def listed(self) -> Listing:
        """What lists show of it."""
        assert self.listing is not None, "statements are made with their listing"
        return self.listing

    @property
    def type_label(self) -> str:
        """The type as shown on pages."""
        return STATEMENT_TYPES.get(self.type, self.type)

    @property
    def updated(self) -> PartialDate | None:
        """Date of the latest correction, if any."""
        return max((c.date for c in self.corrections), default=None)

    def sort_key(self) -> tuple[dt.date, str]:
        """Lists sort newest first by the period's start, then by id: negate in callers."""
        return (self.date.start, self.id)


@dataclass(frozen=True, slots=True)
class Site:
    """The site's configuration, from `site.yaml` and the command line."""

    title: str
    """Shown in every page's header and `<title>`."""
    base_url: str
    """Absolute URL of the site's root, ending in `/`."""
    language: str = "en"
    """Default language of statements and of the interface."""
    description: str = ""
    """What the archive is; used on the home page and in the feed."""
    theme_dir: str | None = None
    """Folder of template and asset overrides, relative to the content folder."""

    @property
    def base_path(self) -> str:
        """The URL path of the site's root: `/` or `/statements/`."""
        rest = self.base_url.split("://", 1)[-1]
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else "/"
