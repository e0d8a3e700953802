"""/metrics: after a scripted set of calls the counters moved by exactly those calls, the
funnel shows where each request stopped, labels stay bounded, the bearer token is enforced,
and with several processes (PROMETHEUS_MULTIPROC_DIR) one scrape sums them all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from digilocker_gateway.config import Settings
from digilocker_gateway.db.models import OfflineEkycFile
from digilocker_gateway.jobs import run_once
from digilocker_gateway.ops.endpoints import metrics_router
from digilocker_gateway.ops.metrics import GatewayMetrics
from digilocker_gateway.requests.tasks import purge_expired
from tests.aadhaar.test_offline_upload import offline_zip, upload
from tests.requests.test_create import assert_envelope
from tests.support import DatabaseUnderTest, Gateway, running_gateway, sim_user, walk_journey
from tests.test_config import PRODUCTION
from tests.webhooks.receiver import receiving
from tests.webhooks.support import add_endpoint, deliver

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(gateway: Gateway) -> Samples:
    response = await gateway.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


STATUS_ROUTE = "/api/digilocker/{request_id}/status"


async def test_counters_move_by_exactly_the_calls_made(gateway: Gateway) -> None:
    before = await scrape(gateway)
    created = await gateway.create_request()
    for _ in range(3):
        await gateway.client.get(f"/api/digilocker/{created['id']}/status", headers=gateway.headers)
    missing = await gateway.client.get("/api/digilocker/nope/status", headers=gateway.headers)
    assert missing.status_code == 404
    await walk_journey(gateway, scenario="complete")
    after = await scrape(gateway)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "dlg_http_requests_total"
    assert moved(requests, route="/api/digilocker", method="POST", status="200") == 2
    assert moved(requests, route=STATUS_ROUTE, method="GET", status="200") == 3
    assert moved(requests, route=STATUS_ROUTE, method="GET", status="404") == 1
    assert (
        moved(requests, route="/digilocker/journey/{request_id}", method="GET", status="302") == 1
    )
    assert moved(requests, route="/digilocker/callback", method="GET", status="302") == 1
    duration = "dlg_http_request_duration_seconds_count"
    assert moved(duration, route=STATUS_ROUTE, method="GET") == 4
    # The journey's one DigiLocker call: the token exchange (the simulator's own pages are
    # DigiLocker's, and never counted as API calls).
    assert moved("dlg_upstream_calls_total", operation="token", outcome="ok") == 1
    assert moved("dlg_upstream_call_duration_seconds_count", operation="token") == 1
    assert not any(
        labels and dict(labels).get("route", "").startswith("/simulator") for _, labels in after
    )
    assert value(after, "dlg_http_requests_in_progress") == 1  # the scrape itself


async def test_labels_never_carry_ids_or_paths_the_caller_chose(gateway: Gateway) -> None:
    await gateway.client.get("/api/digilocker/c0ffee-secret-id/status", headers=gateway.headers)
    await gateway.client.get("/no/such/path/8d7f6e")
    response = await gateway.client.get("/metrics")
    assert "c0ffee-secret-id" not in response.text
    assert "8d7f6e" not in response.text
    samples = parse(response.text)
    assert value(samples, "dlg_http_requests_total", route="unmatched", method="GET", status="404")


async def test_funnel_shows_where_each_request_stopped(gateway: Gateway) -> None:
    instance = gateway.headers["x-product-instance-id"]
    waiting = await gateway.create_request()
    opened = await gateway.client.get(waiting["url"])
    assert opened.status_code == 302
    signed_in = await walk_journey(gateway, scenario="complete")
    await walk_journey(gateway, scenario="complete", decision="deny")
    await gateway.create_request()  # never opened

    samples = await scrape(gateway)
    stages = {
        stage: value(samples, "dlg_journey_requests", product_instance=instance, stage=stage)
        for stage in ("created", "journey_opened", "authenticated", "denied", "expired")
    }
    assert stages == {
        "created": 4,
        "journey_opened": 3,
        "authenticated": 1,
        "denied": 1,
        "expired": 0,
    }
    assert value(samples, "dlg_open_requests") == 2

    revoked = await gateway.client.get(
        f"/api/digilocker/{signed_in.request_id}/revoke", headers=gateway.headers
    )
    assert revoked.status_code == 200, revoked.text
    gateway.clock.advance(gateway.runtime.settings.journey_lifetime_seconds + 1)
    later = await scrape(gateway)

    def stage(name: str) -> float:
        return value(later, "dlg_journey_requests", product_instance=instance, stage=name)

    assert (stage("revoked"), stage("authenticated"), stage("expired")) == (1, 1, 1)
    assert value(later, "dlg_open_requests") == 1  # the one never opened


async def test_failed_journeys_are_counted_by_code(gateway: Gateway) -> None:
    instance = gateway.headers["x-product-instance-id"]
    faults = {"token": {"error_rate": 1.0}}
    assert (await gateway.client.put("/simulator/_sim/admin/faults", json=faults)).is_success
    journey = await walk_journey(gateway, scenario="complete")
    assert journey.final_query["errCode"] == "upstream_server_error"

    samples = await scrape(gateway)
    assert (
        value(
            samples, "dlg_journey_failures", product_instance=instance, code="upstream_server_error"
        )
        == 1
    )
    assert value(samples, "dlg_journey_requests", product_instance=instance, stage="failed") == 1
    assert value(samples, "dlg_upstream_calls_total", operation="token", outcome="server_error")


async def test_stored_bytes_and_job_runs_are_read_from_the_database(gateway: Gateway) -> None:
    user = await sim_user(gateway, "complete")
    uploaded = await upload(gateway, await offline_zip(gateway), mobile=user["mobile"], email="")
    assert uploaded.status_code == 200, uploaded.text
    assert await run_once(gateway.runtime, "requests.purge", purge_expired, lease_seconds=60)
    async with gateway.runtime.reading() as session:
        size = await session.scalar(select(func.sum(OfflineEkycFile.size)))

    samples = await scrape(gateway)
    assert value(samples, "dlg_stored_bytes", kind="offline_ekyc") == size
    assert (
        value(samples, "dlg_job_last_success_timestamp_seconds", job="requests.purge")
        == gateway.clock.now().timestamp()
    )


async def test_bearer_token_guards_metrics(database: DatabaseUnderTest, tmp_path: Path) -> None:
    async with running_gateway(database, tmp_path, metrics_bearer_token="scrape-me") as gateway:
        none = await gateway.client.get("/metrics")
        wrong = await gateway.client.get("/metrics", headers={"authorization": "Bearer nope"})
        right = await gateway.client.get("/metrics", headers={"authorization": "Bearer scrape-me"})
    assert_envelope(none, 401, "invalid_credentials")
    assert none.headers["www-authenticate"] == "Bearer"
    assert_envelope(wrong, 401, "invalid_credentials")
    assert right.status_code == 200
    assert "dlg_http_requests_total" in right.text


async def test_production_without_a_token_keeps_metrics_off() -> None:
    app = FastAPI()
    app.include_router(metrics_router(Settings(**PRODUCTION), GatewayMetrics()))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


_WORKER = textwrap.dedent(
    """
    import sys
    from digilocker_gateway.ops.metrics import GatewayMetrics

    metrics = GatewayMetrics()
    assert metrics.multiprocess
    for _ in range(int(sys.argv[1])):
        metrics.http_requests.labels("/api/digilocker", "POST", "200").inc()
        metrics.upstream_calls.labels("token", "ok").inc()
    if sys.argv[2] == "render":
        sys.stdout.write(metrics.render(None).decode())
    """
)


def test_several_processes_are_summed_in_one_scrape(tmp_path: Path) -> None:
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(count: int, mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _WORKER, str(count), mode],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout

    run(3, "quiet")
    run(4, "quiet")
    samples = parse(run(2, "render"))
    labels = {"route": "/api/digilocker", "method": "POST", "status": "200"}
    assert value(samples, "dlg_http_requests_total", **labels) == 9
    assert value(samples, "dlg_upstream_calls_total", operation="token", outcome="ok") == 9


async def test_webhook_backlog_and_last_delivery_are_read_from_the_outbox(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with running_gateway(
        database, tmp_path, webhook_backoff_base_seconds=10, webhook_backoff_max_seconds=10
    ) as gateway:
        with receiving() as receiver:
            receiver.script = [500]
            await add_endpoint(gateway, receiver)
            await gateway.create_request()
            gateway.clock.advance(30)

            # The event waits to be fanned out: no delivery yet, but the backlog counts it.
            waiting = await scrape(gateway)
            assert value(waiting, "dlg_webhook_deliveries", status="pending") == 0
            assert value(waiting, "dlg_webhook_backlog_seconds") == 30
            assert (
                "dlg_job_last_success_timestamp_seconds",
                frozenset({("job", "webhooks.deliver")}),
            ) not in waiting

            assert await deliver(gateway) == 1  # answered 500: retried in 10 s
            retrying = await scrape(gateway)
            assert value(retrying, "dlg_webhook_deliveries", status="pending") == 1
            assert value(retrying, "dlg_webhook_backlog_seconds") == 0

            gateway.clock.advance(15)
            assert await deliver(gateway) == 1
            delivered = await scrape(gateway)

    assert value(delivered, "dlg_webhook_deliveries", status="pending") == 0
    assert value(delivered, "dlg_webhook_deliveries", status="delivered") == 1
    assert value(delivered, "dlg_webhook_backlog_seconds") == 0
    assert (
        value(delivered, "dlg_job_last_success_timestamp_seconds", job="webhooks.deliver")
        == gateway.clock.now().timestamp()
    )
