from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalog.access import require_permission
from catalog.models import ImageVersion


@require_GET
@require_permission("catalog.review_images")
def queue(request: HttpRequest) -> HttpResponse:
    flagged = (
        ImageVersion.objects.filter(status__in=ImageVersion.REVIEWABLE_STATES)
        .select_related("source__product")
        .order_by("priority", "scored_at")[:50]
    )
    return render(request, "review/queue.html", {"flagged": flagged})


@require_GET
@require_permission("catalog.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    counts = dict(ImageVersion.objects.values_list("status").annotate(n=Count("id")))
    rows = [(label, counts.get(value, 0)) for value, label in ImageVersion.Status.choices]
    return render(request, "review/dashboard.html", {"rows": rows, "total": sum(counts.values())})
