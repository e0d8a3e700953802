"""Text from outside (DigiLocker's error descriptions, callback parameters), made safe to log
and to put in a redirect URL."""

from __future__ import annotations

# Long enough for any real message, short enough for a log line or a query parameter.
MAX_OUTSIDE_TEXT = 200


def printable_prefix(text: str | None, limit: int = MAX_OUTSIDE_TEXT) -> str:
    """`text` without control or other unprintable characters, cut to `limit` characters."""
    if not text:
        return ""
    return "".join(ch for ch in text if ch.isprintable())[:limit]
