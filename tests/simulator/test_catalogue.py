"""The pull catalogue: deterministic, sized and shaped like DigiLocker's (reference §11)."""

from __future__ import annotations

import re
import time

import pytest

from digilocker_gateway.simulator.catalogue import (
    CBSE_ORGID,
    EAADHAAR_DOCTYPE,
    INCOME_TAX_ORGID,
    MUNICIPAL_ORGID,
    STATES,
    UIDAI_ISSUERID,
    UNIVERSITY_ORGID,
    Catalogue,
    build_catalogue,
)

build_uncached = build_catalogue.__wrapped__


def test_same_seed_builds_identical_catalogue() -> None:
    assert build_uncached(7).issuers == build_uncached(7).issuers


def test_different_seed_changes_generated_issuers() -> None:
    first = {issuer.issuerid for issuer in build_uncached(0).issuers}
    second = {issuer.issuerid for issuer in build_uncached(1).issuers}
    assert first != second


def test_build_catalogue_caches_per_seed() -> None:
    assert build_catalogue(0) is build_catalogue(0)


def test_uncached_build_takes_well_under_a_second() -> None:
    started = time.perf_counter()
    build_uncached(12345)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("seed", [0, 1, 99])
def test_catalogue_has_real_sized_issuer_and_pair_counts(seed: int) -> None:
    catalogue = build_catalogue(seed)
    assert len(catalogue.issuers) >= 2000
    pairs = {
        (issuer.orgid, doctype.doctype)
        for issuer in catalogue.issuers
        for doctype in issuer.doctypes
    }
    assert len(pairs) >= 10_000
    assert len(pairs) == sum(len(issuer.doctypes) for issuer in catalogue.issuers)
    assert all(catalogue.doctype(orgid, doctype) is not None for orgid, doctype in pairs)


def test_orgids_are_unique_six_digit_strings_and_issuerids_reverse_dns() -> None:
    issuers = build_catalogue(0).issuers
    assert all(re.fullmatch(r"\d{6}", issuer.orgid) for issuer in issuers)
    assert len({issuer.orgid for issuer in issuers}) == len(issuers)
    assert len({issuer.issuerid for issuer in issuers}) == len(issuers)
    pattern = r"(in|com)(\.[a-z0-9]+){1,3}"
    assert all(re.fullmatch(pattern, issuer.issuerid) for issuer in issuers)


def test_every_pair_has_two_or_three_named_parameters_and_known_formats() -> None:
    for issuer in build_catalogue(0).issuers:
        assert issuer.name
        assert issuer.description
        assert issuer.category
        codes = [doctype.doctype for doctype in issuer.doctypes]
        assert len(codes) == len(set(codes)), issuer.issuerid
        for doctype in issuer.doctypes:
            assert re.fullmatch(r"[A-Z]{5}", doctype.doctype)
            assert 2 <= len(doctype.parameters) <= 3
            names = [parameter.paramname for parameter in doctype.parameters]
            assert len(names) == len(set(names))
            assert doctype.formats in {("pdf",), ("pdf", "xml")}


def test_valuelists_are_either_null_or_comma_free_values() -> None:
    parameters = [
        parameter
        for issuer in build_catalogue(0).issuers
        for doctype in issuer.doctypes
        for parameter in doctype.parameters
    ]
    with_list = [parameter for parameter in parameters if parameter.valuelist is not None]
    assert with_list, "some parameters must offer a valuelist"
    assert any(parameter.valuelist is None for parameter in parameters)
    for parameter in with_list:
        assert parameter.valuelist
        assert all(value and "," not in value for value in parameter.valuelist)


def test_every_state_and_ut_transport_department_issues_driving_licences() -> None:
    catalogue = build_catalogue(0)
    transport = [i for i in catalogue.issuers if i.issuerid.startswith("in.gov.transport.")]
    assert len(transport) == len(STATES) == 36
    assert all(catalogue.doctype(issuer.orgid, "DRVLC") is not None for issuer in transport)
    karnataka = catalogue.issuer("002317")
    assert karnataka is not None
    assert karnataka.issuerid == "in.gov.transport.ka"


@pytest.mark.parametrize("seed", [0, 3])
def test_seeded_users_pairs_exist_whatever_the_seed(seed: int) -> None:
    catalogue = build_catalogue(seed)
    for orgid, doctype in [
        (INCOME_TAX_ORGID, "PANCR"),
        (CBSE_ORGID, "HSCER"),
        (CBSE_ORGID, "SSCER"),
        (UNIVERSITY_ORGID, "DGCER"),
        (MUNICIPAL_ORGID, "BTCER"),
        (MUNICIPAL_ORGID, "TRLCN"),
    ]:
        assert catalogue.doctype(orgid, doctype) is not None, (orgid, doctype)
    pan = catalogue.issuer(INCOME_TAX_ORGID)
    assert pan is not None
    assert pan.name == "Income Tax Department"


def test_eaadhaar_is_kept_out_of_the_pull_catalogue() -> None:
    catalogue = build_catalogue(0)
    assert catalogue.issuer_by_issuerid(UIDAI_ISSUERID) is None
    assert all(
        doctype.doctype != EAADHAAR_DOCTYPE
        for issuer in catalogue.issuers
        for doctype in issuer.doctypes
    )


def test_unknown_orgid_or_doctype_lookups_return_none() -> None:
    catalogue = build_catalogue(0)
    assert catalogue.issuer("999999") is None
    assert catalogue.doctype(INCOME_TAX_ORGID, "DRVLC") is None
    assert catalogue.doctype("999999", "PANCR") is None


def test_duplicate_orgids_are_rejected() -> None:
    issuer = build_catalogue(0).issuers[0]
    with pytest.raises(ValueError, match="unique"):
        Catalogue((issuer, issuer))
