"""The simulator's pull catalogue: issuers, their doctypes and search parameters.

Sized and shaped like DigiLocker's (docs/reference/digilocker-partner-api.md §11): about two
thousand issuers with 6-digit `orgid`s and reverse-DNS `issuerid`s, over ten thousand (issuer,
doctype) pairs, each with 2-3 search parameters whose `valuelist` is a comma-separated list or null.
Driving licences (DRVLC) come from every state/UT transport department, as on the real service.

A few anchor issuers are fixed whatever the seed, because the seeded users hold documents
there (`users.py`): the Income Tax Department (PANCR), CBSE (HSCER, SSCER), the 36 transport
departments (DRVLC), a university (the large document) and a municipal corporation that the
issuer-down scenario takes offline. The rest is generated from the seed with invented but
plausible names.

e-Aadhaar (UIDAI, ADHAR) is left out on purpose: DigiLocker issues it from the user's Aadhaar eKYC
and serves it through `/3/xml/eaadhaar` (docs/reference/digilocker-partner-api.md §10); it is not in
the pull lists and cannot be pulled with `/1/pull/pulldocument`. `UIDAI_ISSUERID` and
`EAADHAAR_DOCTYPE` name it for code that builds its issued-list entry.
"""

from __future__ import annotations

import functools
import random

from digilocker_gateway.simulator.model import DocType, Format, Issuer, SearchParameter

UIDAI_ISSUERID = "in.gov.uidai"
EAADHAAR_DOCTYPE = "ADHAR"

MIN_ISSUERS = 2000
MIN_PAIRS = 10_000

# Orgids of the anchor issuers (the seeded users' documents live there).
INCOME_TAX_ORGID = "001891"
CBSE_ORGID = "000436"
UNIVERSITY_ORGID = "003871"
MUNICIPAL_ORGID = "004512"  # the issuer-down scenario's issuer
_TRANSPORT_ORGID_BASE = 2302  # puts Karnataka at "002317"

# (code, name) of every state and union territory, in the order their orgids are assigned.
STATES: tuple[tuple[str, str], ...] = (
    ("an", "Andaman and Nicobar Islands"), ("ap", "Andhra Pradesh"), ("ar", "Arunachal Pradesh"),
    ("as", "Assam"), ("br", "Bihar"), ("ch", "Chandigarh"), ("cg", "Chhattisgarh"),
    ("dd", "Dadra and Nagar Haveli and Daman and Diu"), ("dl", "Delhi"), ("ga", "Goa"),
    ("gj", "Gujarat"), ("hr", "Haryana"), ("hp", "Himachal Pradesh"), ("jk", "Jammu and Kashmir"),
    ("jh", "Jharkhand"), ("ka", "Karnataka"), ("kl", "Kerala"), ("la", "Ladakh"),
    ("ld", "Lakshadweep"), ("mp", "Madhya Pradesh"), ("mh", "Maharashtra"), ("mn", "Manipur"),
    ("ml", "Meghalaya"), ("mz", "Mizoram"), ("nl", "Nagaland"), ("od", "Odisha"),
    ("py", "Puducherry"), ("pb", "Punjab"), ("rj", "Rajasthan"), ("sk", "Sikkim"),
    ("tn", "Tamil Nadu"), ("ts", "Telangana"), ("tr", "Tripura"), ("up", "Uttar Pradesh"),
    ("uk", "Uttarakhand"), ("wb", "West Bengal"),
)  # fmt: skip

# Fixed lists so the catalogue does not change with the calendar.
_YEARS_OF_PASSING = tuple(str(year) for year in range(1995, 2026))
_SESSIONS = ("2021-22", "2022-23", "2023-24", "2024-25")


def _param(
    paramname: str, label: str, example: str, valuelist: tuple[str, ...] | None = None
) -> SearchParameter:
    return SearchParameter(paramname=paramname, label=label, example=example, valuelist=valuelist)


