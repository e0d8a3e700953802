"""Dates of birth as documents write them (docs/identity-match.md §3).

Aadhaar XML and DigiLocker certificates write `DD-MM-YYYY`, DigiLocker's profile `DDMMYYYY`
(docs/reference/aadhaar-xml.md §4.1, pitfall 8), callers anything. Some Aadhaar records hold only
the year of birth, so a bare year is a date too, with no day or month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["BirthDate", "age_on", "parse_date"]

_DAY_FIRST = re.compile(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:T.*)?")
_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{4})")
_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date, or only a year (`month` and `day` None)."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def full(self) -> bool:
        return self.month is not None and self.day is not None

    def dd_mm_yyyy(self) -> str:
        """`DD-MM-YYYY`, as Setu writes dates (docs/reference/setu-api.md §8); a lone year as is."""
        if self.month is None or self.day is None:
            return f"{self.year:04d}"
        return f"{self.day:02d}-{self.month:02d}-{self.year:04d}"


def parse_date(text: str) -> BirthDate | None:
    """The date in `text`, or None if it is none of the shapes above or no real day."""
    value = text.strip()
    parts: tuple[str, str, str] | None = None
    if match := _DAY_FIRST.fullmatch(value):
        day, month, year = match.groups()
        parts = (year, month, day)
    elif match := _ISO.fullmatch(value):
        parts = (match.group(1), match.group(2), match.group(3))
    elif match := _COMPACT.fullmatch(value):
        day, month, year = match.groups()
        parts = (year, month, day)
    elif _YEAR.fullmatch(value):
        year_only = int(value)
        return BirthDate(year_only) if 1850 <= year_only <= 2200 else None
    if parts is None:
        return None
    year, month, day = (int(part) for part in parts)
    try:
        date(year, month, day)
    except ValueError:
        return None
    return BirthDate(year, month, day)


def age_on(born: BirthDate, today: date) -> int:
    """Completed years on `today`. A year alone counts from its last day, the youngest the
    person can be, so that an age threshold is never passed too early."""
    month = born.month if born.month is not None else 12
    day = born.day if born.day is not None else 31
    had_birthday = (today.month, today.day) >= (month, day)
    return today.year - born.year - (0 if had_birthday else 1)
