"""A fake Shopify on loopback, a store connected to it, and products with published Shopify renditions."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from tests.fakes.shopify import FakeShopify

COLOURS = [(200, 40, 40), (40, 160, 60), (40, 60, 200), (220, 180, 30)]


@pytest.fixture
def shopify(settings):
    """The fake Admin API, and Lightbox pointed at it (loopback let through for this test only)."""
    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with FakeShopify() as fake:
        settings.LIGHTBOX_SHOPIFY_API_URL_TEMPLATE = fake.url_template
        yield fake


@pytest.fixture
def connected(shopify, admin_user):
    from catalog.shopify.connection import do_connect_store

    return do_connect_store(shopify.shop, shopify.token, admin_user)


def webp(colour, size=(96, 96)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="WEBP", quality=90)
    return buffer.getvalue()


@pytest.fixture
def publish_photos(make_version):
    """Give `product` `count` published photos, each with a passed Shopify rendition (WebP,
    as the seeded profile makes them), positions 1..count."""
    from catalog.models import MarketplaceProfile, Rendition, VersionStatus
    from catalog.public_urls import public_key_for

    def publish(product, count=3, fmt="webp"):
        profile = MarketplaceProfile.objects.get(slug="shopify")
        renditions = []
        for n in range(count):
            version = make_version(product, status=VersionStatus.PUBLISHED, published_at=timezone.now())
            buffer = io.BytesIO()
            Image.new("RGB", (96, 96), COLOURS[n % len(COLOURS)]).save(buffer, format=fmt.upper())
            data = buffer.getvalue()
            sha = hashlib.sha256(data).hexdigest()
            rendition = Rendition(
                version=version,
                profile=profile,
                spec=f"test-{fmt}",
                width=96,
                height=96,
                byte_size=len(data),
                format=fmt,
                compliance_passed=True,
                sha256=sha,
                public_key=public_key_for(sha),
            )
            rendition.file.save(f"shopify/{product.sku}-{n + 1}.{fmt}", ContentFile(data), save=False)
            rendition.save()
            renditions.append(rendition)
        return renditions

    return publish


@pytest.fixture
def mug(product, publish_photos):
    """MUG-001 with three published photos and an alt text."""
    product.attributes = {"alt_text": "Red stoneware mug, front view"}
    product.save()
    publish_photos(product, 3)
    return product


def rerender(product) -> None:
    """New bytes for each of the product's Shopify renditions (its colour inverted), under
    the same file name: what a profile change and a re-render do."""
    from catalog.models import Rendition

    for rendition in Rendition.objects.filter(version__source__product=product, profile__slug="shopify"):
        with rendition.file.open("rb") as fh, Image.open(fh) as image:
            fmt, size = image.format, image.size
            r, g, b = image.convert("RGB").getpixel((0, 0))
        buffer = io.BytesIO()
        Image.new("RGB", size, (255 - r, 255 - g, 255 - b)).save(buffer, format=fmt)
        data = buffer.getvalue()
        name = rendition.file.name
        rendition.file.storage.delete(name)
        assert rendition.file.storage.save(name, ContentFile(data)) == name
        Rendition.objects.filter(pk=rendition.pk).update(sha256=hashlib.sha256(data).hexdigest())


def selection_for(*products):
    from catalog.exports.selection import select

    return select(list(products), main_profile="shopify", additional_profile=None)


class Recorder:
    """Stands in for time.sleep and Export.advance: records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list = []

    def __call__(self, value) -> None:
        self.calls.append(value)


def push(*products, sleep=None, advance=None):
    from catalog.shopify.push import run_push

    return run_push(None, selection_for(*products), advance or Recorder(), sleep=sleep or Recorder())
