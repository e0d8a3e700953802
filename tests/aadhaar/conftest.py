"""Signed e-Aadhaar documents from the simulator: its TEST PKI, its seeded synthetic users and its
XML renderers (aadhaar-xml.md §4, "Simulator signing"). Key generation is slow, so the PKIs are
made once per session; documents are cheap and made per test."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from digilocker_gateway.aadhaar.verify import TrustedSigners
from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.eaadhaar import render_eaadhaar_xml, render_offline_ekyc_xml
from digilocker_gateway.simulator.model import SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI
from digilocker_gateway.simulator.users import seed_users

IST = timezone(timedelta(hours=5, minutes=30))
GENERATED_AT = datetime(2025, 1, 2, 10, 11, 12, 345000, tzinfo=IST)
SHARE_CODE = "1234"


@pytest.fixture(scope="session")
def pki() -> SimulatorPKI:
    return SimulatorPKI.load_or_create(None)


@pytest.fixture(scope="session")
def other_pki() -> SimulatorPKI:
    """A second, unrelated simulator PKI: a signer nobody pinned."""
    return SimulatorPKI.load_or_create(None)


@pytest.fixture(scope="session")
def trusted(pki: SimulatorPKI) -> TrustedSigners:
    return TrustedSigners.from_pem_bundle(pki.signer_cert_pem)


@pytest.fixture(scope="session")
def users() -> list[SimUser]:
    return seed_users(build_catalogue())


@pytest.fixture
def user(users: list[SimUser]) -> SimUser:
    return next(user for user in users if user.scenario == "complete")


@pytest.fixture
def eaadhaar_xml(user: SimUser, pki: SimulatorPKI) -> bytes:
    return render_eaadhaar_xml(user, pki, GENERATED_AT)


@pytest.fixture
def kycres_xml(user: SimUser, pki: SimulatorPKI) -> bytes:
    return render_eaadhaar_xml(user, pki, GENERATED_AT, root="KycRes")


@pytest.fixture
def offline_xml(user: SimUser, pki: SimulatorPKI) -> bytes:
    return render_offline_ekyc_xml(user, pki, GENERATED_AT, SHARE_CODE)
