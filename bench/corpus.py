"""A deterministic synthetic corpus of joint statements: models and generation.

The same size and seed always give the same corpus; `synth.py` writes it out.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

import pycountry
from bodies import english_body, french_body
from vocabulary import (
    FIRST_NAMES,
    FRENCH_TYPES,
    HOST_CAPITALS,
    LAST_NAMES,
    MEETING_KINDS,
    ORGANISATIONS,
    REGIONS,
    ROLES,
    STATEMENT_TYPES,
    SUBJECTS,
    TOPICS,
    TYPE_WEIGHTS,
)

DEFAULT_SEED = 2024
STATEMENTS_PER_SERIES = 50
TRANSLATION_SHARE = 0.05
MEETING_SHARE = 0.9
MONTH_PRECISION_SHARE = 0.1
FIRST_YEAR, LAST_YEAR = 2000, 2024


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named in a statement."""

    name: str
    """Full name."""
    role: str
    """Office held."""
    country: str
    """ISO alpha-2 code."""


@dataclass(frozen=True, slots=True)
class Meeting:
    """The meeting a statement comes from."""

    name: str
    """The series' name."""
    location: str
    """City, or "virtual"."""
    hosts: tuple[str, ...]
    """Principal host first, then co-hosts (ISO alpha-2 codes)."""


@dataclass(frozen=True, slots=True)
class Series:
    """A recurring meeting."""

    name: str
    """Display name."""
    key: str
    """Short slug used inside statement ids."""
    hosts: tuple[str, ...]
    """The countries that take turns hosting it."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One synthetic statement; a translation carries its original's fields too."""

    id: str
    """File stem."""
    title: str
    """Title."""
    date: str
    """As written: YYYY-MM-DD or YYYY-MM."""
    type: str
    """Statement type."""
    issuers: tuple[str, ...]
    """Country codes and organisation ids."""
    meeting: Meeting | None
    """The meeting, if any."""
    participants: tuple[str, ...]
    """Country codes and organisation ids."""
    observers: tuple[str, ...]
    """Country codes."""
    people: tuple[Person, ...]
    """People named."""
    topics: tuple[str, ...]
    """Free tags."""
    summary: str | None
    """One sentence, or none."""
    release_note: str | None
    """The publisher's note, or none."""
    source: str | None
    """Where it was first published, or none."""
    corrections: tuple[tuple[str, str], ...]
    """(date, note) pairs."""
    body: str
    """Markdown text."""
    lang: str = "en"
    """Language of the text."""
    translation_of: str | None = None
    """The original's id, for a translation."""
    translations: tuple[str, ...] = ()
    """Ids of this statement's translations."""

    @property
    def year(self) -> int:
        """The year issued (the folder it is filed in)."""
        return int(self.date[:4])


@dataclass(frozen=True, slots=True)
class Corpus:
    """Every synthetic statement, and the display names of every entity they name."""

    statements: tuple[Statement, ...]
    """Originals first, then translations."""
    names: dict[str, str]
    """Country code or organisation id → display name."""


def slugify(text: str) -> str:
    """Lowercase ASCII letters and digits, other runs turned into one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def entity_names() -> dict[str, str]:
    """Every pycountry country (by alpha-2 code) and every organisation used, with its name."""
    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names.update(ORGANISATIONS)
    return dict(sorted(names.items()))


def make_series(rng: random.Random, count: int) -> list[Series]:
    """`count` distinct meeting series, each with its own pool of host countries."""
    combos = [(kind, subject, region) for kind in MEETING_KINDS for subject in SUBJECTS
              for region in REGIONS]
    rng.shuffle(combos)
    hosts = sorted(HOST_CAPITALS)
    series = []
    for number, (kind, subject, region) in enumerate(combos[:count]):
        pool = tuple(rng.sample(hosts, rng.randint(1, 4)))
        key = f"{slugify(subject)[:24].rstrip('-')}-{number}"
        series.append(Series(f"{kind} {subject} in {region}", key, pool))
    return series


def make_date(rng: random.Random) -> str:
    """A date with day precision, or (sometimes) month precision."""
    year, month = rng.randint(FIRST_YEAR, LAST_YEAR), rng.randint(1, 12)
    if rng.random() < MONTH_PRECISION_SHARE:
        return f"{year}-{month:02d}"
    return f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def make_meeting(rng: random.Random, series: Series) -> Meeting:
    """One meeting of `series`: a host from its pool, sometimes co-hosts."""
    principal = rng.choice(series.hosts)
    others = [h for h in sorted(HOST_CAPITALS) if h != principal]
    cohosts = rng.sample(others, rng.choice((0, 0, 1, 1, 2)))
    location = "virtual" if rng.random() < 0.05 else HOST_CAPITALS[principal]
    return Meeting(series.name, location, (principal, *cohosts))


def make_parties(rng: random.Random, meeting: Meeting | None,
                 countries: list[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(issuers, participants, observers)."""
    issuers = list(meeting.hosts) if meeting else rng.sample(sorted(HOST_CAPITALS), rng.randint(2, 4))
    if rng.random() < 0.1:
        issuers.append(rng.choice(sorted(ORGANISATIONS)))
    taken = set(issuers)
    pool = [c for c in countries if c not in taken]
    chosen = rng.sample(pool, rng.randint(3, 20) + 3)
    participants, observers = chosen[3:], chosen[:rng.choice((0, 0, 1, 2, 3))]
    if rng.random() < 0.15:
        participants.append(rng.choice(sorted(set(ORGANISATIONS) - taken)))
    return tuple(issuers), tuple(participants), tuple(observers)


