"""/metrics in Prometheus' format, for a scraper with the token or from an allowed network;
the numbers come from real jobs run by a real burst worker, real queues and workers."""

from __future__ import annotations

import uuid

import django_rq
import pytest
from prometheus_client.parser import text_string_to_metric_families

from catalog.demo import photo_dir
from catalog.models import Priority, Product
from catalog.uploads import add_photo, create_batch
from lightbox import jobs
from processing.worker import LightboxWorker

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def scrape(client, settings):
    settings.LIGHTBOX_METRICS_TOKEN = TOKEN
    settings.LIGHTBOX_METRICS_ALLOWED_NETWORKS = []

    def get() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return get


def run_burst_worker() -> None:
    queues = [django_rq.get_queue(name) for name in ("high", "default", "low")]
    LightboxWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=False)


def test_without_the_token_or_an_allowed_address_metrics_are_refused(client, settings):
    settings.LIGHTBOX_METRICS_TOKEN = TOKEN
    settings.LIGHTBOX_METRICS_ALLOWED_NETWORKS = []

    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_an_allowed_network_needs_no_token_and_an_empty_token_opens_nothing(client, settings, redis_conn):
    settings.LIGHTBOX_METRICS_TOKEN = ""
    settings.LIGHTBOX_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_queue_depths_and_live_workers_are_read_from_redis(scrape, redis_conn):
    for _ in range(3):
        jobs.RENDER_VERSION.enqueue(str(uuid.uuid4()), priority=Priority.LOW)
    queue = django_rq.get_queue("low")
    worker = LightboxWorker([queue], connection=queue.connection)
    worker.register_birth()
    try:
        worker.set_state("idle")
        samples = scrape()
    finally:
        worker.register_death()

    assert samples[("lightbox_queue_jobs", (("queue", "low"), ("state", "queued")))] == 3
    assert samples[("lightbox_queue_jobs", (("queue", "high"), ("state", "queued")))] == 0
    assert samples[("lightbox_workers", (("state", "idle"),))] == 1
    assert scrape()[("lightbox_workers", (("state", "idle"),))] == 0


def test_jobs_stages_and_gate_decisions_are_counted_in_postgresql(scrape, redis_conn, model_dir, settings):
    settings.LIGHTBOX_CASCADE_MODEL = ""  # one model is enough to count with
    product = Product.objects.create(sku="ESP-CUP", title="Espresso cup", category="Kitchen")
    version = add_photo(create_batch(None), product, "coffee.png", (photo_dir() / "coffee.png").read_bytes())
    jobs.RENDER_VERSION.enqueue(str(uuid.uuid4()), job_id="render-missing")

    run_burst_worker()

    version.refresh_from_db()
    decision = "flagged" if version.status == "flagged" else "passed"
    samples = scrape()
    job = "lightbox_job_duration_seconds"
    assert samples[(f"{job}_count", (("job", "process_version"), ("outcome", decision)))] == 1
    assert samples[(f"{job}_count", (("job", "render_version"), ("outcome", "missing")))] == 1
    assert (
        samples[(f"{job}_bucket", (("job", "render_version"), ("le", "+Inf"), ("outcome", "missing")))] == 1
    )
    assert (
        samples[(f"{job}_bucket", (("job", "render_version"), ("le", "600.0"), ("outcome", "missing")))] == 1
    )
    assert samples[(f"{job}_sum", (("job", "process_version"), ("outcome", decision)))] > 0
    for stage in ("ingest", "segment", "second_opinion", "compose", "quality", "save"):
        assert samples[("lightbox_stage_duration_seconds_count", (("stage", stage),))] == 1, stage
    assert samples[("lightbox_gate_decisions_total", (("decision", decision),))] == 1
    for reason in version.reasons:
        assert (
            samples[("lightbox_gate_reasons_total", (("decision", decision), ("reason", reason["code"])))]
            == 1
        )
    if decision == "passed":  # its rendering job ran too
        assert samples[(f"{job}_count", (("job", "render_version"), ("outcome", "published")))] == 1


def test_a_failing_job_is_counted_as_retrying(scrape, redis_conn, product, make_version):
    version = make_version(product)
    version.source.file.storage.delete(version.source.file.name)  # the photo is gone: an error
    jobs.queue_processing(version)

    run_burst_worker()

    samples = scrape()
    key = ("lightbox_job_duration_seconds_count", (("job", "process_version"), ("outcome", "retrying")))
    assert samples[key] == 1
