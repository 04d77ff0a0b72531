"""Progress fragments that htmx polls until the work they show is done."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseStopPolling


def progress_fragment(
    request: HttpRequest, template: str, context: dict[str, Any], *, done: bool
) -> HttpResponse:
    """The fragment; once `done`, answered with 286 so htmx stops polling (the final state is in it)."""
    response = render(request, template, context)
    if not done:
        return response
    stop = HttpResponseStopPolling(response.content)
    stop["Content-Type"] = response["Content-Type"]
    return stop