_ROLL = _param("rroll", "Roll Number", "99123456")
_YEAR = _param("year", "Year of Passing", "2015", _YEARS_OF_PASSING)
_ENROLMENT = _param("enrolment_no", "Enrolment Number", "ST2015CS0042")
_REGISTRATION = _param("reg_no", "Registration Number", "REG2020001234")
_CERT_NO = _param("cert_no", "Certificate Number", "CERT2021004567")
_APPLICATION = _param("application_no", "Application Number", "APP9900123")
_POLICY = _param("policy_no", "Policy Number", "POL99001234")
_ACCOUNT = _param("account_no", "Account Number", "99001234567")
_DOB = _param("dob", "Date of Birth (DD-MM-YYYY)", "15-08-1991")
_FULL_NAME = _param("full_name", "Full Name", "Asha Testkumari")
_SESSION = _param("session", "Session", "2023-24", _SESSIONS)
_WARD = _param("ward_no", "Ward Number", "12", tuple(str(ward) for ward in range(1, 61)))


def _doc(
    code: str, description: str, *params: SearchParameter, formats: tuple[Format, ...] = ("pdf",)
) -> DocType:
    return DocType(doctype=code, description=description, parameters=params, formats=formats)


_BOTH: tuple[Format, ...] = ("pdf", "xml")

# Anchor doctypes, referenced by users.py.
PANCR = _doc(
    "PANCR",
    "PAN Verification Record",
    _param("panno", "PAN", "TSTXK1234A"),
    _FULL_NAME,
    formats=_BOTH,
)
HSCER = _doc("HSCER", "Class XII Marksheet", _ROLL, _YEAR, formats=_BOTH)
SSCER = _doc("SSCER", "Class X Marksheet", _ROLL, _YEAR, formats=_BOTH)
DRVLC = _doc(
    "DRVLC",
    "Driving Licence",
    _param("dlno", "Driving Licence Number", "KA9920150012345"),
    _DOB,
    formats=_BOTH,
)
RVCER = _doc(
    "RVCER",
    "Registration of Vehicles",
    _param("reg_no", "Vehicle Registration Number", "KA99AB1234"),
    _param("chasis_no", "Last 5 characters of Chassis Number", "12345"),
    formats=_BOTH,
)
DGCER = _doc("DGCER", "Degree Certificate", _ENROLMENT, _YEAR)
BTCER = _doc(
    "BTCER",
    "Birth Certificate",
    _REGISTRATION,
    _param("year", "Year of Registration", "1991", tuple(str(y) for y in range(1970, 2026))),
)
TRLCN = _doc("TRLCN", "Trade Licence", _param("licence_no", "Licence Number", "TL990012"), _WARD)

