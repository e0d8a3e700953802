"""Bearer resource APIs: user, issued list, file and XML by URI with `hmac`, e-Aadhaar."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from lxml import etree

from tests.simulator.conftest import CLIENT_ID, CLIENT_SECRET, MakeSim, Sim

BASE = "/public/oauth2"


def _hmac_of(body: bytes) -> str:
    return base64.b64encode(
        hmac.new(CLIENT_SECRET.encode(), body, hashlib.sha256).digest()
    ).decode()


def _issued(user: dict[str, Any], fmt: str | None = None) -> list[dict[str, Any]]:
    return [
        doc for doc in user["documents"] if doc["issued"] and (fmt is None or fmt in doc["formats"])
    ]


async def _user_with(sim: Sim, fmt: str) -> dict[str, Any]:
    for user in await sim.users():
        if user["scenario"] in ("complete", "eaadhaar-not-available") and _issued(user, fmt):
            return user
    raise AssertionError(f"no seeded user has an issued document with {fmt}")


@pytest.mark.parametrize("path", [f"{BASE}/1/user", f"{BASE}/2/files/issued", f"{BASE}/1/file/x"])
async def test_missing_or_unknown_bearer_returns_401_invalid_token(sim: Sim, path: str) -> None:
    missing = await sim.client.get(path)
    unknown = await sim.get(path, "0" * 40)

    for response in (missing, unknown):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"


async def test_user_details_are_flat_with_ddmmyyyy_dob(sim: Sim) -> None:
    user = await sim.user("complete")
    tokens = await sim.tokens("complete")

    body = (await sim.get(f"{BASE}/1/user", tokens["access_token"])).json()

    assert body["digilockerid"] == user["digilockerid"]
    assert body["name"] == user["name"]
    assert len(body["dob"]) == 8
    assert body["eaadhaar"] == user["eaadhaar"]
    assert body["reference_key"] == tokens["reference_key"]
    assert "details" not in body


@pytest.mark.parametrize("version", [1, 2])
async def test_issued_list_has_items_with_mime_array_and_uri_shape(sim: Sim, version: int) -> None:
    user = await sim.user("complete")
    tokens = await sim.tokens("complete")

    body = (await sim.get(f"{BASE}/{version}/files/issued", tokens["access_token"])).json()

    assert set(body) == {"items", "resource"}
    assert {item["uri"] for item in body["items"]} == {doc["uri"] for doc in _issued(user)}
    for item in body["items"]:
        assert isinstance(item["mime"], list)
        assert "application/pdf" in item["mime"] or "application/xml" in item["mime"]
        assert item["uri"].startswith(f"{item['issuerid']}-{item['doctype']}-")
        assert item["size"] == ""
        assert item["parent"] == ""
        assert item["type"] == "file"


async def test_mime_as_string_setting_sends_a_single_string(make_sim: MakeSim) -> None:
    sim = await make_sim(mime_as_string=True)
    tokens = await sim.tokens("complete")

    body = (await sim.get(f"{BASE}/2/files/issued", tokens["access_token"])).json()

    assert body["items"]
    assert all(isinstance(item["mime"], str) for item in body["items"])


async def test_nothing_issued_user_has_empty_list(sim: Sim) -> None:
    tokens = await sim.tokens("nothing-issued")

    body = (await sim.get(f"{BASE}/2/files/issued", tokens["access_token"])).json()

    assert body["items"] == []


async def test_file_returns_exact_bytes_with_length_type_and_hmac(sim: Sim) -> None:
    user = await _user_with(sim, "pdf")
    doc = _issued(user, "pdf")[0]
    tokens = await sim.tokens(user["scenario"])

    response = await sim.get(f"{BASE}/1/file/{doc['uri']}", tokens["access_token"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.content.startswith(b"%PDF")
    assert hmac.compare_digest(response.headers["hmac"], _hmac_of(response.content))


async def test_xml_returns_certificate_with_hmac(sim: Sim) -> None:
    user = await _user_with(sim, "xml")
    doc = _issued(user, "xml")[0]
    tokens = await sim.tokens(user["scenario"])

    response = await sim.get(f"{BASE}/1/xml/{doc['uri']}", tokens["access_token"])

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.headers["hmac"] == _hmac_of(response.content)
    etree.fromstring(response.content)


async def test_xml_of_pdf_only_document_returns_404_invalid_uri(sim: Sim) -> None:
    for user in await sim.users():
        pdf_only = [d for d in _issued(user, "pdf") if "xml" not in d["formats"]]
        if pdf_only and user["scenario"] in ("complete", "large-document"):
            break
    else:
        raise AssertionError("no seeded PDF-only issued document")
    tokens = await sim.tokens(user["scenario"])

    response = await sim.get(f"{BASE}/1/xml/{pdf_only[0]['uri']}", tokens["access_token"])

    assert response.status_code == 404
    assert response.json()["error"] == "invalid_uri"


async def test_missing_uri_returns_400_uri_missing(sim: Sim) -> None:
    tokens = await sim.tokens("complete")

    for path in (f"{BASE}/1/file/", f"{BASE}/1/file", f"{BASE}/1/xml/"):
        response = await sim.get(path, tokens["access_token"])
        assert response.status_code == 400
        assert response.json()["error"] == "uri_missing"


async def test_another_users_uri_returns_404_invalid_uri(sim: Sim) -> None:
    other = await _user_with(sim, "pdf")
    tokens = await sim.tokens("nothing-issued")

    response = await sim.get(f"{BASE}/1/file/{_issued(other)[0]['uri']}", tokens["access_token"])

    assert response.status_code == 404
    assert response.json()["error"] == "invalid_uri"


async def test_document_not_ticked_returns_403_insufficient_scope(sim: Sim) -> None:
    user = await _user_with(sim, "pdf")
    doc = _issued(user, "pdf")[0]
    tokens = await sim.tokens(user["scenario"], doctypes=[])

    response = await sim.get(f"{BASE}/1/file/{doc['uri']}", tokens["access_token"])

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_consent_not_enforced_serves_unticked_document(make_sim: MakeSim) -> None:
    sim = await make_sim(enforce_document_consent=False)
    user = await _user_with(sim, "pdf")
    tokens = await sim.tokens(user["scenario"], doctypes=[])

    response = await sim.get(
        f"{BASE}/1/file/{_issued(user, 'pdf')[0]['uri']}", tokens["access_token"]
    )

    assert response.status_code == 200


@pytest.mark.parametrize(("profile", "status"), [("spec", 500), ("v2.4", 530)])
async def test_issuer_down_document_returns_repository_error(
    make_sim: MakeSim, profile: str, status: int
) -> None:
    sim = await make_sim(status_profile=profile)
    user = await sim.user("issuer-down")
    down = [d for d in _issued(user) if d["pullOutcome"] == "issuer_down"]
    assert down, "the issuer-down scenario has no issued document at the down issuer"
    tokens = await sim.tokens("issuer-down")

    response = await sim.get(f"{BASE}/1/file/{down[0]['uri']}", tokens["access_token"])

    assert response.status_code == status
    assert response.json()["error"] == "repository_service_unresponsive"


async def test_large_document_is_served_whole(sim: Sim) -> None:
    user = await sim.user("large-document")
    tokens = await sim.tokens("large-document")
    sizes = []
    for doc in _issued(user, "pdf"):
        response = await sim.get(f"{BASE}/1/file/{doc['uri']}", tokens["access_token"])
        assert response.status_code == 200
        assert response.headers["hmac"] == _hmac_of(response.content)
        sizes.append(len(response.content))

    assert max(sizes) >= 10 * 1024 * 1024


@pytest.mark.parametrize(("version", "root"), [(3, "Certificate"), (2, "KycRes"), (1, "KycRes")])
async def test_eaadhaar_returns_signed_xml_with_hmac(sim: Sim, version: int, root: str) -> None:
    tokens = await sim.tokens("complete")

    response = await sim.get(f"{BASE}/{version}/xml/eaadhaar", tokens["access_token"])

    assert response.status_code == 200
    assert response.headers["hmac"] == _hmac_of(response.content)
    tree = etree.fromstring(response.content)
    assert etree.QName(tree).localname == root
    assert tree.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None


@pytest.mark.parametrize(
    ("scenario", "error"),
    [
        ("aadhaar-not-linked", "aadhaar_not_linked"),
        ("eaadhaar-not-available", "aadhaar_not_available"),
    ],
)
async def test_eaadhaar_unavailable_returns_404(sim: Sim, scenario: str, error: str) -> None:
    tokens = await sim.tokens(scenario)

    response = await sim.get(f"{BASE}/3/xml/eaadhaar", tokens["access_token"])

    assert response.status_code == 404
    assert response.json()["error"] == error


async def test_eaadhaar_not_ticked_returns_403(sim: Sim) -> None:
    tokens = await sim.tokens("complete", doctypes=[])

    response = await sim.get(f"{BASE}/3/xml/eaadhaar", tokens["access_token"])

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


@pytest.mark.parametrize("version", [2, 3])
async def test_newer_user_paths_answer_the_same_profile_as_v1(sim: Sim, version: int) -> None:
    token = (await sim.tokens("complete"))["access_token"]

    first = await sim.get(f"{BASE}/1/user", token)
    newer = await sim.get(f"{BASE}/{version}/user", token)

    assert newer.status_code == 200
    assert newer.json() == first.json()


@pytest.mark.parametrize("version", [1, 2, 3])
async def test_eaadhaar_of_every_version_needs_adhar_consent(sim: Sim, version: int) -> None:
    tokens = await sim.tokens("complete", req_doctype="PANCR")

    response = await sim.get(f"{BASE}/{version}/xml/eaadhaar", tokens["access_token"])

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_xml_of_a_doctype_not_consented_returns_403(sim: Sim) -> None:
    user = await _user_with(sim, "xml")
    doc = _issued(user, "xml")[0]
    other = next(d["docType"] for d in _issued(user) if d["docType"] != doc["docType"])
    tokens = await sim.tokens(user["scenario"], req_doctype=other)

    response = await sim.get(f"{BASE}/1/xml/{doc['uri']}", tokens["access_token"])

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ("files.issueddocs", "/1/user"),
        ("files.issueddocs", "/3/user"),
        ("userdetails", "/2/files/issued"),
        ("userdetails", "/1/files/issued"),
    ],
)
async def test_resource_scope_not_asked_for_returns_403(sim: Sim, scope: str, path: str) -> None:
    tokens = await sim.tokens("complete", scope=scope)

    response = await sim.get(f"{BASE}{path}", tokens["access_token"])

    assert tokens["scope"].split()[0] == scope
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_openid_alone_keeps_every_resource_scope(sim: Sim) -> None:
    tokens = await sim.tokens("complete", scope="openid")

    scopes = tokens["scope"].split()

    assert scopes[:4] == ["openid", "files.issueddocs", "userdetails", "files.uploadeddocs"]
    assert (await sim.get(f"{BASE}/1/user", tokens["access_token"])).status_code == 200


async def test_after_consent_expiry_calls_answer_invalid_token_and_refresh_invalid_grant(
    sim: Sim,
) -> None:
    until = int(sim.clock.now().timestamp()) + 600
    tokens = await sim.tokens("complete", consent_valid_till=str(until))
    token = tokens["access_token"]
    assert tokens["consent_valid_till"] == until
    assert (await sim.get(f"{BASE}/1/user", token)).status_code == 200
    sim.clock.advance(601)

    paths = ["/1/user", "/2/files/issued", "/1/files/", "/3/xml/eaadhaar"]
    answers = [await sim.get(f"{BASE}{path}", token) for path in paths]
    refresh = await sim.client.post(
        "/public/oauth2/1/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )

    for answer in answers:
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_token"
        assert "consent" in answer.json()["error_description"]
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"
    assert "consent" in refresh.json()["error_description"]


async def test_consent_valid_till_in_the_past_falls_back_to_the_default(sim: Sim) -> None:
    past = int(sim.clock.now().timestamp()) - 60

    tokens = await sim.tokens("complete", consent_valid_till=str(past))

    assert tokens["consent_valid_till"] > sim.clock.now().timestamp() + 29 * 24 * 3600
