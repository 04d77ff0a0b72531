"""The Django side of catalog.safe_http: the same calls, with the allowed networks taken
from settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS (empty in production; a test double on
loopback is let through by listing 127.0.0.1/32 there).

Webhooks, the Shopify client, the API and URL import call these, never safe_http with
networks of their own, so one setting decides what Lightbox may reach.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping, Sequence

from django.conf import settings

from catalog.safe_http import (
    FetchedImage,
    FetchFailed,
    Resolver,
    Response,
    Target,
    UnsafeURL,
    retry_after,
)
from catalog.safe_http import check_url as _check_url
from catalog.safe_http import fetch_image as _fetch_image
from catalog.safe_http import request as _request

__all__ = [
    "FetchFailed",
    "FetchedImage",
    "Response",
    "Target",
    "UnsafeURL",
    "allowed_networks",
    "check_url",
    "fetch_image",
    "request",
    "retry_after",
]


def allowed_networks() -> Sequence[str]:
    return tuple(settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS)


def check_url(url: str, *, resolver: Resolver = socket.getaddrinfo) -> Target:
    """Raise UnsafeURL unless `url` may be fetched (see safe_http.check_url). Call it when a
    URL is saved (a webhook endpoint, a shop) as well as at send time: DNS can change."""
    return _check_url(url, allowed_networks=allowed_networks(), resolver=resolver)


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 15.0,
    max_response_bytes: int = 1_000_000,
    follow_redirects: int = 0,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """safe_http.request with the configured allowed networks."""
    return _request(
        method,
        url,
        body=body,
        headers=headers,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
        allowed_networks=allowed_networks(),
        follow_redirects=follow_redirects,
        resolver=resolver,
        ssl_context=ssl_context,
    )


def fetch_image(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    resolver: Resolver = socket.getaddrinfo,
    max_redirects: int = 3,
    ssl_context: ssl.SSLContext | None = None,
) -> FetchedImage:
    """safe_http.fetch_image with the configured allowed networks; the size and time limits
    default to LIGHTBOX_URL_IMPORT_MAX_BYTES and LIGHTBOX_URL_IMPORT_TIMEOUT."""
    return _fetch_image(
        url,
        max_bytes=settings.LIGHTBOX_URL_IMPORT_MAX_BYTES if max_bytes is None else max_bytes,
        timeout=settings.LIGHTBOX_URL_IMPORT_TIMEOUT if timeout is None else timeout,
        allowed_networks=allowed_networks(),
        resolver=resolver,
        max_redirects=max_redirects,
        ssl_context=ssl_context,
    )
