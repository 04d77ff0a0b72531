"""Publication per channel: a version publishes where it complies, every profile it cannot
meet is a blocked channel with its reason, and it fails only on a required profile or when
nothing passes. The seeded profiles at full size, the real renderer."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from catalog.channels import BLOCKED, PUBLISHED, channel_states
from catalog.models import BlockedChannel, MarketplaceProfile, VersionStatus
from catalog.webhooks.events import version_data
from processing.models import RerenderRun
from processing.publishing import forecast, render_version
from processing.rerender import rerender_chunk
from review.services import InvalidDecision, do_approve
from tests.conftest import master_png, photo_bytes
from tests.processing.test_rerender import admin_form_data

pytestmark = pytest.mark.django_db

# What a 600 × 400 px photo misses among the seeded profiles a main photo gets.
TOO_SMALL_AT_600 = {
    "amazon-main": "600 px, needs 1000 px",
    "etsy": "400 px on the short side, needs 635 px",
    "google-shopping": "400 px on the short side, needs 500 px",
    "walmart": "600 px, needs 1500 px",
}
MEETS_AT_600 = {"ebay", "instagram-portrait", "instagram-square", "shopify", "storefront-avif"}


@pytest.fixture
def flagged_600(make_flagged):
    """A flagged 600 × 400 px photo with a clean cut-out, waiting for a reviewer."""
    version = make_flagged(photo=photo_bytes((600, 400)))
    version.master.save("m.png", ContentFile(master_png()))
    return version


def blocked_reasons(version) -> dict[str, str]:
    return dict(version.blocked_channels.values_list("profile__slug", "reason"))


def test_a_600_px_photo_approved_by_a_reviewer_is_published_and_blocked_where_it_is_too_small(
    flagged_600, reviewer
):
    do_approve(flagged_600.pk, reviewer)

    assert render_version(str(flagged_600.pk)) == "published"

    flagged_600.refresh_from_db()
    assert flagged_600.status == VersionStatus.PUBLISHED
    assert flagged_600.error == ""
    renditions = {r.profile.slug: r for r in flagged_600.renditions.select_related("profile")}
    assert set(renditions) == MEETS_AT_600, "a profile the photo cannot meet is never rendered"
    assert all(r.compliance_passed for r in renditions.values())
    assert blocked_reasons(flagged_600) == TOO_SMALL_AT_600
    labels = {b.label for b in flagged_600.blocked_channels.select_related("profile")}
    assert "Amazon: 600 px, needs 1000 px" in labels
    states = {s.profile.slug: s.state for s in channel_states(flagged_600)}
    assert states == {**dict.fromkeys(MEETS_AT_600, PUBLISHED), **dict.fromkeys(TOO_SMALL_AT_600, BLOCKED)}


def test_the_forecast_tells_the_same_from_the_photos_size_alone(flagged_600, django_assert_num_queries):
    with django_assert_num_queries(1):  # the profiles; nothing is rendered
        outlook = forecast(flagged_600)

    assert outlook.size == (600, 400)
    assert {o.profile.slug: o.shortfall.reason for o in outlook.cannot} == TOO_SMALL_AT_600
    assert {o.profile.slug for o in outlook.meets} == MEETS_AT_600
    assert outlook.refusal == ""


def test_a_reviewers_crop_is_the_photo_the_minimums_are_held_against(make_flagged):
    version = make_flagged(photo=photo_bytes((2400, 2000)), options={"crop": [0, 0, 900, 700]})

    assert {o.profile.slug: o.shortfall.reason for o in forecast(version).cannot}["amazon-main"] == (
        "900 px, needs 1000 px"
    )


def test_a_minimum_the_profile_only_warns_about_blocks_nothing(flagged_600):
    MarketplaceProfile.objects.filter(slug="amazon-main").update(checks={"min_size": "warn"})

    assert "amazon-main" in {o.profile.slug for o in forecast(flagged_600).meets}


def test_a_photo_below_every_required_minimum_is_refused_at_approval_with_the_reason(flagged_600, reviewer):
    MarketplaceProfile.objects.filter(slug__in=["amazon-main", "walmart"]).update(required=True)

    with pytest.raises(InvalidDecision) as refused:
        do_approve(flagged_600.pk, reviewer)

    message = str(refused.value)
    assert "cannot meet a required profile" in message
    assert "Amazon: 600 px, needs 1000 px" in message
    assert "Walmart: 600 px, needs 1500 px" in message
    assert "reshoot or reject" in message
    flagged_600.refresh_from_db()
    assert flagged_600.status == VersionStatus.FLAGGED
    assert not flagged_600.decisions.exists()


def test_a_photo_that_meets_no_profile_at_all_is_refused_at_approval(make_flagged, reviewer):
    # The profiles without a minimum are off: every one left asks more than 300 px.
    MarketplaceProfile.objects.filter(slug__in=["shopify", "storefront-avif"]).update(enabled=False)
    version = make_flagged(photo=photo_bytes((300, 200)))

    with pytest.raises(InvalidDecision, match=r"meets no marketplace profile .*Instagram: 200 px on the"):
        do_approve(version.pk, reviewer)

    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED


def test_a_rendition_failing_its_checks_blocks_only_its_channel(rendering_version):
    MarketplaceProfile.objects.filter(slug="walmart").update(max_bytes=2_000)  # no JPEG canvas fits

    assert render_version(str(rendering_version.pk)) == "published"

    rendering_version.refresh_from_db()
    assert rendering_version.status == VersionStatus.PUBLISHED
    (block,) = rendering_version.blocked_channels.select_related("profile")
    assert (block.profile.slug, block.cause) == ("walmart", BlockedChannel.Cause.CHECKS)
    assert block.reason.startswith("fails max_bytes: ")
    assert rendering_version.renditions.get(profile__slug="walmart").compliance_passed is False


def test_a_required_profile_that_cannot_be_met_fails_the_version_and_says_which_and_why(rendering_version):
    MarketplaceProfile.objects.filter(slug="walmart").update(max_bytes=2_000, required=True)

    assert render_version(str(rendering_version.pk)) == "failed"

    rendering_version.refresh_from_db()
    assert rendering_version.status == VersionStatus.FAILED
    assert rendering_version.error.startswith("cannot meet a required profile: Walmart: fails max_bytes: ")
    assert blocked_reasons(rendering_version).keys() == {"walmart"}


def test_a_version_where_no_profile_passes_is_not_published_and_says_why(rendering_version):
    MarketplaceProfile.objects.exclude(slug="walmart").update(enabled=False)
    MarketplaceProfile.objects.filter(slug="walmart").update(max_bytes=2_000)

    assert render_version(str(rendering_version.pk)) == "failed"

    rendering_version.refresh_from_db()
    assert rendering_version.status == VersionStatus.FAILED
    assert rendering_version.error.startswith("meets no marketplace profile: Walmart: fails max_bytes: ")


def test_a_required_profile_that_passes_publishes_the_version(rendering_version):
    MarketplaceProfile.objects.filter(slug="amazon-main").update(required=True)

    assert render_version(str(rendering_version.pk)) == "published"

    assert not rendering_version.blocked_channels.exists()


def test_the_published_webhook_carries_each_channels_state(flagged_600, reviewer):
    do_approve(flagged_600.pk, reviewer)
    render_version(str(flagged_600.pk))
    flagged_600.refresh_from_db()

    channels = {c["profile"]: c for c in version_data(flagged_600)["channels"]}

    assert channels["amazon-main"] == {
        "profile": "amazon-main",
        "channel": "amazon",
        "required": False,
        "state": "blocked",
        "reason": "600 px, needs 1000 px",
    }
    assert channels["shopify"]["state"] == "published"
    assert set(channels) == MEETS_AT_600 | set(TOO_SMALL_AT_600)


def test_a_version_failed_before_rendering_carries_no_channels(make_version, product):
    version = make_version(product, status=VersionStatus.FAILED, error="This JPEG file is incomplete.")

    assert "channels" not in version_data(version)


def test_an_admin_lowering_a_minimum_starts_a_run_that_publishes_on_that_channel(
    client, admin_user, flagged_600, reviewer, redis_conn, django_capture_on_commit_callbacks
):
    do_approve(flagged_600.pk, reviewer)
    render_version(str(flagged_600.pk))
    amazon = MarketplaceProfile.objects.get(slug="amazon-main")
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:catalog_marketplaceprofile_change", args=[amazon.pk]),
            admin_form_data(amazon, min_long_side=500),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    run = RerenderRun.objects.get(profile=amazon)
    assert rerender_chunk(run.pk) == "finished"

    assert "amazon-main" not in blocked_reasons(flagged_600)
    assert flagged_600.renditions.get(profile=amazon).compliance_passed
    assert flagged_600.blocked_channels.count() == len(TOO_SMALL_AT_600) - 1
