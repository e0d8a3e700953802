"""The simulator's TEST PKI: certificate shapes, persistence and loading from PEM."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from digilocker_gateway.simulator.pki import SimulatorPKI
from tests.xml_signatures import signed_root


@pytest.fixture(scope="module")
def pki() -> SimulatorPKI:
    return SimulatorPKI.load_or_create(None)


def certificates(pki: SimulatorPKI) -> tuple[x509.Certificate, x509.Certificate]:
    leaf, ca = (x509.load_pem_x509_certificate(pem) for pem in pki.chain_pem)
    return leaf, ca


def key_pem(pki: SimulatorPKI) -> bytes:
    return pki.signer_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_chain_is_leaf_then_ca_and_the_ca_signed_the_leaf(pki: SimulatorPKI) -> None:
    assert len(pki.chain_pem) == 2
    assert pki.chain_pem[0] == pki.signer_cert_pem
    leaf, ca = certificates(pki)
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)  # raises if the CA did not sign it


def test_root_ca_is_a_critical_ca_with_cert_and_crl_signing(pki: SimulatorPKI) -> None:
    _, ca = certificates(pki)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    assert not usage.digital_signature
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = ca.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_leaf_is_a_test_document_signer_under_the_ca(pki: SimulatorPKI) -> None:
    leaf, ca = certificates(pki)
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert names[0].value == "DS TEST DIGILOCKER SIMULATOR"
    assert "TEST" in ca.subject.rfc4514_string()
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not usage.key_cert_sign
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    key = leaf.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048


def test_certificates_stay_valid_for_ten_years(pki: SimulatorPKI) -> None:
    now = datetime.now(UTC)
    for cert in certificates(pki):
        assert cert.not_valid_before_utc <= now
        assert cert.not_valid_after_utc >= now + timedelta(days=3650)


def test_directory_pki_is_written_once_then_loaded(tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    created = SimulatorPKI.load_or_create(directory)
    key_file = directory / "signer-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (directory / "ca.pem").read_bytes() == created.chain_pem[-1]
    loaded = SimulatorPKI.load_or_create(directory)
    assert loaded.signer_cert_pem == created.signer_cert_pem
    assert loaded.chain_pem == created.chain_pem
    assert key_pem(loaded) == key_pem(created)


def test_directory_missing_some_files_is_refused(tmp_path: Path) -> None:
    SimulatorPKI.load_or_create(tmp_path)
    (tmp_path / "ca.pem").unlink()
    with pytest.raises(ValueError, match=r"missing ca\.pem"):
        SimulatorPKI.load_or_create(tmp_path)


def test_from_pem_puts_the_leaf_first_in_the_chain(pki: SimulatorPKI) -> None:
    loaded = SimulatorPKI.from_pem(key_pem(pki), pki.signer_cert_pem, (pki.chain_pem[-1],))
    assert loaded.chain_pem == pki.chain_pem
    alone = SimulatorPKI.from_pem(key_pem(pki), pki.signer_cert_pem)
    assert alone.chain_pem == (pki.signer_cert_pem,)


def test_from_pem_with_a_key_of_another_certificate_is_refused(pki: SimulatorPKI) -> None:
    other = SimulatorPKI.create()
    with pytest.raises(ValueError, match="does not match"):
        SimulatorPKI.from_pem(key_pem(other), pki.signer_cert_pem)


def test_signed_xml_verifies_in_chain_mode_against_the_test_ca(
    pki: SimulatorPKI, tmp_path: Path
) -> None:
    # Chain mode uses cryptography's strict verifier: it checks the extensions above for real.
    root = etree.Element("Certificate")
    etree.SubElement(root, "CertificateData").text = "synthetic"
    data = pki.sign_enveloped(root, c14n="exclusive")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(pki.chain_pem[-1])
    assert signed_root(data, ca_pem_file=str(ca_file)).findtext("CertificateData") == "synthetic"


def test_namespaced_or_childless_roots_are_refused(pki: SimulatorPKI) -> None:
    with pytest.raises(ValueError, match="un-namespaced"):
        pki.sign_enveloped(etree.Element("{urn:x}Root"), c14n="exclusive")
    with pytest.raises(ValueError, match="children"):
        pki.sign_enveloped(etree.Element("Root"), c14n="exclusive")
