"""Where files live, read from the environment: the local disk (default) or an S3 bucket.

Two storages: "default" holds what stays private (originals, masks, masters, hand
masks, archives, exports) and "public" the renditions that marketplaces fetch. On
local disk both are MEDIA_ROOT and the app serves them (an authenticated view, or the
public /i/ URL). On S3 both live in buckets shared by every machine: private objects
are read by the pages through short-lived presigned URLs, renditions straight from the
bucket (or a CDN in front of it), so no image byte passes through Django.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env_choice, env_int, env_str

LOCAL = "local"
S3 = "s3"
# Renditions sit under this prefix of the public bucket, so one bucket can hold both
# kinds: a bucket policy lets anyone read `public/*` and nothing else.
PUBLIC_PREFIX = "public"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
S3_BACKEND = "storages.backends.s3.S3Storage"


def storage_kind() -> str:
    return env_choice("LIGHTBOX_STORAGE", LOCAL, {LOCAL, S3})


def signed_url_seconds() -> int:
    return env_int("LIGHTBOX_SIGNED_URL_SECONDS", 300, minimum=10)


def _s3_common() -> dict[str, Any]:
    bucket = env_str("LIGHTBOX_S3_BUCKET", "").strip()
    if not bucket:
        raise ImproperlyConfigured("LIGHTBOX_STORAGE=s3 needs LIGHTBOX_S3_BUCKET (the bucket's name)")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "region_name": env_str("LIGHTBOX_S3_REGION", "") or None,
        "endpoint_url": env_str("LIGHTBOX_S3_ENDPOINT_URL", "") or None,
        # Empty keys: boto3's own chain (instance role, AWS_* variables, ~/.aws).
        "access_key": env_str("LIGHTBOX_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("LIGHTBOX_S3_SECRET_ACCESS_KEY", "") or None,
        "addressing_style": env_choice("LIGHTBOX_S3_ADDRESSING_STYLE", "auto", {"auto", "path", "virtual"}),
        "signature_version": "s3v4",
        # Two uploads with one name (a re-render, the same photo twice) must not replace
        # each other: a name is given a suffix instead, as on local disk.
        "file_overwrite": False,
    }
    return options


def _public_options(common: dict[str, Any]) -> dict[str, Any]:
    options = {
        **common,
        "bucket_name": env_str("LIGHTBOX_S3_PUBLIC_BUCKET", "") or common["bucket_name"],
        "location": PUBLIC_PREFIX,
        "querystring_auth": False,
        # A rendition's name never gets new bytes (file_overwrite is off), so caches may keep it.
        "object_parameters": {"CacheControl": IMMUTABLE_CACHE},
    }
    base = env_str("LIGHTBOX_S3_PUBLIC_BASE_URL", "").strip().rstrip("/")
    if base:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ImproperlyConfigured(
                "LIGHTBOX_S3_PUBLIC_BASE_URL must be an http(s) URL such as https://cdn.example.com; "
                f"got {base!r}"
            )
        options["url_protocol"] = f"{parts.scheme}:"
        options["custom_domain"] = parts.netloc + parts.path
    return options


def file_storages() -> dict[str, dict[str, Any]]:
    """STORAGES["default"] and STORAGES["public"] for LIGHTBOX_STORAGE."""
    if storage_kind() == LOCAL:
        disk = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        return {"default": dict(disk), "public": dict(disk)}
    common = _s3_common()
    private = {**common, "querystring_auth": True, "querystring_expire": signed_url_seconds()}
    return {
        "default": {"BACKEND": S3_BACKEND, "OPTIONS": private},
        "public": {"BACKEND": S3_BACKEND, "OPTIONS": _public_options(common)},
    }
