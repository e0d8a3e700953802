"""The simulator's data model: catalogue entries, synthetic users and their documents.

Plain dataclasses, no I/O. `catalogue.py` and `users.py` build them deterministically;
`app.py` serves them. All people, numbers and documents are synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Format = Literal["pdf", "xml"]
# What DigiLocker does when this document is pulled (POST /1/pull/pulldocument) with an exact
# parameter match: issue it, leave it pending at the issuer, or fail because the issuer is down.
PullOutcome = Literal["issue", "pending", "issuer_down"]
Scenario = Literal[
    "complete",
    "aadhaar-not-linked",
    "eaadhaar-not-available",
    "nothing-issued",
    "pull-pending",
    "new-user",
    "large-document",
    "issuer-down",
]


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One search parameter of an (issuer, doctype) pair, as /1/pull/parameters lists it."""

    paramname: str
    label: str
    example: str
    valuelist: tuple[str, ...] | None = None  # served as a comma-separated string or null


@dataclass(frozen=True, slots=True)
class DocType:
    doctype: str  # 5 upper-case characters, e.g. DRVLC
    description: str
    parameters: tuple[SearchParameter, ...]
    formats: tuple[Format, ...] = ("pdf",)


@dataclass(frozen=True, slots=True)
class Issuer:
    orgid: str  # e.g. "002317"
    issuerid: str  # reverse-DNS, e.g. "in.gov.transport.ka"
    name: str
    description: str
    category: str
    doctypes: tuple[DocType, ...]


@dataclass(slots=True)
class SimDocument:
    """A document a synthetic user has, or can pull, at one issuer."""

    doctype: str
    orgid: str
    issuerid: str
    issuer_name: str
    name: str  # display name, e.g. "Driving Licence"
    docid: str
    formats: tuple[Format, ...]
    parameters: dict[str, str]  # search-parameter values that pull it
    issued: bool  # in the user's issued list from the start
    pull_outcome: PullOutcome = "issue"
    fields: dict[str, str] = field(default_factory=dict)  # synthetic fields shown in the file
    # The names among `fields` that are a marksheet's subjects: the certificate XML lists them
    # as Subject elements rather than attributes.
    subjects: tuple[str, ...] = ()
    min_pdf_bytes: int = 0  # pad the PDF to at least this size (the large-document scenario)

    @property
    def uri(self) -> str:
        # DigiLocker's URI shape: <issuerid>-<DOCTYPE>-<docid>
        # (docs/reference/digilocker-partner-api.md §6).
        return f"{self.issuerid}-{self.doctype}-{self.docid}"


@dataclass(slots=True)
class Address:
    co: str = ""
    house: str = ""
    street: str = ""
    lm: str = ""
    loc: str = ""
    vtc: str = ""
    subdist: str = ""
    dist: str = ""
    state: str = ""
    country: str = "India"
    pc: str = ""
    po: str = ""


@dataclass(slots=True)
class SimUser:
    scenario: Scenario
    aadhaar: str  # 12 digits starting with 1: UIDAI never issues those, so never a real person
    mobile: str  # 10 digits starting with 5: not an Indian mobile number
    otp: str
    pin: str
    digilockerid: str  # UUID
    name: str
    dob: str  # DDMMYYYY, as DigiLocker sends it
    gender: Literal["M", "F", "T"]
    email: str
    aadhaar_linked: bool
    eaadhaar_available: bool
    address: Address
    photo_jpeg: bytes
    documents: list[SimDocument]
    has_account: bool = True  # False: signing in goes through sign-up (new_account=Y)

    @property
    def eaadhaar_flag(self) -> Literal["Y", "N"]:
        return "Y" if self.aadhaar_linked and self.eaadhaar_available else "N"
