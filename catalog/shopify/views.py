"""The Shopify connection page: admins enter the shop and token, test it, remove it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from catalog.shopify.connection import do_check_connection, do_connect_store, do_disconnect_store
from catalog.shopify.forms import ConnectionForm
from catalog.shopify.models import ShopifyMedia, ShopifyStore
from lightbox.access import require_admin


def _active_store() -> ShopifyStore | None:
    return ShopifyStore.objects.filter(is_active=True).select_related("token_entered_by").first()


@require_http_methods(["GET", "POST"])
@require_admin
def connection(request: HttpRequest) -> HttpResponse:
    store = _active_store()
    form = ConnectionForm(request.POST or None, initial={"shop_domain": store.shop_domain if store else ""})
    if request.method == "POST" and form.is_valid():
        store = do_connect_store(
            form.cleaned_data["shop_domain"], form.cleaned_data["access_token"], request.user
        )
        _report_check(request, store)
        return redirect("shopify:connection")
    media_count = ShopifyMedia.objects.filter(store=store).exclude(media_gid="").count() if store else 0
    return render(
        request, "shopify/connection.html", {"store": store, "form": form, "media_count": media_count}
    )


@require_POST
@require_admin
def check(request: HttpRequest) -> HttpResponse:
    store = _active_store()
    if store is None or not store.has_token:
        messages.error(request, "No Shopify store is connected.")
    else:
        _report_check(request, store)
    return redirect("shopify:connection")


@require_POST
@require_admin
def disconnect(request: HttpRequest) -> HttpResponse:
    store = _active_store()
    if store is not None:
        do_disconnect_store(store, request.user)
        messages.success(
            request,
            f"{store.shop_domain} is disconnected and its token deleted; pushed images stay in Shopify.",
        )
    return redirect("shopify:connection")


def _report_check(request: HttpRequest, store: ShopifyStore) -> None:
    if do_check_connection(store):
        messages.success(request, store.check_message)
    else:
        messages.error(request, f"The connection test failed: {store.check_message}")
