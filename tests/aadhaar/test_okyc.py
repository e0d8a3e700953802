"""Mapping a (verified) e-Aadhaar tree to `AadhaarData` and Setu's OKYC JSON (aadhaar-xml.md §3).

Small unsigned trees built by hand reach every mapping rule; the simulator's signed documents
are then verified and mapped field by field against the seeded user.
"""

from __future__ import annotations

import base64
import json

import pytest
from lxml import etree

from digilocker_gateway.aadhaar.okyc import (
    AadhaarAddress,
    AadhaarData,
    okyc_json,
    read_digilocker,
    read_offline,
)
from digilocker_gateway.aadhaar.verify import MalformedXml, TrustedSigners, verify_aadhaar_xml
from digilocker_gateway.simulator.model import SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI

FULL_POA = {
    "co": "D/O: Ravi Testkumar",
    "country": "India",
    "dist": "Sampledist",
    "house": "12",
    "lm": "Near Test Park",
    "loc": "Demo Nagar",
    "pc": "560001",
    "po": "Demo PO",
    "state": "Karnataka",
    "street": "1st Main",
    "subdist": "Sample North",
    "vtc": "Sampletown",
}
SETU_ADDRESS_KEYS = {
    "careOf",
    "country",
    "district",
    "house",
    "landmark",
    "locality",
    "pin",
    "postOffice",
    "state",
    "street",
    "subDistrict",
    "vtc",
}


def kyc_res(
    *,
    ret: str = "Y",
    uid: str | None = "xxxxxxxx1234",
    dob: str = "15-08-1991",
    poa: dict[str, str] | None = None,
    photo: str | None = "/9j/4AAQ",
    ts: str = "2025-01-02T10:11:12.345+05:30",
) -> etree._Element:
    kyc = etree.Element("KycRes", ret=ret, ts=ts, code="0" * 32)
    uid_data = etree.SubElement(kyc, "UidData", tkn="0100" + "A" * 68)
    if uid is not None:
        uid_data.set("uid", uid)
    etree.SubElement(uid_data, "Poi", dob=dob, gender="F", name="Asha Testkumari")
    if poa is not None:
        etree.SubElement(uid_data, "Poa", poa)
    etree.SubElement(uid_data, "LData")
    if photo is not None:
        etree.SubElement(uid_data, "Pht").text = photo
    return kyc


def certificate(kyc: etree._Element) -> etree._Element:
    root = etree.Element("Certificate")
    etree.SubElement(root, "CertificateData").append(kyc)
    return root


def offline_root(
    *, reference_id: str = "123420250102101112345", photo: str = "/9j/4AAQ"
) -> etree._Element:
    root = etree.Element("OfflinePaperlessKyc", referenceId=reference_id)
    uid_data = etree.SubElement(root, "UidData")
    etree.SubElement(
        uid_data,
        "Poi",
        dob="15-08-1991",
        e="AB" * 32,
        gender="F",
        m="cd" * 32,
        name="Asha Testkumari",
    )
    poa = {**FULL_POA, "careof": FULL_POA["co"], "landmark": FULL_POA["lm"]}
    del poa["co"], poa["lm"]
    etree.SubElement(uid_data, "Poa", poa)
    etree.SubElement(uid_data, "Pht").text = photo
    return root


def test_certificate_root_maps_every_field() -> None:
    data = read_digilocker(certificate(kyc_res(poa=FULL_POA)))

    assert data.name == "Asha Testkumari"
    assert data.date_of_birth == "15-08-1991"
    assert data.gender == "F"
    assert data.masked_number == "xxxx-xxxx-1234"
    assert data.photo == "/9j/4AAQ"
    assert data.generated_at == "2025-01-02T10:11:12.345+05:30"
    assert data.address == AadhaarAddress(
        care_of="D/O: Ravi Testkumar",
        country="India",
        district="Sampledist",
        house="12",
        landmark="Near Test Park",
        locality="Demo Nagar",
        pin="560001",
        post_office="Demo PO",
        state="Karnataka",
        street="1st Main",
        sub_district="Sample North",
        vtc="Sampletown",
    )
    assert (data.email_hash, data.mobile_hash) == ("", "")


def test_bare_kycres_root_maps_like_certificate() -> None:
    assert read_digilocker(kyc_res(poa=FULL_POA)) == read_digilocker(
        certificate(kyc_res(poa=FULL_POA))
    )


