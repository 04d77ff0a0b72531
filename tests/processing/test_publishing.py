"""From RENDERING to PUBLISHED: a rendition per applicable profile, each checked from its bytes."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from catalog.models import ImageVersion, MarketplaceProfile, Rendition, SourceImage, VersionStatus
from processing.naming import amazon_identifier, rendition_filename
from processing.pipeline.compliance import read_exif_fields, read_xmp_fields
from processing.profiles import MarketplaceProfileForm, spec_for
from processing.publishing import applicable_profiles, render_version

pytestmark = pytest.mark.django_db


def test_a_version_is_published_with_a_passing_rendition_for_every_applicable_profile(
    rendering_version, small_profiles
):
    assert render_version(str(rendering_version.pk)) == "published"

    rendering_version.refresh_from_db()
    assert rendering_version.status == VersionStatus.PUBLISHED
    renditions = {r.profile.slug: r for r in rendering_version.renditions.select_related("profile")}
    expected = {p.slug for p in applicable_profiles(rendering_version)}
    assert set(renditions) == expected
    assert "amazon-main" in expected
    assert "amazon-additional" not in expected  # a main photo uses Amazon's MAIN slot
    for slug, rendition in renditions.items():
        assert rendition.compliance_passed, (slug, rendition.compliance)
        assert rendition.first_attempt
        with rendition.file.open("rb") as fh:
            data = fh.read()
        assert len(data) == rendition.byte_size
        with Image.open(io.BytesIO(data)) as decoded:
            assert decoded.size == (rendition.width, rendition.height)
            assert read_exif_fields(decoded)["alt_text"] == "Red stoneware mug, front view"
        assert read_xmp_fields(data)["sku"] == "MUG-001"
    assert renditions["amazon-main"].file.name.endswith("/B000TEST01.MAIN.jpg")
    assert renditions["storefront-avif"].format == "avif"
    assert renditions["shopify"].format == "webp"


def test_rendering_twice_makes_nothing_new(rendering_version, small_profiles):
    render_version(str(rendering_version.pk))
    before = set(Rendition.objects.values_list("pk", flat=True))

    assert render_version(str(rendering_version.pk)) == "re-rendered"

    assert set(Rendition.objects.values_list("pk", flat=True)) == before


def test_an_alternate_photo_gets_amazons_additional_slot_and_no_feed_crops(
    product, make_version, small_profiles
):
    version = make_version(product, status=VersionStatus.RENDERING)
    SourceImage.objects.filter(pk=version.source_id).update(role="alternate", position=3)
    version.refresh_from_db()
    slugs = {p.slug for p in applicable_profiles(version)}
    assert "amazon-additional" in slugs
    assert "amazon-main" not in slugs
    assert "instagram-square" not in slugs
    assert "shopify" in slugs


def test_a_changed_profile_gets_a_new_rendition_beside_the_old_one(rendering_version, small_profiles):
    render_version(str(rendering_version.pk))
    shopify = MarketplaceProfile.objects.get(slug="shopify")
    shopify.quality = 70
    shopify.save()

    assert render_version(str(rendering_version.pk)) == "re-rendered"

    specs = list(rendering_version.renditions.filter(profile=shopify).values_list("spec", "first_attempt"))
    assert len(specs) == 2
    assert (str(spec_for(shopify)), False) in specs


def test_a_profile_that_cannot_be_rendered_is_a_form_error():
    profile = MarketplaceProfile.objects.get(slug="amazon-main")
    data = {f: v for f, v in profile.field_values().items() if v is not None and f != "id"}
    data.update(background="transparent", output_format="jpeg")
    form = MarketplaceProfileForm(data=data, instance=profile)
    assert not form.is_valid()
    assert "transparent" in str(form.errors).lower()

    data.update(background="pure_white", checks={"background": "maybe"}, naming_template="{asin}.jpg")
    form = MarketplaceProfileForm(data=data, instance=MarketplaceProfile.objects.get(slug="amazon-main"))
    assert not form.is_valid()
    assert "checks" in form.errors
    assert "naming_template" in form.errors


def test_amazon_file_names_use_the_best_identifier_with_full_stops_only(product):
    assert amazon_identifier("", "4006381-333931", "", "SKU-1") == "4006381333931"
    assert amazon_identifier("", "", "", "SKU 1") == "SKU1"
    name = rendition_filename(
        "{amazon_id}.PT{slot:02d}.{ext}", product=product, position=3, ext="jpg", profile_slug="x"
    )
    assert name == "MUG001.PT02.jpg"  # full stops are the only separators Amazon allows


def test_the_product_page_lists_renditions_with_their_result_and_a_download(
    client, merchandiser, rendering_version, small_profiles
):
    render_version(str(rendering_version.pk))
    client.force_login(merchandiser)

    html = client.get(
        reverse("catalog:product_detail", args=[rendering_version.source.product.sku])
    ).content.decode()

    assert html.count('data-testid="rendition"') == rendering_version.renditions.count()
    assert "✔ passes" in html
    rendition = rendering_version.renditions.get(profile__slug="amazon-main")
    response = client.get(reverse("catalog:rendition_file", args=[rendition.pk]) + "?download=1")
    assert response["Content-Type"] == "image/jpeg"
    assert 'filename="B000TEST01.MAIN.jpg"' in response["Content-Disposition"]


def test_a_version_that_is_not_rendering_is_left_alone(product, make_version):
    version = make_version(product, status=VersionStatus.FLAGGED)
    assert render_version(str(version.pk)).startswith("nothing to do")
    assert ImageVersion.objects.get(pk=version.pk).status == VersionStatus.FLAGGED
