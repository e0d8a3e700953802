"""The one list of a request's statuses: Setu's `status` values, stored as they are shown."""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    UNAUTHENTICATED = "unauthenticated"  # created; the user has not (yet) consented
    AUTHENTICATED = "authenticated"  # the user consented; tokens are held
    REVOKED = "revoked"  # access was revoked; tokens and files are gone
