"""The htmx details django-htmx's middleware puts on every request, typed."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


def htmx(request: HttpRequest) -> HtmxDetails:
    """`request.htmx`: truthy when htmx sent the request (django_htmx.middleware.HtmxMiddleware)."""
    details: HtmxDetails = request.htmx  # type: ignore[attr-defined]
    return details


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request for part of the page, not a boosted navigation to a whole one."""
    details = htmx(request)
    return bool(details) and not details.boosted
