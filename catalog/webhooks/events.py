"""Domain signals → outbox rows. Runs inside the sender's transaction.

An Event and one Delivery per enabled, subscribed endpoint are written in the same
transaction as the change itself, so they commit or roll back with it. After the commit
the first attempt is queued on RQ; if that enqueue is lost (Redis down, process killed),
delivery.deliver_due, called by the sweeper, sends it anyway.

Payloads are thin (ids, states, times, links, and a settled version's state per channel):
receivers fetch the current state if they need more, and a late retry never carries stale
detail.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from catalog.channels import channel_states, settled_on_channels
from catalog.models import ImageVersion, UploadBatch, VersionStatus
from catalog.webhooks.models import Delivery, Endpoint, Event, EventType
from lightbox import jobs

logger = logging.getLogger("lightbox.webhooks")

VERSION_EVENTS: dict[str, str] = {
    VersionStatus.PUBLISHED: EventType.VERSION_PUBLISHED,
    VersionStatus.FLAGGED: EventType.VERSION_FLAGGED,
    VersionStatus.FAILED: EventType.VERSION_FAILED,
}


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _link(name: str, *args: Any) -> str:
    return settings.LIGHTBOX_APP_BASE_URL.rstrip("/") + reverse(name, args=args)


def version_data(version: ImageVersion) -> dict[str, Any]:
    product = version.source.product
    data: dict[str, Any] = {
        "version_id": str(version.pk),
        "version_number": version.number,
        "status": version.status,
        "score": version.score,
        "product": {"id": product.pk, "sku": product.sku},
        "source_image_id": str(version.source_id),
        "batch_id": str(version.source.batch_id) if version.source.batch_id else None,
        "queued_at": _time(version.queued_at),
        "scored_at": _time(version.scored_at),
        "published_at": _time(version.published_at),
        "failed_at": _time(version.failed_at),
        "links": {"product": _link("catalog:product_detail", product.sku)},
    }
    if version.status == VersionStatus.FLAGGED:
        data["reasons"] = [reason.get("code") for reason in version.reasons if isinstance(reason, dict)]
    if version.status == VersionStatus.FAILED:
        data["error"] = version.error[:500]
    if settled_on_channels(version):
        # Where it is published and where it is blocked, and why (catalog.channels).
        data["channels"] = [
            {key: value for key, value in state.as_json().items() if key != "name"}
            for state in channel_states(version)
        ]
    return data


def batch_data(batch: UploadBatch) -> dict[str, Any]:
    from django.db.models import Count

    counts = dict(
        ImageVersion.objects.filter(source__batch_id=batch.pk, kind=ImageVersion.Kind.CUTOUT)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "batch_id": str(batch.pk),
        "name": str(batch),
        "source": batch.source,
        "file_count": batch.file_count,
        "rejected_count": batch.rejected_count,
        "versions": counts,
        "closed_at": _time(batch.closed_at),
        "finished_at": _time(batch.finished_at),
        "links": {"batch": _link("catalog:batch_detail", batch.pk)},
    }


def export_data(export: Any) -> dict[str, Any]:
    return {
        "export_id": str(export.pk),
        "kind": export.kind,
        "status": export.status,
        "scope": export.scope_label,
        "summary": export.summary,
        "skipped_count": len(export.skipped or []),
        "error": export.error[:500],
        "started_at": _time(export.started_at),
        "finished_at": _time(export.finished_at),
        "links": {"exports": _link("catalog:exports")},
    }


def subscribers(event_type: str) -> list[Endpoint]:
    return list(Endpoint.objects.filter(enabled=True, event_types__contains=[event_type]))


def record_event(event_type: str, data: dict[str, Any], endpoints: list[Endpoint]) -> Event | None:
    """Write the event and one delivery per endpoint in the current transaction; queue the
    first attempts once it commits. None (nothing stored) when there is no endpoint."""
    if not endpoints:
        return None
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.create(type=event_type, payload=data, created_at=now)
        deliveries = Delivery.objects.bulk_create(
            Delivery(event=event, endpoint=endpoint, next_attempt_at=now, created_at=now)
            for endpoint in endpoints
        )
    ids = [str(delivery.pk) for delivery in deliveries]
    transaction.on_commit(lambda: queue_deliveries(ids), robust=True)
    return event


def queue_deliveries(delivery_ids: list[str], *, attempt: int = 1, at: datetime | None = None) -> None:
    """Queue attempt number `attempt` of each delivery on RQ (at a time, if given). A lost
    job costs only latency: the sweeper's deliver_due sends whatever is due."""
    from redis.exceptions import RedisError

    try:
        for delivery_id in delivery_ids:
            jobs.queue_webhook_delivery(delivery_id, attempt=attempt, at=at)
    except RedisError:
        logger.warning("webhooks: Redis unavailable, the sweeper will send %d deliveries", len(delivery_ids))


# --- signal receivers (connected in apps.WebhooksConfig.ready) ----------------------------


def on_version_status_changed(sender: Any, version: ImageVersion, status: str, **kwargs: Any) -> None:
    event_type = VERSION_EVENTS.get(status)
    if event_type is not None and (endpoints := subscribers(event_type)):
        record_event(event_type, version_data(version), endpoints)


def on_batch_completed(sender: Any, batch: UploadBatch, **kwargs: Any) -> None:
    if endpoints := subscribers(EventType.BATCH_COMPLETED):
        record_event(EventType.BATCH_COMPLETED, batch_data(batch), endpoints)


def on_export_completed(sender: Any, export: Any, **kwargs: Any) -> None:
    if endpoints := subscribers(EventType.EXPORT_COMPLETED):
        record_event(EventType.EXPORT_COMPLETED, export_data(export), endpoints)
