"""Verify a signed e-Aadhaar XML and hand back only what was signed.

Two document families reach the gateway (docs/reference/aadhaar-xml.md §1, §2): DigiLocker's
e-Aadhaar (`Certificate` root, or a bare UIDAI `KycRes`), signed by DigiLocker, and UIDAI's Offline
Paperless e-KYC (`OfflinePaperlessKyc`), signed by UIDAI. Both carry one enveloped XMLDSig signature
over the whole document (`Reference URI=""`).

The order of checks matters: DTDs are refused before the parser could expand anything, the
signature's place and shape are checked before any cryptography (anti-wrapping,
docs/reference/aadhaar-xml.md §4.1, pitfall 3), and the caller gets the tree that signxml rebuilt
from the canonical signed bytes, so comments or unsigned siblings an attacker slipped in can never
be read. Error messages are fixed strings: they never carry XML content, names or numbers.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import (
    InvalidCertificate,
    InvalidDigest,
    InvalidInput,
    InvalidSignature,
    SignXMLException,
)
from signxml.verifier import SignatureConfiguration, XMLVerifier

__all__ = [
    "AadhaarXmlError",
    "MalformedXml",
    "SignatureInvalid",
    "SignatureWrapping",
    "TamperedXml",
    "TrustedSigners",
    "UnsafeXml",
    "UntrustedCertificate",
    "Variant",
    "VerifiedXml",
    "parse_unverified",
    "safe_parse",
    "verify_aadhaar_xml",
]

Variant = Literal["digilocker", "offline"]

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
_SIGNATURE = f"{{{DSIG_NS}}}Signature"
_SIGNED_INFO = f"{{{DSIG_NS}}}SignedInfo"
_REFERENCE = f"{{{DSIG_NS}}}Reference"
_TRANSFORM = f"{{{DSIG_NS}}}Transform"
_SIGNATURE_VALUE = f"{{{DSIG_NS}}}SignatureValue"
_X509_CERTIFICATE = f"{{{DSIG_NS}}}X509Certificate"

# docs/reference/aadhaar-xml.md §1 and §1.1: DigiLocker sends `Certificate`; its partner OpenAPI
# also models a bare `KycRes`.
ROOT_TAGS: dict[Variant, frozenset[str]] = {
    "digilocker": frozenset({"Certificate", "KycRes"}),
    "offline": frozenset({"OfflinePaperlessKyc"}),
}

# Only the transforms DigiLocker (exclusive C14N) and UIDAI (inclusive C14N 1.0) use
# (docs/reference/aadhaar-xml.md §1, §2), plus C14N 1.1. signxml silently skips transforms it does
# not know, so anything else (XPath, XSLT, base64) is refused here rather than half-applied.
_ALLOWED_TRANSFORMS = frozenset(
    {
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/2006/12/xml-c14n11",
    }
)

# docs/reference/aadhaar-xml.md §4.1, pitfall 1: DigiLocker and UIDAI still sign with RSA-SHA1,
# which signxml forbids by default; the digests stay SHA-256 only.
_SIGNATURE_CONFIG = SignatureConfiguration(
    location="./",
    expect_references=1,
    signature_methods=frozenset({SignatureMethod.RSA_SHA1, SignatureMethod.RSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
    # DigiLocker's Reference names only the enveloped transform (docs/reference/aadhaar-xml.md §1);
    # XMLDSig section 4.3.3.2 then turns the node-set into octets with Canonical XML 1.0 (signxml
    # would default to 1.1).
    default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0,
)

# DTD markup can only appear in a DOCTYPE; spotting it in the bytes lets an entity bomb be
# refused as unsafe before libxml2 sees it (libxml2 itself aborts some bombs with a generic
# syntax error, which would otherwise be reported as merely malformed).
_DTD_MARKUP = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


class _AadhaarVerifier(XMLVerifier):
    """signxml's verifier, working around a libxml2 2.14 bug in inclusive C14N.

    Canonicalising a subtree inclusively (UIDAI's SignedInfo, docs/reference/aadhaar-xml.md §2)
    makes libxml2 add a spurious `xmlns=""` to grandchildren of the subtree's apex (e.g. `Transform`
    under `Transforms`), so a correctly signed offline e-KYC would fail to verify. No Aadhaar
    document has a default namespace outside its Signature, so a canonical `xmlns=""` there is never
    meaningful and dropping it restores the bytes the signer signed. signxml applies this only to
    inclusive C14N; DigiLocker's exclusive C14N (docs/reference/aadhaar-xml.md §1) is untouched.
    """

    excise_empty_xmlns_declarations = True


class AadhaarXmlError(Exception):
    """An e-Aadhaar XML that cannot be trusted or read. The message is a fixed sentence."""

    default_message = "The Aadhaar XML cannot be used."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class UnsafeXml(AadhaarXmlError):
    """A DOCTYPE, entity declaration or entity reference: refused without expanding it."""

    default_message = "The Aadhaar XML declares a DTD or entities, which are refused."


class MalformedXml(AadhaarXmlError):
    """Not well-formed, the wrong document type, or missing a field the mapping needs."""

    default_message = "The Aadhaar XML is not a well-formed document of the expected type."


class SignatureInvalid(AadhaarXmlError):
    """The XML signature is missing, unsupported, or does not verify."""

    default_message = "The Aadhaar XML signature is missing or invalid."


class UntrustedCertificate(SignatureInvalid):
    """No pinned signer certificate verifies the signature."""

    default_message = "The Aadhaar XML signature does not verify under any trusted certificate."


class TamperedXml(SignatureInvalid):
    """A trusted certificate signed it, but the signed content has changed since."""

    default_message = "The Aadhaar XML was changed after it was signed."


class SignatureWrapping(SignatureInvalid):
    """The signature is not where and what it must be: extra signatures or references."""

    default_message = "The Aadhaar XML signature is misplaced or references other content."


@dataclass(frozen=True)
class TrustedSigners:
    """Pinned signer certificates, tried in turn. Several at once let a signer rotate
    (docs/reference/aadhaar-xml.md §2: UIDAI's offline key rotates; §1: DigiLocker's 2014 and 2023
    leaves)."""

    certificates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_pem_bundle(cls, pem: bytes) -> TrustedSigners:
        """One or more concatenated PEM certificates; empty input trusts nothing."""
        if not pem.strip():
            return cls()
        try:
            loaded = x509.load_pem_x509_certificates(pem)
        except ValueError:
            raise ValueError("the signer bundle holds no valid PEM certificate") from None
        unique: dict[bytes, x509.Certificate] = {}
        for certificate in loaded:
            unique.setdefault(certificate.fingerprint(_sha256()), certificate)
        return cls(tuple(unique.values()))

    def __len__(self) -> int:
        return len(self.certificates)


@dataclass(frozen=True)
class VerifiedXml:
    """The signed content as signxml rebuilt it from the canonical signed bytes.

    `root` has the enveloped signature removed and no comments; read every field from it.
    """

    root: etree._Element = field(repr=False)
    variant: Variant
    signer_sha256: str


def verify_aadhaar_xml(
    raw: bytes,
    trusted: TrustedSigners,
    *,
    variant: Variant = "digilocker",
    verification_time: datetime | None = None,
) -> VerifiedXml:
    """Verify `raw` (the exact bytes received, docs/reference/aadhaar-xml.md §4.1, pitfall 4)
    against the pinned signers.

    `verification_time` checks the certificates' validity period at another instant than now.
    """
    root = _safe_parse(raw, remove_comments=False)
    _check_root(root, variant)
    signature = _check_signature_shape(root)
    if signature is None:
        raise SignatureInvalid("The Aadhaar XML is not signed.")
    if not trusted.certificates:
        raise UntrustedCertificate("No trusted Aadhaar signer certificate is configured.")

    config = _SIGNATURE_CONFIG
    if verification_time is not None:
        config = replace(config, verification_time=verification_time)
    outside_validity = False
    for certificate in _candidates_first_embedded(trusted.certificates, signature):
        try:
            result = _AadhaarVerifier().verify(
                raw,
                x509_cert=certificate,
                parser=_safe_parser(remove_comments=False),
                expect_config=config,
            )
        except InvalidDigest:
            # SignedInfo verified under this pinned key, so the signer is trusted and the
            # document itself changed.
            raise TamperedXml() from None
        except InvalidCertificate:
            outside_validity = True
            continue
        except InvalidSignature:
            continue
        except (InvalidInput, etree.DocumentInvalid, SignXMLException, ValueError, TypeError):
            raise SignatureInvalid(
                "The Aadhaar XML signature is malformed or unsupported."
            ) from None
        if isinstance(result, list):  # expect_references=1 makes this unreachable
            raise SignatureWrapping()
        signed = result.signed_xml
        if signed is None:
            raise MalformedXml()
        if signed.tag != root.tag:
            raise SignatureWrapping()
        return VerifiedXml(
            root=signed,
            variant=variant,
            signer_sha256=certificate.fingerprint(_sha256()).hex(),
        )
    if outside_validity:
        raise UntrustedCertificate(
            "The Aadhaar XML signature does not verify under a trusted certificate valid now."
        )
    raise UntrustedCertificate()


def parse_unverified(raw: bytes, *, variant: Variant = "digilocker") -> etree._Element:
    """Parse without checking the signature, for products that accept unverified data
    (answered with `verified.signature: false`). The same DTD refusal and structural checks
    apply; a missing signature is allowed. Comments are dropped while parsing so that a
    comment cannot cut a value short (docs/reference/aadhaar-xml.md §4.1, pitfall 3)."""
    root = _safe_parse(raw, remove_comments=True)
    _check_root(root, variant)
    _check_signature_shape(root)
    return root


def safe_parse(raw: bytes) -> etree._Element:
    """Any XML document, parsed as safely as an Aadhaar one (no DTD, no entities, no network,
    comments dropped) but of any root and unsigned: for issued documents whose data is read
    even when no pinned signer vouches for it (docs/document-data.md §2)."""
    return _safe_parse(raw, remove_comments=True)


def _safe_parser(*, remove_comments: bool) -> etree.XMLParser:
    # A parser per call: lxml parsers must not be shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=remove_comments,
        remove_pis=remove_comments,
    )


def _safe_parse(raw: bytes, *, remove_comments: bool) -> etree._Element:
    if b"\x00" in raw:
        # NUL is never legal in XML; it does appear in UTF-16/32 text, which would hide a
        # DOCTYPE from the byte scan below. Aadhaar XML is UTF-8 (docs/reference/aadhaar-xml.md §1).
        raise MalformedXml("The Aadhaar XML must be UTF-8 encoded.")
    if _DTD_MARKUP.search(raw):
        raise UnsafeXml()
    try:
        root = etree.fromstring(raw, _safe_parser(remove_comments=remove_comments))
    except etree.XMLSyntaxError:
        raise MalformedXml("The Aadhaar XML is not well-formed.") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml()
    for _entity in root.iter(etree.Entity):
        raise UnsafeXml()
    return root


def _check_root(root: etree._Element, variant: Variant) -> None:
    if root.tag not in ROOT_TAGS[variant]:
        raise MalformedXml("The XML is not an Aadhaar document of the expected kind.")


def _check_signature_shape(root: etree._Element) -> etree._Element | None:
    """At most one Signature, a direct child of the root, with one `URI=""` Reference
    (docs/reference/aadhaar-xml.md §4.1, pitfall 3): a second Signature or a nested one is how
    wrapping attacks start."""
    signatures = list(root.iter(_SIGNATURE))
    if not signatures:
        return None
    if len(signatures) > 1:
        raise SignatureWrapping()
    signature = signatures[0]
    if signature.getparent() is not root:
        raise SignatureWrapping()
    signed_infos = signature.findall(_SIGNED_INFO)
    references = list(signature.iter(_REFERENCE))
    if len(signed_infos) != 1 or len(references) != 1:
        raise SignatureWrapping()
    if references[0].getparent() is not signed_infos[0] or references[0].get("URI") != "":
        raise SignatureWrapping()
    for transform in references[0].iter(_TRANSFORM):
        if transform.get("Algorithm") not in _ALLOWED_TRANSFORMS:
            raise SignatureInvalid("The Aadhaar XML signature uses an unsupported transform.")
    values = signature.findall(_SIGNATURE_VALUE)
    if len(values) != 1 or not (values[0].text or "").strip():
        raise SignatureInvalid("The Aadhaar XML signature has no signature value.")
    return signature


def _candidates_first_embedded(
    certificates: tuple[x509.Certificate, ...], signature: etree._Element
) -> list[x509.Certificate]:
    """Pinned certificates, the one the signature embeds (if pinned) first.

    Embedded certificates are never trusted (docs/reference/aadhaar-xml.md §4.1, pitfall 2); they
    only say which pinned one to try first, so a rotation list of several costs one verification,
    not several.
    """
    embedded: set[bytes] = set()
    for element in signature.iter(_X509_CERTIFICATE):
        text = "".join((element.text or "").split())
        embedded.add(text.encode("ascii", "ignore"))
    if not embedded:
        return list(certificates)

    def is_embedded(certificate: x509.Certificate) -> bool:
        return base64.b64encode(certificate.public_bytes(Encoding.DER)) in embedded

    return sorted(certificates, key=lambda certificate: not is_embedded(certificate))


def _sha256() -> hashes.SHA256:
    return hashes.SHA256()
