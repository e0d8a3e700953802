"""The simulator's mutable state: registered partner apps, journeys in progress, authorization
codes, grants and their tokens, each user's issued documents and drive, and accounts made.

One `SimulatorState` per simulator app, in memory: the simulator is a single-process dev tool.
Everything that expires compares against `self.clock`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.simulator.drive import Drive, seed_drive
from digilocker_gateway.simulator.model import SimDocument, SimUser


@dataclass(frozen=True, slots=True)
class PartnerApp:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass(slots=True)
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    grant_id: str
    expires_at: datetime
    used: bool = False


@dataclass(slots=True)
class Grant:
    """What one user consented to for one partner app; tokens hang off it, revoke cascades."""

    grant_id: str
    client_id: str
    user: SimUser
    scope: tuple[str, ...]  # e.g. ("files.issueddocs", "userdetails", "partners.PANCR")
    consented_doctypes: frozenset[str]  # doctypes the user ticked on the consent screen
    new_account: bool
    consent_valid_till: (
        datetime  # the grant ends then (docs/reference/digilocker-partner-api.md §3)
    )
    purpose: str | None = None  # authorize's `purpose`, echoed in the token answer
    revoked: bool = False
    # docs/reference/digilocker-partner-api.md §4: 32 hex characters, transient; a new one per
    # grant.
    reference_key: str = field(default_factory=lambda: secrets.token_hex(16))


@dataclass(slots=True)
class AccessToken:
    token: str
    grant_id: str
    expires_at: datetime
    revoked: bool = False


@dataclass(slots=True)
class RefreshToken:
    token: str
    grant_id: str
    revoked: bool = False


def new_token() -> str:
    """40 lower-case hex characters, the shape of DigiLocker's sample tokens
    (docs/reference/digilocker-partner-api.md §4)."""
    return secrets.token_hex(20)


@dataclass(slots=True)
class SimulatorState:
    clock: Clock
    apps: dict[str, PartnerApp]
    users: list[SimUser]
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    drives: dict[str, Drive] = field(default_factory=dict)  # by digilockerid, made on first use
    # Accounts made by sign-up in this process (digilockerid -> when), for /statistics/1/counts.
    registered_at: dict[str, datetime] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)  # digilockerid -> chosen username

    def user_by_identifier(self, identifier: str) -> SimUser | None:
        """Find a user by Aadhaar number (only when linked) or mobile number."""
        for user in self.users:
            if identifier == user.mobile or (user.aadhaar_linked and identifier == user.aadhaar):
                return user
        return None

    def account_for(self, *, uid: str | None, mobile: str | None) -> SimUser | None:
        """The account an Aadhaar number (only when linked) or else a mobile number belongs to;
        a user who has not signed up yet has none."""
        accounts = [user for user in self.users if user.has_account]
        by_uid = next((u for u in accounts if u.aadhaar_linked and u.aadhaar == uid), None)
        return by_uid or next(
            (u for u in accounts if mobile is not None and u.mobile == mobile), None
        )

    def grant_for_access_token(self, token: str) -> Grant | None:
        """The live grant behind a Bearer token, or None if unknown, expired or revoked, or if
        the user's consent has run out (`consent_valid_till`)."""
        access = self.access_tokens.get(token)
        now = self.clock.now()
        if access is None or access.revoked or access.expires_at <= now:
            return None
        grant = self.grants.get(access.grant_id)
        if grant is None or grant.revoked or grant.consent_valid_till <= now:
            return None
        return grant

    def drive_for(self, user: SimUser) -> Drive:
        drive = self.drives.get(user.digilockerid)
        if drive is None:
            drive = self.drives[user.digilockerid] = seed_drive(user)
        return drive

    def document_by_uri(self, user: SimUser, uri: str) -> SimDocument | None:
        """One of this user's issued documents; another user's URI is as unknown as a bad one."""
        for document in user.documents:
            if document.issued and document.uri == uri:
                return document
        return None

    def revoke_grant(self, grant_id: str) -> None:
        """Revoking any token of a grant kills the whole grant
        (docs/reference/digilocker-partner-api.md §13)."""
        grant = self.grants.get(grant_id)
        if grant is not None:
            grant.revoked = True
        for access in self.access_tokens.values():
            if access.grant_id == grant_id:
                access.revoked = True
        for refresh in self.refresh_tokens.values():
            if refresh.grant_id == grant_id:
                refresh.revoked = True
