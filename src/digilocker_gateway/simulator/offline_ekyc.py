"""A test user's UIDAI offline paperless e-KYC, as the resident downloads it from UIDAI: a ZIP
protected with a share code the resident chooses, holding one XML signed with inclusive C14N
(docs/reference/aadhaar-xml.md §2, §2.2).

The ZIP is AES-256 encrypted (WinZip AES, what UIDAI's ZIPs need an AES-capable reader for,
docs/reference/aadhaar-xml.md §2.3), written with pyzipper; the XML is signed by the simulator's
test PKI, so only a gateway that pins the simulator's signer accepts it.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

from digilocker_gateway.simulator.eaadhaar import IST, render_offline_ekyc_xml
from digilocker_gateway.simulator.model import SimUser
from digilocker_gateway.simulator.pki import SimulatorPKI

# UIDAI asks the resident for a four-digit share code (docs/reference/aadhaar-xml.md §2.3).
SHARE_CODE = re.compile(r"[0-9]{4}")


def offline_ekyc_name(now: datetime) -> str:
    """`offlineaadhaar` + yyyyMMddHHmmssSSS, the name UIDAI gives the ZIP and the XML in it."""
    at = now.astimezone(IST)
    return f"offlineaadhaar{at:%Y%m%d%H%M%S}{at.microsecond // 1000:03d}"


def render_offline_ekyc_zip(
    user: SimUser, pki: SimulatorPKI, now: datetime, share_code: str
) -> tuple[str, bytes]:
    """`(file name, ZIP bytes)` of the user's offline e-KYC, encrypted with `share_code`."""
    if not SHARE_CODE.fullmatch(share_code):
        raise ValueError("the share code is four digits")
    name = offline_ekyc_name(now)
    xml = render_offline_ekyc_xml(user, pki, now, share_code)
    buffer = io.BytesIO()
    import pyzipper  # on first use: it brings PyCryptodome and cffi's parser

    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(share_code.encode("ascii"))
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        archive.writestr(f"{name}.xml", xml)
    return f"{name}.zip", buffer.getvalue()
