"""Retrying FAILED versions from the product page (one) and the batch page (a selection, or all)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from catalog.models import ImageVersion, InvalidTransition, UploadBatch
from catalog.retries import RetryOutcome, retry_failed_in_batch, retry_version
from lightbox.access import require_permission


@require_POST
@require_permission("catalog.upload_images")
def version_retry(request: HttpRequest, version_id: str) -> HttpResponse:
    version = get_object_or_404(ImageVersion.objects.select_related("source__product"), pk=version_id)
    sku = version.source.product.sku
    try:
        if retry_version(version):
            messages.success(request, f"Version {version.number} of {sku} is queued again.")
        else:
            messages.info(request, f"Version {version.number} of {sku} was already queued again.")
    except InvalidTransition as exc:
        messages.error(request, f"Version {version.number} of {sku}: {exc}.")
    return redirect("catalog:product_detail", sku=sku)


@require_POST
@require_permission("catalog.upload_images")
def batch_retry(request: HttpRequest, batch_id: str) -> HttpResponse:
    """`version` (repeated): the failed versions ticked; none and `all=1`: every failed one."""
    batch = get_object_or_404(UploadBatch, pk=batch_id)
    chosen = request.POST.getlist("version")
    if not chosen and request.POST.get("all") != "1":
        messages.error(request, "Tick the failed photos to retry, or retry them all.")
        return redirect("catalog:batch_detail", batch_id=batch.pk)
    _report(request, retry_failed_in_batch(batch, chosen or None))
    return redirect("catalog:batch_detail", batch_id=batch.pk)


def _report(request: HttpRequest, outcome: RetryOutcome) -> None:
    if outcome.count:
        messages.success(request, f"{outcome.count} failed photo(s) queued again.")
    elif not outcome.refused:
        messages.info(request, "No failed photo to retry.")
    for refusal in outcome.refused:
        messages.error(request, refusal)
