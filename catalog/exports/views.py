"""Export pages: start one, watch it run, list them all, download the file."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from catalog.exports.forms import ExportForm
from catalog.exports.models import Export, ExportKind
from catalog.exports.services import PERMISSION, ExportError, start_export
from lightbox.access import require_permission
from lightbox.htmx import wants_fragment
from lightbox.polling import progress_fragment
from lightbox.storage import served_by_app, signed_url

CONTENT_TYPES: dict[str, str] = {
    ExportKind.SHOPIFY_CSV: "text/csv; charset=utf-8",
    ExportKind.AMAZON_ZIP: "application/zip",
}


@require_GET
@require_permission(PERMISSION)
def export_list(request: HttpRequest) -> HttpResponse:
    exports = Export.objects.select_related("created_by").order_by("-created_at")
    page = Paginator(exports, 25).get_page(request.GET.get("page"))
    return render(request, "exports/exports.html", {"page": page})


@require_POST
@require_permission(PERMISSION)
def export_start(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back(request)
    try:
        export = start_export(form.cleaned_data["kind"], form.export_scope(), "", request.user)
    except (ExportError, PermissionDenied) as exc:
        messages.error(request, str(exc))
        return _back(request)
    return redirect("catalog:export_detail", export_id=export.pk)


@require_GET
@require_permission(PERMISSION)
def export_detail(request: HttpRequest, export_id: str) -> HttpResponse:
    export = get_object_or_404(Export.objects.select_related("created_by"), pk=export_id)
    context = {"export": export}
    if wants_fragment(request):
        return progress_fragment(request, "exports/_export_progress.html", context, done=export.done)
    return render(request, "exports/export_detail.html", context)


@require_GET
@require_permission(PERMISSION)
def export_download(request: HttpRequest, export_id: str) -> HttpResponseBase:
    export = get_object_or_404(Export, pk=export_id)
    if not export.file:
        raise Http404("This export has no file.")
    content_type = CONTENT_TYPES.get(export.kind, "application/octet-stream")
    if not served_by_app(export.file.storage):
        name = export.file.name.rsplit("/", 1)[-1]
        url = signed_url(export.file, content_type=content_type, download_name=name)
        response: HttpResponseBase = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"
        return response
    try:
        handle = export.file.storage.open(export.file.name, "rb")
    except FileNotFoundError:
        raise Http404("The export's file is no longer in storage.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=export.file.name.rsplit("/", 1)[-1],
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("catalog:exports")