# Doctype pools of generated issuers, by kind of issuer.
_EDUCATION_POOL: tuple[DocType, ...] = (
    DGCER,
    _doc("PDCER", "Provisional Degree Certificate", _ENROLMENT, _YEAR),
    _doc("MGCER", "Migration Certificate", _ENROLMENT, _YEAR),
    _doc("MRKST", "Semester Marksheet", _ENROLMENT, _YEAR, _SESSION, formats=_BOTH),
    _doc("CMCER", "Consolidated Marksheet", _ENROLMENT, _YEAR, formats=_BOTH),
    _doc("DPCER", "Diploma Certificate", _ENROLMENT, _YEAR),
    _doc("TCCER", "Transfer Certificate", _ENROLMENT, _DOB),
    _doc("CONVC", "Convocation Certificate", _ENROLMENT, _YEAR),
)
_BOARD_POOL: tuple[DocType, ...] = (
    HSCER,
    SSCER,
    _doc("HPCER", "Class XII Passing Certificate", _ROLL, _YEAR),
    _doc("SPCER", "Class X Passing Certificate", _ROLL, _YEAR),
    _doc("MGCER", "Migration Certificate", _ROLL, _YEAR),
    _doc("SKMST", "Skill Subject Marksheet", _ROLL, _YEAR, _SESSION),
)
_MUNICIPAL_POOL: tuple[DocType, ...] = (
    BTCER,
    _doc(
        "DTCER", "Death Certificate", _REGISTRATION, _param("year", "Year of Registration", "2020")
    ),
    _doc("PRTAX", "Property Tax Receipt", _param("property_id", "Property ID", "PID99001"), _WARD),
    TRLCN,
    _doc(
        "WTBIL", "Water Connection Bill", _param("consumer_no", "Consumer Number", "W990012"), _WARD
    ),
    _doc("BPCER", "Building Permit", _APPLICATION, _WARD),
    _doc(
        "MRCER", "Marriage Certificate", _REGISTRATION, _param("year", "Year of Marriage", "2019")
    ),
)
_REVENUE_POOL: tuple[DocType, ...] = (
    _doc("CSCER", "Caste Certificate", _CERT_NO, _FULL_NAME, formats=_BOTH),
    _doc("INCER", "Income Certificate", _CERT_NO, _FULL_NAME, formats=_BOTH),
    _doc("DMCER", "Domicile Certificate", _CERT_NO, _FULL_NAME),
    _doc("RORCR", "Record of Rights", _param("survey_no", "Survey Number", "99/2A"), _FULL_NAME),
    _doc("EWSCR", "EWS Certificate", _CERT_NO, _DOB),
    _doc("RSCER", "Residence Certificate", _CERT_NO, _DOB),
    _doc("OBCCR", "OBC Certificate", _CERT_NO, _FULL_NAME, _DOB),
)
_INSURANCE_POOL: tuple[DocType, ...] = (
    _doc("PLCER", "Insurance Policy", _POLICY, _DOB),
    _doc(
        "PRCPT",
        "Premium Paid Certificate",
        _POLICY,
        _param("fy", "Financial Year", "2023-24", _SESSIONS),
    ),
    _doc(
        "MTPOL",
        "Motor Insurance Policy",
        _POLICY,
        _param("reg_no", "Vehicle Registration Number", "KA99AB1234"),
    ),
    _doc("HLPOL", "Health Insurance Policy", _POLICY, _DOB),
    _doc(
        "CLMST",
        "Claim Settlement Letter",
        _POLICY,
        _param("claim_no", "Claim Number", "CLM9900123"),
    ),
)
_BANK_POOL: tuple[DocType, ...] = (
    _doc("ACSTM", "Account Statement", _ACCOUNT, _DOB),
    _doc("FDCER", "Fixed Deposit Receipt", _ACCOUNT, _param("fd_no", "Deposit Number", "FD99012")),
    _doc("LNSTM", "Loan Account Statement", _param("loan_no", "Loan Number", "LN990012"), _DOB),
    _doc(
        "INTCR",
        "Interest Certificate",
        _ACCOUNT,
        _param("fy", "Financial Year", "2023-24", _SESSIONS),
    ),
)
_HEALTH_POOL: tuple[DocType, ...] = (
    _doc("VACCR", "Vaccination Certificate", _REGISTRATION, _DOB),
    _doc("DSCHG", "Discharge Summary", _param("ip_no", "In-patient Number", "IP9900123"), _DOB),
    _doc("DSBCR", "Disability Certificate", _CERT_NO, _DOB),
    _doc("MEDCR", "Medical Fitness Certificate", _CERT_NO, _DOB),
)
_SKILL_POOL: tuple[DocType, ...] = (
    _doc("SKCER", "Skill Certificate", _REGISTRATION, _YEAR),
    _doc("EMREG", "Employment Exchange Registration", _REGISTRATION, _DOB),
    _doc("APPCR", "Apprenticeship Certificate", _REGISTRATION, _YEAR),
    _doc("ITICR", "ITI Trade Certificate", _ROLL, _YEAR),
)

