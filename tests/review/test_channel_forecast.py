"""Before deciding, the decision page says which channels the photo as it is can meet and
which it cannot; Approve on a photo that cannot be published is refused with the reason."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import ImageVersion, MarketplaceProfile, VersionStatus
from review.models import ReviewDecision
from tests.conftest import photo_bytes

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def reviewing(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_the_decision_page_lists_the_channels_a_600_px_photo_cannot_meet(reviewing, make_flagged, headers):
    make_flagged(photo=photo_bytes((600, 400)))

    response = reviewing.get(reverse("review:decide"), **headers)

    assert response.status_code == 200
    html = response.content.decode()
    assert ("<html" in html) is (not headers)
    cannot = {o.profile.slug: o.shortfall.reason for o in response.context["forecast"].cannot}
    assert cannot == {
        "amazon-main": "600 px, needs 1000 px",
        "etsy": "400 px on the short side, needs 635 px",
        "google-shopping": "400 px on the short side, needs 500 px",
        "walmart": "600 px, needs 1500 px",
    }
    assert "Cannot meet</strong> at 600×400 px" in html
    assert '<li data-profile="amazon-main">Amazon main image: 600 px, needs 1000 px</li>' in html
    assert '<li data-profile="shopify">Shopify product image</li>' in html
    assert 'data-testid="forecast-refusal"' not in html, "one passing profile is enough"


def test_a_required_profile_the_photo_misses_is_said_before_the_decision(reviewing, make_flagged):
    MarketplaceProfile.objects.filter(slug="amazon-main").update(required=True)
    make_flagged(photo=photo_bytes((600, 400)))

    html = reviewing.get(reverse("review:decide")).content.decode()

    assert "Amazon main image (required): 600 px, needs 1000 px" in html
    assert (
        "cannot meet a required profile (Amazon: 600 px, needs 1000 px). Ask for a reshoot or reject it."
        in html
    )


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_approving_a_photo_below_a_required_minimum_is_refused_with_the_reason(
    reviewing, make_flagged, headers
):
    MarketplaceProfile.objects.filter(slug="amazon-main").update(required=True)
    version = make_flagged(photo=photo_bytes((600, 400)))

    response = reviewing.post(reverse("review:approve", args=[version.pk]), **headers)

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="decision-error"' in html
    assert "This 600×400 px photo cannot meet a required profile (Amazon: 600 px, needs 1000 px)" in html
    assert f'data-version="{version.pk}"' in html, "the same item stays, to reshoot or reject"
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED
    assert not ReviewDecision.objects.filter(version=version).exists()


def test_bulk_approval_leaves_out_photos_that_cannot_be_published(reviewing, make_flagged, redis_conn):
    MarketplaceProfile.objects.filter(slug="walmart").update(required=True)
    big = make_flagged(photo=photo_bytes((1600, 1600)), minutes_ago=20)
    small = make_flagged(photo=photo_bytes((600, 400)), minutes_ago=10)

    response = reviewing.post(reverse("review:bulk_approve"), {"ids": [big.pk, small.pk]}, **HX)

    assert response.status_code == 200
    assert (
        "Approved 1. 1 not approved: too small for the channels they must meet" in response.content.decode()
    )
    assert dict(ImageVersion.objects.filter(pk__in=[big.pk, small.pk]).values_list("pk", "status")) == {
        big.pk: VersionStatus.RENDERING,
        small.pk: VersionStatus.FLAGGED,
    }
