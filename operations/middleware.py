"""Answer /healthz before anything else runs: no host check, no HTTPS redirect, no session.

Load balancers probe by IP address (not an ALLOWED_HOSTS name) and often over plain HTTP;
the page reveals nothing but which dependency is down, so it is safe to answer anyone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from operations.views import healthz

HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return healthz(request)
        return self.get_response(request)
