"""`POST /api/aadhaar/offline` end to end — multipart read, ZIP checked and decrypted, UIDAI
signature verified, hashes checked, XML stored encrypted — timed one call at a time, against
`GET /api/digilocker/{id}/aadhaar` (e-Aadhaar from the embedded simulator, verified, stored)
on the same server in the same run.

    python -m bench.offline_upload [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.aadhaar_call import signed_in_request, timed
from bench.common import free_port, server

SHARE_CODE = "4321"


def timed_upload(
    client: httpx.Client, archive: bytes, mobile: str, headers: dict[str, str], n: int
) -> list[float]:
    import time

    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.post(
            "/api/aadhaar/offline",
            files={"file": ("offlineaadhaar.zip", archive, "application/zip")},
            data={"shareCode": SHARE_CODE, "mobile": mobile},
            headers=headers,
        )
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        assert response.json()["aadhaar"]["verified"]["phone"] is True
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = {"DLG_DATA_DIR": str(data_dir), "DLG_CATALOGUE_REFRESH_ON_START": "false"}
        with server(
            ["-m", "digilocker_gateway", "serve", "--port", str(port)], port=port, env=env
        ) as base:
            headers = json.loads((data_dir / "dev-client.json").read_text())
            request_id = asyncio.run(signed_in_request(base, headers))
            with httpx.Client(base_url=base, timeout=60) as client:
                users = client.get("/simulator/_sim/users").json()
                user = next(u for u in users if u["scenario"] == "complete")
                archive = client.get(
                    f"/simulator/_sim/users/complete/offline-ekyc?shareCode={SHARE_CODE}"
                ).content
                timed_upload(client, archive, user["mobile"], headers, 5)  # warm-up
                timed(client, f"/api/digilocker/{request_id}/aadhaar", headers, 5)
                offline = timed_upload(client, archive, user["mobile"], headers, args.requests)
                aadhaar = timed(
                    client, f"/api/digilocker/{request_id}/aadhaar", headers, args.requests
                )
    o, a = statistics.median(offline), statistics.median(aadhaar)
    for name, samples in (("offline ", offline), ("/aadhaar", aadhaar)):
        p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
        print(f"{name} : median {statistics.median(samples):6.2f} ms  p95 {p95:6.2f} ms")
    print(f"ratio    : the offline upload takes {o / a:.2f}x a /aadhaar call")


if __name__ == "__main__":
    main()
