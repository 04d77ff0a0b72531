"""Admin pages for webhook endpoints. Thin: the rules live in services.py and delivery.py."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.webhooks import delivery as sending
from catalog.webhooks import services
from catalog.webhooks.forms import EndpointForm, RotateForm
from catalog.webhooks.models import Attempt, Delivery, Endpoint
from lightbox.access import require_admin
from lightbox.htmx import htmx

DELIVERIES_SHOWN = 50


@require_GET
@require_admin
def endpoint_list(request: HttpRequest) -> HttpResponse:
    endpoints = Endpoint.objects.select_related("created_by", "disabled_by").order_by("created_at")
    return render(request, "webhooks/endpoint_list.html", {"endpoints": endpoints})


@require_http_methods(["GET", "POST"])
@require_admin
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint, secret = services.register_endpoint(**form.cleaned_data, user=request.user)
        # Shown in this response only: the secret is stored encrypted and never displayed again.
        return render(request, "webhooks/secret.html", {"endpoint": endpoint, "secret": secret, "new": True})
    return render(request, "webhooks/endpoint_form.html", {"form": form})


@require_GET
@require_admin
def endpoint_detail(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint.objects.select_related("created_by", "disabled_by"), pk=endpoint_id)
    deliveries = (
        endpoint.deliveries.select_related("event")
        .prefetch_related(Prefetch("attempts", queryset=Attempt.objects.order_by("attempted_at", "pk")))
        .order_by("-created_at")[:DELIVERIES_SHOWN]
    )
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "deliveries": deliveries,
            "secrets": endpoint.secrets.order_by("-created_at"),
            "rotate_form": RotateForm(),
        },
    )


@require_POST
@require_admin
def endpoint_rotate(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    form = RotateForm(request.POST)
    overlap = timedelta(0) if form.is_valid() and form.cleaned_data["expire_now"] else None
    secret = services.rotate_secret(endpoint, overlap=overlap)
    return render(request, "webhooks/secret.html", {"endpoint": endpoint, "secret": secret, "new": False})


@require_POST
@require_admin
def endpoint_enable(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    if services.enable_endpoint(endpoint):
        messages.success(request, f"{endpoint.url} is enabled; deliveries still owed go out now.")
    return redirect("webhooks:endpoint_detail", endpoint.pk)


@require_POST
@require_admin
def endpoint_disable(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    if services.disable_endpoint(
        endpoint, reason=f"Disabled by {request.user.get_username()}.", user=request.user
    ):
        messages.success(request, f"{endpoint.url} is disabled; no events are sent to it.")
    return redirect("webhooks:endpoint_detail", endpoint.pk)


@require_POST
@require_admin
def endpoint_test(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    _, outcome = sending.send_test_event(endpoint, user=request.user)
    if outcome.ok:
        messages.success(
            request, f"Test event delivered: HTTP {outcome.status_code} in {outcome.duration_ms} ms."
        )
    else:
        messages.error(request, f"Test event not delivered: {outcome.error}.")
    return redirect("webhooks:endpoint_detail", endpoint.pk)


@require_POST
@require_admin
def delivery_resend(request: HttpRequest, delivery_id: str) -> HttpResponse:
    """Send again, now. With htmx the delivery's row comes back; without, the endpoint page."""
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    outcome = sending.send_again(delivery)
    if htmx(request):
        row = Delivery.objects.select_related("event").prefetch_related("attempts").get(pk=delivery.pk)
        return render(request, "webhooks/_delivery.html", {"delivery": row, "resent": outcome})
    if outcome.ok:
        messages.success(request, f"Sent again: HTTP {outcome.status_code}.")
    else:
        messages.error(request, f"Sent again, not delivered: {outcome.error}.")
    return redirect("webhooks:endpoint_detail", delivery.endpoint_id)
