"""The dashboard's day cache: the same figures from cached days as computed live, and invalidation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import ImageVersion, Rendition
from insights import daycache, kpis
from insights.dashboard import dashboard_kpis
from insights.models import DashboardDay
from review.models import ReviewDecision
from review.services import do_approve
from tests.insights import test_kpis
from tests.insights.test_kpis import at

history = test_kpis.history
prices = test_kpis.prices
profiles = test_kpis.profiles

# test_kpis' day (2026-03-02, UTC) with a whole day either side: three past days to cache.
WHOLE = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
# Partial first and last days: computed live, never cached.
PARTIAL = (at(hours=-12), at(hours=30))


def figures_of(start, end, filters, figures, finished_per_day=None, finished_per_hour=None):
    return {
        "ttp": figures.ttp,
        "ttp_daily": figures.ttp_daily,
        "hourly": figures.hourly,
        "cost_days": figures.cost_days,
        "tiers": kpis.volume_tiers(
            start, end, filters, figures.cost_days, finished_per_day, finished_per_hour
        ),
        "scored": figures.scored,
        "reasons": figures.reasons,
        "compliance": figures.compliance,
    }


def live(start, end, filters):
    """The range composed from its days computed now, nothing read from storage."""
    return figures_of(start, end, filters, kpis.over_range(start, end, filters))


def cached(start, end, filters):
    with kpis.analytics():
        figures = daycache.range_figures(start, end, filters)
        # The tiers' walk goes by the stored days' and hours' counts, as on the page.
        return figures_of(
            start,
            end,
            filters,
            figures,
            daycache.finished_per_day(start, end),
            daycache.finished_per_hour(start, end),
        )


def queries(call):
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, len(captured)


def filter_sets(history, profiles):
    first, _ = profiles
    return [
        kpis.Filters(),
        kpis.Filters(brand="Loom"),
        kpis.Filters(category="Kitchen"),
        kpis.Filters(batch=history["batch"].pk),
        kpis.Filters(profile=first.slug),
    ]


def test_cached_days_give_the_figures_computed_live(history, prices, profiles, settings):
    settings.LIGHTBOX_VOLUME_TIERS = ((0, 1.0), (3, 0.5))  # a tier starting inside the day
    for filters in filter_sets(history, profiles):
        truth = live(*WHOLE, filters)
        cold, cold_queries = queries(lambda f=filters: cached(*WHOLE, f))
        warm, warm_queries = queries(lambda f=filters: cached(*WHOLE, f))

        assert cold == truth
        assert warm == truth
        assert warm_queries < cold_queries, "the second load read the cache"
    assert truth["scored"].intervention.total > 0  # the last filters (a profile) still count something
    # Three whole past days per set of filters, each set keyed apart.
    assert DashboardDay.objects.count() == 3 * 5
    assert DashboardDay.objects.values("filters_key").distinct().count() == 5


def test_the_page_is_the_same_from_the_cache(history, prices, profiles):
    for filters in filter_sets(history, profiles):
        cold = dashboard_kpis(*WHOLE, filters)
        rows = DashboardDay.objects.count()
        warm = dashboard_kpis(*WHOLE, filters)

        assert warm == cold
        assert DashboardDay.objects.count() == rows


def test_partial_days_are_stored_by_their_hours_and_the_hour_not_over_never(history, prices):
    assert cached(*PARTIAL, kpis.NO_FILTERS) == live(*PARTIAL, kpis.NO_FILTERS)
    # Only 2026-03-02 lies whole inside: 21:00 on 03-01 … 15:00 on 03-03; of the partial
    # days, their hours in the range.
    stored = DashboardDay.objects.order_by("day", "hour").values_list("day", "hour")
    assert [hour for day, hour in stored if hour is None] == [None]
    assert [(str(day), hour) for day, hour in stored if hour is not None] == [
        *(("2026-03-01", h) for h in (21, 22, 23)),
        *(("2026-03-03", h) for h in range(15)),
    ]
    assert cached(*PARTIAL, kpis.NO_FILTERS) == live(*PARTIAL, kpis.NO_FILTERS)

    now = timezone.now()
    cached(now - timedelta(days=2), now, kpis.NO_FILTERS)
    today = timezone.localdate(now)
    todays = set(DashboardDay.objects.filter(day=today).values_list("hour", flat=True))
    assert todays == set(range(timezone.localtime(now).hour)), "today's hours that are over, no more"
    assert DashboardDay.objects.filter(day=today - timedelta(days=1), hour=None).exists()


def test_a_version_processed_now_keeps_todays_past_hours_but_an_older_change_drops_its_hour(
    history, prices, make_version
):
    now = timezone.now()
    cached(now - timedelta(days=1), now, kpis.NO_FILTERS)
    before = DashboardDay.objects.count()
    product = test_kpis.Product.objects.create(sku="KPI-NOW", title="Now")
    make_version(product, status=test_kpis.VersionStatus.QUEUED, queued_at=now)
    assert DashboardDay.objects.count() == before
    two_hours_ago = now - timedelta(hours=2)
    if timezone.localdate(two_hours_ago) == timezone.localdate(now):
        make_version(product, status=test_kpis.VersionStatus.QUEUED, queued_at=two_hours_ago)
        assert DashboardDay.objects.count() == before - 1
        assert not DashboardDay.objects.filter(
            day=timezone.localdate(now), hour=timezone.localtime(two_hours_ago).hour
        ).exists()
    assert cached(now - timedelta(days=1), now, kpis.NO_FILTERS) == live(
        now - timedelta(days=1), now, kpis.NO_FILTERS
    )


def test_a_stale_day_is_computed_again(history, prices):
    truth = live(*WHOLE, kpis.NO_FILTERS)
    cached(*WHOLE, kpis.NO_FILTERS)
    # A change the signals cannot see: the cached row is wrong, but over a day old.
    wrong = kpis.DayFigures(hourly={str(int(at().timestamp())): 999}).as_json()
    DashboardDay.objects.update(payload=wrong, computed_at=timezone.now() - daycache.MAX_AGE)

    assert cached(*WHOLE, kpis.NO_FILTERS) == truth


def test_approving_an_old_flagged_version_changes_its_scored_day(history, prices, reviewer):
    before = cached(*WHOLE, kpis.NO_FILTERS)
    assert before["scored"].intervention.approve == 1

    do_approve(history["e"].pk, reviewer)  # flagged on 2026-03-02, approved today

    after = cached(*WHOLE, kpis.NO_FILTERS)
    assert after["scored"].intervention.approve == 2
    assert after == live(*WHOLE, kpis.NO_FILTERS)


def test_a_decision_written_on_its_own_changes_its_scored_day(history, prices, reviewer):
    flagged_day = (datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))  # i
    assert cached(*flagged_day, kpis.NO_FILTERS)["scored"].intervention.reject == 0

    ReviewDecision.objects.create(version=history["i"], reviewer=reviewer, action="reject", reason="blurry")

    assert cached(*flagged_day, kpis.NO_FILTERS)["scored"].intervention.reject == 1


def test_a_new_rendition_on_a_past_day_changes_its_compliance(history, profiles):
    _, second = profiles
    before = cached(*WHOLE, kpis.NO_FILTERS)["compliance"]
    profile_filtered = cached(*WHOLE, kpis.Filters(profile=second.slug))

    Rendition.objects.create(
        version=history["b"],
        profile=second,
        spec="s1",
        file="renditions/x.jpg",
        width=10,
        height=10,
        byte_size=100,
        format="jpeg",
        compliance_passed=False,
        created_at=at(hours=7),
    )

    after = cached(*WHOLE, kpis.NO_FILTERS)["compliance"]
    assert after != before
    assert after == live(*WHOLE, kpis.NO_FILTERS)["compliance"]
    # b now belongs to the profile: its scored and published figures join the filtered days.
    now_filtered = cached(*WHOLE, kpis.Filters(profile=second.slug))
    assert now_filtered != profile_filtered
    assert now_filtered == live(*WHOLE, kpis.Filters(profile=second.slug))


def test_a_brand_change_on_the_product_moves_its_versions_between_brands(history, prices):
    loom = kpis.Filters(brand="Loom")
    before = cached(*WHOLE, loom)

    product = history["a"].source.product
    product.brand = "Loom"
    product.save()

    after = cached(*WHOLE, loom)
    assert after["scored"].intervention.total == before["scored"].intervention.total + 1
    assert after == live(*WHOLE, loom)
    assert cached(*WHOLE, kpis.Filters(brand="Kiln")) == live(*WHOLE, kpis.Filters(brand="Kiln"))


def test_a_deleted_version_leaves_its_days(history, prices):
    before = cached(*WHOLE, kpis.NO_FILTERS)

    ImageVersion.objects.filter(pk=history["b"].pk).delete()

    after = cached(*WHOLE, kpis.NO_FILTERS)
    assert sum(d.versions for d in after["cost_days"]) == sum(d.versions for d in before["cost_days"]) - 1
    assert after == live(*WHOLE, kpis.NO_FILTERS)


def test_retrying_a_version_that_failed_long_ago_takes_its_cost_back(history, prices):
    before = cached(*WHOLE, kpis.NO_FILTERS)

    history["h"].retry()  # failed on 2026-03-02 with 0.5 s of compute

    after = cached(*WHOLE, kpis.NO_FILTERS)
    assert sum(d.versions for d in after["cost_days"]) == sum(d.versions for d in before["cost_days"]) - 1
    assert after == live(*WHOLE, kpis.NO_FILTERS)


@pytest.mark.parametrize("field", ["brand", "category"])
def test_a_product_saved_without_a_brand_or_category_change_keeps_the_cache(history, field):
    cached(*WHOLE, kpis.NO_FILTERS)
    product = history["a"].source.product
    product.title = "Renamed"
    product.save()

    assert DashboardDay.objects.count() == 3


def test_a_version_saved_with_past_times_joins_its_days(history, prices, make_version):
    before = cached(*WHOLE, kpis.NO_FILTERS)

    make_version(
        history["a"].source.product,
        status=ImageVersion.Status.FLAGGED,
        queued_at=at(hours=5),
        scored_at=at(hours=5),
        score=30,
        reasons=test_kpis.reasons("blurry"),
    )

    after = cached(*WHOLE, kpis.NO_FILTERS)
    assert after["scored"].intervention.flagged == before["scored"].intervention.flagged + 1
    assert after == live(*WHOLE, kpis.NO_FILTERS)


def test_blocked_channels_count_the_same_from_cached_days_and_deleting_one_forgets_its_day(history, profiles):
    first, _ = profiles
    blocked = test_kpis.block(history["b"], first, at(hours=7))
    warm = cached(*WHOLE, kpis.NO_FILTERS)["compliance"]
    assert warm == live(*WHOLE, kpis.NO_FILTERS)["compliance"]
    assert next(row for row in warm if row.profile == first.slug).blocked == 1

    blocked.delete()

    after = cached(*WHOLE, kpis.NO_FILTERS)["compliance"]
    assert next(row for row in after if row.profile == first.slug).blocked == 0
    assert after == live(*WHOLE, kpis.NO_FILTERS)["compliance"]


def test_a_process_decodes_a_stored_day_once_and_reads_it_again_once_it_is_recomputed(history, prices):
    daycache.forget_decoded()
    first = cached(*WHOLE, kpis.NO_FILTERS)  # computed and stored
    assert cached(*WHOLE, kpis.NO_FILTERS) == first  # read from storage and decoded
    with CaptureQueriesContext(connection) as again:
        assert cached(*WHOLE, kpis.NO_FILTERS) == first
    # Not read again: the days are looked up by id and computed_at only.
    assert not any('"payload" FROM' in query["sql"] for query in again.captured_queries)

    # The same rows recomputed (as the roll-up refreshes them): a new computed_at, a new payload.
    changed = kpis.DayFigures(hourly={str(int(at().timestamp())): 999}).as_json()
    DashboardDay.objects.update(payload=changed, computed_at=timezone.now())

    assert cached(*WHOLE, kpis.NO_FILTERS)["hourly"] != first["hourly"]
