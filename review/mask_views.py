"""The mask editor's two requests: a one-click fix (stateless) and saving the corrected mask."""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from catalog.models import ImageVersion
from lightbox.access import require_permission
from review.mask_edit import apply_fix, do_correct_mask
from review.services import InvalidDecision, StaleDecision
from review.views import REVIEW, _after_decision, _filters, _label, _refused, _stale

# A 24 MP mask as an RGBA canvas export is a few MB; far more is not a mask.
MAX_MASK_BYTES = 64 * 1024 * 1024


def _upload(request: HttpRequest) -> bytes:
    upload = request.FILES.get("mask")
    if upload is None or (upload.size or 0) > MAX_MASK_BYTES:
        return b""
    return upload.read()


@require_POST
@require_permission(REVIEW)
def save_mask(request: HttpRequest, version_id: uuid.UUID) -> HttpResponse:
    """Save the editor's mask (full size) as a new version: the reviewer's approval of it."""
    filters = _filters(request)
    fixes = [f for f in request.POST.get("fixes", "").split(",") if f]
    try:
        new = do_correct_mask(
            version_id,
            request.user,
            _upload(request),
            mask_source=request.POST.get("mask_source", ""),
            fixes=fixes,
        )
    except StaleDecision as exc:
        return _stale(request, filters, exc)
    except InvalidDecision as exc:
        return _refused(request, filters, version_id, str(exc))
    return _after_decision(request, filters, f"Saved the corrected mask as {_label(new)}; it renders now.")


@require_POST
@require_permission(REVIEW)
def fix_mask(request: HttpRequest, version_id: uuid.UUID) -> HttpResponse:
    """One fix on the editor's working mask: the fixed mask back as a PNG, or 422 and why."""
    version = get_object_or_404(ImageVersion.objects.select_related("source"), pk=version_id)
    try:
        points = json.loads(request.POST.get("points") or "[]")
    except ValueError:
        points = None
    try:
        png = apply_fix(version, request.POST.get("op", ""), _upload(request), points)
    except InvalidDecision as exc:
        return HttpResponse(str(exc), status=422, content_type="text/plain; charset=utf-8")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response
