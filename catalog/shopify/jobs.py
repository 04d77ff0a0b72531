"""A "Push to Shopify" export as durable work: one ShopifyPushItem per image, one job per
product (its images go to Shopify in one productUpdate, in position order).

`start_push` records the items and queues a job per product that still has images to
push; `push_product` claims that product's pending items, pushes them (catalog.shopify.push
records each step on the item) and finishes the export once no item is pending. The
sweeper (`sweep_pushes`) queues again a product whose job Redis lost, and takes back the
items of a run that stopped (its worker killed) after the stale timeout: the next run goes
on from what the items say, and after LIGHTBOX_MAX_ATTEMPTS stops an item FAILS with the
reason. A push started again (the export re-run by the sweeper) finds its items and only
queues what is left.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.exports.models import Export, ExportStatus
from catalog.exports.selection import image_label, select
from catalog.models import Product
from catalog.shopify.client import ShopifyAuthError, ShopifyError
from catalog.shopify.connection import client_for, connected_store
from catalog.shopify.models import PushItemStatus, ShopifyPushItem
from catalog.shopify.push import AttachUnconfirmed, LostClaim, Pusher
from lightbox import jobs

log = logging.getLogger(__name__)
SHOPIFY_PROFILE = "shopify"
RECHECK_SECONDS = 60


def start_push(export: Export, selection: Any) -> int:
    """Record one item per image of `selection` (kept when the push runs again) and queue a
    job per product with items pending. Returns the number of images still to push."""
    with transaction.atomic():
        for exported in selection.products:
            for image in exported.images:
                ShopifyPushItem.objects.get_or_create(
                    export=export,
                    source_image=image.rendition.version.source,
                    defaults={"product": exported.product, "position": image.position},
                )
        pending = ShopifyPushItem.objects.filter(export=export, status=PushItemStatus.PENDING)
        products = list(pending.values_list("product_id", flat=True).distinct())
        left = pending.count()
        done = ShopifyPushItem.objects.filter(export=export).count() - left
        Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            progress_done=done, heartbeat_at=timezone.now()
        )
        for product_id in products:
            jobs.queue_push_product(str(export.pk), product_id)
    if not products:
        finish_push_if_done(export)
    return left


def push_product(export_id: str, product_id: int) -> str:
    """RQ job: push one product's pending images of a RUNNING push export."""
    export = Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING).first()
    if export is None:
        return "nothing to do"
    token = uuid.uuid4()
    stale_before = timezone.now() - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS)
    claimed = (
        ShopifyPushItem.objects.filter(export=export, product_id=product_id, status=PushItemStatus.PENDING)
        .filter(Q(claim_token__isnull=True) | Q(heartbeat_at__lt=stale_before))
        .update(claim_token=token, heartbeat_at=timezone.now())
    )
    if not claimed:
        finish_push_if_done(export)
        return "nothing to do"
    rows = {
        row.source_image_id: row for row in ShopifyPushItem.objects.filter(export=export, claim_token=token)
    }
    product = Product.objects.get(pk=product_id)
    selection = select([product], main_profile=SHOPIFY_PROFILE, additional_profile=None)
    exported = selection.products[0] if selection.products else None
    if exported is not None:
        exported = dataclasses.replace(
            exported, images=[image for image in exported.images if image.rendition.version.source_id in rows]
        )
    gone = [row for source_id, row in rows.items() if exported is None or source_id not in
            {image.rendition.version.source_id for image in exported.images}]  # fmt: skip
    for row in gone:
        _end_item(row, token, PushItemStatus.SKIPPED, "the photo is no longer published for Shopify")
        export.advance(1)
    try:
        store = connected_store()
        pusher = Pusher(store, client_for(store))
        if exported is not None and exported.images:
            pusher.push_product(exported, export.advance, rows, token)
    except LostClaim:
        return "taken over"
    except AttachUnconfirmed as exc:
        _later(export, product_id, token, str(exc))
        return "attach unconfirmed; checking again later"
    except ShopifyAuthError as exc:
        export.fail(str(exc), _skipped(export))
        return "failed"
    except ShopifyError as exc:  # no store any more, or its token unreadable
        export.fail(str(exc), _skipped(export))
        return "failed"
    finish_push_if_done(export)
    return "pushed"


