"""The simulator's offline e-KYC ZIP (docs/simulator.md): UIDAI's format, AES-encrypted with the
chosen share code, holding one XML signed by the simulator's test PKI with inclusive C14N."""

from __future__ import annotations

import io
import zipfile

import pytest
import pyzipper

from digilocker_gateway.aadhaar.offline import hash_matches
from tests.simulator.conftest import Sim
from tests.xml_signatures import signed_root


async def test_offline_zip_opens_with_its_share_code_and_holds_signed_offline_xml(
    sim: Sim,
) -> None:
    users = await sim.users()
    user = next(u for u in users if u["scenario"] == "complete")
    response = await sim.client.get(f"/_sim/users/{user['aadhaar']}/offline-ekyc?shareCode=4321")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="offlineaadhaar' in response.headers["content-disposition"]
    with pyzipper.AESZipFile(io.BytesIO(response.content)) as archive:
        (entry,) = archive.infolist()
        assert entry.filename.startswith("offlineaadhaar")
        assert entry.filename.endswith(".xml")
        assert entry.flag_bits & 0x1  # encrypted
        with pytest.raises(RuntimeError):
            archive.read(entry, pwd=b"1234")
        xml = archive.read(entry, pwd=b"4321")
    signer = (await sim.client.get("/_sim/signer.pem")).content
    root = signed_root(xml, cert_pem=signer)
    assert root.tag == "OfflinePaperlessKyc"
    assert root.get("referenceId", "").startswith(user["aadhaar"][-4:])
    poi = root.find("UidData/Poi")
    assert poi is not None
    assert poi.get("name") == user["name"]
    last_digit = int(user["aadhaar"][-1])
    assert hash_matches(user["mobile"], "4321", last_digit, poi.get("m", ""))
    assert user["aadhaar"] not in xml.decode()


async def test_offline_zip_is_not_readable_by_plain_zipfile_without_aes(sim: Sim) -> None:
    response = await sim.client.get("/_sim/users/complete/offline-ekyc?shareCode=1234")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        entry = archive.infolist()[0]
        # WinZip AES is compression method 99: why an AES-capable reader is needed.
        assert entry.compress_type == 99


@pytest.mark.parametrize(
    ("who", "query", "status"),
    [("nobody", "shareCode=1234", 404), ("complete", "shareCode=12a4", 400), ("complete", "", 400)],
)
async def test_offline_zip_for_unknown_user_or_bad_share_code_is_refused(
    sim: Sim, who: str, query: str, status: int
) -> None:
    response = await sim.client.get(f"/_sim/users/{who}/offline-ekyc?{query}")
    assert response.status_code == status
    assert set(response.json()) == {"error", "error_description"}
