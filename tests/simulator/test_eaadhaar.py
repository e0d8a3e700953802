"""Signed e-Aadhaar XML: DigiLocker's shape (aadhaar-xml.md §1, §2) and a verifiable signature."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lxml import etree
from signxml.exceptions import InvalidSignature

from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.eaadhaar import (
    mobile_email_hash,
    render_eaadhaar_xml,
    render_offline_ekyc_xml,
)
from digilocker_gateway.simulator.model import SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI
from digilocker_gateway.simulator.users import seed_users
from tests.xml_signatures import signed_root

DS = "http://www.w3.org/2000/09/xmldsig#"
NOW = datetime(2025, 1, 2, 4, 41, 12, 345_000, tzinfo=UTC)  # 10:11:12.345 in IST
SHARE_CODE = "4321"
VARIANTS = ["Certificate", "KycRes", "OfflinePaperlessKyc"]


@pytest.fixture(scope="module")
def pki() -> SimulatorPKI:
    return SimulatorPKI.create()


@pytest.fixture(scope="module")
def user() -> SimUser:
    return next(u for u in seed_users(build_catalogue(0)) if u.scenario == "complete")


def render(variant: str, user: SimUser, pki: SimulatorPKI) -> bytes:
    if variant == "OfflinePaperlessKyc":
        return render_offline_ekyc_xml(user, pki, NOW, SHARE_CODE)
    return render_eaadhaar_xml(
        user, pki, NOW, root="KycRes" if variant == "KycRes" else "Certificate"
    )


def verify(data: bytes, pki: SimulatorPKI) -> etree._Element:
    return signed_root(data, cert_pem=pki.signer_cert_pem)


@pytest.mark.parametrize("variant", VARIANTS)
def test_signature_verifies_with_rsa_sha1_and_sha256_only(
    variant: str, user: SimUser, pki: SimulatorPKI
) -> None:
    assert verify(render(variant, user, pki), pki).tag == variant


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_changed_byte_in_a_signed_value_fails_verification(
    variant: str, user: SimUser, pki: SimulatorPKI
) -> None:
    data = render(variant, user, pki)
    tampered = data.replace(b'name="Asha Testkumari"', b'name="Asha Testkumarj"')
    assert tampered != data
    with pytest.raises(InvalidSignature):
        verify(tampered, pki)


@pytest.mark.parametrize("variant", VARIANTS)
def test_certificate_of_another_pki_fails_verification(
    variant: str, user: SimUser, pki: SimulatorPKI
) -> None:
    other = SimulatorPKI.create()
    with pytest.raises(InvalidSignature):
        signed_root(render(variant, user, pki), cert_pem=other.signer_cert_pem)


@pytest.mark.parametrize(
    ("variant", "c14n"),
    [
        ("Certificate", "http://www.w3.org/2001/10/xml-exc-c14n#"),
        ("KycRes", "http://www.w3.org/2001/10/xml-exc-c14n#"),
        ("OfflinePaperlessKyc", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
    ],
)
def test_signature_has_digilockers_shape(
    variant: str, c14n: str, user: SimUser, pki: SimulatorPKI
) -> None:
    data = render(variant, user, pki)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><')
    assert f'<Signature xmlns="{DS}">'.encode() in data
    root = etree.fromstring(data)
    assert root.tag == variant
    signatures = root.findall(f".//{{{DS}}}Signature")
    assert len(signatures) == 1
    assert root[-1] is signatures[0]
    ns = {"ds": DS}
    signature = signatures[0]
    assert signature.xpath("ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm", namespaces=ns) == [
        c14n
    ]
    assert signature.xpath("ds:SignedInfo/ds:SignatureMethod/@Algorithm", namespaces=ns) == [
        f"{DS}rsa-sha1"
    ]
    assert signature.xpath("ds:SignedInfo/ds:Reference/@URI", namespaces=ns) == [""]
    assert signature.xpath(
        "ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform/@Algorithm", namespaces=ns
    ) == [f"{DS}enveloped-signature"]
    assert signature.xpath(
        "ds:SignedInfo/ds:Reference/ds:DigestMethod/@Algorithm", namespaces=ns
    ) == ["http://www.w3.org/2001/04/xmlenc#sha256"]
    x509_data = signature.find("ds:KeyInfo/ds:X509Data", ns)
    assert x509_data is not None
    assert [etree.QName(child).localname for child in x509_data] == [
        "X509SubjectName",
        "X509Certificate",
    ] * len(pki.chain_pem)
    assert "DS TEST DIGILOCKER SIMULATOR" in (x509_data[0].text or "")


def test_certificate_variant_fields_read_from_the_verified_tree_match_the_user(
    user: SimUser, pki: SimulatorPKI
) -> None:
    signed = verify(render_eaadhaar_xml(user, pki, NOW), pki)
    kyc_res = signed.find("CertificateData/KycRes")
    assert kyc_res is not None
    uid_data = kyc_res.find("UidData")
    assert uid_data is not None
    assert uid_data.get("uid") == "xxxxxxxx" + user.aadhaar[-4:]
    assert user.aadhaar not in etree.tostring(signed).decode()
    assert (uid_data.get("tkn") or "").startswith("0100")
    poi = uid_data.find("Poi")
    assert poi is not None
    assert dict(poi.attrib) == {"dob": "15-08-1991", "gender": user.gender, "name": user.name}
    poa = uid_data.find("Poa")
    assert poa is not None
    assert poa.get("co") == user.address.co
    assert poa.get("pc") == user.address.pc
    assert poa.get("lm") == user.address.lm
    assert poa.get("state") == user.address.state
    assert uid_data.find("LData") is not None
    assert base64.b64decode(uid_data.findtext("Pht") or "") == user.photo_jpeg


def test_kycres_timestamps_and_transaction_follow_digilocker_format(
    user: SimUser, pki: SimulatorPKI
) -> None:
    kyc_res = verify(render_eaadhaar_xml(user, pki, NOW, root="KycRes"), pki)
    assert kyc_res.get("ts") == "2025-01-02T10:11:12.345+05:30"
    assert kyc_res.get("ttl") == "2026-01-02T10:11:12"
    assert kyc_res.get("ret") == "Y"
    assert re.fullmatch(r"[0-9a-f]{32}", kyc_res.get("code") or "")
    assert re.fullmatch(r"UKC:[0-9a-f]{32}20250102101112", kyc_res.get("txn") or "")


def test_attributes_are_alphabetical_and_empty_ones_omitted(
    user: SimUser, pki: SimulatorPKI
) -> None:
    sparse = replace(user, address=replace(user.address, co="", lm=""))
    for data in (
        render_eaadhaar_xml(sparse, pki, NOW),
        render_offline_ekyc_xml(sparse, pki, NOW, ""),
    ):
        signed = verify(data, pki)
        for element in signed.iter():
            keys = list(element.attrib)
            assert keys == sorted(keys), element.tag
            assert all(element.attrib.values()), element.tag
        poa = signed.find(".//Poa")
        assert poa is not None
        assert not {"co", "lm", "careof", "landmark"} & set(poa.attrib)


def test_same_inputs_give_identical_bytes(user: SimUser, pki: SimulatorPKI) -> None:
    assert render_eaadhaar_xml(user, pki, NOW) == render_eaadhaar_xml(user, pki, NOW)


def test_naive_now_is_refused(user: SimUser, pki: SimulatorPKI) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_eaadhaar_xml(user, pki, datetime(2025, 1, 2, 10, 11, 12))


def test_offline_variant_carries_reference_id_hashes_and_offline_names(
    user: SimUser, pki: SimulatorPKI
) -> None:
    signed = verify(render_offline_ekyc_xml(user, pki, NOW, SHARE_CODE), pki)
    assert signed.get("referenceId") == user.aadhaar[-4:] + "20250102101112345"
    poi = signed.find("UidData/Poi")
    assert poi is not None
    last_digit = int(user.aadhaar[-1])
    assert poi.get("m") == mobile_email_hash(user.mobile, SHARE_CODE, last_digit)
    assert poi.get("e") == mobile_email_hash(user.email, SHARE_CODE, last_digit)
    poa = signed.find("UidData/Poa")
    assert poa is not None
    assert poa.get("careof") == user.address.co
    assert poa.get("landmark") == user.address.lm
    assert signed.find("UidData/LData") is None
    assert signed.find("UidData").get("uid") is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "share_code", "last_digit", "expected"),
    [
        (
            "9800000002",
            "1234",
            4,
            "4baa3fcab30134cb16bd72c182c208eef88f4ee8ece56c78bb484bf8b17480bc",
        ),
        (
            "9800000002",
            "1234",
            0,
            "27fa6f4dc563ada369d36e088317e1889145d67ab4bf4e968b1c319326c50a8d",
        ),
        (
            "test@example.com",
            "1234",
            7,
            "f4a97f732e703c6d91d93bcb382ee016865a711ef7942119ca780d1dcf5cd5a1",
        ),
        (
            "test@example.com",
            "",
            1,
            "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b",
        ),
    ],
)
def test_mobile_email_hash_matches_reference_vectors(
    value: str, share_code: str, last_digit: int, expected: str
) -> None:
    assert mobile_email_hash(value, share_code, last_digit) == expected


def test_mobile_email_hash_rounds_zero_and_one_hash_once() -> None:
    assert mobile_email_hash("5000000001", "1234", 0) == mobile_email_hash("5000000001", "1234", 1)
    assert mobile_email_hash("5000000001", "1234", 2) != mobile_email_hash("5000000001", "1234", 1)


def test_mobile_email_hash_refuses_a_non_digit_round_count() -> None:
    with pytest.raises(ValueError, match="0-9"):
        mobile_email_hash("5000000001", "1234", 10)
