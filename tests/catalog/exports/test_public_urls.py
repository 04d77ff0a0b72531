"""Public rendition URLs: no login, exact bytes, cached for a year, unguessable, 404 otherwise."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.test import Client

from catalog.models import Product
from catalog.public_urls import IMMUTABLE_CACHE, public_key_for, public_path, public_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def rendition(make_photo):
    item = Product.objects.create(sku="PUB1", title="Public")
    return make_photo(item, 1, profiles=("amazon-main",)).renditions.get()


def data_of(rendition) -> bytes:
    with rendition.file.open("rb") as fh:
        return fh.read()


def get(path: str, **headers):
    response = Client().get(path, headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_anyone_gets_the_exact_bytes_with_a_years_immutable_cache(rendition, settings):
    settings.LIGHTBOX_PUBLIC_BASE_URL = "https://cdn.example.com/"
    url = public_url(rendition)
    assert url == f"https://cdn.example.com/i/{rendition.public_key}/PUB1-1.jpg"

    response, body = get(urlparse(url).path)

    assert response.status_code == 200
    assert body == data_of(rendition)
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == IMMUTABLE_CACHE
    assert response["ETag"] == f'"{rendition.sha256}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in response.get("Content-Disposition", "")


def test_a_png_goes_out_as_a_png(make_photo):
    item = Product.objects.create(sku="PUB2", title="Public png")
    rendition = make_photo(item, 1, profiles=("amazon-main",), fmt="PNG").renditions.get()

    response, body = get(public_path(rendition))

    assert response["Content-Type"] == "image/png"
    assert body == data_of(rendition)


def test_a_wrong_key_or_a_wrong_name_is_not_found(rendition):
    good = public_path(rendition)
    key, name = good.split("/")[2:4]

    assert get(good)[0].status_code == 200
    assert get(f"/i/{'0' * 32}/{name}")[0].status_code == 404
    assert get(f"/i/{key}/PUB1-2.jpg")[0].status_code == 404
    assert get(f"/i/{key[:-1]}/{name}")[0].status_code == 404


def test_a_cached_copy_is_confirmed_with_304_and_no_body(rendition):
    path = public_path(rendition)

    response, body = get(path, if_none_match=f'"{rendition.sha256}"')

    assert response.status_code == 304
    assert body == b""
    assert response["ETag"] == f'"{rendition.sha256}"'
    assert response["Cache-Control"] == IMMUTABLE_CACHE
    assert get(path, if_none_match='"something-else"')[0].status_code == 200


def test_only_get_is_allowed(rendition):
    assert Client().post(public_path(rendition)).status_code == 405


def test_the_key_depends_on_the_secret_and_stored_urls_survive_a_secret_rotation(rendition, settings):
    path = public_path(rendition)
    assert rendition.public_key == public_key_for(rendition.sha256)
    assert len(rendition.public_key) == 32

    settings.SECRET_KEY = "another-secret-" * 4

    assert public_key_for(rendition.sha256) != rendition.public_key
    assert get(path)[0].status_code == 200


def test_a_rendition_without_a_key_has_no_public_url(rendition):
    rendition.public_key = ""
    with pytest.raises(ValueError, match="no public key"):
        public_url(rendition)


@pytest.mark.parametrize("status", ["rejected", "failed", "superseded"])
def test_an_image_whose_version_is_no_longer_published_is_gone(rendition, status):
    from catalog.models import ImageVersion

    path = public_path(rendition)
    assert get(path)[0].status_code == 200
    ImageVersion.objects.filter(pk=rendition.version_id).update(status=status, error="withdrawn")

    response, body = get(path)

    assert response.status_code == 410
    assert b"no longer published" in body
    assert response["Cache-Control"] == "no-cache"


def test_a_rendition_that_failed_its_checks_is_not_public(make_photo):
    item = Product.objects.create(sku="PUB3", title="Failed checks")
    rendition = make_photo(item, 1, profiles=("amazon-main",), passed=False).renditions.get()

    assert get(public_path(rendition))[0].status_code == 410
