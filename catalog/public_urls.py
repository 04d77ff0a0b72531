"""Public, content-addressed rendition URLs that a marketplace or CDN fetches without a login.

The path holds a keyed digest of the rendition's bytes (HMAC-SHA256 under SECRET_KEY,
128 bits): unguessable without the secret even for someone holding the image, and a
rendition with other bytes gets another URL, so the file behind a URL never changes
and it can be cached for a year. The digest is stored on the row when the rendition
is made, so rotating SECRET_KEY does not break URLs already handed out.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.urls import reverse

from lightbox.storage import served_by_app

PUBLIC_KEY_HEX_CHARS = 32
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


def content_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def public_key_for(sha256: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"rendition:{sha256}".encode(), hashlib.sha256)
    return digest.hexdigest()[:PUBLIC_KEY_HEX_CHARS]


def file_name(rendition) -> str:
    return rendition.file.name.rsplit("/", 1)[-1]


def public_path(rendition) -> str:
    """The site-relative path, e.g. /i/<key>/SKU1.MAIN.jpg."""
    if not rendition.public_key:
        raise ValueError(f"rendition {rendition.pk} has no public key yet")
    return reverse("catalog:public_rendition", args=[rendition.public_key, file_name(rendition)])


def public_url(rendition) -> str:
    """The absolute URL a marketplace fetches. On local disk: under LIGHTBOX_PUBLIC_BASE_URL
    (a CDN in front, or the app itself). In a bucket: the object's own URL, under
    LIGHTBOX_S3_PUBLIC_BASE_URL when set, so no byte passes through the app."""
    if not served_by_app(rendition.file.storage):
        return rendition.file.url
    return settings.LIGHTBOX_PUBLIC_BASE_URL.rstrip("/") + public_path(rendition)
