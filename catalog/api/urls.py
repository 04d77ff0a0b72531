"""The API's addresses: ninja's operations, the schema and docs, and JSON errors for the rest."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path

from catalog.api import views
from catalog.api.api import api
from catalog.api.errors import error_body


def json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja answers a method a path does not take with a plain-text 405; give it our error body."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        refusal = JsonResponse(
            error_body(405, f"{request.method} is not allowed here; this address takes {allowed}."),
            status=405,
            content_type="application/json; charset=utf-8",
        )
        refusal["Allow"] = allowed
        return refusal

    return wrapped


# (No module-level `app_name` here: Django would take it as this module's namespace.)
_patterns, _app, _namespace = api.urls
for _pattern in _patterns:
    _pattern.callback = json_method_not_allowed(_pattern.callback)  # type: ignore[arg-type]

urlpatterns = [
    path("api/v1/", (_patterns, _app, _namespace)),
    re_path(r"^api/v1/", views.api_not_found),
]
