"""Independent checks of the XML signatures the simulator makes, with signxml's own verifier
(not the gateway's aadhaar/verify.py), configured for DigiLocker's algorithms."""

from __future__ import annotations

from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier

# DigiLocker signs with rsa-sha1 over a sha256 digest, one Reference
# (docs/reference/aadhaar-xml.md §1).
DIGILOCKER_SIGNATURE = SignatureConfiguration(
    expect_references=1,
    signature_methods=frozenset({SignatureMethod.RSA_SHA1}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)


def signed_root(
    data: bytes, *, cert_pem: bytes | None = None, ca_pem_file: str | None = None
) -> etree._Element:
    """The signed tree, verified against one certificate or a CA file; raises signxml's
    InvalidSignature (or a subclass) when the signature does not hold."""
    result = XMLVerifier().verify(
        data,
        x509_cert=None if cert_pem is None else cert_pem.decode("ascii"),
        ca_pem_file=ca_pem_file,
        expect_config=DIGILOCKER_SIGNATURE,
    )
    assert isinstance(result, VerifyResult)
    root = result.signed_xml
    assert root is not None
    return root