def make_people(rng: random.Random, issuers: tuple[str, ...]) -> tuple[Person, ...]:
    """Zero to three people, each from an issuing country."""
    countries = [i for i in issuers if i.isupper()]
    return tuple(Person(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", rng.choice(ROLES),
                        rng.choice(countries))
                 for _ in range(rng.choice((0, 1, 2, 3)) if countries else 0))


def make_statement(rng: random.Random, number: int, series: list[Series], weights: list[float],
                   names: dict[str, str]) -> Statement:
    """The `number`th original statement."""
    date = make_date(rng)
    chosen = rng.choices(series, weights)[0] if rng.random() < MEETING_SHARE else None
    meeting = make_meeting(rng, chosen) if chosen else None
    kind = rng.choices(list(STATEMENT_TYPES), TYPE_WEIGHTS)[0]
    issuers, participants, observers = make_parties(rng, meeting, [c for c in names if c.isupper()])
    topics = tuple(rng.sample(TOPICS, rng.randint(1, 3)))
    key = chosen.key if chosen else "joint-statement"
    title = (f"{STATEMENT_TYPES[kind]} of the {meeting.name}" if meeting
             else f"{STATEMENT_TYPES[kind]} on {rng.choice(SUBJECTS)}")
    partners = tuple(names[p] for p in participants)
    return Statement(
        id=f"{date}-{key}-{number}", title=title, date=date, type=kind, issuers=issuers,
        meeting=meeting, participants=participants, observers=observers,
        people=make_people(rng, issuers), topics=topics,
        summary=make_summary(meeting, topics, names) if rng.random() < 0.7 else None,
        release_note=make_release_note(issuers, names) if rng.random() < 0.3 else None,
        source=f"https://example.org/press/{number}" if rng.random() < 0.5 else None,
        corrections=((f"{int(date[:4]) + 1}-01-15", "Corrected the list of participants."),)
        if rng.random() < 0.05 else (),
        body=english_body(rng, topics, partners))


def make_summary(meeting: Meeting | None, topics: tuple[str, ...], names: dict[str, str]) -> str:
    """One sentence for lists and feeds."""
    subject = ", ".join(t.replace("-", " ") for t in topics)
    if meeting is None:
        return f"Partners set out a common position on {subject}."
    return f"{names[meeting.hosts[0]]} hosted the {meeting.name}; partners discussed {subject}."


def make_release_note(issuers: tuple[str, ...], names: dict[str, str]) -> str:
    """The publisher's note."""
    return ("The text of the following statement was released by "
            + " and ".join(names[i] for i in issuers) + ".")


def make_translation(rng: random.Random, original: Statement) -> Statement:
    """A French translation of `original`, inheriting its fields."""
    title = f"{FRENCH_TYPES[original.type]} ({original.title})"
    return replace(original, id=f"{original.id}-fr", title=title, lang="fr",
                   translation_of=original.id, body=french_body(rng), translations=())


def generate_corpus(size: int, seed: int = DEFAULT_SEED) -> Corpus:
    """`size` statement files, about 5% of them translations, about size/50 meeting series."""
    rng = random.Random(f"communique-bench-{seed}-{size}")
    names = entity_names()
    series = make_series(rng, max(1, size // STATEMENTS_PER_SERIES))
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(series))]
    originals: list[Statement] = []
    translations: dict[str, Statement] = {}
    for number in range(size):
        if originals and rng.random() < TRANSLATION_SHARE:
            original = rng.choice(originals)
            if original.id not in translations:
                translations[original.id] = make_translation(rng, original)
                continue
        originals.append(make_statement(rng, number, series, weights, names))
    linked = tuple(replace(s, translations=(translations[s.id].id,)) if s.id in translations else s
                   for s in originals)
    return Corpus(linked + tuple(translations.values()), names)
