"""The two file storages and how a page or a marketplace reaches a stored file.

`default_storage` keeps private files, `public_storage` the renditions (STORAGES["public"],
see config/storage_settings.py). A storage on the local disk is served by the app itself;
any other storage (an S3 bucket) hands out its own URLs: presigned and short-lived for
private files, plain for public ones.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages
from django.core.signals import setting_changed
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.http import content_disposition_header

# Python 3.11's table lacks these; S3 objects get their Content-Type from the name.
mimetypes.add_type("image/webp", ".webp")
mimetypes.add_type("image/avif", ".avif")
mimetypes.add_type("image/heic", ".heic")


class _PublicStorage(LazyObject):
    def _setup(self) -> None:
        self._wrapped = storages["public"]


public_storage: Storage = _PublicStorage()  # type: ignore[assignment]  # a lazy stand-in for one


def get_public_storage() -> Storage:
    """For FileField(storage=...): the field keeps the lazy object, so tests may swap STORAGES."""
    return public_storage


@receiver(setting_changed)
def _reset_public_storage(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        public_storage._wrapped = empty  # type: ignore[attr-defined]


def _unwrapped(storage: Storage) -> Storage:
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:  # type: ignore[attr-defined]
            storage._setup()  # type: ignore[attr-defined]
        return storage._wrapped  # type: ignore[attr-defined, no-any-return]
    return storage


def served_by_app(storage: Storage) -> bool:
    """True for the local disk: the app streams the bytes. False for a bucket, whose own
    URLs the browser or marketplace fetches."""
    return isinstance(_unwrapped(storage), FileSystemStorage)


def file_origins() -> list[str]:
    """The origins pages load stored files from besides their own, for a Content Security
    Policy's img-src and connect-src: none on local disk, the bucket's (or its CDN's) otherwise."""
    origins = set()
    for storage in (default_storage, public_storage):
        if not served_by_app(storage):
            parts = urlsplit(storage.url("origin-probe"))
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def signed_url(field_file: FieldFile, *, content_type: str, download_name: str | None = None) -> str:
    """A short-lived URL to a private file in a bucket (LIGHTBOX_SIGNED_URL_SECONDS)."""
    parameters = {"ResponseContentType": content_type}
    if download_name is not None:
        disposition = content_disposition_header(as_attachment=True, filename=download_name)
        parameters["ResponseContentDisposition"] = disposition or "attachment"
    url: str = field_file.storage.url(  # type: ignore[call-arg]  # S3Storage.url takes these
        field_file.name, parameters=parameters, expire=settings.LIGHTBOX_SIGNED_URL_SECONDS
    )
    return url
