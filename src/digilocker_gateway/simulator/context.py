"""Everything one simulator app holds: settings, clock, seeded data, state, journeys, faults.

Route handlers are closures over one `SimulatorContext`, so two simulator apps in one process
never share state, and nothing depends on a lifespan (a mounted app's lifespan never runs).
The catalogue, the users and the PKI are built on first use: building them is not free, and
an app that is only constructed (e.g. by the CLI's `--help`) should not pay for it.
"""

from __future__ import annotations

import functools
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.simulator.catalogue import Catalogue, build_catalogue
from digilocker_gateway.simulator.faults import FaultInjector
from digilocker_gateway.simulator.model import SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI
from digilocker_gateway.simulator.settings import SimulatorSettings, StatusProfile
from digilocker_gateway.simulator.state import SimulatorState
from digilocker_gateway.simulator.users import seed_users

JourneyStep = Literal["identify", "otp", "pin", "account", "consent"]


@dataclass(slots=True)
class Journey:
    """One person's walk through the sign-in pages, keyed by `txn` (a hidden form field).

    The options come from authorize (docs/reference/digilocker-partner-api.md §3); `signup`
    also turns true for an unknown Aadhaar number or a user without an account, unless the app
    asked for `dl_flow=signin`.
    """

    txn: str
    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    requested_doctypes: tuple[str, ...]
    signup: bool
    consent_valid_till: datetime
    expires_at: datetime
    signin_only: bool = False  # dl_flow=signin: no sign-up on the way
    pinless_signin: bool = False  # pla=Y
    pinless_signup: bool = False  # pla=Y or plsignup=Y
    usernameless_signup: bool = False  # ulsignup=Y
    purpose: str | None = None
    prefill: str | None = None  # verified_mobile (or login_hint), shown in the identifier box
    verified_mobile: str | None = None
    scopes: tuple[str, ...] = ()  # openid and the resource scopes asked for, without partners.*
    step: JourneyStep = "identify"
    user: SimUser | None = None
    new_account: bool = False
    pin_entered: bool = False
    otp_attempts: int = 0
    pin_attempts: int = 0


@functools.cache
def _catalogue(seed: int) -> Catalogue:
    # Catalogue entries are frozen dataclasses, so apps in one process can share one build.
    return build_catalogue(seed)


@functools.cache
def _ephemeral_pki() -> SimulatorPKI:
    # Without a pki_dir the keys live only in memory; generating RSA keys per app is slow.
    return SimulatorPKI.load_or_create(None)


@dataclass(slots=True)
class SimulatorContext:
    settings: SimulatorSettings
    clock: Clock
    status_profile: StatusProfile
    faults: FaultInjector
    journeys: dict[str, Journey] = field(default_factory=dict)
    issued_at: dict[str, datetime] = field(default_factory=dict)  # uri -> when it was pulled
    _state: SimulatorState | None = None
    _pki: SimulatorPKI | None = None
    _issuers_body: bytes | None = None
    _doctype_names: dict[str, str] | None = None

    @classmethod
    def create(cls, settings: SimulatorSettings, clock: Clock) -> SimulatorContext:
        return cls(
            settings=settings,
            clock=clock,
            status_profile=settings.status_profile,
            faults=FaultInjector(settings.faults),
        )

    @property
    def catalogue(self) -> Catalogue:
        return _catalogue(self.settings.catalogue_seed)

    @property
    def state(self) -> SimulatorState:
        if self._state is None:
            self._state = SimulatorState(
                clock=self.clock,
                apps=self.settings.partner_apps(),
                users=seed_users(self.catalogue),
            )
        return self._state

    @property
    def pki(self) -> SimulatorPKI:
        if self._pki is None:
            directory = self.settings.pki_dir
            self._pki = (
                _ephemeral_pki() if directory is None else SimulatorPKI.load_or_create(directory)
            )
        return self._pki

    def issuers_body(self) -> bytes:
        """The /1/pull/issuers answer, serialised once: about 2,000 entries
        (docs/reference/digilocker-partner-api.md §11)."""
        if self._issuers_body is None:
            issuers = [
                {
                    "orgid": issuer.orgid,
                    "issuerid": issuer.issuerid,
                    "name": issuer.name,
                    "description": issuer.description,
                    "categories": issuer.category,
                }
                for issuer in self.catalogue.issuers
            ]
            self._issuers_body = json.dumps({"issuers": issuers}, separators=(",", ":")).encode()
        return self._issuers_body

    def doctype_name(self, doctype: str) -> str:
        """A display name for a DOCTYPE the app asked for (`req_doctype`), from the catalogue."""
        if self._doctype_names is None:
            names: dict[str, str] = {}
            for issuer in self.catalogue.issuers:
                for entry in issuer.doctypes:
                    names.setdefault(entry.doctype, entry.description)
            self._doctype_names = names
        return self._doctype_names.get(doctype, doctype)

    def new_txn(self) -> str:
        return secrets.token_urlsafe(18)

    def forget_expired_journeys(self) -> None:
        now = self.clock.now()
        for txn in [txn for txn, journey in self.journeys.items() if journey.expires_at <= now]:
            del self.journeys[txn]