def _later(export: Export, product_id: int, token: Any, reason: str) -> None:
    """Give the claimed items back with the stop counted (FAILED after LIGHTBOX_MAX_ATTEMPTS)
    and look again in a minute."""
    held = ShopifyPushItem.objects.filter(claim_token=token, status=PushItemStatus.PENDING)
    limit = settings.LIGHTBOX_MAX_ATTEMPTS - 1
    given_up = held.filter(attempts__gte=limit).update(
        status=PushItemStatus.FAILED,
        reason=f"Shopify did not confirm the attach {limit + 1} times: {reason}"[:2000],
        claim_token=None,
    )
    if given_up:
        export.advance(given_up)
    if held.update(claim_token=None, attempts=F("attempts") + 1):
        jobs.queue_push_product(
            str(export.pk), product_id, at=timezone.now() + timedelta(seconds=RECHECK_SECONDS)
        )
    finish_push_if_done(export)


def _end_item(row: ShopifyPushItem, token: Any, status: str, reason: str) -> bool:
    return bool(
        ShopifyPushItem.objects.filter(pk=row.pk, claim_token=token, status=PushItemStatus.PENDING).update(
            status=status, reason=reason, heartbeat_at=timezone.now()
        )
    )


def _skipped(export: Export) -> list[dict[str, Any]]:
    """What the export left out: the selection's own list (kept on the row at the start)
    and each image the push left out or failed, with its reason."""
    items = (
        ShopifyPushItem.objects.filter(export=export)
        .exclude(reason="")
        .select_related("product", "source_image")
        .order_by("product__sku", "position")
    )
    pushed = [
        {"sku": item.product.sku, "image": image_label(item.source_image), "reason": item.reason[:1000]}
        for item in items
    ]
    return [*(export.skipped or []), *pushed]


def finish_push_if_done(export: Export) -> bool:
    """Succeed the export once none of its images is pending; True when this call did.
    Guarded (RUNNING → SUCCEEDED), so the last product job and the sweeper race safely."""
    items = ShopifyPushItem.objects.filter(export=export)
    if items.filter(status=PushItemStatus.PENDING).exists():
        return False
    export.refresh_from_db()
    if export.status != ExportStatus.RUNNING:
        return False
    counts = {status: items.filter(status=status).count() for status in PushItemStatus.values}
    outcomes = {name: items.filter(outcome=name).count() for name in ("uploaded", "replaced", "unchanged")}
    skipped = _skipped(export)
    summary = {
        "products_in_scope": export.summary.get("products_in_scope", 0),
        "products": items.filter(status=PushItemStatus.DONE).values("product").distinct().count(),
        "images": outcomes["uploaded"] + outcomes["replaced"],
        "replaced": outcomes["replaced"],
        "unchanged": outcomes["unchanged"],
        "failed": counts[PushItemStatus.FAILED],
        "skipped": len(skipped),
    }
    return export.succeed(summary, skipped)


def product_job_ids(export: Export) -> list[str]:
    products = (
        ShopifyPushItem.objects.filter(export=export, status=PushItemStatus.PENDING)
        .values_list("product_id", flat=True)
        .distinct()
    )
    return [jobs.push_product_job_id(str(export.pk), product_id) for product_id in products]


def sweep_pushes(alive: Callable[[str], bool], *, grace_seconds: int = 30) -> int:
    """For every RUNNING push: a product whose pending items a dead run still holds (no
    step for the stale timeout) is taken back, its items' stops counted (an item stopped
    LIGHTBOX_MAX_ATTEMPTS times FAILS with the reason), and queued again; a product whose
    job Redis lost is queued again; a push with nothing pending is finished."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS)
    acted = 0
    for export in Export.objects.filter(status=ExportStatus.RUNNING, push_items__isnull=False).distinct():
        pending = ShopifyPushItem.objects.filter(export=export, status=PushItemStatus.PENDING)
        taken_back: set[int] = set()
        for item in pending.filter(claim_token__isnull=False, heartbeat_at__lt=stale_before):
            stops = item.attempts + 1
            same = ShopifyPushItem.objects.filter(
                pk=item.pk, claim_token=item.claim_token, status=PushItemStatus.PENDING
            )
            if stops >= settings.LIGHTBOX_MAX_ATTEMPTS:
                if same.update(
                    status=PushItemStatus.FAILED,
                    attempts=stops,
                    claim_token=None,
                    reason=f"the push of this image stopped {stops} times without finishing and was given up",
                ):
                    export.advance(1)
                    acted += 1
            elif same.update(attempts=stops, claim_token=None):
                taken_back.add(item.product_id)
        # The dead run's job still reads "started" in Redis, so taken-back products are
        # queued without asking; others only when Redis lost their job.
        waiting = pending.filter(claim_token__isnull=True).filter(
            Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - timedelta(seconds=grace_seconds))
        )
        for product_id in set(waiting.values_list("product_id", flat=True)):
            job_id = jobs.push_product_job_id(str(export.pk), product_id)
            if product_id in taken_back or not alive(job_id):
                jobs.queue_push_product(str(export.pk), product_id)
                acted += 1
        acted += finish_push_if_done(export)
    return acted
