"""/products/{sku}/images: a photo as a multipart upload, or imported from a web address.

Both go through the same services as the pages (catalog.uploads for the upload page,
catalog.intake.url_import for imports), so size limits, the image check, duplicate
detection and the SSRF rules are the same whichever way a photo arrives.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, File, Form, Path, Router, Schema, Status, UploadedFile

from catalog.api.errors import ApiError, get_or_404, throttled
from catalog.api.operations import operation
from catalog.api.products import VersionSummary
from catalog.api.schemas import Sku
from catalog.intake.url_import import start_url_import
from catalog.models import Priority, Product, SourceRole, UploadBatch
from catalog.uploads import PriorityNotAllowed, check_priority, create_batch, do_upload_photos, too_large
from lightbox import ratelimit
from lightbox.outbound import FetchFailed, UnsafeURL

router = Router(tags=["images"])

UPLOAD_PERMISSION = "catalog.upload_images"  # what the upload page asks for


class UploadOut(Schema):
    source_id: UUID
    batch_id: UUID
    version: VersionSummary


class UrlImportIn(Schema):
    url: str = Field(max_length=2000, description="An http(s) address of a photo on the public internet.")
    role: SourceRole = SourceRole.MAIN
    priority: Priority = Priority.NORMAL


class UrlImportOut(Schema):
    batch_id: UUID
    job_id: str
    batch_url: str = Field(description="Poll this batch; the new version appears in its progress.")


def _within_upload_rate(request: HttpRequest) -> None:
    if limited := ratelimit.hit(ratelimit.UPLOADS, request.user.pk):
        raise throttled(limited)


def _allowed_priority(request: HttpRequest, priority: int) -> None:
    try:
        check_priority(request.user, priority)
    except PriorityNotAllowed as exc:
        raise ApiError(403, str(exc), code="priority_not_allowed") from None


def _batch_url(request: HttpRequest, batch_id: Any) -> str:
    return request.build_absolute_uri(reverse("api:get_batch", args=[batch_id]))


@operation(
    router,
    "POST",
    "/products/{sku}/images",
    perms=(UPLOAD_PERMISSION,),
    response=UploadOut,
    status=201,
    errors=(403, 404, 413),
)
def upload_image(
    request: HttpRequest,
    sku: Path[Sku],
    file: File[UploadedFile],
    role: Form[SourceRole] = SourceRole.MAIN,
    priority: Form[Priority] = Priority.NORMAL,
) -> Status[dict[str, Any]]:
    """Upload one photo (multipart field `file`); its first version is queued for processing."""
    product = get_or_404(Product.objects.all(), f"No product with SKU {sku!r}.", sku=sku)
    _allowed_priority(request, priority)
    _within_upload_rate(request)
    if (file.size or 0) > settings.LIGHTBOX_MAX_UPLOAD_BYTES:
        raise ApiError(413, too_large())
    outcome = do_upload_photos(
        request.user,
        product,
        [(file.name or "upload", file)],
        priority=priority,
        role=role,
        source=UploadBatch.Source.API,
    )
    outcome.batch.close()
    if outcome.errors:
        raise ApiError(422, outcome.errors[0]["reason"], code="image_refused")
    version = outcome.versions[0]
    return Status(201, {"source_id": version.source_id, "batch_id": outcome.batch.pk, "version": version})


@operation(
    router,
    "POST",
    "/products/{sku}/images/import",
    perms=(UPLOAD_PERMISSION,),
    response=UrlImportOut,
    status=202,
    errors=(403, 404),
)
def import_image(request: HttpRequest, sku: Path[Sku], payload: UrlImportIn) -> Status[dict[str, Any]]:
    """Import a photo from a web address in the background.

    The address is checked at once: private, loopback, link-local and cloud-metadata
    addresses (after DNS resolution) are refused with a 422 saying why. The fetch itself
    runs in a job, re-checking every redirect, within the size and time limits; a
    refusal then is recorded on the batch (its `errors`).
    """
    product = get_or_404(Product.objects.all(), f"No product with SKU {sku!r}.", sku=sku)
    _allowed_priority(request, payload.priority)
    _within_upload_rate(request)
    try:
        # The batch exists only if the import was accepted: a refusal rolls it back.
        with transaction.atomic():
            batch = create_batch(
                request.user,
                priority=payload.priority,
                source=UploadBatch.Source.API,
                name=f"{product.sku} from URL",
            )
            job_id = start_url_import(
                batch, payload.url, sku=product.sku, user=request.user, role=payload.role
            )
    except UnsafeURL as exc:
        raise ApiError(422, str(exc), code="url_refused") from None
    except FetchFailed as exc:
        raise ApiError(422, str(exc), code="url_unreachable") from None
    return Status(202, {"batch_id": batch.pk, "job_id": job_id, "batch_url": _batch_url(request, batch.pk)})
