"""Small, forgiving readers over a parsed certificate tree.

Issuers fill DigiLocker's certificate format unevenly (docs/reference/digilocker-partner-api.md
§21): attribute names differ in case and spelling between issuers, and any of them may be
missing. These helpers look attributes up case-insensitively under several names and treat an
empty value as absent, so a parser reads what is there and never fails on what is not.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from digilocker_gateway.identity.dates import parse_date

# Longest text value the data keeps (a photo is handled on its own): anything longer is not a
# name, a number or a date, and is dropped rather than echoed back.
MAX_VALUE = 500


def local_name(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def attribute(element: etree._Element | None, *names: str) -> str | None:
    """The first non-empty attribute among `names`, compared without case."""
    if element is None:
        return None
    wanted = [name.lower() for name in names]
    present = {str(key).rsplit("}", 1)[-1].lower(): str(value) for key, value in element.items()}
    for name in wanted:
        value = present.get(name, "").strip()
        if value:
            return value if len(value) <= MAX_VALUE else None
    return None


def children(element: etree._Element | None, *names: str) -> Iterator[etree._Element]:
    """Direct children whose tag is one of `names`, compared without case."""
    if element is None:
        return
    wanted = {name.lower() for name in names}
    for child in element:
        if local_name(child).lower() in wanted:
            yield child


def first(element: etree._Element | None, *names: str) -> etree._Element | None:
    return next(children(element, *names), None)


def descendants(element: etree._Element | None, *names: str) -> Iterator[etree._Element]:
    """Elements anywhere below `element` whose tag is one of `names`, compared without case."""
    if element is None:
        return
    wanted = {name.lower() for name in names}
    for child in element.iter():
        if child is not element and local_name(child).lower() in wanted:
            yield child


def anywhere(element: etree._Element | None, *names: str) -> str | None:
    """The first non-empty attribute among `names` on `element` or any element below it."""
    if element is None:
        return None
    for candidate in element.iter():
        if isinstance(candidate.tag, str):
            value = attribute(candidate, *names)
            if value is not None:
                return value
    return None


def text_of(element: etree._Element | None) -> str | None:
    """The element's text without whitespace (base64 photos are wrapped over lines)."""
    if element is None:
        return None
    text = "".join("".join(element.itertext()).split())
    return text or None


def as_date(value: str | None) -> str | None:
    """`DD-MM-YYYY` when the value is a date in a known shape, else the value as written."""
    if value is None:
        return None
    parsed = parse_date(value)
    return parsed.dd_mm_yyyy() if parsed is not None else value
