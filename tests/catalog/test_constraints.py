"""Every database constraint refuses the row it exists to refuse, in PostgreSQL itself."""

from __future__ import annotations

import hashlib

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import (
    ImageVersion,
    MarketplaceProfile,
    Product,
    Rendition,
    SourceImage,
    UploadBatch,
)
from processing.models import CategoryThresholds
from review.models import ReviewDecision

pytestmark = pytest.mark.django_db


def refused(constraint: str):
    """Context manager asserting the database raises IntegrityError naming `constraint`."""
    return pytest.raises(IntegrityError, match=constraint)


def source_row(product, **overrides):
    data = {
        "product": product,
        "original_filename": "a.jpg",
        "sha256": hashlib.sha256(b"a").hexdigest(),
        "width": 10,
        "height": 10,
        "format": "JPEG",
        "byte_size": 1,
        "file": "sources/a.jpg",
    }
    data.update(overrides)
    return SourceImage(**data)


def test_two_products_cannot_share_a_sku(product):
    with refused("catalog_product_sku_unique"):
        Product.objects.create(sku=product.sku, title="Another")


@pytest.mark.parametrize("sku", ["", "has space", "-leading-dash", "slash/sku", ".hidden", "tab\tsku"])
def test_a_malformed_sku_is_refused(sku):
    with refused("catalog_product_sku_format"):
        Product.objects.create(sku=sku, title="T")


def test_a_product_needs_a_title():
    with refused("catalog_product_title_not_empty"):
        Product.objects.create(sku="A1", title="")


def test_product_attributes_must_be_an_object():
    with refused("catalog_product_attributes_object"):
        Product.objects.create(sku="A1", title="T", attributes=["red"])


def test_a_batch_cannot_reject_more_files_than_it_received():
    with refused("catalog_uploadbatch_rejected_within_files"):
        UploadBatch.objects.create(file_count=1, rejected_count=2)


def test_a_batch_priority_must_be_known():
    with refused("catalog_uploadbatch_priority_valid"):
        UploadBatch.objects.create(priority=7)


def test_the_same_bytes_cannot_be_attached_twice_to_one_product(product):
    source_row(product).save()
    with refused("catalog_sourceimage_unique_bytes_per_product"):
        source_row(product, position=2).save()


def test_the_same_bytes_may_belong_to_two_products(product):
    other = Product.objects.create(sku="MUG-002", title="Other mug")
    source_row(product).save()
    source_row(other).save()
    assert SourceImage.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"sha256": "NOT-HEX"}, "catalog_sourceimage_sha256_hex"),
        ({"width": 0}, "catalog_sourceimage_dimensions_positive"),
        ({"byte_size": 0}, "catalog_sourceimage_dimensions_positive"),
        ({"position": 0}, "catalog_sourceimage_position_from_one"),
        ({"role": "hero"}, "catalog_sourceimage_role_valid"),
    ],
)
def test_a_source_image_row_must_be_well_formed(product, overrides, constraint):
    with refused(constraint):
        source_row(product, **overrides).save()


def test_version_numbers_are_unique_per_source(product, make_version):
    version = make_version(product)
    with refused("catalog_imageversion_unique_number"):
        ImageVersion.objects.create(source=version.source, number=version.number)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"status": "lost"}, "catalog_imageversion_status_valid"),
        ({"score": 101}, "catalog_imageversion_score_range"),
        ({"status": "published"}, "catalog_imageversion_published_stamped"),
        ({"status": "failed", "error": ""}, "catalog_imageversion_failure_explained"),
        ({"priority": 9}, "catalog_imageversion_priority_valid"),
    ],
)
def test_a_version_row_must_be_consistent(product, make_version, fields, constraint):
    version = make_version(product)
    with refused(constraint):
        ImageVersion.objects.filter(pk=version.pk).update(**fields)


def test_the_seeded_profiles_are_present_and_sane():
    slugs = set(MarketplaceProfile.objects.values_list("slug", flat=True))
    assert {
        "amazon-main",
        "amazon-additional",
        "shopify",
        "instagram-square",
        "instagram-portrait",
        "ebay",
        "etsy",
        "google-shopping",
        "walmart",
    } <= slugs
    amazon = MarketplaceProfile.objects.get(slug="amazon-main")
    assert amazon.background == "pure_white"
    assert amazon.fill_ratio >= 0.85
    assert amazon.naming_template == "{amazon_id}.MAIN.{ext}"
    assert MarketplaceProfile.objects.get(slug="instagram-portrait").canvas_height == 1350


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"slug": "amazon-main"}, "catalog_marketplaceprofile_slug_unique"),
        ({"quality": 0}, "catalog_marketplaceprofile_quality_range"),
        ({"fill_ratio": 1.5}, "catalog_marketplaceprofile_fill_range"),
        ({"canvas_width": 0}, "catalog_marketplaceprofile_canvas_positive"),
        ({"output_format": "bmp"}, "catalog_marketplaceprofile_format_valid"),
    ],
)
def test_a_profile_row_must_be_valid(fields, constraint):
    data = {"slug": "new", "name": "New", "channel": "x", "canvas_width": 10, "canvas_height": 10}
    data.update(fields)
    with refused(constraint):
        MarketplaceProfile.objects.create(**data)


def rendition_row(version, profile, **overrides):
    data = {
        "version": version,
        "profile": profile,
        "spec": "fit-10x10",
        "file": "r.jpg",
        "width": 10,
        "height": 10,
        "byte_size": 10,
        "format": "jpeg",
    }
    data.update(overrides)
    return Rendition(**data)


def test_a_version_has_one_rendition_per_profile_and_spec(product, make_version):
    version = make_version(product)
    profile = MarketplaceProfile.objects.get(slug="shopify")
    rendition_row(version, profile).save()
    rendition_row(version, profile, spec="fit-20x20").save()
    with refused("catalog_rendition_unique_spec_per_version"):
        rendition_row(version, profile).save()


def test_a_rendition_has_positive_size(product, make_version):
    version = make_version(product)
    with refused("catalog_rendition_dimensions_positive"):
        rendition_row(version, MarketplaceProfile.objects.get(slug="ebay"), byte_size=0).save()


def test_a_version_is_decided_once(product, make_version, reviewer):
    version = make_version(product, status="flagged")
    ReviewDecision.objects.create(version=version, reviewer=reviewer, action="approve")
    with refused("catalog_reviewdecision_one_per_version"):
        ReviewDecision.objects.create(version=version, reviewer=reviewer, action="approve")


def test_a_rejection_needs_a_reason(product, make_version, reviewer):
    version = make_version(product, status="flagged")
    with refused("catalog_reviewdecision_reject_has_reason"):
        ReviewDecision.objects.create(version=version, reviewer=reviewer, action="reject")


def test_a_review_action_must_be_known(product, make_version, reviewer):
    version = make_version(product, status="flagged")
    with refused("catalog_reviewdecision_action_valid"):
        ReviewDecision.objects.create(
            version=version, reviewer=reviewer, action="shrug", decided_at=timezone.now()
        )


def test_category_thresholds_are_unique_and_named():
    CategoryThresholds.objects.create(category="Shoes", overrides={"pass_score": 80})
    with transaction.atomic(), refused("processing_categorythresholds_category_unique"):
        CategoryThresholds.objects.create(category="Shoes")
    with refused("processing_categorythresholds_category_named"):
        CategoryThresholds.objects.create(category="")
