"""/healthz for load balancers and /metrics for Prometheus: no login, no session."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from operations.health import run_checks
from operations.metrics import exposition


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 {"status": "ok", …} when the database, Redis and storage all answer; 503 naming
    the parts that failed otherwise. The details go to the log, not to the caller."""
    results = run_checks()
    failed = [result.name for result in results if not result.ok]
    body = {
        "status": "fail" if failed else "ok",
        "checks": {result.name: "ok" if result.ok else "fail" for result in results},
        "failed": failed,
    }
    return JsonResponse(body, status=503 if failed else 200)


def _client_allowed(request: HttpRequest) -> bool:
    token = settings.LIGHTBOX_METRICS_TOKEN
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr) for cidr in settings.LIGHTBOX_METRICS_ALLOWED_NETWORKS)


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition for a scraper holding LIGHTBOX_METRICS_TOKEN (Bearer) or
    calling from LIGHTBOX_METRICS_ALLOWED_NETWORKS; 403 for anyone else."""
    if not _client_allowed(request):
        response = HttpResponse("Forbidden: /metrics needs the metrics token.\n", status=403)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
