"""Pull flow: the signed meta APIs (reference §11) and pulling a document (§12)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from digilocker_gateway.simulator.pull import meta_hash
from tests.simulator.conftest import CLIENT_ID, CLIENT_SECRET, MakeSim, Sim

PULL = "/public/oauth2/1/pull"


def _signed(
    sim: Sim, *, ts: int | None = None, secret: str = CLIENT_SECRET, **fields: str
) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(sim.clock.now().timestamp()))
    values = [secret, CLIENT_ID, fields.get("orgid", ""), fields.get("doctype", ""), stamp]
    digest = hashlib.sha256("".join(values).encode()).hexdigest()
    return {"clientid": CLIENT_ID, "ts": stamp, "hmac": digest, **fields}


async def _first_issuer(sim: Sim) -> dict[str, Any]:
    body = (await sim.client.post(f"{PULL}/issuers", data=_signed(sim))).json()
    issuer: dict[str, Any] = body["issuers"][0]
    return issuer


async def test_issuers_lists_the_whole_catalogue(sim: Sim) -> None:
    response = await sim.client.post(f"{PULL}/issuers", data=_signed(sim))

    assert response.status_code == 200
    issuers = response.json()["issuers"]
    assert len(issuers) >= 2000
    assert set(issuers[0]) == {"orgid", "issuerid", "name", "description", "categories"}
    assert len({issuer["orgid"] for issuer in issuers}) == len(issuers)


async def test_doctypes_and_parameters_of_an_issuer(sim: Sim) -> None:
    issuer = await _first_issuer(sim)

    documents = (
        await sim.client.post(f"{PULL}/doctype", data=_signed(sim, orgid=issuer["orgid"]))
    ).json()["documents"]
    doctype = documents[0]["doctype"]
    parameters = (
        await sim.client.post(
            f"{PULL}/parameters", data=_signed(sim, orgid=issuer["orgid"], doctype=doctype)
        )
    ).json()["parameters"]

    assert documents
    assert set(documents[0]) == {"doctype", "description"}
    assert parameters
    for parameter in parameters:
        assert set(parameter) == {"label", "paramname", "example", "valuelist"}
        assert parameter["valuelist"] is None or isinstance(parameter["valuelist"], str)


async def test_unknown_clientid_returns_401_invalid_client_id(sim: Sim) -> None:
    form = _signed(sim) | {"clientid": "NOSUCHAPP1"}

    response = await sim.client.post(f"{PULL}/issuers", data=form)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client_id"


@pytest.mark.parametrize("offset", [-1801, 120])
async def test_stale_or_future_ts_returns_invalid_parameter_naming_timestamp(
    sim: Sim, offset: int
) -> None:
    now = int(sim.clock.now().timestamp())

    response = await sim.client.post(f"{PULL}/issuers", data=_signed(sim, ts=now + offset))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter"
    assert "timestamp" in response.json()["error_description"]


async def test_ts_within_30_minutes_and_small_skew_is_accepted(sim: Sim) -> None:
    now = int(sim.clock.now().timestamp())

    old = await sim.client.post(f"{PULL}/issuers", data=_signed(sim, ts=now - 1790))
    ahead = await sim.client.post(f"{PULL}/issuers", data=_signed(sim, ts=now + 30))

    assert old.status_code == 200
    assert ahead.status_code == 200


async def test_bad_hash_returns_invalid_parameter_naming_hmac(sim: Sim) -> None:
    response = await sim.client.post(f"{PULL}/issuers", data=_signed(sim, secret="wrong"))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter"
    assert "HMAC" in response.json()["error_description"]


async def test_base64_hash_encoding_is_configurable(make_sim: MakeSim) -> None:
    sim = await make_sim(meta_hash_encoding="base64")
    ts = str(int(sim.clock.now().timestamp()))
    digest = hashlib.sha256(f"{CLIENT_SECRET}{CLIENT_ID}{ts}".encode()).digest()
    form = {"clientid": CLIENT_ID, "ts": ts, "hmac": base64.b64encode(digest).decode()}

    accepted = await sim.client.post(f"{PULL}/issuers", data=form)
    hex_refused = await sim.client.post(f"{PULL}/issuers", data=_signed(sim))

    assert accepted.status_code == 200
    assert hex_refused.status_code == 400


def test_meta_hash_skips_fields_without_value_in_configured_order() -> None:
    values = {"client_secret": "s", "clientid": "c", "ts": "1"}

    digest = meta_hash(["ts", "client_secret", "orgid", "clientid"], values, "hex")

    assert digest == hashlib.sha256(b"1sc").hexdigest()


async def test_unknown_orgid_returns_invalid_parameter_naming_it(sim: Sim) -> None:
    response = await sim.client.post(f"{PULL}/doctype", data=_signed(sim, orgid="NOPE-ORG"))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter"
    assert "orgid" in response.json()["error_description"]


async def test_unknown_doctype_returns_invalid_parameter_naming_it(sim: Sim) -> None:
    issuer = await _first_issuer(sim)

    response = await sim.client.post(
        f"{PULL}/parameters", data=_signed(sim, orgid=issuer["orgid"], doctype="ZZZZZ")
    )

    assert response.status_code == 400
    assert "doctype" in response.json()["error_description"]


# --- pull document -------------------------------------------------------------------------


def _find(
    users: list[dict[str, Any]], outcome: str, issued: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    for user in users:
        if user["scenario"] in ("aadhaar-not-linked", "new-user"):
            continue
        for doc in user["documents"]:
            if doc["pullOutcome"] == outcome and doc["issued"] is issued:
                return user, doc
    raise AssertionError(f"no seeded document with outcome {outcome} issued={issued}")


def _pull_form(doc: dict[str, Any], **overrides: str) -> dict[str, str]:
    return {
        "orgid": doc["orgId"],
        "doctype": doc["docType"],
        "consent": "Y",
        **doc["parameters"],
        **overrides,
    }


async def _pull(sim: Sim, token: str, form: dict[str, str]) -> Any:
    return await sim.client.post(
        f"{PULL}/pulldocument", data=form, headers={"Authorization": f"Bearer {token}"}
    )


async def test_exact_match_pull_issues_document_and_allows_fetch(sim: Sim) -> None:
    user, doc = _find(await sim.users(), "issue", issued=False)
    token = (await sim.tokens(user["scenario"], req_doctype=doc["docType"]))["access_token"]
    shouted = {name: f"  {value.upper()} " for name, value in doc["parameters"].items()}

    response = await _pull(sim, token, _pull_form(doc, **shouted))

    assert response.status_code == 200
    uri = response.json()["uri"]
    assert uri.startswith(f"{doc['issuerId']}-{doc['docType']}-")
    issued = (await sim.get("/public/oauth2/2/files/issued", token)).json()["items"]
    assert uri in {item["uri"] for item in issued}
    fetched = await sim.get(f"/public/oauth2/1/file/{uri}", token)
    assert fetched.status_code == 200
    again = await _pull(sim, token, _pull_form(doc))
    assert again.json()["error"] == "uri_exists"


async def test_already_issued_document_returns_uri_exists(sim: Sim) -> None:
    user, doc = _find(await sim.users(), "issue", issued=True)
    token = (await sim.tokens(user["scenario"], req_doctype=doc["docType"]))["access_token"]

    response = await _pull(sim, token, _pull_form(doc))

    assert response.status_code == 500
    assert response.json()["error"] == "uri_exists"


@pytest.mark.parametrize(("profile", "status"), [("spec", 500), ("v2.4", 400)])
async def test_pending_outcome_returns_pull_response_pending(
    make_sim: MakeSim, profile: str, status: int
) -> None:
    sim = await make_sim(status_profile=profile)
    user, doc = _find(await sim.users(), "pending", issued=False)
    token = (await sim.tokens(user["scenario"], req_doctype=doc["docType"]))["access_token"]

    response = await _pull(sim, token, _pull_form(doc))

    assert response.status_code == status
    assert response.json()["error"] == "pull_response_pending"


async def test_partial_parameter_match_returns_pull_response_pending(sim: Sim) -> None:
    for user in await sim.users():
        docs = [
            d
            for d in user["documents"]
            if len(d["parameters"]) >= 2 and not d["issued"] and user["scenario"] == "complete"
        ]
        if docs:
            break
    else:
        pytest.fail("no seeded pullable document with two or more search parameters")
    doc = docs[0]
    token = (await sim.tokens("complete", req_doctype=doc["docType"]))["access_token"]
    first, *rest = doc["parameters"]
    wrong = dict.fromkeys(rest, "NO-MATCH-000")

    response = await _pull(sim, token, _pull_form(doc, **wrong))

    assert response.json()["error"] == "pull_response_pending"
    assert first not in wrong


async def test_no_match_returns_404_record_not_found(sim: Sim) -> None:
    user, doc = _find(await sim.users(), "issue", issued=False)
    token = (await sim.tokens(user["scenario"], req_doctype=doc["docType"]))["access_token"]
    wrong = dict.fromkeys(doc["parameters"], "NO-MATCH-000")

    response = await _pull(sim, token, _pull_form(doc, **wrong))

    assert response.status_code == 404
    assert response.json()["error"] == "record_not_found"


@pytest.mark.parametrize(("profile", "status"), [("spec", 400), ("v2.4", 530)])
async def test_issuer_down_pull_returns_repository_service_configerror(
    make_sim: MakeSim, profile: str, status: int
) -> None:
    sim = await make_sim(status_profile=profile)
    user = await sim.user("issuer-down")
    doc = next(
        d for d in user["documents"] if d["pullOutcome"] == "issuer_down" and not d["issued"]
    )
    token = (await sim.tokens("issuer-down", req_doctype=doc["docType"]))["access_token"]

    response = await _pull(sim, token, _pull_form(doc))

    assert response.status_code == status
    assert response.json()["error"] == "repository_service_configerror"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"consent": "N"}, "consent_required"),
        ({"orgid": "NOPE-ORG"}, "invalid_orgid"),
        ({"doctype": "ZZZZZ"}, "invalid_doctype"),
    ],
)
async def test_bad_pull_request_is_rejected_with_its_code(
    sim: Sim, overrides: dict[str, str], error: str
) -> None:
    user, doc = _find(await sim.users(), "issue", issued=False)
    asked = overrides.get("doctype", doc["docType"])
    token = (await sim.tokens(user["scenario"], req_doctype=asked))["access_token"]

    response = await _pull(sim, token, _pull_form(doc, **overrides))

    assert response.json()["error"] == error
    assert response.status_code in (400, 500)


async def test_user_without_aadhaar_cannot_pull(sim: Sim) -> None:
    user = await sim.user("aadhaar-not-linked")
    _, doc = _find(await sim.users(), "issue", issued=False)
    token = (await sim.tokens("aadhaar-not-linked", req_doctype=doc["docType"]))["access_token"]

    response = await _pull(sim, token, _pull_form(doc))

    assert response.json()["error"] == "aadhaar_not_linked"
    assert user["aadhaarLinked"] is False


async def test_pull_of_a_doctype_not_consented_returns_403_insufficient_scope(sim: Sim) -> None:
    user, doc = _find(await sim.users(), "issue", issued=False)
    token = (await sim.tokens(user["scenario"]))["access_token"]  # nothing asked: issued only

    response = await _pull(sim, token, _pull_form(doc))

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    issued = (await sim.get("/public/oauth2/2/files/issued", token)).json()["items"]
    assert doc["docType"] not in {item["doctype"] for item in issued}


async def test_pull_without_bearer_returns_401(sim: Sim) -> None:
    response = await sim.client.post(f"{PULL}/pulldocument", data={"consent": "Y"})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
