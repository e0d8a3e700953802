"""The pure protocol pieces: PKCE, state, the authorize URL, the meta-API hash, the file hmac."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from digilocker_gateway.upstream.protocol import (
    HmacChecker,
    authorize_url,
    consented_doctypes,
    file_hmac,
    make_pkce_pair,
    make_state,
    meta_hash,
    pkce_challenge,
)

UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]+")
BASE_URL = "https://digilocker.meripehchaan.gov.in/public"


# PKCE (RFC 7636) ---------------------------------------------------------------------------


def test_rfc7636_appendix_b_verifier_gives_published_challenge() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_pair_has_unreserved_verifier_of_allowed_length_and_its_challenge() -> None:
    verifier, challenge = make_pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert UNRESERVED.fullmatch(verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge == expected.decode().rstrip("=")
    assert "=" not in challenge


def test_pkce_pairs_are_fresh_on_every_call() -> None:
    verifiers = {make_pkce_pair()[0] for _ in range(200)}
    assert len(verifiers) == 200


@pytest.mark.parametrize(
    "verifier",
    ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + " ", "a" * 42 + "é"],
)
def test_verifier_outside_rfc7636_rules_is_rejected(verifier: str) -> None:
    with pytest.raises(ValueError, match="43-128"):
        pkce_challenge(verifier)


def test_verifier_of_128_unreserved_characters_is_accepted() -> None:
    assert len(pkce_challenge("-._~" * 32)) == 43


# state ---------------------------------------------------------------------------------------


def test_state_carries_at_least_128_random_bits_in_url_safe_text() -> None:
    state = make_state()
    assert UNRESERVED.fullmatch(state)
    raw = base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))
    assert len(raw) * 8 >= 128


def test_states_never_repeat() -> None:
    states = {make_state() for _ in range(1000)}
    assert len(states) == 1000


# authorize URL ---------------------------------------------------------------------------------


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_authorize_url_carries_pkce_state_and_client_in_lower_case_names() -> None:
    url = authorize_url(
        BASE_URL,
        client_id="AB12CD34EF",
        redirect_uri="https://gateway.example.com/digilocker/callback?x=1",
        state="st-123",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "digilocker.meripehchaan.gov.in")
    assert parts.path == "/public/oauth2/1/authorize"
    assert _query(url) == {
        "response_type": ["code"],
        "client_id": ["AB12CD34EF"],
        "redirect_uri": ["https://gateway.example.com/digilocker/callback?x=1"],
        "state": ["st-123"],
        "code_challenge": ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"],
        "code_challenge_method": ["S256"],
    }


def test_authorize_url_joins_req_doctype_with_commas_and_adds_dl_flow_and_extra() -> None:
    url = authorize_url(
        BASE_URL + "/",
        client_id="c",
        redirect_uri="https://gw.test/cb",
        state="s",
        code_challenge="x",
        req_doctype=["PANCR", "", "DRVLC"],
        dl_flow="signup",
        extra={"purpose": "kyc check", "acr": "aadhaar"},
    )
    assert urlsplit(url).path == "/public/oauth2/1/authorize"
    query = _query(url)
    assert query["req_doctype"] == ["PANCR,DRVLC"]
    assert query["dl_flow"] == ["signup"]
    assert query["purpose"] == ["kyc check"]
    assert query["acr"] == ["aadhaar"]
    assert "+" not in url  # spaces are %20, which every decoder reads the same way


def test_authorize_url_without_doctypes_or_flow_omits_them() -> None:
    query = _query(
        authorize_url(BASE_URL, client_id="c", redirect_uri="r", state="s", code_challenge="x")
    )
    assert "req_doctype" not in query
    assert "dl_flow" not in query


@pytest.mark.parametrize("name", ["state", "code_challenge_method", "redirect_uri"])
def test_authorize_url_extra_cannot_override_a_core_parameter(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        authorize_url(
            BASE_URL,
            client_id="c",
            redirect_uri="r",
            state="s",
            code_challenge="x",
            extra={name: "evil"},
        )


# meta-API hash (reference §11) ----------------------------------------------------------------

# SHA-256("abc"), FIPS 180-2 appendix B.1.
SHA256_ABC_HEX = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
SHA256_ABC_B64 = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="


def test_meta_hash_concatenates_default_order_skipping_absent_fields_as_hex() -> None:
    values = {"ts": "c", "clientid": "b", "client_secret": "a"}  # no orgid, no doctype
    assert meta_hash(values) == SHA256_ABC_HEX


def test_meta_hash_base64_encoding_encodes_the_same_digest() -> None:
    values = {"client_secret": "a", "clientid": "b", "ts": "c"}
    assert meta_hash(values, encoding="base64") == SHA256_ABC_B64


def test_meta_hash_follows_the_configured_field_order() -> None:
    values = {"client_secret": "c", "clientid": "b", "ts": "a"}
    assert meta_hash(values, field_order=("ts", "clientid", "client_secret")) == SHA256_ABC_HEX
    assert meta_hash(values) != SHA256_ABC_HEX


def test_meta_hash_includes_orgid_and_doctype_between_clientid_and_ts() -> None:
    values = {"client_secret": "S", "clientid": "C", "orgid": "O", "doctype": "D", "ts": "T"}
    assert meta_hash(values) == hashlib.sha256(b"SCODT").hexdigest()


def test_meta_hash_unknown_encoding_is_rejected() -> None:
    with pytest.raises(ValueError, match="encoding"):
        meta_hash({"ts": "1"}, encoding="base32")  # type: ignore[arg-type]


# file hmac (reference §8; aadhaar-xml §5) --------------------------------------------------------

# RFC 4231 test case 2, base64 of 5bdcc146…ec3843.
RFC4231_KEY = "Jefe"
RFC4231_DATA = b"what do ya want for nothing?"
RFC4231_B64 = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


def test_file_hmac_is_base64_hmac_sha256_of_body_under_client_secret() -> None:
    assert file_hmac(RFC4231_KEY, RFC4231_DATA) == RFC4231_B64


def test_hmac_checker_fed_in_chunks_matches_whole_body() -> None:
    checker = HmacChecker(RFC4231_KEY)
    for index in range(0, len(RFC4231_DATA), 5):
        checker.update(RFC4231_DATA[index : index + 5])
    assert checker.value() == RFC4231_B64
    assert checker.verify(RFC4231_B64)
    assert checker.verify(RFC4231_B64)  # verifying does not consume the running digest


@pytest.mark.parametrize(
    "header",
    [RFC4231_B64.rstrip("="), f"  {RFC4231_B64} ", base64.b64decode(RFC4231_B64).hex()],
)
def test_hmac_checker_accepts_unpadded_spaced_or_hex_header(header: str) -> None:
    checker = HmacChecker(RFC4231_KEY)
    checker.update(RFC4231_DATA)
    assert checker.verify(header)


@pytest.mark.parametrize(
    "header",
    ["", "not base64 at all!", file_hmac("other-secret", RFC4231_DATA), RFC4231_B64[:-8]],
)
def test_hmac_checker_rejects_wrong_or_garbled_header(header: str) -> None:
    checker = HmacChecker(RFC4231_KEY)
    checker.update(RFC4231_DATA)
    assert not checker.verify(header)


def test_hmac_checker_rejects_header_of_a_different_body() -> None:
    checker = HmacChecker(RFC4231_KEY)
    checker.update(RFC4231_DATA + b"!")
    assert not checker.verify(RFC4231_B64)


# consented doctypes ---------------------------------------------------------------------------


def test_consented_doctypes_reads_partner_scopes_in_order_without_repeats() -> None:
    scope = ("openid", "partners.PANCR", "files.issueddocs", "partners.DRVLC", "partners.PANCR")
    assert consented_doctypes(scope) == ("PANCR", "DRVLC")


def test_consented_doctypes_accepts_a_space_separated_scope_string() -> None:
    assert consented_doctypes("userdetails partners.ADHAR partners.") == ("ADHAR",)


def test_consented_doctypes_without_partner_scopes_is_empty() -> None:
    assert consented_doctypes(("files.issueddocs", "partnersX.PANCR", "userdetails")) == ()
