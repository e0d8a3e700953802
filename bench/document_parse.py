"""How long reading an issued document's certificate XML into `data` takes, per doc type,
verified (signature checked against the pinned signer) and unverified (an unpinned signer: the
fallback safe parse), against a baseline of merely parsing the same bytes with the same safe
parser, measured in the same run.

    .venv/bin/python -m bench.document_parse --iterations 200

Documents come from the simulator (synthetic user, TEST PKI): PAN, driving licence, Class XII
marksheet, vehicle registration, each with its parser, and a Class X marksheet (same parser).
"""

from __future__ import annotations

import argparse
import statistics
from functools import partial

from bench.aadhaar_verify import summary, timings_ms
from digilocker_gateway.aadhaar.verify import TrustedSigners, safe_parse
from digilocker_gateway.documents.data import DocumentSource, data_from_xml
from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.certificate_xml import render_certificate_xml
from digilocker_gateway.simulator.pki import SimulatorPKI
from digilocker_gateway.simulator.users import seed_users

DOC_TYPES = ("PANCR", "DRVLC", "HSCER", "RVCER")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    pki = SimulatorPKI.create()
    trusted = TrustedSigners.from_pem_bundle(pki.signer_cert_pem)
    unpinned = TrustedSigners.from_pem_bundle(SimulatorPKI.create().signer_cert_pem)
    user = next(u for u in seed_users(build_catalogue()) if u.scenario == "complete")
    print(f"{'doc type':9} {'bytes':>6} {'parse ms':>9} {'verified ms':>12} {'ratio':>6} "
          f"{'unverified ms':>14} {'ratio':>6}")  # fmt: skip
    ratios = []
    for doc_type in DOC_TYPES:
        document = next(d for d in user.documents if d.doctype == doc_type)
        raw = render_certificate_xml(user, document, pki)
        source = DocumentSource(doc_type, document.orgid, document.issuer_name, document.uri)
        assert data_from_xml(raw, trusted, source)["verified"]["signature"] is True
        base = summary(timings_ms(partial(safe_parse, raw), args.iterations))[1]
        verified = summary(
            timings_ms(partial(data_from_xml, raw, trusted, source), args.iterations)
        )[1]
        unverified = summary(
            timings_ms(partial(data_from_xml, raw, unpinned, source), args.iterations)
        )[1]
        ratios.append(verified / base)
        print(
            f"{doc_type:9} {len(raw):6d} {base:9.3f} {verified:12.3f} {verified / base:6.1f} "
            f"{unverified:14.3f} {unverified / base:6.1f}"
        )
    print(f"median ratio verified/parse: {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
