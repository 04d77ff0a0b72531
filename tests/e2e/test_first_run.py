"""A newcomer's first minutes: log in to the demo and see the catalog."""

from __future__ import annotations

import pytest

from catalog.demo import DEMO_PRODUCTS, load_demo

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_merchandiser_logs_in_and_sees_the_demo_catalog(log_in, live_server, redis_conn):
    load_demo("demo-password-1")

    page = log_in("merch", "demo-password-1")

    table = page.get_by_test_id("product-table")
    for item in DEMO_PRODUCTS:
        assert table.get_by_role("link", name=item.sku).is_visible()
    thumbnails = table.locator("img")
    assert thumbnails.count() == len(DEMO_PRODUCTS)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=product-table] img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    nav = page.get_by_role("navigation")
    for link in ("Upload", "Products", "Exports"):
        assert nav.get_by_role("link", name=link).is_visible()
    assert nav.get_by_role("link", name="Review").count() == 0


def test_every_navigation_link_works_for_an_admin(log_in, live_server, redis_conn):
    load_demo("demo-password-1")
    page = log_in("admin", "demo-password-1")

    nav = page.get_by_role("navigation")
    for link in ("Upload", "Products", "Review", "Dashboard", "Exports"):
        nav.get_by_role("link", name=link).click()
        page.wait_for_load_state()
        heading = page.get_by_role("heading", level=1)
        assert heading.is_visible(), link
        assert "Forbidden" not in page.content()


def test_a_wrong_password_keeps_the_visitor_out(page, live_server, db):
    page.goto(f"{live_server.url}/products/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Your username and password didn't match")
