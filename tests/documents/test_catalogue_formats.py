"""The catalogue tells the truth about formats: every (docType, orgId, format) it lists can be
fetched, through the gateway, for a user who holds that document (docs/reference/setu-api.md
§4.3). Checked two ways: every listed triple against what the simulator's issuers have, and a
seeded sample of them fetched end to end for one synthetic user who holds them all."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Mount

from digilocker_gateway.config import SIMULATOR_MOUNT
from digilocker_gateway.simulator.context import SimulatorContext
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.simulator.model import Address, SimDocument, SimUser
from digilocker_gateway.simulator.photo import synthetic_photo_jpeg
from digilocker_gateway.simulator.users import TEST_OTP, TEST_PIN, synthetic_aadhaar
from tests.requests.test_create import assert_envelope
from tests.support import BASE_URL, Gateway

SEED = 20_261_202
SAMPLE = 150  # plus one pair of every doc type: about 200 fetches


def _simulator(gateway: Gateway) -> SimulatorContext:
    for route in gateway.app.routes:
        if isinstance(route, Mount) and route.path == SIMULATOR_MOUNT:
            ctx = route.app.state.simulator  # type: ignore[attr-defined]
            assert isinstance(ctx, SimulatorContext)
            return ctx
    raise AssertionError("the embedded simulator is not mounted")


async def _listed(gateway: Gateway) -> list[tuple[str, str, str]]:
    response = await gateway.client.get("/api/digilocker/documents", headers=gateway.headers)
    assert response.status_code == 200
    return [
        (entry["docType"], entry["orgId"], fmt)
        for entry in response.json()["documents"]
        for fmt in entry["availableFormats"]
    ]


def _sample(listed: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """One listed triple of every doc type, and a seeded sample of the rest."""
    rng = random.Random(SEED)
    shuffled = rng.sample(listed, len(listed))
    chosen: dict[tuple[str, str, str], None] = {}
    seen_types: set[str] = set()
    for triple in shuffled:
        if triple[0] not in seen_types:
            seen_types.add(triple[0])
            chosen[triple] = None
    for triple in shuffled[:SAMPLE]:
        chosen[triple] = None
    return list(chosen)


def _holder(ctx: SimulatorContext, pairs: list[tuple[str, str]]) -> SimUser:
    """A synthetic user holding one issued document of each pair; every search parameter is the
    document's number (or the first allowed value), so the parameters name the document."""
    documents: list[SimDocument] = []
    for index, (doc_type, org_id) in enumerate(pairs):
        issuer = ctx.catalogue.issuer(org_id)
        doctype = ctx.catalogue.doctype(org_id, doc_type)
        assert issuer is not None
        assert doctype is not None
        number = f"WALK{index:06d}"
        parameters = {
            p.paramname: p.valuelist[0] if p.valuelist else number for p in doctype.parameters
        }
        documents.append(
            SimDocument(
                doctype=doc_type,
                orgid=org_id,
                issuerid=issuer.issuerid,
                issuer_name=issuer.name,
                name=doctype.description,
                docid=number,
                formats=doctype.formats,
                parameters=parameters,
                issued=True,
                fields={"Document Number": number},
            )
        )
    aadhaar = synthetic_aadhaar(9_000)
    return SimUser(
        scenario="complete",
        aadhaar=aadhaar,
        mobile="5900000001",
        otp=TEST_OTP,
        pin=TEST_PIN,
        digilockerid="00000000-0000-4000-8000-00000000a11c",
        name="Walk Testholder",
        dob="01011990",
        gender="F",
        email="walk.testholder@example.com",
        aadhaar_linked=True,
        eaadhaar_available=True,
        address=Address(state="Karnataka", dist="Sampledist", pc="560001"),
        photo_jpeg=synthetic_photo_jpeg(9_000),
        documents=documents,
    )


async def _authenticated(gateway: Gateway, user: SimUser) -> str:
    created = await gateway.create_request()
    start = await gateway.client.get(created["url"])
    assert start.status_code == 302, start.text
    callback = await run_journey(
        gateway.client,
        start.headers["location"],
        identifier=user.aadhaar,
        otp=user.otp,
        pin=user.pin,
    )
    assert str(callback).startswith(BASE_URL + "/digilocker/callback"), str(callback)
    back = await gateway.client.get(str(callback))
    assert back.status_code == 302, back.text
    request_id: str = created["id"]
    return request_id


