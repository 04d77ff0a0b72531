"""LIGHTBOX_STORAGE and LIGHTBOX_S3_*: what they make of STORAGES, the URLs a bucket hands out,
and the refusals that name the variable. Nothing here talks to a server: presigning is local."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage

from config import storage_settings
from lightbox.storage import file_origins, public_storage, served_by_app

BUCKET_ENV = {
    "LIGHTBOX_STORAGE": "s3",
    "LIGHTBOX_S3_BUCKET": "shop-images",
    "LIGHTBOX_S3_REGION": "eu-central-1",
    "LIGHTBOX_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "LIGHTBOX_S3_SECRET_ACCESS_KEY": "not-a-real-secret",
}


@pytest.fixture
def bucket_env(monkeypatch):
    for name in [
        *BUCKET_ENV,
        "LIGHTBOX_S3_PUBLIC_BUCKET",
        "LIGHTBOX_S3_PUBLIC_BASE_URL",
        "LIGHTBOX_S3_ENDPOINT_URL",
    ]:
        monkeypatch.delenv(name, raising=False)
    for name, value in BUCKET_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def use(settings) -> None:
    settings.STORAGES = {**settings.STORAGES, **storage_settings.file_storages()}


def test_the_local_disk_is_the_default_and_serves_through_the_app(monkeypatch, settings):
    monkeypatch.delenv("LIGHTBOX_STORAGE", raising=False)
    storages = storage_settings.file_storages()
    assert (
        storages["default"]["BACKEND"]
        == storages["public"]["BACKEND"]
        == ("django.core.files.storage.FileSystemStorage")
    )
    use(settings)
    assert served_by_app(default_storage)
    assert served_by_app(public_storage)
    assert file_origins() == []


def test_a_bucket_keeps_private_files_signed_and_renditions_public(bucket_env, settings):
    use(settings)
    assert not served_by_app(default_storage)
    private = urlsplit(default_storage.url("sources/ab/abc.jpg"))
    query = parse_qs(private.query)
    assert private.netloc == "shop-images.s3.amazonaws.com"
    assert query["X-Amz-Expires"] == [str(settings.LIGHTBOX_SIGNED_URL_SECONDS)]
    assert "X-Amz-Signature" in query
    public = public_storage.url("renditions/v1/amazon-main/A.MAIN.jpg")
    assert public == "https://shop-images.s3.amazonaws.com/public/renditions/v1/amazon-main/A.MAIN.jpg"
    assert file_origins() == ["https://shop-images.s3.amazonaws.com"]


def test_renditions_can_live_in_their_own_bucket_behind_a_cdn(bucket_env, settings):
    bucket_env.setenv("LIGHTBOX_S3_PUBLIC_BUCKET", "shop-images-public")
    bucket_env.setenv("LIGHTBOX_S3_PUBLIC_BASE_URL", "https://cdn.example.com/img/")
    use(settings)
    url = public_storage.url("renditions/v1/shopify/a.webp")
    assert url == "https://cdn.example.com/img/public/renditions/v1/shopify/a.webp"
    assert file_origins() == ["https://cdn.example.com", "https://shop-images.s3.amazonaws.com"]
    options = settings.STORAGES["public"]["OPTIONS"]
    assert options["bucket_name"] == "shop-images-public"
    assert options["object_parameters"] == {"CacheControl": "public, max-age=31536000, immutable"}
    assert settings.STORAGES["default"]["OPTIONS"]["bucket_name"] == "shop-images"


def test_names_are_never_overwritten_in_a_bucket(bucket_env):
    storages = storage_settings.file_storages()
    assert storages["default"]["OPTIONS"]["file_overwrite"] is False
    assert storages["public"]["OPTIONS"]["file_overwrite"] is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LIGHTBOX_S3_BUCKET", "", "LIGHTBOX_S3_BUCKET"),
        ("LIGHTBOX_STORAGE", "gcs", "LIGHTBOX_STORAGE must be one of"),
        ("LIGHTBOX_S3_PUBLIC_BASE_URL", "cdn.example.com", "LIGHTBOX_S3_PUBLIC_BASE_URL must be an http"),
        ("LIGHTBOX_S3_ADDRESSING_STYLE", "sideways", "LIGHTBOX_S3_ADDRESSING_STYLE must be one of"),
        ("LIGHTBOX_SIGNED_URL_SECONDS", "1", "LIGHTBOX_SIGNED_URL_SECONDS must be at least 10"),
    ],
)
def test_a_wrong_value_stops_start_up_naming_the_variable(bucket_env, name, value, message):
    bucket_env.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        storage_settings.file_storages()
