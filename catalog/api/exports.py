"""/exports: start a Shopify or Amazon export, follow it, download its file."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from catalog.api.errors import ApiError, get_or_404
from catalog.api.operations import operation
from catalog.api.schemas import Sku, text
from catalog.exports.models import Export, ExportKind, ExportStatus
from catalog.exports.services import PERMISSION, ExportError, start_export
from catalog.models import Product, VersionStatus

router = Router(tags=["exports"])

MAX_SKUS = 10_000
FILE_TYPES = {".csv": "text/csv", ".zip": "application/zip"}


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ProductsScope(_Strict):
    products: list[Sku] = Field(min_length=1, max_length=MAX_SKUS, description="SKUs to export.")


class BatchScope(_Strict):
    batch: UUID = Field(description="Every product with a photo in this upload batch.")


class ExportFilters(_Strict):
    """The product list's filters; none given means every product."""

    q: text(100) | None = None  # type: ignore[valid-type]
    brand: text(120) | None = None  # type: ignore[valid-type]
    category: text(120) | None = None  # type: ignore[valid-type]
    status: VersionStatus | None = None
    batch: UUID | None = None


class FiltersScope(_Strict):
    filters: ExportFilters


class ExportIn(Schema):
    kind: ExportKind
    scope: ProductsScope | BatchScope | FiltersScope = Field(description="Exactly one of the three shapes.")
    label: text(200) = Field("", description="How the export list names it; made from the scope if empty.")  # type: ignore[valid-type]


class ExportProgress(Schema):
    done: int
    total: int
    percent: int


class ExportOut(Schema):
    id: UUID
    kind: ExportKind
    status: ExportStatus
    scope_label: str
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: ExportProgress
    summary: dict[str, Any] = Field(description="Counts: products, images, skipped…")
    skipped: list[dict[str, Any]] = Field(description="What was left out and why: [{sku, image, reason}].")
    error: str
    download_url: str | None = Field(description="The file, once the export succeeded with one.")

    @staticmethod
    def resolve_created_by(export: Export) -> str | None:
        return export.created_by.get_username() if export.created_by else None

    @staticmethod
    def resolve_progress(export: Export) -> dict[str, int]:
        return {"done": export.progress_done, "total": export.progress_total, "percent": export.percent}

    @staticmethod
    def resolve_download_url(export: Export, context: dict[str, Any]) -> str | None:
        if not export.file:
            return None
        return context["request"].build_absolute_uri(reverse("api:download_export", args=[export.pk]))


def _scope(payload: ExportIn) -> dict[str, Any]:
    """The API's scope (SKUs) as the Export row stores it (product ids)."""
    scope = payload.scope
    if isinstance(scope, ProductsScope):
        wanted = list(dict.fromkeys(scope.products))
        ids = dict(Product.objects.filter(sku__in=wanted).values_list("sku", "pk"))
        unknown = [sku for sku in wanted if sku not in ids]
        if unknown:
            shown = ", ".join(unknown[:20]) + ("…" if len(unknown) > 20 else "")
            raise ApiError(
                422, f"No product with SKU {shown}.", code="unknown_sku", details={"unknown": unknown}
            )
        return {"products": [ids[sku] for sku in wanted]}
    if isinstance(scope, BatchScope):
        return {"batch": str(scope.batch)}
    return {"filters": {k: str(v) for k, v in scope.filters.dict(exclude_none=True).items()}}


@operation(router, "POST", "/exports", perms=(PERMISSION,), response=ExportOut, status=202)
def create_export(request: HttpRequest, payload: ExportIn) -> Status[Export]:
    """Start an export; it runs in the background. Poll the returned export until it is done."""
    try:
        export = start_export(payload.kind, _scope(payload), payload.label, request.user)
    except ExportError as exc:
        raise ApiError(422, str(exc), code="export_refused") from None
    except PermissionDenied as exc:
        raise ApiError(403, str(exc)) from None
    return Status(202, export)


@operation(
    router,
    "GET",
    "/exports/{export_id}",
    perms=(PERMISSION,),
    response=ExportOut,
    errors=(404,),
    url_name="get_export",
)
def get_export(request: HttpRequest, export_id: UUID) -> Export:
    return get_or_404(Export.objects.select_related("created_by"), f"No export {export_id}.", pk=export_id)


@operation(
    router,
    "GET",
    "/exports/{export_id}/file",
    perms=(PERMISSION,),
    response=None,
    errors=(404,),
    url_name="download_export",
    openapi_extra={
        "responses": {
            200: {
                "description": "The export's file: a Shopify CSV or an Amazon ZIP.",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}} for media in FILE_TYPES.values()
                },
            }
        }
    },
)
def download_export(request: HttpRequest, export_id: UUID) -> FileResponse:
    export = get_or_404(Export.objects.all(), f"No export {export_id}.", pk=export_id)
    if not export.file:
        raise ApiError(404, "This export has no file (it has not succeeded, or produced none).")
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:
        raise ApiError(404, "The export's file is no longer in storage; run the export again.") from None
    name = export.file.name.rsplit("/", 1)[-1]
    content_type = FILE_TYPES.get(name[name.rfind(".") :].lower(), "application/octet-stream")
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
