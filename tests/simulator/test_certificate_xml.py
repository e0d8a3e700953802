"""Issuer certificate XML (reference §9): DigiLocker's common shape, signed like e-Aadhaar."""

from __future__ import annotations

import pytest
from signxml.exceptions import InvalidSignature

from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.certificate_xml import NoXmlFormatError, render_certificate_xml
from digilocker_gateway.simulator.model import SimDocument, SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI
from digilocker_gateway.simulator.users import seed_users
from tests.xml_signatures import signed_root


@pytest.fixture(scope="module")
def pki() -> SimulatorPKI:
    return SimulatorPKI.create()


@pytest.fixture(scope="module")
def user() -> SimUser:
    return next(u for u in seed_users(build_catalogue(0)) if u.scenario == "complete")


def document_of(user: SimUser, doctype: str) -> SimDocument:
    return next(document for document in user.documents if document.doctype == doctype)


def test_licence_xml_verifies_and_describes_the_document(user: SimUser, pki: SimulatorPKI) -> None:
    document = document_of(user, "DRVLC")
    data = render_certificate_xml(user, document, pki)
    root = signed_root(data, cert_pem=pki.signer_cert_pem)
    assert root.tag == "Certificate"
    assert root.get("type") == "DRVLC"
    assert root.get("number") == document.docid
    assert root.get("name") == "Driving Licence"
    assert root.get("issueDate") == document.fields["Date of issue"]
    assert root.get("status") == "A"
    organisation = root.find("IssuedBy/Organization")
    assert organisation is not None
    assert organisation.get("name") == document.issuer_name
    person = root.find("IssuedTo/Person")
    assert person is not None
    assert person.get("name") == user.name
    assert person.get("dob") == "15-08-1991"
    assert person.get("uid") == "xxxxxxxx" + user.aadhaar[-4:]
    assert person.find("Address") is not None
    licence = root.find("CertificateData/DrivingLicence")
    assert licence is not None
    assert licence.get("licenceNumber") == document.docid
    assert licence.get("vehicleClasses") == document.fields["Vehicle classes"]


def test_marksheet_xml_carries_the_marks(user: SimUser, pki: SimulatorPKI) -> None:
    document = document_of(user, "HSCER")
    data = render_certificate_xml(user, document, pki)
    root = signed_root(data, cert_pem=pki.signer_cert_pem)
    marksheet = root.find("CertificateData/ClassXIIMarksheet")
    assert marksheet is not None
    subjects = {s.get("name"): s.get("marks") for s in marksheet.iterfind("Subjects/Subject")}
    assert subjects["Mathematics"] == document.fields["Mathematics"]
    assert set(subjects) == set(document.subjects)
    assert marksheet.get("mathematics") is None  # subjects are elements, not attributes
    assert marksheet.get("rollNumber") == document.parameters["rroll"]
    assert root.find("IssuedTo/Person/Photo") is None  # a marksheet shows no photograph


def test_changed_mark_fails_verification(user: SimUser, pki: SimulatorPKI) -> None:
    data = render_certificate_xml(user, document_of(user, "HSCER"), pki)
    tampered = data.replace(b'name="Mathematics" marks="91"', b'name="Mathematics" marks="99"')
    assert tampered != data
    with pytest.raises(InvalidSignature):
        signed_root(tampered, cert_pem=pki.signer_cert_pem)


def test_licence_and_pan_carry_dates_care_of_and_photo(user: SimUser, pki: SimulatorPKI) -> None:
    licence = signed_root(
        render_certificate_xml(user, document_of(user, "DRVLC"), pki), cert_pem=pki.signer_cert_pem
    )
    fields = document_of(user, "DRVLC").fields
    assert licence.get("validFromDate") == fields["Date of issue"]
    assert licence.get("expiryDate") == fields["Valid till"]
    person = licence.find("IssuedTo/Person")
    assert person is not None
    assert person.get("swd") == user.address.co
    for doctype in ("DRVLC", "PANCR"):
        root = signed_root(
            render_certificate_xml(user, document_of(user, doctype), pki),
            cert_pem=pki.signer_cert_pem,
        )
        photo = root.find("IssuedTo/Person/Photo")
        assert photo is not None
        assert (photo.text or "").startswith("/9j/")


def test_pdf_only_document_has_no_xml(pki: SimulatorPKI) -> None:
    holder = next(u for u in seed_users(build_catalogue(0)) if u.scenario == "large-document")
    with pytest.raises(NoXmlFormatError):
        render_certificate_xml(holder, document_of(holder, "DGCER"), pki)
