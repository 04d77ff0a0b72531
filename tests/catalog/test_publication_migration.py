"""Migration 0011: versions that FAILED only because some profile's rendition did not pass
are published where they comply, each other channel blocked with its reason. Run with
Django's migration executor: back to before publication per channel, the old state made
with the old models, then forward."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.models import BlockedChannel, ImageVersion, VersionStatus
from insights.models import DashboardDay
from tests.migration_steps import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0009_dashboard_indexes"), ("review", "0001_initial")]
# Forward through 0011 to the newest state, so today's models can read the rows.
AFTER = None
FAILED_AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
# The reported case: a 600 px photo whose renditions failed on five of nine profiles.
MAIN_PROFILES = [
    "amazon-main",
    "ebay",
    "etsy",
    "google-shopping",
    "instagram-portrait",
    "instagram-square",
    "shopify",
    "storefront-avif",
    "walmart",
]
FAILING = ["amazon-main", "ebay", "etsy", "shopify", "walmart"]
OLD_ERROR = "renditions did not pass their checks: " + ", ".join(FAILING)
BACKGROUND = {
    "name": "background",
    "passed": False,
    "severity": "error",
    "detail": "0.37% of the background is not within 4 levels of #ffffff",
    "measured": None,
}


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(None)


def old_failed_version(apps, sku: str, *, failing: list[str], error: str = OLD_ERROR, size=(600, 400)):
    """A FAILED version as render_version left it before: a rendition for every main profile."""
    Product = apps.get_model("catalog", "Product")
    SourceImage = apps.get_model("catalog", "SourceImage")
    ImageVersion = apps.get_model("catalog", "ImageVersion")
    Rendition = apps.get_model("catalog", "Rendition")
    MarketplaceProfile = apps.get_model("catalog", "MarketplaceProfile")
    product = Product.objects.create(sku=sku, title=sku)
    source = SourceImage.objects.create(
        product=product,
        file=f"sources/{sku}.jpg",
        original_filename=f"{sku}.jpg",
        sha256=f"{len(sku):064x}",
        width=size[0],
        height=size[1],
        format="JPEG",
        byte_size=1000,
    )
    version = ImageVersion.objects.create(
        source=source, status="failed", error=error, failed_at=FAILED_AT, queued_at=FAILED_AT, master="m.png"
    )
    for slug in MAIN_PROFILES:
        passed = slug not in failing
        Rendition.objects.create(
            version=version,
            profile=MarketplaceProfile.objects.get(slug=slug),
            spec=f"spec-{slug}",
            file=f"renditions/{slug}.jpg",
            width=100,
            height=100,
            byte_size=100,
            format="jpeg",
            compliance_passed=passed,
            compliance={"passed": passed, "checks": [] if passed else [BACKGROUND]},
        )
    return version.pk


def test_a_version_failed_on_some_profiles_is_published_on_the_others_and_blocked_with_reasons(old_apps):
    # Before the move to insights the cached days are review's.
    old_apps.get_model("review", "DashboardDay").objects.create(
        day=FAILED_AT.date(), filters_key="{}", payload={}, computed_at=FAILED_AT
    )
    pk = old_failed_version(old_apps, "CUP-600", failing=FAILING)

    migrate(AFTER)

    version = ImageVersion.objects.get(pk=pk)
    assert version.status == VersionStatus.PUBLISHED
    assert (version.published_at, version.failed_at, version.error) == (FAILED_AT, None, "")
    blocked = {
        b.profile.slug: b for b in BlockedChannel.objects.filter(version=version).select_related("profile")
    }
    assert {slug: b.reason for slug, b in blocked.items()} == {
        # Below the minimum: the size is the reason, whatever the old rendition showed.
        "amazon-main": "600 px, needs 1000 px",
        "etsy": "400 px on the short side, needs 635 px",
        "google-shopping": "400 px on the short side, needs 500 px",
        "walmart": "600 px, needs 1500 px",
        # Big enough, but the rendition failed its checks.
        "ebay": "fails background: 0.37% of the background is not within 4 levels of #ffffff",
        "shopify": "fails background: 0.37% of the background is not within 4 levels of #ffffff",
    }
    assert blocked["amazon-main"].cause == BlockedChannel.Cause.SIZE
    assert blocked["amazon-main"].left_out_reason() == "below Amazon's 1000 px (the photo has 600 px)"
    assert blocked["ebay"].cause == BlockedChannel.Cause.CHECKS
    assert {b.created_at for b in blocked.values()} == {FAILED_AT}
    assert not DashboardDay.objects.exists(), "the dashboard's cached days are recomputed"


def test_a_version_that_passed_nowhere_stays_failed_and_says_why_per_channel(old_apps):
    pk = old_failed_version(old_apps, "CUP-NONE", failing=MAIN_PROFILES, size=(2000, 1600))

    migrate(AFTER)

    version = ImageVersion.objects.get(pk=pk)
    assert version.status == VersionStatus.FAILED
    assert version.error.startswith("meets no marketplace profile: Amazon: fails background: ")
    assert BlockedChannel.objects.filter(version=version).count() == len(MAIN_PROFILES)


def test_a_version_that_failed_for_another_reason_is_left_alone(old_apps):
    pk = old_failed_version(old_apps, "CUP-BAD", failing=[], error="This JPEG file is incomplete.")

    migrate(AFTER)

    version = ImageVersion.objects.get(pk=pk)
    assert (version.status, version.error) == (VersionStatus.FAILED, "This JPEG file is incomplete.")
    assert not BlockedChannel.objects.filter(version=version).exists()