def test_missing_poa_attributes_map_to_empty_strings() -> None:
    data = read_digilocker(certificate(kyc_res(poa={"state": "Karnataka"})))

    setu = data.address.as_setu()
    assert set(setu) == SETU_ADDRESS_KEYS
    assert setu["state"] == "Karnataka"
    assert {key: value for key, value in setu.items() if key != "state"} == dict.fromkeys(
        SETU_ADDRESS_KEYS - {"state"}, ""
    )


def test_missing_poa_element_gives_all_empty_address() -> None:
    data = read_digilocker(certificate(kyc_res(poa=None)))

    assert data.address.as_setu() == dict.fromkeys(SETU_ADDRESS_KEYS, "")


def test_missing_photo_maps_to_empty_string() -> None:
    assert read_digilocker(certificate(kyc_res(photo=None))).photo == ""


def test_photo_whitespace_is_stripped() -> None:
    data = read_digilocker(certificate(kyc_res(photo="\n  /9j/4AAQ\nSkZJRg==  \n")))

    assert data.photo == "/9j/4AAQSkZJRg=="


def test_iso_date_of_birth_is_converted_to_dd_mm_yyyy() -> None:
    assert read_digilocker(kyc_res(dob="1991-08-15")).date_of_birth == "15-08-1991"


def test_unrecognised_date_of_birth_is_kept_verbatim() -> None:
    assert read_digilocker(kyc_res(dob="1991")).date_of_birth == "1991"


def test_unsuccessful_kycres_raises_malformed_xml() -> None:
    with pytest.raises(MalformedXml, match="success"):
        read_digilocker(certificate(kyc_res(ret="N")))


def test_missing_uid_raises_malformed_xml() -> None:
    with pytest.raises(MalformedXml):
        read_digilocker(kyc_res(uid=None))


def test_unmasked_uid_keeps_only_last_four_digits() -> None:
    data = read_digilocker(kyc_res(uid="999988887777"))

    assert data.last4 == "7777"
    assert "99998888" not in repr(data)
    assert data.masked_number == "xxxx-xxxx-7777"


def test_uid_token_is_never_kept() -> None:
    data = read_digilocker(kyc_res())

    kept = [str(getattr(data, name)) for name in AadhaarData.__slots__]
    kept.append(repr(data.address.as_setu()))
    assert len(kept) > 9
    assert all("0100AAAA" not in value for value in kept)


def test_repeated_uid_data_raises_malformed_xml() -> None:
    kyc = kyc_res()
    kyc.append(etree.fromstring('<UidData uid="xxxxxxxx9999"><Poi name="Eve"/></UidData>'))

    with pytest.raises(MalformedXml):
        read_digilocker(certificate(kyc))


def test_other_root_raises_malformed_xml() -> None:
    with pytest.raises(MalformedXml):
        read_digilocker(offline_root())


def test_repr_hides_personal_fields() -> None:
    data = read_digilocker(certificate(kyc_res(poa=FULL_POA)))

    shown = repr(data)
    assert "Asha" not in shown
    assert "1991" not in shown
    assert "/9j/" not in shown
    assert "Karnataka" not in shown
    assert "1234" in shown


def test_offline_root_maps_variant_b_fields() -> None:
    data = read_offline(offline_root())

    assert data.masked_number == "xxxx-xxxx-1234"
    assert data.generated_at == "2025-01-02T10:11:12.345+05:30"
    assert data.address.care_of == "D/O: Ravi Testkumar"
    assert data.address.landmark == "Near Test Park"
    assert data.address.pin == "560001"
    assert data.email_hash == "ab" * 32
    assert data.mobile_hash == "cd" * 32


@pytest.mark.parametrize("reference_id", ["1234", "12342025010210111234X", "123420251302101112345"])
def test_offline_bad_reference_id_raises_malformed_xml(reference_id: str) -> None:
    with pytest.raises(MalformedXml):
        read_offline(offline_root(reference_id=reference_id))


def test_okyc_json_has_exactly_setus_shape() -> None:
    data = read_digilocker(certificate(kyc_res(poa=FULL_POA)))

    body = okyc_json(
        data,
        signature_verified=True,
        xml_file_url="https://gateway.test/files/abc",
        xml_valid_until="2025-01-02T10:21:12+05:30",
    )

    assert body == {
        "address": data.address.as_setu(),
        "dateOfBirth": "15-08-1991",
        "email": "",
        "gender": "F",
        "generatedAt": "2025-01-02T10:11:12.345+05:30",
        "maskedNumber": "xxxx-xxxx-1234",
        "name": "Asha Testkumari",
        "phone": "",
        "photo": "/9j/4AAQ",
        "verified": {"email": False, "phone": False, "signature": True},
        "xml": {
            "fileUrl": "https://gateway.test/files/abc",
            "shareCode": "",
            "validUntil": "2025-01-02T10:21:12+05:30",
        },
    }
    assert set(body["address"]) == SETU_ADDRESS_KEYS


