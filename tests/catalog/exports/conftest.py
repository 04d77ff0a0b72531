"""Published versions with real (small) rendition files, made directly: no model, no queue."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from catalog.models import MarketplaceProfile, Product, Rendition, SourceRole, VersionStatus
from catalog.public_urls import content_sha256, public_key_for

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def image_bytes(n: int, fmt: str = "JPEG") -> bytes:
    """A 24×24 image whose bytes differ for every n."""
    image = Image.new("RGB", (24, 24), (n * 37 % 256, n * 11 % 256, n // 256 % 256))
    image.putpixel((0, 0), (n % 256, 255 - n % 256, 7))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def make_rendition(db):
    counter = {"n": 0}

    def make(version, slug: str, *, passed: bool | None = True, fmt: str = "JPEG", failed=("background",)):
        counter["n"] += 1
        data = image_bytes(counter["n"], fmt)
        profile = MarketplaceProfile.objects.get(slug=slug)
        checks = [{"name": name, "passed": False, "severity": "error", "detail": "", "measured": None}
                  for name in failed] if passed is False else []  # fmt: skip
        checks.append({"name": "metadata", "passed": passed is not False, "severity": "warn", "detail": ""})
        rendition = Rendition(
            version=version,
            profile=profile,
            spec=f"test-{uuid.uuid4().hex[:8]}",
            width=24,
            height=24,
            byte_size=len(data),
            format=fmt.lower(),
            compliance_passed=passed,
            compliance={"passed": passed, "checks": checks},
            sha256=content_sha256(data),
        )
        rendition.public_key = public_key_for(rendition.sha256)
        name = f"{version.source.product.sku}-{version.source.position}.{EXTENSIONS[fmt]}"
        rendition.file.save(f"{slug}/{name}", ContentFile(data), save=False)
        rendition.save()
        return rendition

    return make


@pytest.fixture
def make_photo(make_version, make_rendition):
    """A photo of `product` at `position` with one version in `status`, rendered for `profiles`."""

    def make(
        product: Product,
        position: int,
        *,
        role: str = SourceRole.MAIN,
        status: str = VersionStatus.PUBLISHED,
        profiles=("amazon-main", "shopify"),
        passed: bool | None = True,
        fmt: str = "JPEG",
        **fields,
    ):
        if status == VersionStatus.PUBLISHED:
            fields.setdefault("published_at", timezone.now())
        if status == VersionStatus.FAILED:
            fields.setdefault("error", "This JPEG file is incomplete.")
        version = make_version(product, status=status, **fields)
        source = version.source
        source.role, source.position = role, position
        source.save(update_fields=["role", "position"])
        for slug in profiles:
            make_rendition(version, slug, passed=passed, fmt=fmt)
        return version

    return make


@pytest.fixture
def amazon_product(db, make_photo):
    """A product with a main photo and two alternates, all published and passing for Amazon and Shopify."""
    item = Product.objects.create(sku="LAMP01", title="Desk lamp", asin="B0LAMP0001", brand="Glow")
    make_photo(item, 1)
    make_photo(item, 2, role=SourceRole.ALTERNATE, profiles=("amazon-additional", "shopify"))
    make_photo(item, 3, role=SourceRole.ALTERNATE, profiles=("amazon-additional", "shopify"))
    return item
