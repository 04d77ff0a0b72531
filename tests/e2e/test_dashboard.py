"""The dashboard in a real browser: charts drawn at a visible size, and a flag reason drilling
down into the review queue."""

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
    for chart in ("cost-per-day", "throughput-per-hour", "score-distribution"):
        svg = page.locator(f'svg[data-chart="{chart}"]')
        svg.wait_for()
        box = svg.bounding_box()
        assert box["width"] > 0
        assert box["height"] > 0
    assert page.locator('svg[data-chart="score-distribution"] g.bar').count() == 10

    page.locator('[data-testid=flag-reasons] a[data-reason="cut_off"]').click()

    page.wait_for_url(re.compile(r"/review/\?reason=cut_off$"))
    assert page.locator("select[name=reason]").input_value() == "cut_off"
    assert page.get_by_test_id("queue-row").count() == 1
