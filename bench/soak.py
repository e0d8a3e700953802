"""A bounded soak: many whole journeys while a share of every DigiLocker call fails, then a
check that no request is stuck.

One simulator process stands in for DigiLocker and one `digilocker-gateway serve` process runs
the gateway (SQLite by default, or PostgreSQL with --database-url). The simulator faults
`--fault-rate` of the calls of every endpoint (its own sign-in pages too) with an even mix of
every fault kind it offers: error 500, error 503, timeout, dropped connection, malformed body,
wrong hmac, latency (docs/simulator.md, "Faults"). Each journey is a user and a caller doing
everything once: create → journey URL → sign-in and consent → callback → status → fetch a PDF →
download it → fetch the Aadhaar → revoke. A journey stops at its first failing step.

Then faults are cleared and every journey that failed is recovered as a caller would: status,
then — as status says — the journey again on the same request id (unauthenticated, or
`reauthRequired`), and a fetch. A request that cannot be brought to a fetched document that way
is **stuck**; the number must be 0.

Reported: completed, failed by step and code, stuck, gateway 5xx by code (only
`upstream_server_error` and `get_xml_failed` are documented for DigiLocker faults), the gateway's
RSS before and after, and the journey rate with faults against the same run's warm-up rate
without them.

    python -m bench.soak [--journeys 500] [--concurrency 10] [--fault-rate 0.05]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import PIDS, rss_kib
from bench.throughput_processes import REDIRECT_URL, Fleet, journey_fleet
from digilocker_gateway.simulator.driver import run_journey

KINDS: list[dict[str, Any]] = [
    {"error_rate": 1.0, "error": "unexpected_error", "status": 500},
    {"error_rate": 1.0, "error": "partner_service_unresponsive", "status": 503},
    {"timeout": True},
    {"drop": True},
    {"malformed": True},
    {"wrong_hmac": True},
    {"latency_ms": 300},
]
# A hung DigiLocker call ends at this read timeout (DLG_UPSTREAM_READ_TIMEOUT_SECONDS), so a
# soak is bounded; the browser side gives up on a hung sign-in page after BROWSER_TIMEOUT.
READ_TIMEOUT_SECONDS = 2.0
BROWSER_TIMEOUT = 10.0
DOCUMENTED_5XX = {"upstream_server_error", "get_xml_failed"}


class StepFailed(Exception):
    def __init__(self, step: str, code: str) -> None:
        super().__init__(f"{step}: {code}")
        self.step = step
        self.code = code


@dataclass
class Tally:
    completed: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)
    server_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    stuck: list[str] = field(default_factory=list)
    to_recover: list[str] = field(default_factory=list)


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}"


class Caller:
    """Drives the gateway as a caller and a user's browser would, counting what it sees."""

    def __init__(self, target: Fleet, client: httpx.AsyncClient, tally: Tally) -> None:
        self.base = target.bases[0]
        self.headers = target.headers
        self.client = client
        self.tally = tally
        users = httpx.get(f"{target.simulator}/_sim/users").json()
        self.user = next(u for u in users if u["scenario"] == "complete")
        self.document = next(
            d for d in self.user["documents"] if d["docType"] == "PANCR" and d["issued"]
        )

    async def call(self, step: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise StepFailed(step, type(exc).__name__) from exc
        if response.status_code >= 500:
            self.tally.server_errors[_code(response)] += 1
        return response

    async def api(self, step: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.base}/api/digilocker{path}"
        response = await self.call(step, method, url, headers=self.headers, **kwargs)
        if response.status_code != 200:
            raise StepFailed(step, _code(response))
        body: dict[str, Any] = response.json()
        return body

    async def consent(self, journey_url: str) -> None:
        start = await self.call("journey", "GET", journey_url)
        if start.status_code != 302:
            raise StepFailed("journey", _code(start))
        try:
            callback = await run_journey(
                self.client,
                start.headers["location"],
                identifier=self.user["identifier"],
                otp=self.user["otp"],
                pin=self.user["pin"],
            )
        except Exception as exc:  # any broken or hung sign-in page
            raise StepFailed("sign-in", type(exc).__name__) from exc
        back = await self.call("callback", "GET", str(callback))
        location = back.headers.get("location", "")
        if back.status_code != 302 or "success=true" not in location:
            code = httpx.URL(location).params.get("errCode") or _code(back)
            raise StepFailed("callback", code)

    async def fetch_pdf(self, request_id: str) -> None:
        body = {
            "docType": self.document["docType"],
            "orgId": self.document["orgId"],
            "format": "pdf",
            "consent": "Y",
            "parameters": [{"name": k, "value": v} for k, v in self.document["parameters"].items()],
        }
        fetched = await self.api("fetch", "POST", f"/{request_id}/document", json=body)
        download = await self.call("download", "GET", fetched["fileUrl"])
        if download.status_code != 200 or not download.content.startswith(b"%PDF"):
            raise StepFailed("download", _code(download))

    async def journey(self) -> None:
        created = await self.api(
            "create", "POST", "", json={"redirectUrl": REDIRECT_URL, "docType": "PANCR,ADHAR"}
        )
        request_id = created["id"]
        try:
            await self.consent(created["url"])
            status = await self.api("status", "GET", f"/{request_id}/status")
            if status["status"] != "authenticated":
                raise StepFailed("status", status["status"])
            await self.fetch_pdf(request_id)
            await self.api("aadhaar", "GET", f"/{request_id}/aadhaar")
            await self.api("revoke", "GET", f"/{request_id}/revoke")
        except StepFailed as failure:
            self.tally.failed[f"{failure.step}: {failure.code}"] += 1
            self.tally.to_recover.append(request_id)
            return
        self.tally.completed += 1

    async def recover(self, request_id: str) -> None:
        """Faults are gone: bring the request to a fetched document as a caller would — and a
        caller that is told 401 `invalid_token` reads status again (docs/errors.md,
        "Re-consent"): a grant can turn out unusable only when DigiLocker is next asked."""
        try:
            for attempt in range(2):
                status = await self.api("recover-status", "GET", f"/{request_id}/status")
                if status["status"] == "revoked":
                    return  # the journey's last step went through; a revoked request is done
                if status["status"] != "authenticated" or status.get("reauthRequired"):
                    await self.consent(status["url"])
                try:
                    await self.fetch_pdf(request_id)
                    return
                except StepFailed as failure:
                    if failure.code != "invalid_token" or attempt:
                        raise
        except StepFailed as failure:
            self.tally.stuck.append(f"{request_id} ({failure.step}: {failure.code})")


async def set_faults(target: Fleet, rate: float) -> None:
    entries = [{**kind, "rate": rate / len(KINDS)} for kind in KINDS]
    faults = {"*": entries} if rate > 0 else {}
    answer = httpx.put(f"{target.simulator}/_sim/admin/faults", json=faults)
    answer.raise_for_status()


async def run_journeys(caller: Caller, count: int, concurrency: int) -> float:
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            await caller.journey()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began


async def soak(target: Fleet, journeys: int, concurrency: int, rate: float) -> None:
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(limits=limits, timeout=BROWSER_TIMEOUT) as client:
        pid = PIDS[target.bases[0]]
        warm = Tally()
        warm_count = max(20, journeys // 10)
        warm_seconds = await run_journeys(Caller(target, client, warm), warm_count, concurrency)
        rss_before = rss_kib(pid)

        tally = Tally()
        caller = Caller(target, client, tally)
        await set_faults(target, rate)
        seconds = await run_journeys(caller, journeys, concurrency)
        await set_faults(target, 0.0)
        for request_id in tally.to_recover:
            await caller.recover(request_id)
        rss_after = rss_kib(pid)

    warm_rate = warm_count / warm_seconds
    soak_rate = journeys / seconds
    print(
        f"warm-up, no faults: {warm_count} journeys, {warm.completed} completed, "
        f"{warm_rate:.1f} journeys/s"
    )
    print(
        f"soak, {rate:.0%} of DigiLocker calls faulted: {journeys} journeys in {seconds:.1f} s, "
        f"{soak_rate:.1f} journeys/s ({soak_rate / warm_rate:.2f}x the warm-up)"
    )
    print(f"  completed: {tally.completed}")
    print(f"  failed:    {sum(tally.failed.values())}")
    for reason, count in tally.failed.most_common():
        print(f"    {count:5d}  {reason}")
    print(f"  stuck after recovery: {len(tally.stuck)}")
    for item in tally.stuck[:20]:
        print(f"    {item}")
    print("  gateway 5xx by code:" + ("" if tally.server_errors else " none"))
    for code, count in tally.server_errors.most_common():
        mark = "" if code in DOCUMENTED_5XX else "   <- not documented for DigiLocker faults"
        print(f"    {count:5d}  {code}{mark}")
    print(
        f"  gateway RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB after "
        f"({rss_after / rss_before:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journeys", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # The simulator signs e-Aadhaar with keys kept in tmp; the gateway pins its signer.
        with journey_fleet(
            Path(tmp),
            database_url=args.database_url,
            extra_env={"DLG_UPSTREAM_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT_SECONDS)},
        ) as target:
            asyncio.run(soak(target, args.journeys, args.concurrency, args.fault_rate))


if __name__ == "__main__":
    main()
