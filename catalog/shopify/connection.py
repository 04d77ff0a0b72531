"""Connecting a Shopify store, testing it, removing it; and the API client for it.

`client_for` is the only place the token is decrypted. Every request leaves through
catalog.outbound, so LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS decides what can be reached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction

from catalog.shopify import queries
from catalog.shopify.client import ShopifyClient, ShopifyError
from catalog.shopify.models import ShopifyStore
from lightbox import crypto, outbound

log = logging.getLogger(__name__)


class NotConnected(ShopifyError):
    """No store to push to."""


def connected_store() -> ShopifyStore:
    store = ShopifyStore.objects.connected()
    if store is None:
        raise NotConnected(
            "No Shopify store is connected. An admin can connect one on the Shopify connection page."
        )
    return store


def client_for(store: ShopifyStore, *, sleep: Callable[[float], None] = time.sleep) -> ShopifyClient:
    try:
        token = store.access_token()
    except crypto.SecretUnreadable as exc:
        raise ShopifyError(f"The Shopify token for {store.shop_domain} cannot be read: {exc}.") from None
    return ShopifyClient(
        store.shop_domain,
        token,
        store.api_version,
        http=outbound.request,
        url_template=settings.LIGHTBOX_SHOPIFY_API_URL_TEMPLATE,
        sleep=sleep,
    )


@transaction.atomic
def do_connect_store(shop_domain: str, token: str, user: Any) -> ShopifyStore:
    """Make `shop_domain` the store pushes go to, with `token` (encrypted). A shop connected
    before keeps its row, and so the ids of the media Lightbox made there."""
    ShopifyStore.objects.select_for_update().filter(is_active=True).exclude(shop_domain=shop_domain).update(
        is_active=False
    )
    store = ShopifyStore.objects.select_for_update().filter(shop_domain=shop_domain).first()
    if store is None:
        store = ShopifyStore(shop_domain=shop_domain, created_by=user)
    store.is_active = True
    store.api_version = settings.LIGHTBOX_SHOPIFY_API_VERSION
    store.updated_by = user
    store.set_access_token(token, user)
    store.full_clean(exclude=["access_token_encrypted"])
    store.save()
    log.info("Shopify store %s connected by %s", shop_domain, getattr(user, "username", user))
    return store


def do_disconnect_store(store: ShopifyStore, user: Any) -> None:
    store.forget_token(user)
    store.save()
    log.info("Shopify store %s disconnected by %s", store.shop_domain, getattr(user, "username", user))


def do_check_connection(store: ShopifyStore) -> bool:
    """Ask Shopify for the shop's name with the stored token; record and return the outcome."""
    try:
        data = client_for(store, sleep=lambda seconds: time.sleep(min(seconds, 5.0))).execute(queries.SHOP)
    except ShopifyError as exc:
        store.record_check(False, str(exc))
        return False
    shop = data.get("shop") or {}
    name = str(shop.get("name") or "")
    store.record_check(True, f"Connected to {name or store.shop_domain}.", shop_name=name)
    return True
