"""Range figures composed from stored days against the same figures computed directly over the
range in SQL, on a small dataset; and the roll-up that stores every single-filter view ahead."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import ImageVersion, Product, VersionStatus
from insights import daycache, kpis
from insights.models import DashboardDay
from lightbox import sketch
from lightbox.sketch import RELATIVE_ERROR
from review.models import ReviewDecision
from tests.insights import test_kpis

history = test_kpis.history
prices = test_kpis.prices
profiles = test_kpis.profiles

WHOLE = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))


@pytest.fixture
def busy_days(history, make_version):
    """A hundred and twenty more publications over the three days, minutes to hours each."""
    rng = random.Random(18)  # noqa: S311 - reproducible test data
    product = Product.objects.create(sku="KPI-MANY", title="Many", brand="Kiln", category="Kitchen")
    source = make_version(product, status=VersionStatus.FAILED, error="x", failed_at=WHOLE[0]).source
    versions = []
    for number in range(2, 122):
        queued = WHOLE[0] + timedelta(seconds=rng.uniform(0, 2.5 * 86400))
        scored = queued + timedelta(seconds=rng.uniform(5, 60))
        versions.append(
            ImageVersion(
                source=source,
                number=number,
                status=VersionStatus.PUBLISHED,
                brand="Kiln",
                category="Kitchen",
                queued_at=queued,
                scored_at=scored,
                published_at=scored + timedelta(seconds=rng.lognormvariate(5, 1.5)),
                score=rng.randint(70, 100),
                compute_seconds=rng.uniform(0.1, 4),
                compute_device=rng.choice(["cpu", "gpu"]),
            )
        )
    ImageVersion.objects.bulk_create(versions)
    return history


def direct(start, end):
    """The range's figures straight from the tables, one SQL aggregate each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP ("
            "  ORDER BY date_part('epoch', published_at - queued_at)) "
            "FROM catalog_imageversion WHERE published_at >= %s AND published_at < %s",
            [start, end],
        )
        published, percentiles = cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE status IN ('flagged', 'rejected', 'superseded') "
            "  OR reviewed_at IS NOT NULL) FROM catalog_imageversion "
            "WHERE scored_at >= %s AND scored_at < %s",
            [start, end],
        )
        scored, flagged = cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*), SUM(compute_seconds * CASE WHEN compute_device = 'gpu' THEN 0.1 ELSE 0.01 END) "
            "FROM catalog_imageversion WHERE compute_seconds IS NOT NULL "
            "AND COALESCE(scored_at, failed_at) >= %s AND COALESCE(scored_at, failed_at) < %s",
            [start, end],
        )
        finished, cost = cursor.fetchone()
    return published, percentiles, scored, flagged, finished, cost


def stored(start, end, filters=kpis.NO_FILTERS):
    with kpis.analytics():
        daycache.range_figures(start, end, filters)  # computes and stores the days
        return daycache.range_figures(start, end, filters)  # reads them back


def test_figures_composed_from_stored_days_equal_the_direct_computation(busy_days, prices):
    published, percentiles, scored, flagged, finished, cost = direct(*WHOLE)
    figures = stored(*WHOLE)

    assert DashboardDay.objects.count() == 3
    assert figures.ttp.count == published == 4 + 120
    assert [figures.ttp.median_seconds, figures.ttp.p90_seconds, figures.ttp.p95_seconds] == pytest.approx(
        percentiles, rel=1e-9
    )
    assert (figures.scored.intervention.total, figures.scored.intervention.flagged) == (scored, flagged)
    assert (figures.cost.versions, figures.cost.cost) == (finished, pytest.approx(cost))
    assert sum(h.published for h in figures.hourly) == published


def test_a_profile_filter_counts_the_versions_with_a_rendition_for_it(busy_days, prices, profiles):
    # The filter reads the profiles kept on each version (catalog.rendered); the truth is an
    # EXISTS over the renditions.
    rendered = "EXISTS (SELECT 1 FROM catalog_rendition r WHERE r.version_id = v.id AND r.profile_id = %s)"
    for profile in profiles:
        figures = stored(*WHOLE, kpis.Filters(profile=profile.slug))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM catalog_imageversion v "  # noqa: S608 - constant
                f"WHERE published_at >= %s AND published_at < %s AND {rendered}",
                [*WHOLE, profile.pk],
            )
            (published,) = cursor.fetchone()
            cursor.execute(
                "SELECT COUNT(*) FROM catalog_imageversion v "  # noqa: S608 - constant
                f"WHERE scored_at >= %s AND scored_at < %s AND {rendered}",
                [*WHOLE, profile.pk],
            )
            (scored,) = cursor.fetchone()
            cursor.execute(
                "SELECT COUNT(*), SUM(compute_seconds) FROM catalog_imageversion v "  # noqa: S608
                "WHERE compute_seconds IS NOT NULL AND COALESCE(scored_at, failed_at) >= %s "
                f"AND COALESCE(scored_at, failed_at) < %s AND {rendered}",
                [*WHOLE, profile.pk],
            )
            finished, seconds = cursor.fetchone()
        assert published > 0
        assert figures.ttp.count == published
        assert figures.scored.intervention.total == scored
        assert figures.cost.versions == finished
        assert figures.cost.cpu_seconds + figures.cost.gpu_seconds == pytest.approx(seconds)


