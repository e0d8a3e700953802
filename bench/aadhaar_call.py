"""`GET /api/digilocker/{id}/aadhaar` end to end — token check, e-Aadhaar fetched from the
embedded simulator, hmac, signature verified, mapped, XML stored encrypted — timed one call at a
time. Baseline in the same run: the status call of the same request on the same server.

    python -m bench.aadhaar_call [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import free_port, server
from digilocker_gateway.simulator.driver import run_journey


async def signed_in_request(base: str, headers: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        created = (
            await client.post(
                "/api/digilocker",
                json={"redirectUrl": "https://example.com/done", "docType": "ADHAR"},
                headers=headers,
            )
        ).json()
        users = (await client.get("/simulator/_sim/users")).json()
        user = next(u for u in users if u["scenario"] == "complete")
        callback = await run_journey(
            client, created["url"], identifier=user["identifier"], otp=user["otp"], pin=user["pin"]
        )
        back = await client.get(str(callback))
        assert "success=true" in back.headers["location"], back.headers["location"]
        request_id: str = created["id"]
        return request_id


def timed(client: httpx.Client, path: str, headers: dict[str, str], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
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
                timed(client, f"/api/digilocker/{request_id}/aadhaar", headers, 5)  # warm-up
                aadhaar = timed(
                    client, f"/api/digilocker/{request_id}/aadhaar", headers, args.requests
                )
                status = timed(
                    client, f"/api/digilocker/{request_id}/status", headers, args.requests
                )
    a, s = statistics.median(aadhaar), statistics.median(status)
    for name, samples in (("/aadhaar", aadhaar), ("/status ", status)):
        p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
        print(f"{name} : median {statistics.median(samples):6.2f} ms  p95 {p95:6.2f} ms")
    print(f"ratio    : /aadhaar takes {a / s:.1f}x a status call")


if __name__ == "__main__":
    main()
