"""The signer certificates a runtime trusts: the pinned PEM files from the settings, plus, with
the embedded simulator (or `aadhaar_trust_simulator`), the simulator's own signer. One set for
e-Aadhaar (DigiLocker's and UIDAI's signers), one for issued documents (those plus the issuers'
own, `document_signer_cert_files`).

Loaded once per runtime, on the first Aadhaar call: the simulator creates its signer on its
first start, so the certificate cannot be read before the app serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx

from digilocker_gateway.aadhaar.verify import TrustedSigners
from digilocker_gateway.config import Settings


async def load_trusted_signers(
    settings: Settings, http: httpx.AsyncClient, files: Sequence[Path] | None = None
) -> TrustedSigners:
    """The pinned `files` (default: the e-Aadhaar signers) and, when trusted, the simulator's."""
    chosen = settings.aadhaar_signer_cert_files if files is None else files
    pems = [Path(path).read_bytes() for path in chosen]
    if settings.trusts_simulator_signer:
        response = await http.get(settings.simulator_signer_url)
        response.raise_for_status()
        pems.append(response.content)
    # Joined by newlines: a PEM file need not end with one.
    return TrustedSigners.from_pem_bundle(b"\n".join(pems))


class AadhaarSigners:
    """`TrustedSigners`, loaded on first use and kept; a failed load is tried again next time."""

    def __init__(
        self, settings: Settings, http: httpx.AsyncClient, files: Sequence[Path] | None = None
    ) -> None:
        self._settings = settings
        self._http = http
        self._files = files
        self._loaded: TrustedSigners | None = None
        self._loading = asyncio.Lock()

    async def get(self) -> TrustedSigners:
        if self._loaded is None:
            async with self._loading:
                if self._loaded is None:
                    self._loaded = await load_trusted_signers(
                        self._settings, self._http, self._files
                    )
        return self._loaded
