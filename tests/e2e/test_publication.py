"""Publication per channel in a real browser: the reviewer sees which channels a 600 px photo
cannot meet before deciding, approves, a real worker publishes it, and the product page
shows where it is published and where it is blocked."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from catalog.models import ImageVersion, VersionStatus
from tests.conftest import PASSWORD, master_png, photo_bytes
from tests.e2e.test_review import wait_for, wait_for_item

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BLOCKED = {
    "amazon-main": "600 px, needs 1000 px",
    "etsy": "400 px on the short side, needs 635 px",
    "google-shopping": "400 px on the short side, needs 500 px",
    "walmart": "600 px, needs 1500 px",
}
PUBLISHED = {"ebay", "instagram-portrait", "instagram-square", "shopify", "storefront-avif"}


def test_a_reviewer_sees_the_channels_a_photo_cannot_meet_and_after_approve_where_it_is_published(
    log_in, live_server, reviewer, make_flagged, live_worker
):
    version = make_flagged(photo=photo_bytes((600, 400)))
    version.master.save("m.png", ContentFile(master_png()))
    page = log_in(reviewer.username, PASSWORD)
    page.goto(f"{live_server.url}/review/item/")
    wait_for_item(page, version)

    cannot = page.get_by_test_id("cannot-meet")
    expect(cannot).to_be_visible()
    expect(cannot.locator('[data-profile="amazon-main"]')).to_have_text(
        "Amazon main image: 600 px, needs 1000 px"
    )
    assert {li.get_attribute("data-profile") for li in cannot.locator("li").all()} == set(BLOCKED)
    will = page.get_by_test_id("will-meet")
    assert {li.get_attribute("data-profile") for li in will.locator("li").all()} == PUBLISHED
    expect(page.get_by_test_id("forecast-refusal")).to_have_count(0)

    page.get_by_test_id("approve").click()

    page.get_by_test_id("queue-empty").wait_for()
    wait_for(lambda: ImageVersion.objects.filter(pk=version.pk, status=VersionStatus.PUBLISHED).exists())
    page.goto(f"{live_server.url}/products/{version.source.product.sku}/")
    channels = page.get_by_test_id("channel")
    expect(channels).to_have_count(len(BLOCKED) + len(PUBLISHED))
    states = {c.get_attribute("data-profile"): c.get_attribute("data-state") for c in channels.all()}
    assert states == {**dict.fromkeys(PUBLISHED, "published"), **dict.fromkeys(BLOCKED, "blocked")}
    expect(channels.and_(page.locator('[data-profile="amazon-main"]'))).to_contain_text(
        "Blocked on Amazon main image: 600 px, needs 1000 px"
    )
    expect(channels.and_(page.locator('[data-profile="shopify"]'))).to_contain_text("Published on Shopify")
