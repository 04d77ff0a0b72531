"""Uploads and batches: the upload page, its per-file endpoint, and the live batch page."""

from __future__ import annotations

from typing import IO

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.forms import BatchForm, UploadForm
from catalog.intake.service import manifest_of, receive_archive, receive_file, store_manifest
from catalog.models import ImageVersion, Priority, UploadBatch
from catalog.retries import failed_in_batch
from catalog.uploads import UploadRefused, create_batch, do_upload_photos, too_large
from lightbox import ratelimit
from lightbox.access import require_permission
from lightbox.htmx import wants_fragment
from lightbox.polling import progress_fragment

SETTLED_STATES = (*ImageVersion.TERMINAL_STATES, *ImageVersion.REVIEWABLE_STATES)


@require_http_methods(["GET", "POST"])
@require_permission("catalog.upload_images")
def upload(request: HttpRequest) -> HttpResponse:
    """The upload page. With JavaScript the files go one by one to `batch_files`; this
    form POST is the fallback without it."""
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    limited = None
    if request.method == "POST":
        limited = ratelimit.hit(ratelimit.UPLOADS, request.user.pk, count=len(request.FILES.getlist("files")))
        if limited:
            form.add_error(None, limited.message)
    if request.method == "POST" and not limited and form.is_valid():
        product = form.product()
        files: list[tuple[str, IO[bytes] | bytes]] = [
            (f.name or "", f) for f in request.FILES.getlist("files")
        ]
        outcome = do_upload_photos(
            request.user,
            product,
            files,
            priority=form.cleaned_data["priority"],
            role=form.cleaned_data["role"],
        )
        outcome.batch.close()
        for error in outcome.errors:
            messages.error(request, f"{error['file']}: {error['reason']}")
        if outcome.versions:
            messages.success(request, f"{len(outcome.versions)} photo(s) queued for {product.sku}.")
        return redirect("catalog:batch_detail", batch_id=outcome.batch.pk)
    response = render(
        request,
        "catalog/upload.html",
        {
            "form": form,
            "batch_form": BatchForm(user=request.user),
            "max_bytes": settings.LIGHTBOX_MAX_UPLOAD_BYTES,
        },
        status=429 if limited else 200,
    )
    if limited:
        response["Retry-After"] = str(limited.retry_after)
    return response


@require_POST
@require_permission("catalog.upload_images")
def batch_create(request: HttpRequest) -> JsonResponse:
    form = BatchForm(request.POST, user=request.user)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    batch = create_batch(
        request.user,
        priority=form.cleaned_data["priority"],
        source=UploadBatch.Source.BROWSER,
        name=form.cleaned_data["name"] or f"Upload {timezone.localtime():%Y-%m-%d %H:%M}",
        mannequin_colour=form.cleaned_data["mannequin_colour"],
    )
    return JsonResponse(
        {
            "id": str(batch.pk),
            "files_url": reverse("catalog:batch_files", args=[batch.pk]),
            "close_url": reverse("catalog:batch_close", args=[batch.pk]),
            "batch_url": reverse("catalog:batch_detail", args=[batch.pk]),
        },
        status=201,
    )


def _own_open_batch(request: HttpRequest, batch_id: str) -> UploadBatch:
    return get_object_or_404(UploadBatch, pk=batch_id, created_by=request.user)


