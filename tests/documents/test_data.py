"""Each doc-type parser on the simulator's signed certificate XML, and on hand-made partial,
malformed and hostile XML: the fields found, never an error (docs/document-data.md §2, §3)."""

from __future__ import annotations

from typing import Any

import pytest

from digilocker_gateway.aadhaar.verify import TrustedSigners
from digilocker_gateway.documents.data import DocumentSource, data_from_xml, holder_of
from digilocker_gateway.documents.data.schemas import DocumentData
from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.certificate_xml import render_certificate_xml
from digilocker_gateway.simulator.model import SimDocument, SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI
from digilocker_gateway.simulator.users import seed_users

SETU_ADDRESS_KEYS = {
    "careOf", "country", "district", "house", "landmark", "locality", "pin", "postOffice",
    "state", "street", "subDistrict", "vtc",
}  # fmt: skip


@pytest.fixture(scope="module")
def pki() -> SimulatorPKI:
    return SimulatorPKI.create()


@pytest.fixture(scope="module")
def trusted(pki: SimulatorPKI) -> TrustedSigners:
    return TrustedSigners.from_pem_bundle(pki.signer_cert_pem)


@pytest.fixture(scope="module")
def user() -> SimUser:
    return next(u for u in seed_users(build_catalogue(0)) if u.scenario == "complete")


def document_of(user: SimUser, doctype: str) -> SimDocument:
    return next(document for document in user.documents if document.doctype == doctype)


def source_of(document: SimDocument) -> DocumentSource:
    return DocumentSource(document.doctype, document.orgid, document.issuer_name, document.uri)


def parsed(
    user: SimUser, doctype: str, pki: SimulatorPKI, trusted: TrustedSigners
) -> dict[str, Any]:
    document = document_of(user, doctype)
    data = data_from_xml(render_certificate_xml(user, document, pki), trusted, source_of(document))
    DocumentData.model_validate(data)  # the answer's documented shape
    return data


def assert_common_fields(data: dict[str, Any], user: SimUser, document: SimDocument) -> None:
    assert data["docType"] == document.doctype
    assert data["documentNumber"] == document.docid
    assert data["name"] == user.name
    assert data["dateOfBirth"] == f"{user.dob[:2]}-{user.dob[2:4]}-{user.dob[4:]}"
    assert data["gender"] == user.gender
    assert set(data["address"]) == SETU_ADDRESS_KEYS
    assert data["address"]["careOf"] == user.address.co
    assert data["address"]["house"] == user.address.house
    assert data["address"]["street"] == user.address.street
    assert data["address"]["pin"] == user.address.pc
    assert data["address"]["vtc"] == user.address.vtc
    assert data["issuer"] == {"orgId": document.orgid, "name": document.issuer_name}
    assert data["issuedOn"] is not None
    assert data["maskedAadhaar"] == "xxxx-xxxx-" + user.aadhaar[-4:]
    assert data["verified"] == {"signature": True}
    assert data["source"] == "xml"


def test_pan_xml_gives_common_fields_photo_and_pan_fields(
    user: SimUser, pki: SimulatorPKI, trusted: TrustedSigners
) -> None:
    data = parsed(user, "PANCR", pki, trusted)
    document = document_of(user, "PANCR")
    assert_common_fields(data, user, document)
    assert (data["photo"] or "").startswith("/9j/")
    assert data["pan"] == {"number": document.docid, "fatherName": document.fields["Father's Name"]}
    assert data["validUntil"] is None  # a PAN does not expire


def test_licence_xml_gives_vehicle_classes_and_validity(
    user: SimUser, pki: SimulatorPKI, trusted: TrustedSigners
) -> None:
    data = parsed(user, "DRVLC", pki, trusted)
    document = document_of(user, "DRVLC")
    assert_common_fields(data, user, document)
    fields = document.fields
    assert (data["validFrom"], data["validUntil"]) == (
        fields["Date of issue"],
        fields["Valid till"],
    )
    licence = data["drivingLicence"]
    assert licence["number"] == document.docid
    assert [c["code"] for c in licence["vehicleClasses"]] == ["LMV", "MCWG"]
    assert {c["validUntil"] for c in licence["vehicleClasses"]} == {fields["Valid till"]}
    assert licence["validUntil"] == fields["Valid till"]
    assert licence["licensingAuthority"] == fields["Licensing authority"]


def test_marksheet_xml_gives_subjects_marks_and_result(
    user: SimUser, pki: SimulatorPKI, trusted: TrustedSigners
) -> None:
    data = parsed(user, "HSCER", pki, trusted)
    document = document_of(user, "HSCER")
    assert_common_fields(data, user, document)
    assert data["photo"] is None
    marksheet = data["marksheet"]
    assert marksheet["rollNumber"] == document.parameters["rroll"]
    assert marksheet["year"] == document.parameters["year"]
    assert marksheet["result"] == "PASS"
    assert {s["name"]: s["marks"] for s in marksheet["subjects"]} == {
        name: document.fields[name] for name in document.subjects
    }
    assert marksheet["totalMarks"] == sum(int(document.fields[n]) for n in document.subjects)
    assert marksheet["maxMarks"] == 100 * len(document.subjects)


