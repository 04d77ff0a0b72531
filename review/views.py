from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from catalog.models import ImageVersion, MarketplaceProfile
from catalog.reasons import count_reason_codes
from lightbox.access import require_permission
from lightbox.htmx import wants_fragment
from processing.publishing import forecast
from processing.thresholds import model_for
from review.forms import QueueFilterForm, RejectForm, ReprocessForm, reason_label
from review.services import (
    InvalidDecision,
    StaleDecision,
    claim_next,
    do_approve,
    do_reject,
    do_reprocess,
    reviewable,
)

REVIEW = "catalog.review_images"
GRID_SIZE = 60


def _is_fragment(request: HttpRequest) -> bool:
    return wants_fragment(request)


def _filters(request: HttpRequest) -> QueueFilterForm:
    return QueueFilterForm(request.GET or None)


def reason_counts(filters: Q) -> list[dict[str, Any]]:
    """How many queued versions list each reason code, most common first (one jsonb pass)."""
    queued = reviewable().filter(filters).values("reasons")
    rows = count_reason_codes(queued, jit=False)
    return [{"code": code, "label": reason_label(code), "count": n} for code, n in rows]


@require_GET
@require_permission(REVIEW)
def queue(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    matching = reviewable().filter(filters.query())
    context = {
        "filters": filters,
        "query": filters.querystring(),
        "flagged": matching.select_related("source__product", "claimed_by")[:50],
        "total": matching.count(),
        "reason_counts": reason_counts(filters.query(without_reason=True)),
        "now": timezone.now(),
    }
    template = "review/_queue_results.html" if _is_fragment(request) else "review/queue.html"
    return render(request, template, context)


def _cursor(value: str | None) -> ImageVersion | None:
    try:
        pk = uuid.UUID(value or "")
    except ValueError:
        return None
    return ImageVersion.objects.filter(pk=pk).first()


def _item_context(version: ImageVersion | None, filters: QueueFilterForm, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"version": version, "query": filters.querystring(), **extra}
    if version is not None:
        context["main_rendition"] = (
            version.renditions.filter(profile__role=MarketplaceProfile.Role.MAIN)
            .select_related("profile")
            .first()
        )
        context["reasons"] = [{**r, "label": reason_label(r.get("code", ""))} for r in version.reasons or []]
        context["forecast"] = forecast(version)
        context.setdefault("reject_form", RejectForm())
        context.setdefault(
            "reprocess_form",
            ReprocessForm(initial={"refine_edges": True, "model": model_for(version.category)}),
        )
    return context


def _render_item(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    template = "review/_item.html" if _is_fragment(request) else "review/decide.html"
    return render(request, template, context, status=status)


@require_GET
@require_permission(REVIEW)
def decide(request: HttpRequest) -> HttpResponse:
    """Claim the next item (or the one after/before `after`/`before`) and show it."""
    filters = _filters(request)
    version = claim_next(
        request.user,
        filters.query(),
        after=_cursor(request.GET.get("after")),
        before=_cursor(request.GET.get("before")),
    )
    at_end = version is None and bool(request.GET.get("after") or request.GET.get("before"))
    return _render_item(request, _item_context(version, filters, at_end=at_end))


def _after_decision(request: HttpRequest, filters: QueueFilterForm, done: str) -> HttpResponse:
    """htmx: the next claimed item, already loaded. Otherwise back to the decision page."""
    if not _is_fragment(request):
        messages.success(request, done)
        query = filters.querystring()
        return redirect(reverse("review:decide") + (f"?{query}" if query else ""))
    version = claim_next(request.user, filters.query())
    return _render_item(request, _item_context(version, filters, done=done))


def _stale(request: HttpRequest, filters: QueueFilterForm, exc: StaleDecision) -> HttpResponse:
    template = "review/_stale.html" if _is_fragment(request) else "review/stale.html"
    context = {"message": str(exc), "query": filters.querystring()}
    return render(request, template, context, status=409)


def _refused(
    request: HttpRequest, filters: QueueFilterForm, version_id: Any, error: str, **forms: Any
) -> HttpResponse:
    """The same item again, with what was wrong with the decision (422)."""
    version = ImageVersion.objects.select_related("source__product").filter(pk=version_id).first()
    return _render_item(request, _item_context(version, filters, error=error, **forms), status=422)


def _label(version: ImageVersion) -> str:
    return f"{version.source.product.sku} v{version.number}"


@require_POST
@require_permission(REVIEW)
def approve(request: HttpRequest, version_id: uuid.UUID) -> HttpResponse:
    filters = _filters(request)
    try:
        version = do_approve(version_id, request.user)
    except StaleDecision as exc:
        return _stale(request, filters, exc)
    except InvalidDecision as exc:
        return _refused(request, filters, version_id, str(exc))
    return _after_decision(request, filters, f"Approved {_label(version)}.")


@require_POST
@require_permission(REVIEW)
def reject(request: HttpRequest, version_id: uuid.UUID) -> HttpResponse:
    filters = _filters(request)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _refused(request, filters, version_id, "Choose a reason for the rejection.", reject_form=form)
    try:
        version = do_reject(version_id, request.user, form.cleaned_data["reason"], form.cleaned_data["note"])
    except StaleDecision as exc:
        return _stale(request, filters, exc)
    except InvalidDecision as exc:
        return _refused(request, filters, version_id, str(exc), reject_form=form)
    return _after_decision(request, filters, f"Rejected {_label(version)}.")


@require_POST
@require_permission(REVIEW)
def reprocess(request: HttpRequest, version_id: uuid.UUID) -> HttpResponse:
    filters = _filters(request)
    form = ReprocessForm(request.POST)
    if not form.is_valid():
        error = " ".join(str(e) for e in form.non_field_errors()) or "Check the reprocess settings."
        return _refused(request, filters, version_id, error, reprocess_form=form)
    try:
        new = do_reprocess(version_id, request.user, form.options())
    except StaleDecision as exc:
        return _stale(request, filters, exc)
    except InvalidDecision as exc:
        return _refused(request, filters, version_id, str(exc), reprocess_form=form)
    return _after_decision(request, filters, f"Reprocessing {_label(new)}.")


def _grid_context(request: HttpRequest, filters: QueueFilterForm, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    # Items another reviewer is working on are left out: approving them would be refused.
    held = Q(claimed_by__isnull=False, claim_expires_at__gt=now) & ~Q(claimed_by=request.user)
    items = reviewable().filter(filters.query()).exclude(held).select_related("source__product")
    return {"filters": filters, "query": filters.querystring(), "items": items[:GRID_SIZE], **extra}


@require_GET
@require_permission(REVIEW)
def grid(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    template = "review/_grid.html" if _is_fragment(request) else "review/grid.html"
    return render(request, template, _grid_context(request, filters))


@require_POST
@require_permission(REVIEW)
def bulk_approve(request: HttpRequest) -> HttpResponse:
    """Approve the selected items, each a guarded decision of its own."""
    filters = _filters(request)
    ids = []
    for value in request.POST.getlist("ids"):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    applied = stale = refused = 0
    for version_id in ids:
        try:
            do_approve(version_id, request.user)
        except StaleDecision:
            stale += 1
        except InvalidDecision:
            refused += 1
        else:
            applied += 1
    summary = f"Approved {applied}."
    if stale:
        summary += f" {stale} could not be: already decided or held by another reviewer."
    if refused:
        summary += (
            f" {refused} not approved: too small for the channels they must meet; "
            "open each to reshoot or reject."
        )
    if not _is_fragment(request):
        messages.success(request, summary)
        query = filters.querystring()
        return redirect(reverse("review:grid") + (f"?{query}" if query else ""))
    context = _grid_context(request, filters, summary=summary, applied=applied, stale=stale)
    return render(request, "review/_grid.html", context)
