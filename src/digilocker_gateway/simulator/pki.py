"""The simulator's test PKI and its XML signer.

DigiLocker signs e-Aadhaar and issuer XML with a document-signer certificate under CCA India
(docs/reference/aadhaar-xml.md §1). The simulator stands in with a TEST root CA and a TEST leaf
shaped like DigiLocker's ("DS ..." leaf with digitalSignature+nonRepudiation, CA with
keyCertSign+cRLSign and SKI/AKI), so the gateway's pinned-leaf mode and its chain mode both work
against it (docs/reference/aadhaar-xml.md §4.2). Nothing here is trusted anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape as xml_escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

CA_FILE = "ca.pem"
SIGNER_FILE = "signer.pem"
SIGNER_KEY_FILE = "signer-key.pem"

CA_COMMON_NAME = "TEST DigiLocker Simulator Root CA"
SIGNER_COMMON_NAME = "DS TEST DIGILOCKER SIMULATOR"
_ORGANIZATION = "TEST ONLY DigiLocker simulator - not a real authority"
_KEY_SIZE = 2048
_VALIDITY = timedelta(days=3653)  # ten years: long enough for any test run
# Backdated so a test clock set in the past still falls inside the validity window.
_NOT_BEFORE = datetime(2015, 1, 1, tzinfo=UTC)

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'

C14nAlgorithm = Literal["exclusive", "inclusive"]
_DS = "http://www.w3.org/2000/09/xmldsig#"
_C14N_URIS = {
    # Variant A (DigiLocker e-Aadhaar, issuer XML): exclusive C14N
    # (docs/reference/aadhaar-xml.md §1).
    "exclusive": "http://www.w3.org/2001/10/xml-exc-c14n#",
    # Variant B (UIDAI offline e-KYC): inclusive C14N 1.0 (docs/reference/aadhaar-xml.md §2).
    "inclusive": "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
}
_RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)


def _create_pair(now: datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate, x509.Certificate]:
    ca_key = _new_key()
    ca_name = _name(CA_COMMON_NAME)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    signer_key = _new_key()
    signer_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(SIGNER_COMMON_NAME))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation, as on DigiLocker's leaf
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return signer_key, signer_cert, ca_cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    # The key must never be world-readable, not even for the instant before a chmod.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


@dataclass(frozen=True, slots=True)
class SimulatorPKI:
    """The simulator's signing key, its TEST leaf certificate and the chain (leaf, then CA)."""

    signer_key: rsa.RSAPrivateKey
    signer_cert_pem: bytes
    chain_pem: tuple[bytes, ...]

    @classmethod
    def create(cls, now: datetime | None = None) -> SimulatorPKI:
        """A fresh root CA and leaf, in memory only."""
        signer_key, signer_cert, ca_cert = _create_pair(now or datetime.now(UTC))
        signer_pem = _pem(signer_cert)
        return cls(signer_key, signer_pem, (signer_pem, _pem(ca_cert)))

    @classmethod
    def load_or_create(cls, directory: Path | None) -> SimulatorPKI:
        """None: ephemeral. A directory: load ca.pem, signer.pem, signer-key.pem, or create them."""
        if directory is None:
            return cls.create()
        paths = [directory / CA_FILE, directory / SIGNER_FILE, directory / SIGNER_KEY_FILE]
        present = [path.exists() for path in paths]
        if all(present):
            ca_path, signer_path, key_path = paths
            return cls.from_pem(
                key_path.read_bytes(), signer_path.read_bytes(), (ca_path.read_bytes(),)
            )
        if any(present):
            # A gateway may pin this leaf; silently minting a new one would break it.
            missing = ", ".join(
                path.name for path, ok in zip(paths, present, strict=True) if not ok
            )
            raise ValueError(f"simulator PKI in {directory} is incomplete (missing {missing})")
        pki = cls.create()
        directory.mkdir(parents=True, exist_ok=True)
        paths[0].write_bytes(pki.chain_pem[-1])
        paths[1].write_bytes(pki.signer_cert_pem)
        _write_private(
            paths[2],
            pki.signer_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return pki

    @classmethod
    def from_pem(
        cls, key_pem: bytes, cert_pem: bytes, chain_pem: tuple[bytes, ...] = ()
    ) -> SimulatorPKI:
        """A PKI from configuration; `chain_pem` may or may not start with the leaf itself."""
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the simulator signs with RSA (rsa-sha1, as DigiLocker does)")
        cert = x509.load_pem_x509_certificate(cert_pem)
        if cert.public_key() != key.public_key():
            raise ValueError("the signer key does not match the signer certificate")
        leaf_pem = _pem(cert)
        chain = tuple(_pem(x509.load_pem_x509_certificate(pem)) for pem in chain_pem)
        if not chain or chain[0] != leaf_pem:
            chain = (leaf_pem, *chain)
        return cls(key, leaf_pem, chain)

    def sign_enveloped(self, root: etree._Element, *, c14n: C14nAlgorithm) -> bytes:
        """Sign `root` like DigiLocker and return the serialised document.

        Matches the observed SignedInfo (docs/reference/aadhaar-xml.md §1, §4.2): rsa-sha1 over a
        sha256 digest, one Reference URI="" whose only transform is enveloped-signature, and an
        unprefixed Signature appended as the root's last child, with KeyInfo/X509Data carrying
        X509SubjectName + X509Certificate for the leaf and each chain certificate.
        `root` must have no namespace and at least one child.
        """
        # Written out here rather than with signxml's XMLSigner: that refuses SHA-1
        # (docs/reference/aadhaar-xml.md §4.1, pitfall 1), and lxml cannot be made to keep the
        # namespace redeclarations below.
        exclusive = c14n == "exclusive"
        # URI="" + enveloped-signature = the whole document minus the Signature, which goes
        # last without surrounding text, so canonicalising the unsigned root gives those bytes.
        digest = hashlib.sha256(_canonical(root, exclusive=exclusive)).digest()
        # libxml2 2.14's inclusive C14N of SignedInfo wrongly adds xmlns="" to grandchildren
        # of a subtree whose default namespace is declared above it, so a verifier on lxml
        # computes bytes that no correct signer signed. Redeclaring the default namespace on
        # the elements with children avoids the bug and changes no canonical form.
        again = f' xmlns="{_DS}"' if not exclusive else ""
        signed_info = (
            f'<SignedInfo><CanonicalizationMethod Algorithm="{_C14N_URIS[c14n]}"/>'
            f'<SignatureMethod Algorithm="{_RSA_SHA1}"/>'
            f'<Reference{again} URI=""><Transforms{again}>'
            f'<Transform Algorithm="{_ENVELOPED}"/></Transforms>'
            f'<DigestMethod Algorithm="{_SHA256}"/><DigestValue>{_b64(digest)}</DigestValue>'
            "</Reference></SignedInfo>"
        )
        parsed = etree.fromstring(f'<Signature xmlns="{_DS}">{signed_info}</Signature>'.encode())
        canonical = _canonical(parsed[0], exclusive=exclusive)
        if b'xmlns=""' in canonical:
            raise RuntimeError("libxml2 canonicalised SignedInfo wrongly; refusing to sign")
        value = _b64(self.signer_key.sign(canonical, padding.PKCS1v15(), hashes.SHA1()))
        signature = (
            f'<Signature xmlns="{_DS}">{signed_info}<SignatureValue>{value}</SignatureValue>'
            f"{self._key_info()}</Signature>"
        ).encode()
        body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
        tag = root.tag
        if not isinstance(tag, str) or tag.startswith("{"):
            raise ValueError("the root to sign must be an un-namespaced element")
        closing = f"</{tag}>".encode()
        if not body.endswith(closing):
            raise ValueError("the root to sign must be un-namespaced and have children")
        # These bytes are final: re-serialising after signing could break the signature
        # (docs/reference/aadhaar-xml.md §4.1, pitfall 4). The declaration uses double quotes like
        # real files (lxml's use single); it is outside what is signed.
        return XML_DECLARATION + body[: -len(closing)] + signature + closing

    def _key_info(self) -> str:
        pairs = []
        for pem in self.chain_pem:
            cert = x509.load_pem_x509_certificate(pem)
            subject = xml_escape(cert.subject.rfc4514_string())
            der = _b64(cert.public_bytes(serialization.Encoding.DER))
            pairs.append(
                f"<X509SubjectName>{subject}</X509SubjectName><X509Certificate>{der}</X509Certificate>"
            )
        return f"<KeyInfo><X509Data>{''.join(pairs)}</X509Data></KeyInfo>"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _canonical(element: etree._Element, *, exclusive: bool) -> bytes:
    data: bytes = etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=False)
    return data