def test_okyc_json_echoes_share_code_and_contact_flags() -> None:
    body = okyc_json(
        read_offline(offline_root()),
        signature_verified=False,
        xml_file_url="u",
        xml_valid_until="Tue, 27 Jul 2021 12:16:27 GMT",
        email_verified=True,
        phone_verified=True,
        share_code="1234",
    )

    assert body["verified"] == {"email": True, "phone": True, "signature": False}
    assert body["xml"]["shareCode"] == "1234"
    assert body["email"] == "ab" * 32
    assert body["phone"] == "cd" * 32


def test_aadhaar_data_refuses_more_than_four_digits() -> None:
    with pytest.raises(ValueError, match="four digits"):
        AadhaarData(
            name="",
            date_of_birth="",
            gender="",
            last4="99991234",
            photo="",
            generated_at="",
            address=AadhaarAddress(),
        )


# Signed documents from the simulator, verified, then mapped field by field against the user.


def expected_dob(user: SimUser) -> str:
    return f"{user.dob[:2]}-{user.dob[2:4]}-{user.dob[4:]}"


def expected_address(user: SimUser) -> dict[str, str]:
    address = user.address
    return {
        "careOf": address.co,
        "country": address.country,
        "district": address.dist,
        "house": address.house,
        "landmark": address.lm,
        "locality": address.loc,
        "pin": address.pc,
        "postOffice": address.po,
        "state": address.state,
        "street": address.street,
        "subDistrict": address.subdist,
        "vtc": address.vtc,
    }


@pytest.mark.parametrize("fixture", ["eaadhaar_xml", "kycres_xml"])
def test_verified_simulator_document_maps_field_by_field(
    fixture: str, request: pytest.FixtureRequest, trusted: TrustedSigners, user: SimUser
) -> None:
    raw: bytes = request.getfixturevalue(fixture)

    data = read_digilocker(verify_aadhaar_xml(raw, trusted).root)
    body = okyc_json(data, signature_verified=True, xml_file_url="u", xml_valid_until="2025-01-02")

    assert body["name"] == user.name
    assert body["dateOfBirth"] == expected_dob(user)
    assert body["gender"] == user.gender
    assert body["maskedNumber"] == "xxxx-xxxx-" + user.aadhaar[-4:]
    assert body["photo"] == base64.b64encode(user.photo_jpeg).decode()
    assert body["generatedAt"] == "2025-01-02T10:11:12.345+05:30"
    assert body["address"] == expected_address(user)
    assert all(value for value in body["address"].values())
    assert (body["email"], body["phone"]) == ("", "")
    assert user.aadhaar not in json.dumps(body)


def test_signed_document_without_optional_fields_maps_them_to_empty(
    eaadhaar_xml: bytes, pki: SimulatorPKI, trusted: TrustedSigners, user: SimUser
) -> None:
    document = etree.fromstring(eaadhaar_xml)
    document.remove(document[-1])
    uid_data = document.find("CertificateData/KycRes/UidData")
    assert uid_data is not None
    for element in uid_data.findall("Poa"):
        element.attrib.clear()
    for element in uid_data.findall("Pht"):
        uid_data.remove(element)
    resigned = pki.sign_enveloped(document, c14n="exclusive")

    data = read_digilocker(verify_aadhaar_xml(resigned, trusted).root)

    assert data.photo == ""
    assert data.address.as_setu() == dict.fromkeys(SETU_ADDRESS_KEYS, "")
    assert data.name == user.name


def test_verified_offline_document_maps_field_by_field(
    offline_xml: bytes, trusted: TrustedSigners, user: SimUser
) -> None:
    data = read_offline(verify_aadhaar_xml(offline_xml, trusted, variant="offline").root)

    assert data.name == user.name
    assert data.date_of_birth == expected_dob(user)
    assert data.gender == user.gender
    assert data.masked_number == "xxxx-xxxx-" + user.aadhaar[-4:]
    assert data.photo == base64.b64encode(user.photo_jpeg).decode()
    assert data.generated_at == "2025-01-02T10:11:12.345+05:30"
    assert data.address.as_setu() == expected_address(user)
    assert len(data.email_hash) == len(data.mobile_hash) == 64