def test_vehicle_registration_xml_gives_the_vehicle(
    user: SimUser, pki: SimulatorPKI, trusted: TrustedSigners
) -> None:
    data = parsed(user, "RVCER", pki, trusted)
    document = document_of(user, "RVCER")
    assert_common_fields(data, user, document)
    vehicle = data["vehicleRegistration"]
    assert vehicle["registrationNumber"] == document.docid
    assert vehicle["registeredOn"] == document.fields["Date of registration"]
    assert vehicle["validUntil"] == document.fields["Valid till"]
    assert vehicle["chassisNumber"] == document.fields["Chassis Number"]
    assert vehicle["engineNumber"] == document.fields["Engine Number"]
    assert vehicle["fuel"] == "PETROL"


def test_an_untrusted_signer_or_a_changed_field_is_read_but_not_verified(
    user: SimUser, pki: SimulatorPKI, trusted: TrustedSigners
) -> None:
    document = document_of(user, "DRVLC")
    raw = render_certificate_xml(user, document, pki)
    other = TrustedSigners.from_pem_bundle(SimulatorPKI.create().signer_cert_pem)
    unverified = data_from_xml(raw, other, source_of(document))
    assert unverified["verified"] == {"signature": False}
    assert unverified["name"] == user.name
    tampered = raw.replace(b'name="Asha Testkumari"', b'name="Asha Forgedname"', 1)
    assert tampered != raw
    changed = data_from_xml(tampered, trusted, source_of(document))
    assert changed["verified"] == {"signature": False}
    assert changed["name"] == "Asha Forgedname"


def test_doc_type_without_a_parser_gives_only_the_common_fields(trusted: TrustedSigners) -> None:
    raw = (
        b'<Certificate type="CSCER" number="CC99001" issueDate="2019-04-01">'
        b'<IssuedTo><Person name="Ravi Testsharma" dob="02-01-1985" gender="Male"/></IssuedTo>'
        b'<CertificateData><CasteCertificate caste="Synthetic"/></CertificateData></Certificate>'
    )
    source = DocumentSource("CSCER", "777001", "Revenue Department", "in.gov.x-CSCER-CC99001")
    data = data_from_xml(raw, trusted, source)
    DocumentData.model_validate(data)
    assert data["documentNumber"] == "CC99001"
    assert (data["name"], data["gender"], data["issuedOn"]) == (
        "Ravi Testsharma",
        "M",
        "01-04-2019",
    )
    assert data["verified"] == {"signature": False}  # unsigned
    for key in ("pan", "drivingLicence", "marksheet", "vehicleRegistration"):
        assert key not in data


def test_partial_xml_gives_what_it_has_and_null_for_the_rest(trusted: TrustedSigners) -> None:
    raw = b'<Certificate><IssuedTo><Person name="Meera Samplenair"/></IssuedTo></Certificate>'
    source = DocumentSource("DRVLC", "002318", "Transport Department, Kerala", "x-DRVLC-KL99201")
    data = data_from_xml(raw, trusted, source)
    DocumentData.model_validate(data)
    assert data["name"] == "Meera Samplenair"
    assert data["documentNumber"] == "KL99201"  # from the URI, as the certificate has none
    assert data["dateOfBirth"] is None
    assert data["address"] == dict.fromkeys(SETU_ADDRESS_KEYS, "")
    assert data["drivingLicence"] == {
        "number": None, "vehicleClasses": [], "validUntil": None, "licensingAuthority": None
    }  # fmt: skip


def test_other_issuers_spellings_are_read_too(trusted: TrustedSigners) -> None:
    raw = (
        b'<Certificate number="TS9920090067890" expiryDate="13/02/2029">'
        b'<CertificateData><DrivingLicense dlNumber="TS9920090067890">'
        b'<Categories><Category abbreviation="MCWG" issueDate="14-02-2009"/>'
        b'<Category abbreviation="TRANS" issueDate="14-02-2012" expiryDate="13-02-2027"/>'
        b"</Categories></DrivingLicense></CertificateData></Certificate>"
    )
    source = DocumentSource("DRVLC", "002333", "Transport", "x-DRVLC-TS9920090067890")
    licence = data_from_xml(raw, trusted, source)["drivingLicence"]
    assert licence["vehicleClasses"] == [
        {"code": "MCWG", "issuedOn": "14-02-2009", "validUntil": "13-02-2029"},
        {"code": "TRANS", "issuedOn": "14-02-2012", "validUntil": "13-02-2027"},
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not xml at all",
        b"<Certificate><IssuedTo>",
        b"<SomethingElse><Person name='x'/></SomethingElse>",
        b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY e "Asha">]><Certificate number="&e;"/>',
        "<Certificate/>".encode("utf-16"),
    ],
)
def test_malformed_hostile_or_unknown_xml_falls_back_to_the_issued_list(
    trusted: TrustedSigners, raw: bytes
) -> None:
    source = DocumentSource("PANCR", "001891", "Income Tax Department", "in.gov.pan-PANCR-AAAXT1")
    data = data_from_xml(raw, trusted, source)
    DocumentData.model_validate(data)
    assert data["source"] == "issuedList"
    assert data["documentNumber"] == "AAAXT1"
    assert data["name"] is None
    assert data["pan"] is None
    assert data["verified"] == {"signature": False}


def test_holder_of_data_is_what_the_match_compares(
    user: SimUser, pki: SimulatorPKI, trusted: TrustedSigners
) -> None:
    holder = holder_of(parsed(user, "PANCR", pki, trusted))
    assert holder.name == user.name
    assert holder.doc_type == "PANCR"
    assert holder.document_number == document_of(user, "PANCR").docid
    assert holder.aadhaar_last4 == user.aadhaar[-4:]
