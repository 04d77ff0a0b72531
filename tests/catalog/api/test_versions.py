"""/versions: status, score, reasons, timestamps and renditions with public URLs; filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from catalog.models import BlockedChannel, ImageVersion, MarketplaceProfile, VersionStatus
from tests.catalog.api.conftest import assert_error
from tests.conftest import FLAGGED_REASONS

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_a_version_shows_its_decision_timestamps_and_renditions_with_public_urls(
    api_as, reviewer, product, make_photo
):
    version = make_photo(product, 1, profiles=("shopify", "amazon-main"), score=91, published_at=T0)
    ImageVersion.objects.filter(pk=version.pk).update(queued_at=T0 - timedelta(minutes=5), scored_at=T0)
    renditions = {r.profile.slug: r for r in version.renditions.all()}

    response = api_as(reviewer).get(f"/api/v1/versions/{version.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["sku"], body["number"], body["status"]) == (
        str(version.pk),
        "MUG-001",
        1,
        "published",
    )
    assert (body["score"], body["reasons"], body["error"]) == (91, [], "")
    assert body["queued_at"] == "2025-06-01T11:55:00Z"
    assert body["published_at"] == body["scored_at"] == body["updated_at"] == "2025-06-01T12:00:00Z"
    assert body["started_at"] is None
    assert [r["profile"] for r in body["renditions"]] == ["amazon-main", "shopify"]
    shopify = next(r for r in body["renditions"] if r["profile"] == "shopify")
    rendition = renditions["shopify"]
    file_name = rendition.file.name.rsplit("/", 1)[1]
    assert shopify == {
        "id": str(rendition.pk),
        "profile": "shopify",
        "channel": rendition.profile.channel,
        "format": "jpeg",
        "width": 24,
        "height": 24,
        "byte_size": rendition.byte_size,
        "compliance_passed": True,
        "created_at": shopify["created_at"],
        "url": f"{settings.LIGHTBOX_PUBLIC_BASE_URL}/i/{rendition.public_key}/{file_name}",
    }


def test_a_flagged_version_lists_its_reasons(api_as, reviewer, make_flagged):
    version = make_flagged(score=40)
    body = api_as(reviewer).get(f"/api/v1/versions/{version.pk}").json()
    assert (body["status"], body["score"], body["reasons"], body["renditions"]) == (
        "flagged",
        40,
        FLAGGED_REASONS,
        [],
    )


def test_an_unknown_or_malformed_version_id_is_an_error_body(api_as, reviewer):
    assert_error(
        api_as(reviewer).get("/api/v1/versions/00000000-0000-0000-0000-000000000000"), 404, "not_found"
    )
    error = assert_error(api_as(reviewer).get("/api/v1/versions/not-a-uuid"), 422, "validation_error")
    assert error["details"][0]["loc"] == ["path", "version_id"]


@pytest.fixture
def history(product, make_version):
    """Four versions whose latest events are at T0+1h, +2h, +3h and +4h."""
    made = {}
    made["queued"] = make_version(product, status=VersionStatus.QUEUED, queued_at=T0 + timedelta(hours=3))
    made["flagged"] = make_version(
        product, status=VersionStatus.FLAGGED, queued_at=T0, scored_at=T0 + timedelta(hours=1)
    )
    made["published"] = make_version(
        product,
        status=VersionStatus.PUBLISHED,
        queued_at=T0,
        scored_at=T0 + timedelta(minutes=30),
        published_at=T0 + timedelta(hours=4),
    )
    made["failed"] = make_version(
        product, status=VersionStatus.FAILED, queued_at=T0, failed_at=T0 + timedelta(hours=2), error="broken"
    )
    return made


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_the_version_list_is_oldest_change_first_and_filters_by_status_and_update_time(
    api_as, reviewer, history
):
    client = api_as(reviewer)
    order = ["flagged", "failed", "queued", "published"]
    body = client.get("/api/v1/versions").json()
    assert body["total"] == 4
    assert ids(client.get("/api/v1/versions")) == [str(history[name].pk) for name in order]
    assert [item["updated_at"] for item in body["items"]] == [
        "2025-06-01T13:00:00Z",
        "2025-06-01T14:00:00Z",
        "2025-06-01T15:00:00Z",
        "2025-06-01T16:00:00Z",
    ]
    since = client.get("/api/v1/versions", {"updated_since": "2025-06-01T14:00:00Z"})
    assert ids(since) == [str(history[name].pk) for name in ("failed", "queued", "published")]
    assert since.json()["total"] == 3
    assert ids(client.get("/api/v1/versions", {"status": "failed"})) == [str(history["failed"].pk)]
    assert (
        ids(client.get("/api/v1/versions", {"status": "published", "updated_since": "2025-06-01T16:00:01Z"}))
        == []
    )
    assert ids(client.get("/api/v1/versions", {"sku": "OTHER-1"})) == []


def test_the_version_list_pages_with_a_next_link(api_as, reviewer, history):
    client = api_as(reviewer)
    first = client.get("/api/v1/versions", {"limit": 3}).json()
    assert (first["total"], len(first["items"])) == (4, 3)
    second = client.get(first["next"]).json()
    assert [item["id"] for item in second["items"]] == [str(history["published"].pk)]
    assert second["next"] is None


def test_a_version_carries_the_state_of_each_channel_with_the_reason_it_is_blocked(
    api_as, reviewer, product, make_photo
):
    version = make_photo(product, 1, profiles=("shopify",), published_at=T0)
    BlockedChannel.objects.create(
        version=version,
        profile=MarketplaceProfile.objects.get(slug="amazon-main"),
        cause=BlockedChannel.Cause.SIZE,
        reason="600 px, needs 1000 px",
        shortfall_data={"side": "long", "have": 600, "need": 1000},
    )

    body = api_as(reviewer).get(f"/api/v1/versions/{version.pk}").json()
    listed = api_as(reviewer).get("/api/v1/versions").json()["items"]

    channels = {c["profile"]: c for c in body["channels"]}
    assert channels["amazon-main"] == {
        "profile": "amazon-main",
        "channel": "amazon",
        "name": "Amazon main image",
        "required": False,
        "state": "blocked",
        "reason": "600 px, needs 1000 px",
    }
    assert (channels["shopify"]["state"], channels["shopify"]["reason"]) == ("published", "")
    assert channels["walmart"]["state"] == "unpublished"
    assert listed[0]["channels"] == body["channels"]
