"""The parameter check against a held document's number, as a pure function."""

from __future__ import annotations

import pytest

from digilocker_gateway.documents.identifiers import (
    ParameterCheck,
    check_parameters,
    document_number,
)


def test_document_number_is_the_last_part_of_the_uri() -> None:
    assert document_number("in.gov.pan-PANCR-AAAXT1001A", "PANCR") == "AAAXT1001A"
    assert document_number("in.gov.transport.ka-DRVLC-KA99-2011-0012345", "DRVLC") == (
        "KA99-2011-0012345"
    )
    assert document_number("in.gov.pan-PANCR-", "PANCR") is None
    assert document_number("some-other-shape", "PANCR") is None


@pytest.mark.parametrize(
    ("doc_type", "uri", "parameters", "expected"),
    [
        ("PANCR", "in.gov.pan-PANCR-AAAXT1001A", {"panno": "aaaxt1001a"}, ParameterCheck.MATCH),
        ("PANCR", "in.gov.pan-PANCR-AAAXT1001A", {"panno": "AAAXT1001B"}, ParameterCheck.MISMATCH),
        (
            "DRVLC",
            "in.gov.transport.ka-DRVLC-KA9920110012345",
            {"dlno": "KA99 2011 0012345", "dob": "15-08-1991"},
            ParameterCheck.MATCH,
        ),
        # Without the number's own parameter, a value equal to the number still matches ...
        ("XYCER", "in.gov.x-XYCER-ABC123", {"ref": "abc-123"}, ParameterCheck.MATCH),
        # ... and otherwise nothing can be said.
        ("HSCER", "in.gov.cbse-HSCER-2009991234", {"rroll": "991234"}, ParameterCheck.UNCHECKED),
        ("PANCR", "unexpected-shape", {"panno": "AAAXT1001A"}, ParameterCheck.UNCHECKED),
    ],
)
def test_parameters_are_checked_against_the_number(
    doc_type: str, uri: str, parameters: dict[str, str], expected: ParameterCheck
) -> None:
    assert check_parameters(doc_type, uri, parameters) is expected
