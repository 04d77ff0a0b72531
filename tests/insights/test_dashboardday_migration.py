"""DashboardDay moved from review to insights (review 0002, insights 0001-0002): the rows
stay, the table and its constraint take insights' names. Run with Django's migration
executor on a database with cached days in the old table."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from insights.models import DashboardDay
from tests.migration_steps import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("review", "0001_initial"), ("insights", None)]


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(None)


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def _create_in_savepoint(fields, computed_at):
    with transaction.atomic():
        DashboardDay.objects.create(**fields, computed_at=computed_at)


def test_cached_days_survive_the_move_to_insights(old_apps):
    old = old_apps.get_model("review", "DashboardDay")
    computed = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    for day in (date(2026, 11, 28), date(2026, 11, 29)):
        old.objects.create(day=day, filters_key="brand=Kiln|UTC", payload={"queued": 7}, computed_at=computed)
    assert "review_dashboardday" in _tables()

    migrate(None)

    assert "insights_dashboardday" in _tables()
    assert "review_dashboardday" not in _tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'insights_dashboardday'::regclass")
        assert {name for (name,) in cursor.fetchall()} == {
            "insights_dashboardday_pkey",
            "insights_dashboardday_unique_day_filters",
        }
    rows = list(
        DashboardDay.objects.order_by("day").values_list("day", "filters_key", "payload", "computed_at")
    )
    assert rows == [
        (date(2026, 11, 28), "brand=Kiln|UTC", {"queued": 7}, computed),
        (date(2026, 11, 29), "brand=Kiln|UTC", {"queued": 7}, computed),
    ]
    with (
        pytest.raises(IntegrityError, match="insights_dashboardday_unique_day_filters"),
        transaction.atomic(),
    ):
        DashboardDay.objects.create(
            day=date(2026, 11, 28), filters_key="brand=Kiln|UTC", payload={}, computed_at=computed
        )
    # New rows still get ids from the table's identity after the rename.
    DashboardDay.objects.create(day=date(2026, 11, 30), filters_key="", payload={}, computed_at=computed)


def test_the_move_can_be_reversed_with_the_rows(old_apps):
    migrate(None)
    DashboardDay.objects.create(
        day=date(2026, 12, 1), filters_key="", payload={"a": 1}, computed_at=datetime(2026, 12, 2, tzinfo=UTC)
    )

    apps = migrate(BEFORE)

    old = apps.get_model("review", "DashboardDay")
    assert list(old.objects.values_list("payload", flat=True)) == [{"a": 1}]
