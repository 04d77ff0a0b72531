"""The dashboard in a real browser: charts drawn at a visible size, a flag reason drilling
down into the review queue, and a batch carried from the dashboard into the product list."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_draws_its_charts_and_a_flag_reason_opens_the_filtered_queue(
    log_in, live_server, admin_user, make_flagged, redis_conn
):
    make_flagged(reasons=[{"code": "cut_off", "message": "Cut off"}])
    make_flagged(reasons=[{"code": "blurry", "message": "Blurry"}])
    page = log_in(admin_user.username, PASSWORD)

    page.goto(f"{live_server.url}/dashboard/")
    for chart in ("time-to-publication-per-day", "cost-per-day", "throughput-per-hour", "score-distribution"):
        svg = page.locator(f'svg[data-chart="{chart}"]')
        svg.wait_for()
        box = svg.bounding_box()
        assert box["width"] > 0
        assert box["height"] > 0
    assert page.locator('svg[data-chart="score-distribution"] g.bar').count() == 10
    assert page.get_by_test_id("volume-tiers").locator("tbody tr").count() == 1

    page.locator('[data-testid=flag-reasons] a[data-reason="cut_off"]').click()

    page.wait_for_url(re.compile(r"/review/\?reason=cut_off$"))
    assert page.locator("select[name=reason]").input_value() == "cut_off"
    assert page.get_by_test_id("queue-row").count() == 1


def test_a_batch_chosen_on_the_dashboard_narrows_it_and_the_product_list_behind_it(
    log_in, live_server, admin_user, make_flagged, redis_conn
):
    from catalog.models import UploadBatch

    spring = UploadBatch.objects.create(name="Spring launch")
    in_batch = make_flagged(brand="Kiln")
    in_batch.source.batch = spring
    in_batch.source.save(update_fields=["batch"])
    make_flagged(brand="Loom")
    page = log_in(admin_user.username, PASSWORD)

    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_test_id("dashboard-form").locator("select[name=batch]").select_option(label="Spring launch")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(rf"batch={spring.pk}"))
    flagged = page.get_by_test_id("status-counts").get_by_role("row", name=re.compile("Flagged for review"))
    assert flagged.locator("td").nth(1).inner_text() == "1"

    flagged.get_by_role("link").click()

    page.wait_for_url(re.compile(rf"/products/\?batch={spring.pk}&status=flagged$"))
    rows = page.get_by_test_id("product-table").locator("tbody tr")
    assert rows.count() == 1
    assert in_batch.source.product.sku in rows.first.inner_text()