def _body(document: SimDocument, file_format: str) -> dict[str, Any]:
    return {
        "docType": document.doctype,
        "orgId": document.orgid,
        "format": file_format,
        "consent": "Y",
        "parameters": [{"name": k, "value": v} for k, v in document.parameters.items()],
    }


CONTENT = {"pdf": ("application/pdf", b"%PDF"), "xml": ("application/xml", b"<?xml")}


def _by_pair(user: SimUser) -> Iterator[tuple[tuple[str, str], SimDocument]]:
    for document in user.documents:
        yield (document.doctype, document.orgid), document


async def test_every_listed_format_is_one_the_simulators_issuer_has(
    fully_catalogued_gateway: Gateway,
) -> None:
    """The whole catalogue, every listed triple: the issuer of the pair serves that format for
    every document of it (the simulator issues formats per doc type)."""
    gateway = fully_catalogued_gateway
    ctx = _simulator(gateway)
    listed = await _listed(gateway)
    assert len(listed) >= 10_000
    wrong = []
    for doc_type, org_id, fmt in listed:
        doctype = ctx.catalogue.doctype(org_id, doc_type)
        if doctype is None or fmt not in doctype.formats:
            wrong.append((doc_type, org_id, fmt))
    assert wrong == []


async def test_a_seeded_sample_of_listed_formats_is_fetched_through_the_gateway(
    fully_catalogued_gateway: Gateway,
) -> None:
    gateway = fully_catalogued_gateway
    ctx = _simulator(gateway)
    sample = _sample(await _listed(gateway))
    assert len(sample) >= SAMPLE
    pairs = list(dict.fromkeys((doc_type, org_id) for doc_type, org_id, _ in sample))
    holder = _holder(ctx, pairs)
    ctx.state.users.append(holder)
    documents = dict(_by_pair(holder))
    request_id = await _authenticated(gateway, holder)
    refused = []
    for doc_type, org_id, fmt in sample:
        response = await gateway.client.post(
            f"/api/digilocker/{request_id}/document",
            json=_body(documents[(doc_type, org_id)], fmt),
            headers=gateway.headers,
        )
        if response.status_code != 200:
            refused.append((doc_type, org_id, fmt, response.status_code, response.text))
            continue
        assert response.json()["parametersVerified"] is True
        download = await gateway.client.get(response.json()["fileUrl"])
        content_type, magic = CONTENT[fmt]
        assert download.status_code == 200
        assert download.headers["content-type"] == content_type
        assert download.content.lstrip().startswith(magic)
    assert refused == []


@pytest.mark.parametrize(("doc_type", "has_xml"), [("PANCR", True), ("TRLCN", False)])
async def test_xml_is_per_document_beyond_what_the_catalogue_lists(
    catalogued_gateway: Gateway, doc_type: str, has_xml: bool
) -> None:
    """XML is listed for no pair (the meta-APIs cannot say who has it), yet a document whose
    issued-list `mime` has it is fetched as XML; one without it is 400 invalid_payload."""
    gateway = catalogued_gateway
    ctx = _simulator(gateway)
    listed = await _listed(gateway)
    assert {fmt for _, _, fmt in listed} == {"pdf"}
    pair = next((d, o) for d, o, _ in listed if d == doc_type)
    holder = _holder(ctx, [pair])
    ctx.state.users.append(holder)
    request_id = await _authenticated(gateway, holder)
    response = await gateway.client.post(
        f"/api/digilocker/{request_id}/document",
        json=_body(holder.documents[0], "xml"),
        headers=gateway.headers,
    )
    if has_xml:
        assert response.status_code == 200, response.text
        download = await gateway.client.get(response.json()["fileUrl"])
        assert download.headers["content-type"] == "application/xml"
    else:
        assert_envelope(response, 400, "invalid_payload")
        assert "not available as xml" in response.json()["error"]["detail"]