# Invented town names: syllable pairs, so none is meant to be a real place's authority.
_TOWN_HEADS = (
    "Ananda", "Bhava", "Chandra", "Deva", "Gauri", "Hari", "Indra", "Jaya", "Kamala", "Lakshmi",
    "Madhu", "Nanda", "Padma", "Rama", "Shanti", "Surya", "Tara", "Uma", "Vasu", "Vijaya",
    "Amra", "Kesari", "Neela", "Sona",
)  # fmt: skip
_TOWN_TAILS = (
    "pur", "nagar", "garh", "abad", "pet", "puram", "wadi", "ganj", "halli", "kot", "dhar",
)  # fmt: skip
_INSURER_WORDS = (
    "Surakshit", "Bharosa", "Abhay", "Kavach", "Sahyog", "Niramay", "Suvidha", "Samriddhi",
    "Raksha", "Vishwas", "Kalyan", "Sanchay",
)  # fmt: skip

# (name pattern, issuerid pattern, category, description, doctype pool) per town-level kind.
_TOWN_KINDS = (
    ("University of {town}", "in.ac.{slug}u", "Education", "University", _EDUCATION_POOL),
    ("{town} Institute of Technology", "in.ac.{slug}it", "Education", "Institute", _EDUCATION_POOL),
    ("Government College, {town}", "in.ac.gc{slug}", "Education", "College", _EDUCATION_POOL),
    ("{town} Polytechnic", "in.ac.{slug}poly", "Education", "Polytechnic", _EDUCATION_POOL),
    (
        "{town} Municipal Corporation",
        "in.gov.{slug}.mc",
        "Urban Local Body",
        "Municipal body",
        _MUNICIPAL_POOL,
    ),
    (
        "Collectorate, {town} District",
        "in.gov.revenue.{slug}",
        "State Government",
        "District revenue office",
        _REVENUE_POOL,
    ),
    ("{town} District Hospital", "in.gov.health.{slug}", "Health", "Hospital", _HEALTH_POOL),
    ("{town} Co-operative Bank", "in.coop.{slug}bank", "Banking", "Co-operative bank", _BANK_POOL),
)
_STATE_KINDS = (
    ("Board of Secondary Education, {state}", "in.gov.bse.{code}", "Education", _BOARD_POOL),
    ("Revenue Department, {state}", "in.gov.revenue.{code}", "State Government", _REVENUE_POOL),
    ("Skill Development Mission, {state}", "in.gov.skill.{code}", "State Government", _SKILL_POOL),
)
_INSURER_KINDS = (
    ("{word} General Insurance Company Limited", "in.co.{slug}general", "Insurance"),
    ("{word} Life Insurance Company Limited", "in.co.{slug}life", "Insurance"),
    ("{word} Health Insurance Company Limited", "in.co.{slug}health", "Insurance"),
)

_Candidate = tuple[str, str, str, str, tuple[DocType, ...]]  # name, issuerid, category, desc, pool


class Catalogue:
    """Issuers with O(1) lookups by orgid, issuerid and (orgid, doctype)."""

    __slots__ = ("_by_issuerid", "_by_orgid", "_doctypes", "issuers")

    def __init__(self, issuers: tuple[Issuer, ...]) -> None:
        self.issuers = issuers
        self._by_orgid = {issuer.orgid: issuer for issuer in issuers}
        self._by_issuerid = {issuer.issuerid: issuer for issuer in issuers}
        self._doctypes = {
            (issuer.orgid, doctype.doctype): doctype
            for issuer in issuers
            for doctype in issuer.doctypes
        }
        if len(self._by_orgid) != len(issuers) or len(self._by_issuerid) != len(issuers):
            raise ValueError("orgid and issuerid must be unique in a catalogue")

    def issuer(self, orgid: str) -> Issuer | None:
        return self._by_orgid.get(orgid)

    def issuer_by_issuerid(self, issuerid: str) -> Issuer | None:
        return self._by_issuerid.get(issuerid)

    def doctype(self, orgid: str, doctype: str) -> DocType | None:
        return self._doctypes.get((orgid, doctype))


