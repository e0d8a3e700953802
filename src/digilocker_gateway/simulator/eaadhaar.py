"""Signed synthetic e-Aadhaar XML, shaped exactly like DigiLocker's
(docs/reference/aadhaar-xml.md §1, §2).

Variant A (`/3/xml/eaadhaar`): Certificate/CertificateData/KycRes/UidData, signed by the
simulator PKI the way DigiLocker signs it (docs/reference/aadhaar-xml.md §4.2); variant A' puts the
Signature inside a bare KycRes root. Variant B is UIDAI's Offline Paperless e-KYC with the
e/m hashes and inclusive C14N. Attributes are inserted alphabetically and empty ones left
out, as in real files. The output is deterministic for the same user, PKI and `now`.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone
from typing import Literal

from lxml import etree

from digilocker_gateway.simulator.model import Address, SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI

IST = timezone(timedelta(hours=5, minutes=30))


def _element(parent: etree._Element | None, tag: str, **attributes: str) -> etree._Element:
    # Real files list attributes alphabetically and omit empty ones
    # (docs/reference/aadhaar-xml.md §1).
    present = {name: attributes[name] for name in sorted(attributes) if attributes[name]}
    if parent is None:
        return etree.Element(tag, present)
    return etree.SubElement(parent, tag, present)


def _dob(ddmmyyyy: str) -> str:
    # DigiLocker profile dates are DDMMYYYY; Aadhaar XML writes DD-MM-YYYY
    # (docs/reference/aadhaar-xml.md §1, Poi).
    return f"{ddmmyyyy[:2]}-{ddmmyyyy[2:4]}-{ddmmyyyy[4:]}"


def _ist(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    return now.astimezone(IST)


def _plus_one_year(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 1, day=28)


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def _photo(user: SimUser) -> str:
    return base64.b64encode(user.photo_jpeg).decode("ascii")


def masked_uid(aadhaar: str) -> str:
    """`xxxxxxxx` + last four digits, lower-case x, as in `UidData@uid`
    (docs/reference/aadhaar-xml.md §1)."""
    return "xxxxxxxx" + aadhaar[-4:]


def _poa_attributes(address: Address, *, offline: bool) -> dict[str, str]:
    # The offline format spells care-of and landmark out (docs/reference/aadhaar-xml.md §2).
    return {
        "careof" if offline else "co": address.co,
        "country": address.country,
        "dist": address.dist,
        "house": address.house,
        "landmark" if offline else "lm": address.lm,
        "loc": address.loc,
        "pc": address.pc,
        "po": address.po,
        "state": address.state,
        "street": address.street,
        "subdist": address.subdist,
        "vtc": address.vtc,
    }


def _kyc_res(parent: etree._Element | None, user: SimUser, now: datetime) -> etree._Element:
    ts = _ist(now)
    stamp = ts.strftime("%Y%m%d%H%M%S")
    seed = (user.aadhaar, ts.isoformat())
    kyc_res = _element(
        parent,
        "KycRes",
        code=_digest("code", *seed).hex()[:32],
        ret="Y",
        ts=ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+05:30",
        ttl=_plus_one_year(ts).strftime("%Y-%m-%dT%H:%M:%S"),
        txn="UKC:" + _digest("txn", *seed).hex()[:32] + stamp,
    )
    # tkn is UIDAI's opaque per-AUA UID token (~72 characters starting 0100,
    # docs/reference/aadhaar-xml.md §1); ours is a stable hash of the synthetic number, so it means
    # nothing outside the simulator.
    token = base64.b64encode(_digest("tkn", user.aadhaar) + _digest("tkn2", user.aadhaar)[:16])
    uid_data = _element(
        kyc_res, "UidData", tkn="01002274" + token.decode("ascii"), uid=masked_uid(user.aadhaar)
    )
    _element(uid_data, "Poi", dob=_dob(user.dob), gender=user.gender, name=user.name)
    _element(uid_data, "Poa", **_poa_attributes(user.address, offline=False))
    _element(uid_data, "LData")  # no local-language data: real files then carry <LData/>
    _element(uid_data, "Pht").text = _photo(user)
    return kyc_res


def render_eaadhaar_xml(
    user: SimUser,
    pki: SimulatorPKI,
    now: datetime,
    *,
    root: Literal["Certificate", "KycRes"] = "Certificate",
) -> bytes:
    """The user's signed e-Aadhaar: variant A (root Certificate) or A' (root KycRes)."""
    if root == "Certificate":
        document = etree.Element("Certificate")
        _kyc_res(etree.SubElement(document, "CertificateData"), user, now)
    else:
        document = _kyc_res(None, user, now)
    return pki.sign_enveloped(document, c14n="exclusive")


def mobile_email_hash(value: str, share_code: str, last_digit: int) -> str:
    """UIDAI's offline e-KYC e/m hash (docs/reference/aadhaar-xml.md §2.1), as 64 lower-case hex
    characters.

    SHA-256 of `value + share_code`, applied `last_digit` times (0 or 1: once); each further
    round hashes the lower-case hex text of the previous digest, as working decoders do.
    """
    if not 0 <= last_digit <= 9:
        raise ValueError("last_digit is the last digit of an Aadhaar number (0-9)")
    digest = hashlib.sha256((value + share_code).encode()).hexdigest()
    for _ in range(max(last_digit, 1) - 1):
        digest = hashlib.sha256(digest.encode()).hexdigest()
    return digest


def render_offline_ekyc_xml(
    user: SimUser, pki: SimulatorPKI, now: datetime, share_code: str
) -> bytes:
    """Variant B, UIDAI's OfflinePaperlessKyc, signed with inclusive C14N 1.0
    (docs/reference/aadhaar-xml.md §2); simulator/offline_ekyc.py puts it in its ZIP."""
    ts = _ist(now)
    last_digit = int(user.aadhaar[-1])
    document = _element(
        None,
        "OfflinePaperlessKyc",
        referenceId=user.aadhaar[-4:]
        + ts.strftime("%Y%m%d%H%M%S")
        + f"{ts.microsecond // 1000:03d}",
    )
    uid_data = _element(document, "UidData")
    _element(
        uid_data,
        "Poi",
        dob=_dob(user.dob),
        e=mobile_email_hash(user.email, share_code, last_digit) if user.email else "",
        gender=user.gender,
        m=mobile_email_hash(user.mobile, share_code, last_digit) if user.mobile else "",
        name=user.name,
    )
    _element(uid_data, "Poa", **_poa_attributes(user.address, offline=True))
    _element(uid_data, "Pht").text = _photo(user)
    return pki.sign_enveloped(document, c14n="inclusive")
