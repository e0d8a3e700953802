"""The document's own fields, one parser per family of doc types (docs/document-data.md §3).

Each parser reads the `CertificateData` part of a certificate and answers a JSON object that
goes under its key in `data` (`pan`, `drivingLicence`, `marksheet`, `vehicleRegistration`).
Every field is looked up under the names issuers are seen or expected to use, and is null
when the XML has none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from digilocker_gateway.documents.data.xmlread import (
    anywhere,
    as_date,
    attribute,
    descendants,
)

Parser = Callable[[etree._Element | None, etree._Element], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class DocTypeParser:
    key: str  # where the fields go in `data`
    parse: Parser  # (CertificateData or None, Certificate root) -> fields


def _pan(data: etree._Element | None, root: etree._Element) -> dict[str, Any]:
    return {
        "number": anywhere(data, "pan", "panNumber", "panNo") or attribute(root, "number"),
        "fatherName": anywhere(data, "fathersName", "fatherName", "father"),
    }


def _split_classes(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _driving_licence(data: etree._Element | None, root: etree._Element) -> dict[str, Any]:
    valid_until = as_date(
        anywhere(data, "validTill", "validUpto", "validTo", "nonTransportValidTill")
        or attribute(root, "expiryDate")
    )
    classes: list[dict[str, Any]] = []
    for element in descendants(data, "Category", "VehicleClass", "Cov", "ClassOfVehicle"):
        code = attribute(element, "code", "abbreviation", "class", "cov", "name")
        if code is not None:
            classes.append(
                {
                    "code": code,
                    "issuedOn": as_date(attribute(element, "issueDate", "issuedOn", "validFrom")),
                    "validUntil": as_date(
                        attribute(element, "expiryDate", "validTill", "validUpto", "validTo")
                    )
                    or valid_until,
                }
            )
    if not classes:
        listed = anywhere(data, "vehicleClasses", "classOfVehicle", "cov", "vehicleClass")
        for code in _split_classes(listed or ""):
            classes.append({"code": code, "issuedOn": None, "validUntil": valid_until})
    return {
        "number": anywhere(data, "licenceNumber", "licenseNumber", "dlNumber", "dlno")
        or attribute(root, "number"),
        "vehicleClasses": classes,
        "validUntil": valid_until,
        "licensingAuthority": anywhere(
            data, "licensingAuthority", "issuingAuthority", "rtoName", "rto"
        ),
    }


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _whole(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _marksheet(data: etree._Element | None, root: etree._Element) -> dict[str, Any]:
    del root
    subjects: list[dict[str, Any]] = []
    for element in descendants(data, "Subject"):
        name = attribute(element, "name", "subjectName", "subject", "code")
        if name is None:
            continue
        subjects.append(
            {
                "name": name,
                "marks": attribute(element, "marks", "marksObtained", "obtained", "total"),
                "maxMarks": attribute(element, "maxMarks", "max", "maximum", "outOf"),
                "grade": attribute(element, "grade", "positionalGrade"),
            }
        )
    marks = [_number(subject["marks"]) for subject in subjects]
    maxima = [_number(subject["maxMarks"]) for subject in subjects]
    # Totals only when every subject has numeric marks and maximum: a partial sum would mislead.
    complete = bool(subjects) and None not in marks and None not in maxima
    return {
        "rollNumber": anywhere(data, "rollNumber", "rollNo", "roll"),
        "year": anywhere(data, "yearOfPassing", "year", "examYear", "passingYear"),
        "school": anywhere(data, "school", "schoolName", "institution", "college"),
        "result": anywhere(data, "result", "resultStatus", "division"),
        "subjects": subjects,
        "totalMarks": _whole(sum(m for m in marks if m is not None)) if complete else None,
        "maxMarks": _whole(sum(m for m in maxima if m is not None)) if complete else None,
    }


def _vehicle_registration(data: etree._Element | None, root: etree._Element) -> dict[str, Any]:
    return {
        "registrationNumber": anywhere(
            data, "registrationNumber", "regNo", "registrationNo", "vehicleNumber"
        )
        or attribute(root, "number"),
        "registeredOn": as_date(
            anywhere(data, "dateOfRegistration", "registrationDate", "regDate")
            or attribute(root, "issueDate")
        ),
        "validUntil": as_date(
            anywhere(data, "validTill", "registrationValidTill", "regValidUpto", "fitnessUpto")
            or attribute(root, "expiryDate")
        ),
        "chassisNumber": anywhere(data, "chassisNumber", "chasisNumber", "chassisNo"),
        "engineNumber": anywhere(data, "engineNumber", "engineNo"),
        "vehicleClass": anywhere(data, "vehicleClass", "vehicleCategory", "class"),
        "makerModel": anywhere(data, "makerModel", "model", "makerDescription"),
        "fuel": anywhere(data, "fuel", "fuelType"),
        "registeringAuthority": anywhere(
            data, "registeringAuthority", "registrationAuthority", "rtoName", "rto"
        ),
    }


_MARKSHEET = DocTypeParser("marksheet", _marksheet)

# Doc type -> its parser. A doc type that is not here yields the common fields only.
PARSERS: dict[str, DocTypeParser] = {
    "PANCR": DocTypeParser("pan", _pan),
    "DRVLC": DocTypeParser("drivingLicence", _driving_licence),
    "RVCER": DocTypeParser("vehicleRegistration", _vehicle_registration),
    "HSCER": _MARKSHEET,
    "SSCER": _MARKSHEET,
    "MRKST": _MARKSHEET,
    "CMCER": _MARKSHEET,
}