@require_POST
@require_permission("catalog.upload_images")
def batch_files(request: HttpRequest, batch_id: str) -> JsonResponse:
    """One file into an open batch: a photo, a ZIP (imported in the background) or a CSV manifest."""
    batch = _own_open_batch(request, batch_id)
    if batch.closed_at:
        return JsonResponse({"status": "refused", "reason": "This batch is closed."}, status=409)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"status": "refused", "reason": "No file in the request."}, status=400)
    if limited := ratelimit.hit(ratelimit.UPLOADS, request.user.pk):
        # Not recorded on the batch: the browser sends the file again after the wait.
        response = JsonResponse(
            {"status": "throttled", "reason": limited.message, "retry_after": limited.retry_after},
            status=429,
        )
        response["Retry-After"] = str(limited.retry_after)
        return response
    name = upload.name or "upload"
    lower = name.lower()
    if lower.endswith(".zip"):
        if (upload.size or 0) > settings.LIGHTBOX_MAX_ARCHIVE_BYTES:
            reason = f"The ZIP is larger than the {settings.LIGHTBOX_MAX_ARCHIVE_BYTES // 2**30} GB limit."
            batch.record_refusal(name, reason)
            return JsonResponse({"status": "refused", "file": name, "reason": reason}, status=413)
        receive_archive(batch, upload)
        return JsonResponse({"status": "accepted", "kind": "archive", "file": name}, status=202)
    if (upload.size or 0) > settings.LIGHTBOX_MAX_UPLOAD_BYTES:
        reason = too_large()
        batch.record_refusal(name, reason)
        return JsonResponse({"status": "refused", "file": name, "reason": reason}, status=422)
    data = upload.read()
    if lower.endswith(".csv"):
        manifest = store_manifest(batch, data)
        return JsonResponse(
            {"status": "accepted", "kind": "manifest", "rows": len(manifest.rows), "errors": manifest.errors}
        )
    try:
        version = receive_file(
            batch,
            name,
            data,
            sku=request.POST.get("sku", "").strip(),
            title=request.POST.get("title", "").strip(),
            role=request.POST.get("role", "").strip(),
            manifest=manifest_of(batch),
        )
    except UploadRefused as exc:
        batch.record_refusal(name, str(exc))
        return JsonResponse({"status": "refused", "file": name, "reason": str(exc)}, status=422)
    batch.record_accepted()
    return JsonResponse(
        {"status": "queued", "file": name, "sku": version.source.product.sku, "version": str(version.pk)},
        status=201,
    )


@require_POST
@require_permission("catalog.upload_images")
def batch_close(request: HttpRequest, batch_id: str) -> JsonResponse:
    """The browser has sent every file. A batch holding a ZIP is closed by its import job
    instead, once the archive has been read (one ZIP per batch)."""
    batch = _own_open_batch(request, batch_id)
    if request.POST.get("pending_archive") != "1":
        batch.close()
    return JsonResponse({"batch_url": reverse("catalog:batch_detail", args=[batch.pk])})


def batch_progress(batch: UploadBatch) -> dict:
    counts = dict(
        ImageVersion.objects.filter(source__batch=batch, kind=ImageVersion.Kind.CUTOUT)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    total = sum(counts.values())
    settled = sum(n for status, n in counts.items() if status in SETTLED_STATES)
    done = batch.closed_at is not None and settled == total
    elapsed = (timezone.now() - batch.created_at).total_seconds()
    eta = None
    if not done and settled and total > settled:
        eta = round(elapsed / settled * (total - settled))
    failures = list(failed_in_batch(batch).values_list("pk", "source__original_filename", "error")[:200])
    return {
        "counts": [(label, counts.get(value, 0), value) for value, label in ImageVersion.Status.choices],
        "total": total,
        "settled": settled,
        "percent": 100 if done else (round(100 * settled / total) if total else 0),
        "done": done,
        "eta_seconds": eta,
        "failures": failures,
    }


@require_GET
@require_permission("catalog.view_uploadbatch")
def batch_detail(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = get_object_or_404(UploadBatch.objects.select_related("created_by"), pk=batch_id)
    progress = batch_progress(batch)
    context = {"batch": batch, "progress": progress, "Priority": Priority}
    if wants_fragment(request):
        done = progress["done"]
        return progress_fragment(request, "catalog/_batch_progress.html", context, done=done)
    return render(request, "catalog/batch_detail.html", context)


@require_GET
@require_permission("catalog.view_uploadbatch")
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = UploadBatch.objects.select_related("created_by").order_by("-created_at")[:100]
    return render(request, "catalog/batch_list.html", {"batches": batches})
