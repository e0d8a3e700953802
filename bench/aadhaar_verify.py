"""How long e-Aadhaar verify + parse takes per document, against a baseline of merely parsing
the same bytes with the same safe lxml parser, measured in the same run.

    .venv/bin/python -m bench.aadhaar_verify --iterations 200

Documents come from the simulator (synthetic user, TEST PKI): DigiLocker's `Certificate`
(exclusive C14N), the bare `KycRes` variant, and UIDAI's offline e-KYC (inclusive C14N).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from lxml import etree

from digilocker_gateway.aadhaar.okyc import AadhaarData, read_digilocker, read_offline
from digilocker_gateway.aadhaar.verify import TrustedSigners, verify_aadhaar_xml
from digilocker_gateway.simulator.catalogue import build_catalogue
from digilocker_gateway.simulator.eaadhaar import render_eaadhaar_xml, render_offline_ekyc_xml
from digilocker_gateway.simulator.pki import SimulatorPKI
from digilocker_gateway.simulator.users import seed_users


def timings_ms(action: Callable[[], object], iterations: int) -> list[float]:
    action()  # warm-up: schema loading, first-use caches
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.fmean(ordered), statistics.median(ordered), p95


def safe_parse(raw: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    return etree.fromstring(raw, parser)


def read_verified_digilocker(raw: bytes, trusted: TrustedSigners) -> AadhaarData:
    return read_digilocker(verify_aadhaar_xml(raw, trusted).root)


def read_verified_offline(raw: bytes, trusted: TrustedSigners) -> AadhaarData:
    return read_offline(verify_aadhaar_xml(raw, trusted, variant="offline").root)


def main() -> None:
    arguments = argparse.ArgumentParser(
        description="Time e-Aadhaar verify + parse against a parse-only baseline."
    )
    arguments.add_argument("--iterations", type=int, default=200)
    iterations: int = arguments.parse_args().iterations

    pki = SimulatorPKI.load_or_create(None)
    trusted = TrustedSigners.from_pem_bundle(pki.signer_cert_pem)
    user = next(user for user in seed_users(build_catalogue()) if user.scenario == "complete")
    now = datetime.now(UTC)
    certificate = render_eaadhaar_xml(user, pki, now)
    kyc_res = render_eaadhaar_xml(user, pki, now, root="KycRes")
    offline = render_offline_ekyc_xml(user, pki, now, "1234")
    documents: list[tuple[str, bytes, Callable[[], object]]] = [
        ("Certificate", certificate, partial(read_verified_digilocker, certificate, trusted)),
        ("KycRes", kyc_res, partial(read_verified_digilocker, kyc_res, trusted)),
        ("OfflinePaperlessKyc", offline, partial(read_verified_offline, offline, trusted)),
    ]

    print(f"{iterations} iterations per document; times in ms (mean / median / p95)")
    for label, raw, verify_and_read in documents:
        baseline = summary(timings_ms(partial(safe_parse, raw), iterations))
        measured = summary(timings_ms(verify_and_read, iterations))
        ratio = measured[1] / baseline[1] if baseline[1] else float("inf")
        print(
            f"{label:<20} {len(raw):>6} B  verify+parse "
            f"{measured[0]:7.3f} / {measured[1]:7.3f} / {measured[2]:7.3f}   "
            f"parse only {baseline[0]:6.3f} / {baseline[1]:6.3f} / {baseline[2]:6.3f}   "
            f"ratio (median) x{ratio:,.0f}"
        )


if __name__ == "__main__":
    main()
