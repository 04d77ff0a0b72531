"""Reviewers in a real browser: decisions from the keyboard, claims across two sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import ImageVersion, VersionStatus
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in_on(page, live_server, username: str):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/products/")
    return page


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
            log_in_on(c.new_page(), live_server, u.username)
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
