"""The KPI dashboard: one view for the page and its live backlog fragment."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from insights.dashboard import DashboardForm, alerts, backlog, dashboard_kpis, versions_queued
from lightbox.access import require_permission
from lightbox.htmx import wants_fragment


@require_GET
@require_permission("catalog.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    data.setdefault("range", "7d")
    form = DashboardForm(data)
    context: dict[str, Any] = {"form": form, "query": data.urlencode()}
    fragment = wants_fragment(request)
    if form.is_valid():
        start, end, filters = *form.period(), form.filters()
        current = backlog()
        # Without failed jobs there is no failure rate to alert on, and no need to count.
        in_range = versions_queued(start, end, filters) if current.failed else 0
        context.update(start=start, end=end, backlog=current, alerts=alerts(current, in_range))
        if not fragment:
            context.update(dashboard_kpis(start, end, filters))
    template = "insights/_backlog.html" if fragment else "insights/dashboard.html"
    return render(request, template, context)