def _anchor_issuers() -> list[Issuer]:
    anchors = [
        Issuer(
            INCOME_TAX_ORGID,
            "in.gov.pan",
            "Income Tax Department",
            "Permanent Account Number records",
            "Central Government",
            (PANCR,),
        ),
        Issuer(
            CBSE_ORGID,
            "in.gov.cbse",
            "Central Board of Secondary Education",
            "Class X and XII marksheets and certificates",
            "Education",
            _BOARD_POOL,
        ),
        Issuer(
            UNIVERSITY_ORGID,
            "in.ac.sttu",
            "Sampletown Technological University",
            "Degrees and marksheets",
            "Education",
            _EDUCATION_POOL,
        ),
        Issuer(
            MUNICIPAL_ORGID,
            "in.gov.demonagar.mc",
            "Demo Nagar Municipal Corporation",
            "Civic registrations and licences",
            "Urban Local Body",
            _MUNICIPAL_POOL,
        ),
    ]
    for index, (code, state) in enumerate(STATES):
        anchors.append(
            Issuer(
                orgid=f"{_TRANSPORT_ORGID_BASE + index:06d}",
                issuerid=f"in.gov.transport.{code}",
                name=f"Transport Department, {state}",
                description=f"Driving licences and vehicle registrations issued in {state}",
                category="Transport",
                doctypes=(DRVLC, RVCER),
            )
        )
    return anchors


def _candidates() -> list[_Candidate]:
    towns = [head + tail for head in _TOWN_HEADS for tail in _TOWN_TAILS]
    found: list[_Candidate] = []
    for town in towns:
        slug = town.lower()
        for name, issuerid, category, kind, pool in _TOWN_KINDS:
            description = f"{kind} issuing documents in {town}"
            found.append(
                (name.format(town=town), issuerid.format(slug=slug), category, description, pool)
            )
    for code, state in STATES:
        for name, issuerid, category, pool in _STATE_KINDS:
            description = f"State issuer for {state}"
            found.append(
                (name.format(state=state), issuerid.format(code=code), category, description, pool)
            )
    for word in _INSURER_WORDS:
        for name, issuerid, category in _INSURER_KINDS:
            description = "Insurance policies and receipts"
            found.append(
                (
                    name.format(word=word),
                    issuerid.format(slug=word.lower()),
                    category,
                    description,
                    _INSURANCE_POOL,
                )
            )
    return found


@functools.lru_cache(maxsize=8)
def build_catalogue(seed: int = 0) -> Catalogue:
    """The catalogue for `seed`: the same seed always gives the same catalogue (and object)."""
    rng = random.Random(seed)
    issuers = _anchor_issuers()
    taken_orgids = {issuer.orgid for issuer in issuers}
    taken_issuerids = {issuer.issuerid for issuer in issuers}
    pairs = sum(len(issuer.doctypes) for issuer in issuers)
    candidates = _candidates()
    rng.shuffle(candidates)
    orgids = (f"{number:06d}" for number in rng.sample(range(1000, 100_000), len(candidates)))
    for name, issuerid, category, description, pool in candidates:
        if len(issuers) >= MIN_ISSUERS + 100 and pairs >= MIN_PAIRS + 500:
            break
        orgid = next(orgids)
        if orgid in taken_orgids or issuerid in taken_issuerids:
            continue
        count = rng.randint(min(4, len(pool)), len(pool))
        chosen = sorted(rng.sample(range(len(pool)), count))
        issuers.append(
            Issuer(orgid, issuerid, name, description, category, tuple(pool[i] for i in chosen))
        )
        taken_orgids.add(orgid)
        taken_issuerids.add(issuerid)
        pairs += count
    return Catalogue(tuple(sorted(issuers, key=lambda issuer: issuer.orgid)))
