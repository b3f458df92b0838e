"""Dates that carry their precision: a day, a month or a year, never an invented day."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

Precision = Literal["day", "month", "year"]

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A calendar date known to the day, the month or only the year."""

    year: int
    """Four-digit year."""
    month: int = 0
    """1–12, or 0 when only the year is known."""
    day: int = 0
    """1–31, or 0 when the day is not known."""

    @property
    def precision(self) -> Precision:
        """How much of the date is known."""
        if self.day:
            return "day"
        return "month" if self.month else "year"

    @property
    def start(self) -> dt.date:
        """The first day of the period."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def iso(self) -> str:
        """The date as written in front matter: `2024-06-04`, `2023-12` or `2023`."""
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def instant(self) -> str:
        """The first instant of the period in UTC, for Atom, sitemaps and JSON-LD."""
        return f"{self.start.isoformat()}T00:00:00Z"

    def human(self, lang: str = "en") -> str:
        """Day first in the given language: "4 June 2024", "December 2023", "2023"."""
        return _format(self, lang)


def parse_date(text: str) -> PartialDate | None:
    """Read `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; None when it is not a real date."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        return None
    year, month, day = (int(g) if g else 0 for g in match.groups())
    if match.group(2) and not 1 <= month <= 12:
        return None
    if match.group(3):
        try:
            dt.date(year, month, day)
        except ValueError:
            return None
    if year < 1000:
        return None
    return PartialDate(year, month, day)


def parse_instant(text: str) -> dt.datetime | None:
    """Read an ISO 8601 date-time with an offset or `Z`; None when invalid or without offset."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value


def load_locale(lang: str) -> None:
    """Load what writing dates in `lang` needs, now: a build does it before it forks the
    processes that render its pages, which then share it instead of each loading it."""
    PartialDate(2000, 1, 1).human(lang)
    PartialDate(2000, 1).human(lang)


@lru_cache(maxsize=64)
def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


@lru_cache(maxsize=1 << 16)
def _format(date: PartialDate, lang: str) -> str:
    """`PartialDate.human`, kept for every date of a large site (25 years of days are about
    9,000 dates, shown on many pages each: Babel takes a hundred times longer to format one)."""
    locale = _locale(lang)
    if date.precision == "day":
        text: str = format_date(date.start, "d MMMM y", locale=locale)
    elif date.precision == "month":
        text = format_skeleton("yMMMM", date.start, locale=locale)
    else:
        text = str(date.year)
    return text


@lru_cache(maxsize=256)
def language_name(lang: str) -> str:
    """The language's own name for itself ("Italiano", "Français"), or the tag if unknown."""
    try:
        name = Locale.parse(lang.replace("-", "_")).get_display_name(lang.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return lang
    return (name[:1].upper() + name[1:]) if name else lang
