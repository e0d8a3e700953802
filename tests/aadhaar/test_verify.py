"""Signature verification of e-Aadhaar XML against pinned signers (aadhaar-xml.md §1, §2, §4),
on documents the simulator signs; the field mapping of those documents is in test_okyc.py."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree

from digilocker_gateway.aadhaar.okyc import read_digilocker, read_offline
from digilocker_gateway.aadhaar.signers import load_trusted_signers
from digilocker_gateway.aadhaar.verify import (
    AadhaarXmlError,
    MalformedXml,
    SignatureInvalid,
    SignatureWrapping,
    TamperedXml,
    TrustedSigners,
    UnsafeXml,
    UntrustedCertificate,
    parse_unverified,
    verify_aadhaar_xml,
)
from digilocker_gateway.config import Settings
from digilocker_gateway.simulator.eaadhaar import render_eaadhaar_xml
from digilocker_gateway.simulator.model import SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI
from tests.aadhaar.conftest import GENERATED_AT

DS = "http://www.w3.org/2000/09/xmldsig#"
DS_DECLARATION = f' xmlns="{DS}"'.encode()


def flip_byte(raw: bytes, marker: bytes, offset: int = 0) -> bytes:
    """`raw` with the byte `offset` bytes past the end of `marker` replaced by another letter."""
    index = raw.index(marker) + len(marker) + offset
    replacement = b"B" if raw[index : index + 1] != b"B" else b"C"
    return raw[:index] + replacement + raw[index + 1 :]


def assert_no_personal_data(error: AadhaarXmlError, user: SimUser) -> None:
    message = str(error)
    assert user.name not in message
    assert user.aadhaar[-4:] not in message
    assert "<" not in message


def signer_fingerprint(pki: SimulatorPKI) -> str:
    return x509.load_pem_x509_certificate(pki.signer_cert_pem).fingerprint(hashes.SHA256()).hex()


def test_valid_certificate_verifies_with_pinned_signer(
    eaadhaar_xml: bytes, trusted: TrustedSigners, pki: SimulatorPKI
) -> None:
    verified = verify_aadhaar_xml(eaadhaar_xml, trusted)

    assert verified.root.tag == "Certificate"
    assert verified.variant == "digilocker"
    assert verified.signer_sha256 == signer_fingerprint(pki)
    # The enveloped signature is not part of what was signed, so it is not handed out.
    assert verified.root.find(f"{{{DS}}}Signature") is None


def test_kycres_root_verifies(kycres_xml: bytes, trusted: TrustedSigners) -> None:
    assert verify_aadhaar_xml(kycres_xml, trusted).root.tag == "KycRes"


def test_offline_document_verifies_with_inclusive_c14n(
    offline_xml: bytes, trusted: TrustedSigners
) -> None:
    verified = verify_aadhaar_xml(offline_xml, trusted, variant="offline")

    assert verified.root.tag == "OfflinePaperlessKyc"


def test_offline_signature_without_namespace_redeclarations_verifies(
    offline_xml: bytes, trusted: TrustedSigners, user: SimUser
) -> None:
    # UIDAI's signer writes no redundant xmlns in SignedInfo; the simulator adds some to dodge
    # a libxml2 inclusive-C14N bug. Removing them keeps the canonical form, so the signature
    # must still verify, as a real UIDAI file must.
    plain = offline_xml.replace(b"<Reference" + DS_DECLARATION, b"<Reference").replace(
        b"<Transforms" + DS_DECLARATION, b"<Transforms"
    )
    assert plain != offline_xml

    verified = verify_aadhaar_xml(plain, trusted, variant="offline")

    assert read_offline(verified.root).name == user.name


def test_rotation_list_where_only_second_cert_matches_passes(
    eaadhaar_xml: bytes, pki: SimulatorPKI, other_pki: SimulatorPKI
) -> None:
    rotation = TrustedSigners.from_pem_bundle(other_pki.signer_cert_pem + pki.signer_cert_pem)
    assert len(rotation) == 2

    verified = verify_aadhaar_xml(eaadhaar_xml, rotation)

    assert verified.signer_sha256 == signer_fingerprint(pki)


async def test_rotation_list_read_from_the_configured_files_passes(
    eaadhaar_xml: bytes, pki: SimulatorPKI, other_pki: SimulatorPKI, tmp_path: Path
) -> None:
    # The older file lacks its final newline: files are joined so that still parses.
    (tmp_path / "old.pem").write_bytes(other_pki.signer_cert_pem.rstrip(b"\n"))
    (tmp_path / "new.pem").write_bytes(pki.signer_cert_pem)
    settings = Settings(
        data_dir=tmp_path,
        aadhaar_signer_cert_files=[tmp_path / "old.pem", tmp_path / "new.pem"],
        aadhaar_trust_simulator=False,
    )
    async with httpx.AsyncClient() as http:
        signers = await load_trusted_signers(settings, http)

    assert len(signers) == 2
    assert verify_aadhaar_xml(eaadhaar_xml, signers).root.tag == "Certificate"


def test_document_from_unpinned_signer_raises_untrusted_certificate(
    user: SimUser, other_pki: SimulatorPKI, trusted: TrustedSigners
) -> None:
    # The forged document embeds its own certificate in KeyInfo; that must not be trusted.
    forged = render_eaadhaar_xml(user, other_pki, GENERATED_AT)

    with pytest.raises(UntrustedCertificate) as caught:
        verify_aadhaar_xml(forged, trusted)
    assert_no_personal_data(caught.value, user)


def test_empty_trust_list_raises_untrusted_certificate(eaadhaar_xml: bytes) -> None:
    with pytest.raises(UntrustedCertificate):
        verify_aadhaar_xml(eaadhaar_xml, TrustedSigners.from_pem_bundle(b""))


def test_pinned_cert_outside_validity_raises_untrusted_certificate(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    later = datetime(2100, 1, 1, tzinfo=UTC)

    with pytest.raises(UntrustedCertificate, match="valid now"):
        verify_aadhaar_xml(eaadhaar_xml, trusted, verification_time=later)


def test_garbage_signer_bundle_raises_value_error() -> None:
    with pytest.raises(ValueError, match="no valid PEM"):
        TrustedSigners.from_pem_bundle(b"-----BEGIN CERTIFICATE-----\nnope\n")


@pytest.mark.parametrize(
    ("marker", "offset"),
    [(b'name="', 2), (b"<Pht>", 40), (b'pc="', 1), (b"ret=", 1)],
)
def test_one_byte_change_in_signed_content_raises_tampered(
    eaadhaar_xml: bytes, trusted: TrustedSigners, user: SimUser, marker: bytes, offset: int
) -> None:
    with pytest.raises(TamperedXml) as caught:
        verify_aadhaar_xml(flip_byte(eaadhaar_xml, marker, offset), trusted)
    assert_no_personal_data(caught.value, user)


def test_one_byte_change_in_signature_value_raises_signature_invalid(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    with pytest.raises(SignatureInvalid):
        verify_aadhaar_xml(flip_byte(eaadhaar_xml, b"<SignatureValue>", 30), trusted)


def test_one_byte_change_in_offline_document_raises_tampered(
    offline_xml: bytes, trusted: TrustedSigners
) -> None:
    with pytest.raises(TamperedXml):
        verify_aadhaar_xml(flip_byte(offline_xml, b'name="', 1), trusted, variant="offline")


def test_reserialised_document_raises_signature_invalid(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    # §4 pitfall 4: whitespace added by pretty-printing is signed content too (here it also
    # lands inside SignedInfo, so the signature itself no longer verifies).
    pretty = etree.tostring(etree.fromstring(eaadhaar_xml), pretty_print=True)
    assert pretty != eaadhaar_xml

    with pytest.raises(SignatureInvalid):
        verify_aadhaar_xml(pretty, trusted)


def test_signed_document_moved_under_forged_root_raises_wrapping(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    original = etree.fromstring(eaadhaar_xml)
    forged = etree.fromstring(eaadhaar_xml)
    forged.remove(forged[-1])
    forged.find("CertificateData/KycRes/UidData/Poi").set("name", "Eve Forger")  # type: ignore[union-attr]
    etree.SubElement(forged, "Wrapper").append(original)

    with pytest.raises(SignatureWrapping):
        verify_aadhaar_xml(etree.tostring(forged), trusted)


def test_forged_content_where_reader_looks_with_original_moved_aside_fails(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    # The signature stays a direct child of the root; the signed CertificateData is hidden
    # in a wrapper and a forged one takes its place, where read_digilocker reads.
    document = etree.fromstring(eaadhaar_xml)
    signed_data, signature = document[0], document[1]
    forged_data = etree.fromstring(etree.tostring(signed_data))
    forged_data.find("KycRes/UidData/Poi").set("name", "Eve Forger")  # type: ignore[union-attr]
    document.remove(signed_data)
    document.insert(0, forged_data)
    etree.SubElement(document, "Wrapper").append(signed_data)
    document.append(signature)

    with pytest.raises(SignatureInvalid):
        verify_aadhaar_xml(etree.tostring(document), trusted)


def test_second_signature_raises_wrapping(eaadhaar_xml: bytes, trusted: TrustedSigners) -> None:
    document = etree.fromstring(eaadhaar_xml)
    document[0].append(etree.fromstring(etree.tostring(document[-1])))

    with pytest.raises(SignatureWrapping):
        verify_aadhaar_xml(etree.tostring(document), trusted)


def test_reference_to_other_uri_raises_wrapping(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    with pytest.raises(SignatureWrapping):
        verify_aadhaar_xml(eaadhaar_xml.replace(b'URI=""', b'URI="#data"'), trusted)


def test_unsupported_transform_raises_signature_invalid(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    xpath = b'<Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/></Transforms>'

    with pytest.raises(SignatureInvalid, match="transform"):
        verify_aadhaar_xml(eaadhaar_xml.replace(b"</Transforms>", xpath), trusted)


def test_comment_injected_into_photo_verifies_and_reads_full_value(
    eaadhaar_xml: bytes, trusted: TrustedSigners, user: SimUser
) -> None:
    full_photo = base64.b64encode(user.photo_jpeg)
    injected = eaadhaar_xml.replace(full_photo, full_photo[:4] + b"<!--cut-->" + full_photo[4:])
    # A naive read of the received tree stops at the comment (§4 pitfall 3).
    naive = etree.fromstring(injected).find("CertificateData/KycRes/UidData/Pht")
    assert naive is not None
    assert naive.text == full_photo[:4].decode()

    verified = verify_aadhaar_xml(injected, trusted)

    # The handed-out tree is rebuilt from the canonical signed bytes: the comment is gone.
    assert list(verified.root.iter(etree.Comment)) == []
    assert read_digilocker(verified.root).photo == full_photo.decode()


def test_comment_injected_into_photo_reads_full_value_unverified(
    eaadhaar_xml: bytes, user: SimUser
) -> None:
    full_photo = base64.b64encode(user.photo_jpeg)
    injected = eaadhaar_xml.replace(full_photo, full_photo[:4] + b"<!--cut-->" + full_photo[4:])

    assert read_digilocker(parse_unverified(injected)).photo == full_photo.decode()


def billion_laughs(root: str = "Certificate") -> bytes:
    entities = "".join(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY lol0 "lol">{entities}]>'
        f"<{root}>&lol9;</{root}>"
    ).encode()


def test_billion_laughs_is_refused_without_expanding(trusted: TrustedSigners) -> None:
    started = time.perf_counter()

    with pytest.raises(UnsafeXml):
        verify_aadhaar_xml(billion_laughs(), trusted)
    with pytest.raises(UnsafeXml):
        parse_unverified(billion_laughs())

    # 10^9 "lol"s would take gigabytes and seconds; refusing takes microseconds.
    assert time.perf_counter() - started < 0.5


def test_entity_bomb_prepended_to_signed_document_is_refused(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    declaration_end = eaadhaar_xml.index(b"?>") + 2
    doctype = billion_laughs().split(b"<Certificate>")[0].split(b"?>")[1]
    bombed = eaadhaar_xml[:declaration_end] + doctype + eaadhaar_xml[declaration_end:]

    with pytest.raises(UnsafeXml):
        verify_aadhaar_xml(bombed, trusted)


def test_external_entity_is_refused_without_reading_the_file(
    tmp_path: Path, trusted: TrustedSigners
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE Certificate [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        "<Certificate><CertificateData>&xxe;</CertificateData></Certificate>"
    ).encode()

    with pytest.raises(UnsafeXml) as caught:
        verify_aadhaar_xml(document, trusted)
    assert "TOP-SECRET" not in str(caught.value)
    with pytest.raises(UnsafeXml):
        parse_unverified(document)


def test_utf16_document_raises_malformed(eaadhaar_xml: bytes, trusted: TrustedSigners) -> None:
    utf16 = eaadhaar_xml.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    with pytest.raises(MalformedXml, match="UTF-8"):
        verify_aadhaar_xml(utf16, trusted)


def test_not_well_formed_raises_malformed(eaadhaar_xml: bytes, trusted: TrustedSigners) -> None:
    with pytest.raises(MalformedXml):
        verify_aadhaar_xml(eaadhaar_xml[:-20], trusted)


def test_offline_document_as_digilocker_variant_raises_malformed(
    offline_xml: bytes, trusted: TrustedSigners
) -> None:
    with pytest.raises(MalformedXml):
        verify_aadhaar_xml(offline_xml, trusted)


def test_digilocker_document_as_offline_variant_raises_malformed(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    with pytest.raises(MalformedXml):
        verify_aadhaar_xml(eaadhaar_xml, trusted, variant="offline")


def test_unsigned_document_raises_signature_invalid_but_parses_unverified(
    eaadhaar_xml: bytes, trusted: TrustedSigners, user: SimUser
) -> None:
    document = etree.fromstring(eaadhaar_xml)
    document.remove(document[-1])
    unsigned = etree.tostring(document)

    with pytest.raises(SignatureInvalid, match="not signed"):
        verify_aadhaar_xml(unsigned, trusted)
    assert read_digilocker(parse_unverified(unsigned)).name == user.name


def test_tampered_document_still_parses_unverified(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    tampered = flip_byte(eaadhaar_xml, b'name="')
    with pytest.raises(TamperedXml):
        verify_aadhaar_xml(tampered, trusted)

    assert read_digilocker(parse_unverified(tampered)).name.startswith("B")


def test_wrapped_document_is_refused_unverified_too(eaadhaar_xml: bytes) -> None:
    document = etree.fromstring(eaadhaar_xml)
    document[0].append(document[-1])

    with pytest.raises(SignatureWrapping):
        parse_unverified(etree.tostring(document))


def test_empty_signature_value_raises_signature_invalid(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    start = eaadhaar_xml.index(b"<SignatureValue>") + len(b"<SignatureValue>")
    end = eaadhaar_xml.index(b"</SignatureValue>")
    emptied = eaadhaar_xml[:start] + eaadhaar_xml[end:]

    with pytest.raises(SignatureInvalid, match="no signature value"):
        verify_aadhaar_xml(emptied, trusted)


def test_unknown_signature_algorithm_raises_signature_invalid(
    eaadhaar_xml: bytes, trusted: TrustedSigners
) -> None:
    md5 = eaadhaar_xml.replace(b'xmldsig#rsa-sha1"', b'xmldsig-more#rsa-md5"')
    assert md5 != eaadhaar_xml

    with pytest.raises(SignatureInvalid, match="malformed or unsupported"):
        verify_aadhaar_xml(md5, trusted)
