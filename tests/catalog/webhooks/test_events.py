"""Events fire from the domain, go through the outbox, and reach the receiver through a real
RQ burst worker, or through the sweeper when Redis lost the job. Real commits throughout."""

from __future__ import annotations

import json
import threading

import django_rq
import pytest
from django.db import connection, transaction

from catalog.exports.models import Export
from catalog.models import SourceImage, UploadBatch, VersionStatus
from catalog.webhooks.delivery import deliver_due
from catalog.webhooks.models import Delivery, DeliveryStatus, Event, EventType
from processing.sweeper import sweep

pytestmark = pytest.mark.django_db(transaction=True)


def run_burst_worker(*queues: str) -> None:
    """A real RQ worker (Lightbox's class) that drains the queues and stops."""
    from processing.worker import LightboxWorker

    rq_queues = [django_rq.get_queue(name) for name in queues]
    LightboxWorker(rq_queues, connection=rq_queues[0].connection).work(burst=True, with_scheduler=False)


REASONS = [{"code": "cut_off", "message": "The product touches the edge.", "value": 1, "limit": 0}]


@pytest.fixture
def subscribed(make_endpoint, redis_conn):
    """An endpoint for every event, and one for exports only (it must hear nothing else)."""
    return make_endpoint(), make_endpoint(events=[EventType.EXPORT_COMPLETED])


def _bodies(receiver) -> list[dict]:
    assert all(r.verified for r in receiver.received)
    return [json.loads(r.body) for r in receiver.received]


def test_publishing_a_version_is_delivered_by_a_burst_worker(subscribed, rendering_version, receiver):
    everything, exports_only = subscribed

    assert rendering_version.publish()
    assert django_rq.get_queue("interactive").count == 1
    run_burst_worker("interactive")

    (body,) = _bodies(receiver)
    assert body["type"] == "version.published"
    assert body["data"]["version_id"] == str(rendering_version.pk)
    assert body["data"]["product"]["sku"] == "MUG-001"
    assert body["data"]["links"]["product"].endswith("/products/MUG-001/")
    assert everything.deliveries.get().status == DeliveryStatus.DELIVERED
    assert not exports_only.deliveries.exists()


def test_flagging_and_failing_versions_send_one_event_each(subscribed, product, make_version, receiver):
    everything, exports_only = subscribed
    flagged = make_version(product, status=VersionStatus.PROCESSING)
    failed = make_version(product, status=VersionStatus.PROCESSING)

    flagged.flag(41, REASONS)
    failed.fail("the photo is too small")
    run_burst_worker("interactive")

    bodies = {b["type"]: b["data"] for b in _bodies(receiver)}
    assert bodies["version.flagged"]["score"] == 41
    assert bodies["version.flagged"]["reasons"] == ["cut_off"]
    assert bodies["version.failed"]["error"] == "the photo is too small"
    assert everything.deliveries.count() == 2
    assert not exports_only.deliveries.exists()


def test_a_version_moving_between_other_states_sends_nothing(subscribed, product, make_version):
    version = make_version(product, status=VersionStatus.QUEUED)

    version.claim_for_processing("worker-1")
    version.pass_quality_gate(90, [])

    assert not Event.objects.exists()


def test_a_batch_completes_once_its_last_version_settles(subscribed, product, make_version, receiver):
    everything, exports_only = subscribed
    batch = UploadBatch.objects.create(name="Spring launch")
    version = make_version(product, status=VersionStatus.RENDERING)
    SourceImage.objects.filter(pk=version.source_id).update(batch=batch)

    batch.close()
    assert not Event.objects.filter(type=EventType.BATCH_COMPLETED).exists()
    version.publish()
    run_burst_worker("interactive")

    types = sorted(b["type"] for b in _bodies(receiver))
    assert types == ["batch.completed", "version.published"]
    data = next(b["data"] for b in _bodies(receiver) if b["type"] == "batch.completed")
    assert data["batch_id"] == str(batch.pk)
    assert data["versions"] == {"published": 1}
    assert everything.deliveries.count() == 2
    assert not exports_only.deliveries.exists()


def test_a_finished_export_reaches_both_endpoints(subscribed, receiver):
    everything, exports_only = subscribed
    export = Export.objects.create(kind=Export.Kind.SHOPIFY_CSV, scope_label="All products")

    export.start(total=3)
    export.succeed({"products": 3}, [])
    run_burst_worker("interactive")

    bodies = _bodies(receiver)
    assert [b["type"] for b in bodies] == ["export.completed", "export.completed"]
    assert bodies[0]["data"]["status"] == "succeeded"
    assert everything.deliveries.get().status == DeliveryStatus.DELIVERED
    assert exports_only.deliveries.get().status == DeliveryStatus.DELIVERED
    assert receiver.received[0].webhook_id == receiver.received[1].webhook_id  # one event, two endpoints


def test_a_rolled_back_change_leaves_no_event_and_no_job(subscribed, rendering_version, redis_conn):
    def publish_then_fail():
        with transaction.atomic():
            rendering_version.publish()
            raise RuntimeError("the request failed after the publish")

    with pytest.raises(RuntimeError):
        publish_then_fail()

    assert not Event.objects.exists()
    assert django_rq.get_queue("interactive").count == 0


def test_the_outbox_survives_redis_losing_the_job(subscribed, rendering_version, receiver, redis_conn):
    everything, _ = subscribed
    rendering_version.publish()
    assert django_rq.get_queue("interactive").count == 1

    redis_conn.flushdb()  # Redis restarted without persistence before any worker ran
    run_burst_worker("interactive")
    assert receiver.received == []

    report = sweep()

    assert report.webhooks_sent == 1
    (request,) = receiver.received
    assert request.verified
    assert json.loads(request.body)["type"] == "version.published"
    assert everything.deliveries.get().status == DeliveryStatus.DELIVERED


def test_a_failed_first_attempt_is_retried_by_the_sweeper_path_with_the_same_id(
    subscribed, rendering_version, receiver
):
    everything, _ = subscribed
    receiver.answer(500, 500)
    rendering_version.publish()
    run_burst_worker("interactive")
    delivery = everything.deliveries.get()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING

    deliver_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    deliver_due(now=delivery.next_attempt_at)

    assert [r.status for r in receiver.received] == [500, 500, 200]
    assert len({r.webhook_id for r in receiver.received}) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_a_delivery_locked_by_one_runner_is_skipped_by_another(make_endpoint, owe, receiver, redis_conn):
    delivery = owe(make_endpoint())
    locked, release = threading.Event(), threading.Event()

    def other_runner():
        try:
            with transaction.atomic():
                Delivery.objects.select_for_update().get(pk=delivery.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_runner)
    thread.start()
    try:
        assert locked.wait(10)
        assert deliver_due() == 0
    finally:
        release.set()
        thread.join(10)

    assert deliver_due() == 1
    assert len(receiver.received) == 1
