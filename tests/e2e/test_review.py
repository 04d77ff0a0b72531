"""Reviewers in a real browser: decisions from the keyboard, claims across two sessions,
a crop drawn on the photo, and a real worker publishing what was approved."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from catalog.models import ImageVersion, VersionStatus
from processing.publishing import applicable_profiles
from tests.conftest import PASSWORD, master_png, photo_bytes
from tests.e2e.conftest import log_in_on

SIDES = ("left", "top", "right", "bottom")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for_item(page, version) -> None:
    # Settled (htmx-added gone): htmx has wired the new item's forms, so a key press
    # right away goes through htmx rather than a plain form submission.
    page.locator(f'[data-testid=review-item][data-version="{version.pk}"]:not(.htmx-added)').wait_for()


def shown_version(page) -> str:
    return page.get_by_test_id("review-item").get_attribute("data-version")


def test_a_reviewer_approves_with_the_keyboard_and_the_next_item_is_already_there(
    log_in, live_server, reviewer, make_flagged, redis_conn
):
    first, second = make_flagged(minutes_ago=20), make_flagged(minutes_ago=10)
    page = log_in(reviewer.username, PASSWORD)
    page.goto(f"{live_server.url}/review/item/")
    assert shown_version(page) == str(first.pk)

    page.keyboard.press("?")
    assert page.get_by_test_id("review-keys").is_visible()
    page.keyboard.press("Escape")

    page.keyboard.press("a")

    wait_for_item(page, second)
    assert "Approved ITEM-1 v1." in page.get_by_test_id("done").inner_text()
    first.refresh_from_db()
    assert first.status == VersionStatus.RENDERING

    page.keyboard.press("r")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.get_by_test_id("queue-empty").wait_for()
    second.refresh_from_db()
    assert (second.status, second.decisions.get().reason) == (VersionStatus.REJECTED, "bad_cutout")


def test_two_reviewers_see_different_items_and_a_stale_decision_is_refused_visibly(
    browser, live_server, reviewer, other_reviewer, make_flagged, redis_conn
):
    first, second = make_flagged(minutes_ago=20), make_flagged(minutes_ago=10)
    contexts = [browser.new_context(), browser.new_context()]
    try:
        rita, rob = (
            log_in_on(c.new_page(), live_server, u.username, PASSWORD)
            for c, u in zip(contexts, (reviewer, other_reviewer), strict=True)
        )
        rita.goto(f"{live_server.url}/review/item/")
        rob.goto(f"{live_server.url}/review/item/")
        assert shown_version(rita) == str(first.pk)
        assert shown_version(rob) == str(second.pk)

        # Rita steps away; her claim runs out and Rob, moving back, takes the item and approves it.
        ImageVersion.objects.filter(pk=first.pk).update(
            claim_expires_at=timezone.now() - timedelta(seconds=1)
        )
        rob.keyboard.press("k")
        wait_for_item(rob, first)
        rob.keyboard.press("a")
        rob.get_by_test_id("done").wait_for()

        rita.keyboard.press("a")

        stale = rita.get_by_test_id("stale")
        stale.wait_for()
        assert "This item was already decided: it is now rendering." in stale.inner_text()
        assert ImageVersion.objects.get(pk=first.pk).decisions.get().reviewer == other_reviewer
    finally:
        for context in contexts:
            context.close()


def wait_for(condition, timeout: float = 60.0, every: float = 0.5):
    """Poll until `condition()` returns something truthy; that value, or fail at the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"still waiting after {timeout:.0f} s")


def test_an_item_approved_from_the_keyboard_is_rendered_and_published_by_the_worker(
    log_in, live_server, reviewer, make_flagged, small_profiles, live_worker
):
    version = make_flagged()
    give_a_photo(version, (600, 480))  # big enough for every (quartered) profile's minimum
    version.master.save("m.png", ContentFile(master_png()))
    page = log_in(reviewer.username, PASSWORD)
    page.goto(f"{live_server.url}/review/item/")
    wait_for_item(page, version)

    page.keyboard.press("a")

    page.get_by_test_id("queue-empty").wait_for()
    assert "Approved ITEM-1 v1." in page.get_by_test_id("done").inner_text()
    published = wait_for(
        lambda: ImageVersion.objects.filter(pk=version.pk, status=VersionStatus.PUBLISHED).first()
    )
    renditions = published.renditions.select_related("profile")
    assert {r.profile.slug for r in renditions} == {p.slug for p in applicable_profiles(published)}
    assert all(r.compliance_passed for r in renditions)
    assert published.decisions.get().reviewer == reviewer


def give_a_photo(version, size: tuple[int, int]) -> None:
    """Swap the version's tiny test photo for one big enough that the page shows it scaled."""
    data = photo_bytes(size=size)
    source = version.source
    source.file.save("large.jpg", ContentFile(data), save=False)
    source.width, source.height, source.byte_size = size[0], size[1], len(data)
    source.save()


def test_a_crop_dragged_on_the_photo_reprocesses_the_item_as_a_new_version(
    log_in, live_server, reviewer, make_flagged, redis_conn
):
    old = make_flagged()
    give_a_photo(old, (1600, 1200))
    page = log_in(reviewer.username, PASSWORD)
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(error))
    page.goto(f"{live_server.url}/review/item/")
    wait_for_item(page, old)
    photo = page.get_by_test_id("source-photo")
    page.wait_for_function("() => document.querySelector('[data-testid=source-photo]').naturalWidth > 0")
    box = photo.bounding_box()
    shown_width = photo.evaluate("img => img.clientWidth")
    assert shown_width < 1600, "the photo is shown scaled, so the crop must be scaled back"

    # From a tenth in to three quarters across and down, in several moves like a hand.
    start = (box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
    end = (box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.75)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()

    assert page.get_by_test_id("crop-box").is_visible()
    assert "zoomed" not in (page.get_by_test_id("crop-area").get_attribute("class") or ""), (
        "a drag is not a click"
    )
    crop = [int(page.locator(f"input[name=crop_{side}]").input_value()) for side in SIDES]
    per_pixel = 1600 / shown_width
    expected = [160, 120, 1200, 900]
    assert all(abs(got - want) <= per_pixel + 1 for got, want in zip(crop, expected, strict=True)), crop
    # The fields stay editable: the reviewer nudges one edge by hand.
    page.locator("input[name=crop_right]").fill("1210")
    crop[2] = 1210

    page.get_by_test_id("reprocess-submit").click()

    page.get_by_test_id("queue-empty").wait_for()
    assert "Reprocessing ITEM-1 v2." in page.get_by_test_id("done").inner_text()
    old.refresh_from_db()
    new = ImageVersion.objects.get(source=old.source, number=2)
    assert old.status == VersionStatus.SUPERSEDED
    assert (new.parent_id, new.status, new.options["crop"]) == (old.pk, VersionStatus.QUEUED, crop)
    assert not script_errors
