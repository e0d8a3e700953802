"""The simulator's seeded synthetic users, one or more per scenario.

Every person, number and document here is invented. Aadhaar numbers start with 1 (UIDAI
never issues numbers starting with 0 or 1) and carry a valid Verhoeff check digit, so a
gateway that checks the format accepts them while they can never be a real person's.
Mobile numbers start with 5, which no Indian mobile number does. PANs have X as 4th
character, which is not a PAN holder type; licence numbers use the unassigned RTO code 99.

All users sign in with the fixed test values `TEST_OTP` and `TEST_PIN`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Literal

from digilocker_gateway.kit.aadhaar_number import verhoeff_check_digit
from digilocker_gateway.simulator.catalogue import (
    CBSE_ORGID,
    INCOME_TAX_ORGID,
    MUNICIPAL_ORGID,
    UNIVERSITY_ORGID,
    Catalogue,
)
from digilocker_gateway.simulator.model import Address, PullOutcome, Scenario, SimDocument, SimUser
from digilocker_gateway.simulator.photo import synthetic_photo_jpeg

TEST_OTP = "123456"
TEST_PIN = "111111"

# Just over DigiLocker's 10 MB upload limit (docs/reference/digilocker-partner-api.md §14): big
# enough to exercise streaming and blob storage limits.
LARGE_DOCUMENT_BYTES = 10 * 1024 * 1024 + 1

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "simulator.digilocker-gateway.invalid")


def synthetic_aadhaar(serial: int) -> str:
    """A 12-digit number starting with 1, Verhoeff-valid, unique per `serial`."""
    # Multiplying by a number coprime to 10 spreads the serials while keeping them unique.
    body = f"1{(serial * 1_234_567_891 + 987_654_321) % 10**10:010d}"
    return body + verhoeff_check_digit(body)


def _transport_orgid(catalogue: Catalogue, state_code: str) -> str:
    issuer = catalogue.issuer_by_issuerid(f"in.gov.transport.{state_code}")
    if issuer is None:
        raise LookupError(f"the catalogue has no transport department for {state_code!r}")
    return issuer.orgid


@dataclass(frozen=True, slots=True)
class _Doc:
    orgid: str
    doctype: str
    docid: str
    parameters: dict[str, str]
    issued: bool
    fields: dict[str, str]
    pull_outcome: PullOutcome = "issue"
    min_pdf_bytes: int = 0
    subjects: tuple[str, ...] = ()


def _document(catalogue: Catalogue, spec: _Doc) -> SimDocument:
    issuer = catalogue.issuer(spec.orgid)
    doctype = catalogue.doctype(spec.orgid, spec.doctype)
    if issuer is None or doctype is None:
        raise LookupError(f"({spec.orgid}, {spec.doctype}) is not in the catalogue")
    expected = {parameter.paramname for parameter in doctype.parameters}
    if set(spec.parameters) != expected:
        raise ValueError(f"{spec.doctype} at {spec.orgid} is pulled with {sorted(expected)}")
    for parameter in doctype.parameters:
        allowed = parameter.valuelist
        if allowed is not None and spec.parameters[parameter.paramname] not in allowed:
            raise ValueError(f"{parameter.paramname} must be one of the catalogue's valuelist")
    return SimDocument(
        doctype=spec.doctype,
        orgid=spec.orgid,
        issuerid=issuer.issuerid,
        issuer_name=issuer.name,
        name=doctype.description,
        docid=spec.docid,
        formats=doctype.formats,
        parameters=dict(spec.parameters),
        issued=spec.issued,
        pull_outcome=spec.pull_outcome,
        fields=dict(spec.fields),
        min_pdf_bytes=spec.min_pdf_bytes,
        subjects=spec.subjects,
    )


def _pan(pan: str, name: str, father: str, dob: str, *, issued: bool) -> _Doc:
    fields = {"PAN": pan, "Name": name, "Father's Name": father, "Date of Birth": dob}
    params = {"panno": pan, "full_name": name}
    return _Doc(INCOME_TAX_ORGID, "PANCR", pan, params, issued, fields)


def _licence(orgid: str, dlno: str, dob: str, issued_on: str, *, issued: bool) -> _Doc:
    fields = {
        "Licence Number": dlno,
        "Date of issue": issued_on,
        "Valid till": issued_on[:6] + str(int(issued_on[6:]) + 20),
        "Vehicle classes": "LMV, MCWG",
        "Licensing authority": f"RTO {dlno[:2]}-99 (synthetic)",
    }
    return _Doc(orgid, "DRVLC", dlno, {"dlno": dlno, "dob": dob}, issued, fields)


def _marksheet(doctype: str, roll: str, year: str, marks: dict[str, str], *, issued: bool) -> _Doc:
    fields = {"Roll Number": roll, "Year of Passing": year, "School": "Test Vidyalaya, Sampletown"}
    fields.update(marks)
    fields["Result"] = "PASS"
    fields["Date of issue"] = f"28-05-{year}"  # results come out in May
    params = {"rroll": roll, "year": year}
    return _Doc(CBSE_ORGID, doctype, year + roll, params, issued, fields, subjects=tuple(marks))


def _vehicle(orgid: str, reg_no: str, chassis: str, registered_on: str, *, issued: bool) -> _Doc:
    # Registration numbers use the unassigned RTO code 99, like the licences.
    fields = {
        "Registration Number": reg_no,
        "Date of registration": registered_on,
        "Valid till": registered_on[:6] + str(int(registered_on[6:]) + 15),
        "Chassis Number": f"MA3TESTSIM{chassis}",
        "Engine Number": f"ENGTEST{chassis}",
        "Vehicle class": "Motor Car (LMV)",
        "Maker model": "Testmotors Samplecar VXI",
        "Fuel": "PETROL",
        "Registering authority": f"RTO {reg_no[:2]}-99 (synthetic)",
        "Date of issue": registered_on,
    }
    params = {"reg_no": reg_no, "chasis_no": chassis}
    return _Doc(orgid, "RVCER", reg_no, params, issued, fields)


def _address(co: str, state: str, dist: str, pc: str) -> Address:
    return Address(
        co=co,
        house="12",
        street="1st Main",
        lm="Near Test Park",
        loc="Demo Nagar",
        vtc="Sampletown",
        subdist="Sample North",
        dist=dist,
        state=state,
        pc=pc,
        po="Demo PO",
    )


def _user(
    catalogue: Catalogue,
    serial: int,
    scenario: Scenario,
    name: str,
    dob: str,
    gender: Literal["M", "F", "T"],
    address: Address,
    documents: list[_Doc],
    *,
    aadhaar_linked: bool = True,
    eaadhaar_available: bool = True,
    has_account: bool = True,
) -> SimUser:
    aadhaar = synthetic_aadhaar(serial)
    first, _, last = name.partition(" ")
    return SimUser(
        scenario=scenario,
        aadhaar=aadhaar,
        mobile=f"5{(serial * 73_856_093 + 12_345_678) % 10**9:09d}",
        otp=TEST_OTP,
        pin=TEST_PIN,
        digilockerid=str(uuid.uuid5(_NAMESPACE, aadhaar)),
        name=name,
        dob=dob,
        gender=gender,
        email=f"{first}.{last}@example.com".lower(),
        aadhaar_linked=aadhaar_linked,
        eaadhaar_available=eaadhaar_available,
        address=address,
        photo_jpeg=synthetic_photo_jpeg(serial),
        documents=[_document(catalogue, spec) for spec in documents],
        has_account=has_account,
    )


_CLASS_XII = {"English Core": "88", "Mathematics": "91", "Physics": "84", "Chemistry": "86"}
_CLASS_X = {"English": "82", "Hindi": "79", "Mathematics": "90", "Science": "87"}


def _outcome(spec: _Doc, outcome: PullOutcome) -> _Doc:
    return replace(spec, pull_outcome=outcome)


def seed_users(catalogue: Catalogue) -> list[SimUser]:
    """Fresh user objects on every call (callers mutate `issued`); the same data every time."""
    transport = {code: _transport_orgid(catalogue, code) for code in ("ka", "kl", "ts", "dl")}
    return [
        _user(catalogue, 1, "complete", "Asha Testkumari", "15081991", "F",
              _address("D/O: Ravi Testkumar", "Karnataka", "Sampledist", "560001"), [
            _pan("AAAXT1001A", "Asha Testkumari", "Ravi Testkumar", "15-08-1991", issued=True),
            _licence(transport["ka"], "KA9920110012345", "15-08-1991", "12-03-2011", issued=True),
            _marksheet("HSCER", "99123456", "2009", _CLASS_XII, issued=True),
            _marksheet("SSCER", "99765432", "2007", _CLASS_X, issued=False),
            _vehicle(transport["ka"], "KA99AB1001", "10011", "04-06-2016", issued=True),
        ]),
        _user(catalogue, 2, "aadhaar-not-linked", "Ravi Testsharma", "02011985", "M",
              _address("S/O: Mohan Testsharma", "Maharashtra", "Demodist", "411001"), [
            _pan("AAAXT1002B", "Ravi Testsharma", "Mohan Testsharma", "02-01-1985", issued=True),
            _marksheet("SSCER", "99200111", "2001", _CLASS_X, issued=False),
        ], aadhaar_linked=False, eaadhaar_available=False),
        _user(catalogue, 3, "eaadhaar-not-available", "Meera Samplenair", "23061994", "F",
              _address("D/O: Gopal Samplenair", "Kerala", "Testdist", "682001"), [
            _licence(transport["kl"], "KL9920140054321", "23-06-1994", "05-09-2014", issued=True),
        ], eaadhaar_available=False),
        _user(catalogue, 4, "nothing-issued", "Kiran Demoreddy", "30111988", "M",
              _address("S/O: Suresh Demoreddy", "Telangana", "Exampledist", "500001"), [
            _pan("AAAXD1004C", "Kiran Demoreddy", "Suresh Demoreddy", "30-11-1988", issued=False),
            _marksheet("SSCER", "99300222", "2004", _CLASS_X, issued=False),
            _marksheet("HSCER", "99300333", "2006", _CLASS_XII, issued=False),
            _licence(transport["ts"], "TS9920090067890", "30-11-1988", "14-02-2009", issued=False),
            _vehicle(transport["ts"], "TS99CD4004", "40044", "21-01-2019", issued=False),
        ]),
        _user(catalogue, 5, "pull-pending", "Farah Testkhan", "09041996", "F",
              _address("D/O: Imran Testkhan", "Uttar Pradesh", "Sampledist", "226001"), [
            _outcome(_marksheet("HSCER", "99400444", "2014", _CLASS_XII, issued=False), "pending"),
            _pan("AAAXT1005D", "Farah Testkhan", "Imran Testkhan", "09-04-1996", issued=False),
        ]),
        _user(catalogue, 6, "new-user", "Dev Testnath", "17071999", "M",
              _address("S/O: Prakash Testnath", "Delhi", "New Demo Delhi", "110001"), [
            _pan("AAAXT1006E", "Dev Testnath", "Prakash Testnath", "17-07-1999", issued=False),
            _licence(transport["dl"], "DL9920180011223", "17-07-1999", "20-08-2018", issued=False),
        ], has_account=False),
        _user(catalogue, 7, "large-document", "Lata Testdesai", "04121990", "F",
              _address("D/O: Vinod Testdesai", "Gujarat", "Sampledist", "380001"), [
            _Doc(UNIVERSITY_ORGID, "DGCER", "ST2012CS0042",
                 {"enrolment_no": "ST2012CS0042", "year": "2012"}, True,
                 {"Enrolment Number": "ST2012CS0042", "Degree": "Bachelor of Technology",
                  "Branch": "Computer Science", "Year of Passing": "2012",
                  "Class": "First Class with Distinction", "Date of issue": "18-11-2012"},
                 min_pdf_bytes=LARGE_DOCUMENT_BYTES),
        ]),
        _user(catalogue, 8, "issuer-down", "Arjun Testverma", "11021987", "M",
              _address("S/O: Naresh Testverma", "Karnataka", "Sampledist", "560002"), [
            _Doc(MUNICIPAL_ORGID, "BTCER", "BR1987000456",
                 {"reg_no": "BR1987000456", "year": "1987"}, True,
                 {"Registration Number": "BR1987000456", "Date of birth": "11-02-1987",
                  "Place of birth": "Demo Nagar", "Father's name": "Naresh Testverma",
                  "Mother's name": "Sunita Testverma", "Date of issue": "20-02-1987"},
                 pull_outcome="issuer_down"),
            _Doc(MUNICIPAL_ORGID, "TRLCN", "TL99004512",
                 {"licence_no": "TL99004512", "ward_no": "12"}, False,
                 {"Licence Number": "TL99004512", "Trade": "General store", "Ward": "12",
                  "Valid till": "31-03-2026"},
                 pull_outcome="issuer_down"),
            _pan("AAAXT1008F", "Arjun Testverma", "Naresh Testverma", "11-02-1987", issued=True),
        ]),
    ]  # fmt: skip
