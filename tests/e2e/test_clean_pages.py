"""Pages load clean in a fresh browser: no console errors, no failed requests, the favicon
included (a browser asks for it once per session, on the first page)."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in_on

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class Problems:
    """Every console error, uncaught page error and 4xx/5xx response `page` sees."""

    def __init__(self, page) -> None:
        self.seen: list[str] = []
        page.on(
            "console",
            lambda msg: (
                msg.type == "error" and self.seen.append(f"console: {msg.text} at {msg.location['url']}")
            ),
        )
        page.on("pageerror", lambda error: self.seen.append(f"page error: {error}"))
        page.on(
            "response",
            lambda response: response.status >= 400 and self.seen.append(f"{response.status} {response.url}"),
        )


def settle(page) -> None:
    """Wait until the page and everything it asked for (the favicon too) has come back."""
    page.wait_for_load_state("networkidle")


def test_the_login_page_and_pages_after_it_load_without_errors_in_a_fresh_browser(
    browser, live_server, admin_user, redis_conn, caplog
):
    caplog.set_level(logging.WARNING, logger="django.request")
    context = browser.new_context()
    try:
        page = context.new_page()
        problems = Problems(page)

        page.goto(f"{live_server.url}/accounts/login/")
        settle(page)
        log_in_on(page, live_server, admin_user.username, PASSWORD)
        settle(page)
        # Under the Content-Security-Policy (no inline script or style) as well: a blocked
        # script or style is a console error here.
        for path in (
            "/review/",
            "/dashboard/",
            "/exports/",
            "/upload/",
            "/products/",
            "/webhooks/",
            "/scenes/",
            "/scenes/templates/new",
            "/scenes/rules/new",
            "/settings/shopify/",
            "/account/",
            "/admin/",
            "/django-rq/",
            "/api/v1/docs",
        ):
            page.goto(f"{live_server.url}{path}")
            settle(page)

        assert problems.seen == []
        # Chromium fetches the favicon outside the page, where no page event sees it: the
        # server's own log of every 4xx/5xx it answered does.
        refused = [r.getMessage() for r in caplog.records if r.name == "django.request"]
        assert refused == []
    finally:
        context.close()


def test_the_page_declares_its_icon_and_favicon_ico_leads_to_it(page, live_server, db):
    page.goto(f"{live_server.url}/accounts/login/")
    icon = page.locator("link[rel=icon]")
    href = icon.get_attribute("href")
    assert href.endswith(".svg")
    assert icon.get_attribute("type") == "image/svg+xml"

    declared = page.request.get(f"{live_server.url}{href}")
    assert declared.ok
    assert declared.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in declared.body()

    # Browsers (and pages without the link, such as the admin's) ask for /favicon.ico itself.
    legacy = page.request.get(f"{live_server.url}/favicon.ico")
    assert legacy.ok
    assert legacy.body() == declared.body()