def test_sketched_days_give_percentiles_within_the_stated_error(busy_days, prices, monkeypatch):
    monkeypatch.setattr(sketch, "EXACT_UP_TO", 10)  # every busy day keeps its buckets only
    _, percentiles, *_ = direct(*WHOLE)
    figures = stored(*WHOLE)

    got = [figures.ttp.median_seconds, figures.ttp.p90_seconds, figures.ttp.p95_seconds]
    assert got != pytest.approx(percentiles, rel=1e-9), "read from the buckets, not the exact values"
    assert got == pytest.approx(percentiles, rel=RELATIVE_ERROR)


def test_the_roll_up_stores_every_single_filter_so_a_page_computes_only_today(history, prices, profiles):
    first, second = profiles
    done = daycache.roll_up()
    # From the first of the month of the first version queued (2026-03-02, 07:00) to yesterday.
    assert done.days == (timezone.localdate() - date(2026, 3, 1)).days
    rolled_up = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC))
    assert daycache.roll_up().rows == 0, "a second run finds every day fresh"

    single = [
        kpis.NO_FILTERS,
        kpis.Filters(brand="Loom"),
        kpis.Filters(brand="Nobody"),  # on no day: every marked day reads as empty
        kpis.Filters(category="Textiles"),
        kpis.Filters(batch=history["batch"].pk),
        kpis.Filters(profile=second.slug),
    ]
    for filters in single:
        rows = DashboardDay.objects.count()
        with kpis.analytics(), CaptureQueriesContext(connection) as captured:
            figures = daycache.range_figures(*rolled_up, filters)
        assert DashboardDay.objects.count() == rows, f"{filters}: every day was stored"
        assert len(captured) <= 4, f"{filters}: read, not computed"
        assert figures == kpis.over_range(*rolled_up, filters)
    assert kpis.over_range(*rolled_up, kpis.Filters(brand="Loom")).ttp.count == 2


def test_a_change_drops_the_rolled_up_days_with_their_markers(history, prices):
    daycache.roll_up()
    with kpis.analytics():
        before = daycache.range_figures(*WHOLE, kpis.Filters(brand="Kiln"))
    ImageVersion.objects.get(pk=history["e"].pk).delete()  # scored 2026-03-02

    with kpis.analytics():
        figures = daycache.range_figures(*WHOLE, kpis.Filters(brand="Kiln"))

    assert figures == kpis.over_range(*WHOLE, kpis.Filters(brand="Kiln"))
    # Kiln's flagged: e, g and i (scored 2026-03-03); e is gone.
    assert (before.scored.intervention.flagged, figures.scored.intervention.flagged) == (3, 2)


def test_review_effort_from_stored_days_equals_the_direct_computation(history, reviewer, make_version):
    product = Product.objects.create(sku="KPI-EFFORT", title="Effort")
    for n, (hours, seconds) in enumerate([(-10, 12.0), (2, 30.0), (5, 7.5), (26, 90.0), (27, None)]):
        version = make_version(product, status=VersionStatus.REJECTED, queued_at=test_kpis.at(hours=hours))
        ReviewDecision.objects.create(
            version=version,
            reviewer=reviewer,
            action="reject" if n % 2 else "approve",
            reason="blurry",
            decided_at=test_kpis.at(hours=hours),
            seconds_open=seconds,
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT action, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_open), "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds_open), COALESCE(SUM(seconds_open), 0) "
            "FROM catalog_reviewdecision WHERE decided_at >= %s AND decided_at < %s GROUP BY 1",
            list(WHOLE),
        )
        direct = {action: rest for action, *rest in cursor.fetchall()}

    effort = stored(*WHOLE).effort

    got = {a.action: [a.decisions, a.median_seconds, a.p90_seconds, a.total_seconds] for a in effort.actions}
    for action, (n, median, p90, total) in direct.items():
        assert got[action] == [n, pytest.approx(median), pytest.approx(p90), pytest.approx(total)]
    assert {a for a, (n, *_) in got.items() if n} == set(direct)


def test_a_decision_made_on_a_stored_day_drops_that_day(history, reviewer, make_version):
    before = stored(*WHOLE).effort
    product = Product.objects.create(sku="KPI-LATE", title="Late")
    version = make_version(product, status=VersionStatus.REJECTED, queued_at=test_kpis.at(hours=-30))
    ReviewDecision.objects.create(
        version=version, reviewer=reviewer, action="reject", reason="blurry", decided_at=test_kpis.at(hours=3)
    )

    with kpis.analytics():
        after = daycache.range_figures(*WHOLE, kpis.NO_FILTERS).effort

    rejected = {a.action: a.decisions for a in after.actions}["reject"]
    assert rejected == {a.action: a.decisions for a in before.actions}["reject"] + 1
    assert after == kpis.over_range(*WHOLE).effort
