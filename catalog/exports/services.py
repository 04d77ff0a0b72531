"""Starting an export: check what was asked, record it, queue its job once the row is committed.

The views, the JSON API and the sweeper all come through here, so an export is
validated and queued the same way wherever it starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.exports.models import Export, ExportKind, ExportStatus
from catalog.exports.selection import ScopeError, products_in_scope
from catalog.models import Product, UploadBatch
from lightbox import jobs

PERMISSION = "catalog.export_catalog"


class ExportError(ValueError):
    """An export that cannot start; the message says why, for the person who asked."""


def shopify_push_available() -> bool:
    """Whether a Shopify store is connected (catalog.shopify). Imported lazily: exports work
    without that app's models."""
    try:
        from catalog.shopify.models import ShopifyStore

        return ShopifyStore.objects.connected() is not None
    except (ImportError, AttributeError):
        return False


def start_export(kind: str, scope: dict[str, Any], scope_label: str, user: Any) -> Export:
    """Record an export of `kind` for `scope` and queue its job after commit.

    Raises ExportError with a readable message for an unknown kind, a scope that is
    malformed or matches no product, or a push with no Shopify store; PermissionDenied
    for a user without the export permission.
    """
    if user is not None and not user.has_perm(PERMISSION):
        raise PermissionDenied("You do not have permission to run exports.")
    if kind not in ExportKind.values:
        choices = ", ".join(ExportKind.values)
        raise ExportError(f"Unknown export kind {kind!r}: choose one of {choices}.")
    try:
        products = products_in_scope(scope)
    except ScopeError as exc:
        raise ExportError(str(exc)) from None
    if not products.exists():
        raise ExportError("No products match this selection, so there is nothing to export.")
    if kind == ExportKind.SHOPIFY_PUSH and not shopify_push_available():
        raise ExportError(
            "No Shopify store is connected; an admin connects one before products can be pushed."
        )
    label = (scope_label or describe_scope(scope)).strip()[:200] or "products"
    with transaction.atomic():
        export = Export.objects.create(kind=kind, scope=scope, scope_label=label, created_by=user)
        jobs.queue_export(export)
    return export


def describe_scope(scope: dict[str, Any]) -> str:
    """The scope in words, for the export list when the caller gave no label."""
    if "product" in scope or len(scope.get("products", [])) == 1:
        pk = scope.get("product") or scope["products"][0]
        sku = Product.objects.filter(pk=pk).values_list("sku", flat=True).first()
        return f"product {sku}" if sku else "one product"
    if "products" in scope:
        return f"{len(scope['products'])} selected products"
    if "batch" in scope:
        batch = UploadBatch.objects.filter(pk=scope["batch"]).first()
        return f"batch {batch}" if batch else "a batch"
    if "filters" in scope:
        shown = {k: v for k, v in scope["filters"].items() if v and k != "page"}
        if not shown:
            return "all products"
        return "products matching " + ", ".join(f"{k} {v}" for k, v in sorted(shown.items()))
    return "products"


def sweep_exports(alive: Callable[[str], bool], *, grace_seconds: int = 30) -> int:
    """Put lost exports back on the queue, and run again the ones a dead worker left running.

    A QUEUED export older than the grace period whose job Redis no longer holds is
    enqueued again (the job is idempotent). A RUNNING one with no step for the stale
    timeout lost its worker: it goes back to QUEUED and runs again (a file export writes
    its file afresh), or, after LIGHTBOX_MAX_ATTEMPTS such stops, FAILS with the reason. A
    Shopify push whose images are recorded is left to the push's own sweep, image by
    image (a slow shop is not a dead worker). Returns how many were acted on.
    """
    now = timezone.now()
    acted = 0
    for export in Export.objects.filter(
        status=ExportStatus.QUEUED, created_at__lt=now - timedelta(seconds=grace_seconds)
    ).iterator(chunk_size=200):
        if not alive(jobs.export_job_id(export.pk)):
            jobs.queue_export(export)
            acted += 1
    stale_before = now - timedelta(seconds=settings.LIGHTBOX_STALE_AFTER_SECONDS)
    stalled = Export.objects.annotate(since=Coalesce("heartbeat_at", "started_at")).filter(
        status=ExportStatus.RUNNING, since__lt=stale_before
    )
    for export in stalled:
        if export.kind == ExportKind.SHOPIFY_PUSH and _push_started(export):
            continue  # its images are swept one by one (catalog.shopify.jobs.sweep_pushes)
        stops = export.attempts + 1
        if stops >= settings.LIGHTBOX_MAX_ATTEMPTS:
            acted += export.fail(
                f"The export stopped {stops} times before it finished and was given up; run it again."
            )
        elif export.requeue_stopped(
            f"the worker stopped before the export finished ({stops}); running it again"
        ):
            jobs.queue_export(export)
            acted += 1
    return acted


def _push_started(export: Export) -> bool:
    from catalog.shopify.models import ShopifyPushItem

    return ShopifyPushItem.objects.filter(export=export).exists()
