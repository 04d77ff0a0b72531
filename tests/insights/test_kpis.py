"""Dashboard KPIs over a known day of work: each number checked exactly."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from catalog.models import (
    BlockedChannel,
    ImageVersion,
    MarketplaceProfile,
    Product,
    Rendition,
    UploadBatch,
    VersionStatus,
)
from insights.kpis import (
    WENT_TO_REVIEW,
    ComputeCost,
    DailyCost,
    DailyTimeToPublication,
    Filters,
    HourlyThroughput,
    ManualIntervention,
    ProfileCompliance,
    ScoredBreakdown,
    TimeToPublication,
    VolumeTier,
    over_range,
    volume_tiers,
)
from review.models import ReviewDecision


# Each KPI of a range, as the dashboard composes it from the range's days.
def time_to_publication(start, end, filters=None):
    return over_range(start, end, filters).ttp


def time_to_publication_per_day(start, end, filters=None):
    return over_range(start, end, filters).ttp_daily


def manual_intervention(start, end, filters=None):
    return over_range(start, end, filters).scored.intervention


def score_distribution(start, end, filters=None):
    return over_range(start, end, filters).scored.scores


def compute_cost(start, end, filters=None):
    return over_range(start, end, filters).cost


def cost_per_day(start, end, filters=None):
    return over_range(start, end, filters).cost_days


def cost_per_volume_tier(start, end, filters=None):
    return volume_tiers(start, end, filters, cost_per_day(start, end, filters))


def first_pass_compliance(start, end, filters=None):
    return over_range(start, end, filters).compliance


def flag_reasons_ranked(start, end, filters=None):
    return over_range(start, end, filters).reasons


def throughput_per_hour(start, end, filters=None):
    return over_range(start, end, filters).hourly


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = (T0, T0 + timedelta(days=1))
EMPTY = (T0 - timedelta(days=30), T0 - timedelta(days=29))


def at(seconds: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, seconds=seconds)


def reasons(*codes: str) -> list[dict[str, str]]:
    return [{"code": code, "message": f"{code} happened"} for code in codes]


@pytest.fixture
def prices(settings):
    settings.LIGHTBOX_CPU_SECOND_PRICE = 0.01
    settings.LIGHTBOX_GPU_SECOND_PRICE = 0.1


@pytest.fixture
def profiles(db):
    first, second = MarketplaceProfile.objects.order_by("slug")[:2]
    return first, second


@pytest.fixture
def history(make_version, reviewer, profiles):
    """One day of work, starting 09:00 UTC, plus a few rows just outside it.

    Published: a (60 s, cpu), b (120 s, gpu), c (300 s, approved by a person).
    Reviewed: e still flagged, f rejected, g reprocessed. h failed in processing.
    Outside the day: d published the hour before, i scored exactly at its end.
    """
    counter = {"n": 0}
    batch = UploadBatch.objects.create(name="spring")

    def version(status, brand="Kiln", category="Kitchen", in_batch=False, **fields):
        counter["n"] += 1
        item = Product.objects.create(
            sku=f"KPI-{counter['n']}", title=f"Item {counter['n']}", brand=brand, category=category
        )
        made = make_version(item, status=status, **fields)
        if in_batch:
            made.source.batch = batch
            made.source.save(update_fields=["batch"])
        return made

    published = VersionStatus.PUBLISHED
    rows = {
        "a": version(
            published,
            in_batch=True,
            queued_at=at(0),
            scored_at=at(30),
            published_at=at(60),
            score=95,
            reasons=reasons("soft_shadow"),  # a warning on an auto-pass: nobody looked
            compute_seconds=2.0,
            compute_device="cpu",
        ),
        "b": version(
            published,
            in_batch=True,
            queued_at=at(0),
            scored_at=at(30),
            published_at=at(120),
            score=85,
            compute_seconds=1.0,
            compute_device="gpu",
        ),
        "c": version(
            published,
            brand="Loom",
            category="Textiles",
            queued_at=at(hours=1),
            scored_at=at(60, hours=1),
            reviewed_at=at(200, hours=1),
            published_at=at(300, hours=1),
            score=100,
            reasons=reasons("cut_off"),
            compute_seconds=3.0,
            compute_device="gpu",
        ),
        "d": version(
            published,
            brand="Loom",
            queued_at=at(hours=-2),
            scored_at=at(hours=-1.5),
            published_at=at(hours=-1),
            score=90,
        ),
        "e": version(
            VersionStatus.FLAGGED,
            queued_at=at(hours=2),
            scored_at=at(hours=2),
            score=40,
            reasons=reasons("cut_off", "low_contrast"),
            compute_seconds=4.0,
            compute_device="cpu",
        ),
        "f": version(
            VersionStatus.REJECTED,
            brand="Loom",
            queued_at=at(hours=3),
            scored_at=at(hours=3),
            reviewed_at=at(hours=4),
            score=15,
            reasons=reasons("cut_off", "cut_off"),
            compute_seconds=1.0,
            compute_device="cpu",
        ),
        "g": version(
            VersionStatus.SUPERSEDED,
            queued_at=at(hours=3),
            scored_at=at(hours=3),
            reviewed_at=at(hours=5),
            score=55,
            reasons=reasons("background"),
            compute_seconds=2.0,
            compute_device="gpu",
        ),
        "h": version(
            VersionStatus.FAILED,
            queued_at=at(hours=4),
            failed_at=at(hours=4),
            error="model crashed",
            compute_seconds=0.5,
            compute_device="",
        ),
        "i": version(
            VersionStatus.FLAGGED,
            queued_at=at(hours=23),
            scored_at=at(hours=24),
            score=5,
            reasons=reasons("blurry"),
            compute_seconds=10.0,
            compute_device="cpu",
        ),
    }
    for key, action, reason in (("c", "approve", ""), ("f", "reject", "cut_off"), ("g", "reprocess", "")):
        ReviewDecision.objects.create(
            version=rows[key], reviewer=reviewer, action=action, reason=reason, decided_at=at(hours=6)
        )

    first, second = profiles
    for key, profile, spec, first_attempt, passed, created in (
        ("a", first, "s1", True, True, at(60)),
        ("a", first, "s2", False, False, at(70)),  # a re-render: not a first attempt
        ("b", first, "s1", True, False, at(120)),
        ("c", first, "s1", True, True, at(300, hours=1)),
        ("a", second, "s1", True, True, at(60)),
        ("c", second, "s1", True, None, at(300, hours=1)),  # not checked yet
        ("d", second, "s1", True, False, at(hours=-1)),  # before the day
    ):
        Rendition.objects.create(
            version=rows[key],
            profile=profile,
            spec=spec,
            file="renditions/x.jpg",
            width=10,
            height=10,
            byte_size=100,
            format="jpeg",
            first_attempt=first_attempt,
            compliance_passed=passed,
            created_at=created,
        )
    rows["batch"] = batch
    return rows


# --- time to publication ----------------------------------------------------


def test_time_to_publication_takes_interpolated_percentiles_of_upload_to_live(history):
    # 60, 120 and 300 s; d was published before the day began.
    assert time_to_publication(*DAY) == TimeToPublication(
        count=3, median_seconds=120.0, p90_seconds=264.0, p95_seconds=282.0
    )


def test_time_to_publication_of_one_item_is_that_item_at_every_percentile(history):
    assert time_to_publication(at(hours=1), at(hours=2)) == TimeToPublication(1, 300.0, 300.0, 300.0)


def test_time_to_publication_of_an_empty_range_has_no_percentiles(history):
    assert time_to_publication(*EMPTY) == TimeToPublication(0, None, None, None)


def test_time_to_publication_narrows_by_brand_category_and_batch(history):
    assert time_to_publication(*DAY, Filters(brand="Loom")).count == 1
    assert time_to_publication(*DAY, Filters(category="Textiles")).median_seconds == 300.0
    assert time_to_publication(*DAY, Filters(batch=history["batch"].pk)) == TimeToPublication(
        2, 90.0, 114.0, 117.0
    )


def test_a_profile_filter_counts_a_version_with_two_renditions_for_it_once(history, profiles):
    first, second = profiles
    assert time_to_publication(*DAY, Filters(profile=first.slug)).count == 3
    assert time_to_publication(*DAY, Filters(profile=second.slug)).count == 2


def test_the_trend_is_the_median_time_to_publication_of_each_day_the_range_touches(history):
    assert time_to_publication_per_day(*DAY) == [
        DailyTimeToPublication(date(2026, 3, 2), 3, 120.0),  # a, b, c: 60, 120, 300 s
        DailyTimeToPublication(date(2026, 3, 3), 0, None),
    ]
    # Whole days: d (3600 s, published at 08:00) joins 2026-03-02; 2026-03-01 was quiet.
    two_days = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    assert time_to_publication_per_day(*two_days) == [
        DailyTimeToPublication(date(2026, 3, 1), 0, None),
        DailyTimeToPublication(date(2026, 3, 2), 4, 210.0),
    ]


def test_the_trend_narrows_by_batch_and_is_empty_for_an_empty_range(history):
    assert time_to_publication_per_day(*DAY, Filters(batch=history["batch"].pk))[0] == (
        DailyTimeToPublication(date(2026, 3, 2), 2, 90.0)
    )
    # Rendered for the second profile: a (60 s), c (300 s) and d (3600 s).
    second = MarketplaceProfile.objects.order_by("slug")[1]
    whole_day = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    assert time_to_publication_per_day(*whole_day, Filters(profile=second.slug)) == [
        DailyTimeToPublication(date(2026, 3, 2), 3, 300.0)
    ]
    assert time_to_publication_per_day(*EMPTY) == [
        DailyTimeToPublication(date(2026, 1, 31), 0, None),
        DailyTimeToPublication(date(2026, 2, 1), 0, None),
    ]
    assert time_to_publication_per_day(T0, T0) == []


# --- manual intervention ----------------------------------------------------


def test_manual_intervention_counts_the_scored_versions_that_went_to_a_person(history):
    # Scored in the day: a, b, c, e, f, g. A person saw c, e, f and g.
    assert manual_intervention(*DAY) == ManualIntervention(
        total=6, flagged=4, share=4 / 6, approve=1, reject=1, reprocess=1
    )


def test_a_version_reviewed_without_a_decision_row_still_counts_as_flagged(history):
    ReviewDecision.objects.filter(version=history["c"]).delete()
    assert manual_intervention(*DAY) == ManualIntervention(6, 4, 4 / 6, 0, 1, 1)


def test_manual_intervention_of_one_flagged_item_is_all_flagged(history):
    assert manual_intervention(at(hours=2), at(1, hours=2)) == ManualIntervention(1, 1, 1.0, 0, 0, 0)


def test_manual_intervention_of_an_empty_range_has_no_share(history):
    assert manual_intervention(*EMPTY) == ManualIntervention(0, 0, None, 0, 0, 0)


def test_manual_intervention_narrows_by_brand(history):
    assert manual_intervention(*DAY, Filters(brand="Loom")) == ManualIntervention(2, 2, 1.0, 1, 1, 0)


# --- compute cost -----------------------------------------------------------


def test_compute_cost_prices_cpu_and_gpu_seconds_of_work_finished_in_the_range(history, prices):
    # Finished in the day: a, b, c, e, f, g scored and h failed. Blank device is CPU.
    cost = compute_cost(*DAY)
    assert cost == ComputeCost(
        versions=7,
        cpu_seconds=7.5,
        gpu_seconds=6.0,
        cost=pytest.approx(7.5 * 0.01 + 6.0 * 0.1),
        cost_per_image=pytest.approx((7.5 * 0.01 + 6.0 * 0.1) / 7),
    )


def test_compute_cost_of_an_empty_range_is_zero_with_no_per_image_cost(history, prices):
    assert compute_cost(*EMPTY) == ComputeCost(0, 0.0, 0.0, 0.0, None)


def test_compute_cost_of_one_gpu_item(history, prices):
    assert compute_cost(at(60, hours=1), at(61, hours=1)) == ComputeCost(
        1, 0.0, 3.0, pytest.approx(0.3), pytest.approx(0.3)
    )


def test_cost_per_day_groups_by_the_day_work_finished(history, prices):
    two_days = (T0, T0 + timedelta(days=2))
    assert cost_per_day(*two_days) == [
        DailyCost(date(2026, 3, 2), 7, pytest.approx(0.675), cpu_seconds=7.5, gpu_seconds=6.0),
        DailyCost(date(2026, 3, 3), 1, pytest.approx(0.1), cpu_seconds=10.0, gpu_seconds=0.0),
    ]
    assert cost_per_day(*EMPTY) == []


def test_the_days_add_up_to_the_compute_cost_of_the_range(history, prices):
    two_days = (T0, T0 + timedelta(days=2))
    assert ComputeCost.of_days(cost_per_day(*two_days)) == ComputeCost(
        8, 17.5, 6.0, pytest.approx(0.775), pytest.approx(0.775 / 8)
    )
    assert ComputeCost.of_days(cost_per_day(*two_days)).cost == pytest.approx(compute_cost(*two_days).cost)
    assert ComputeCost.of_days([]) == compute_cost(*EMPTY)


@pytest.fixture
def tiers(settings, prices):
    # The first 3 versions of a month at list price, the next 3 at half, the rest at a quarter.
    settings.LIGHTBOX_VOLUME_TIERS = ((0, 1.0), (3, 0.5), (6, 0.25))


def tier(label, factor, versions, list_cost, tiered_cost):
    return VolumeTier(
        label,
        factor,
        versions,
        pytest.approx(list_cost),
        pytest.approx(tiered_cost),
        pytest.approx(tiered_cost / versions) if versions else None,
    )


def test_volume_tiers_price_each_version_by_its_place_in_the_month(history, tiers):
    # Finished in March, in order: a, b (09:00:30), c, e, f, g (12:00), h, i (the next day).
    # a 0.02, b 0.1 and c 0.3 are the month's first three; e 0.04, f 0.01 and g 0.2 the
    # next three, at half; h 0.005 the seventh, at a quarter. i finished as the day ended.
    assert cost_per_volume_tier(*DAY) == [
        tier("1–3", 1.0, 3, 0.42, 0.42),
        tier("4–6", 0.5, 3, 0.25, 0.125),
        tier("7+", 0.25, 1, 0.005, 0.00125),
    ]


def test_versions_finished_at_the_same_moment_are_ranked_by_id(history, settings, prices):
    # a and b finished together (09:00:30), as did f and g (12:00): a tier starting at the
    # second of the month, and one at the sixth, split each pair by id.
    settings.LIGHTBOX_VOLUME_TIERS = ((0, 1.0), (1, 0.5), (5, 0.25))
    cost = {"a": 0.02, "b": 0.1, "c": 0.3, "e": 0.04, "f": 0.01, "g": 0.2, "h": 0.005}
    first_ab, second_ab = sorted("ab", key=lambda key: history[key].pk)
    first_fg, second_fg = sorted("fg", key=lambda key: history[key].pk)
    middle = [second_ab, "c", "e", first_fg]
    assert cost_per_volume_tier(*DAY) == [
        tier("1", 1.0, 1, cost[first_ab], cost[first_ab]),
        tier("2–5", 0.5, 4, sum(cost[k] for k in middle), sum(cost[k] for k in middle) / 2),
        tier("6+", 0.25, 2, cost[second_fg] + cost["h"], (cost[second_fg] + cost["h"]) / 4),
    ]


def test_a_range_starting_mid_month_still_counts_the_versions_before_it(history, tiers, make_version):
    # February's work does not move anyone up in March.
    february = Product.objects.create(sku="KPI-FEB", title="February")
    make_version(
        february,
        status=VersionStatus.FAILED,
        failed_at=datetime(2026, 2, 28, 23, tzinfo=UTC),
        error="crashed",
        compute_seconds=100.0,
        compute_device="cpu",
    )
    # From 11:30: f and g are the month's 5th and 6th, h its 7th; a, b, c and e came earlier.
    assert cost_per_volume_tier(at(hours=2.5), DAY[1]) == [
        tier("1–3", 1.0, 0, 0.0, 0.0),
        tier("4–6", 0.5, 2, 0.21, 0.105),
        tier("7+", 0.25, 1, 0.005, 0.00125),
    ]


def test_a_new_month_starts_at_the_first_tier_again(history, tiers, make_version):
    april = Product.objects.create(sku="KPI-APR", title="April")
    make_version(
        april,
        status=VersionStatus.FLAGGED,
        scored_at=datetime(2026, 4, 1, tzinfo=UTC),
        compute_seconds=1.0,
        compute_device="gpu",
    )
    march_and_april = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    # March: a–h and i (0.1, the ninth: a quarter); April: the new version, first again.
    assert cost_per_volume_tier(*march_and_april) == [
        tier("1–3", 1.0, 4, 0.52, 0.52),
        tier("4–6", 0.5, 3, 0.25, 0.125),
        tier("7+", 0.25, 2, 0.105, 0.02625),
    ]


def test_a_filter_narrows_the_versions_reported_but_not_their_place_in_the_month(history, tiers):
    # Loom: c (third of the month) and f (fifth); d has no compute seconds.
    assert cost_per_volume_tier(*DAY, Filters(brand="Loom")) == [
        tier("1–3", 1.0, 1, 0.3, 0.3),
        tier("4–6", 0.5, 1, 0.01, 0.005),
        tier("7+", 0.25, 0, 0.0, 0.0),
    ]


def test_a_day_with_one_tier_start_is_split_from_either_side(history, settings, prices):
    # The 5th of March is f or g (12:00): Loom's c before it, f after (or at) it.
    settings.LIGHTBOX_VOLUME_TIERS = ((0, 1.0), (4, 0.5))
    assert cost_per_volume_tier(*DAY, Filters(brand="Loom")) == [
        tier("1–4", 1.0, 1, 0.3, 0.3),
        tier("5+", 0.5, 1, 0.01, 0.005),
    ]
    # The 8th is i, at 09:00 on 03-03, late in a day the range ends at 10:00.
    settings.LIGHTBOX_VOLUME_TIERS = ((0, 1.0), (7, 0.5))
    assert cost_per_volume_tier(T0, at(hours=25)) == [
        tier("1–7", 1.0, 7, 0.675, 0.675),
        tier("8+", 0.5, 1, 0.1, 0.05),
    ]


def test_counts_per_day_lead_the_walk_to_the_same_tiers(history, tiers, make_version):
    april = Product.objects.create(sku="KPI-APR2", title="April")
    make_version(
        april,
        status=VersionStatus.FLAGGED,
        scored_at=datetime(2026, 4, 1, tzinfo=UTC),
        compute_seconds=1.0,
        compute_device="gpu",
    )
    march_and_april = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    days = cost_per_day(*march_and_april)
    walked = volume_tiers(*march_and_april, None, days)
    # Finished in March: a, b, c, e, f, g, h on 03-02 and i on 03-03; nothing on the others.
    counts = {date(2026, 3, 1): 0, date(2026, 3, 2): 7, date(2026, 3, 3): 1, date(2026, 4, 1): 1}
    assert volume_tiers(*march_and_april, None, days, counts) == walked
    # Some days known, the rest walked from the first unknown one.
    assert volume_tiers(*march_and_april, None, days, {date(2026, 3, 1): 0}) == walked
    assert volume_tiers(*DAY, Filters(brand="Loom"), cost_per_day(*DAY, Filters(brand="Loom")), counts) == (
        cost_per_volume_tier(*DAY, Filters(brand="Loom"))
    )
    # With the hours of the days where a tier starts, the walk starts at that hour.
    hours = {day.day: {hour: n for hour, (n, _) in day.hours.items()} for day in days}
    assert hours[date(2026, 3, 2)]  # the 4th and 7th of March finished on 03-02, in different hours
    assert volume_tiers(*march_and_april, None, days, counts, hours) == walked
    assert volume_tiers(*march_and_april, None, days, {date(2026, 3, 1): 0}, hours) == walked


def test_volume_tiers_of_an_empty_range_list_every_tier_with_nothing_in_it(history, tiers):
    assert cost_per_volume_tier(*EMPTY) == [
        VolumeTier("1–3", 1.0, 0, 0.0, 0.0, None),
        VolumeTier("4–6", 0.5, 0, 0.0, 0.0, None),
        VolumeTier("7+", 0.25, 0, 0.0, 0.0, None),
    ]


def test_a_days_cost_is_kept_per_clock_hour_and_adds_up_to_the_day(history, prices):
    two_days = (T0, T0 + timedelta(days=2))
    first, second = cost_per_day(*two_days)
    # a, b (09:00:30) and c in the 09:00 hour, e, f, g at 12:00, h later; i at 09:00 the next day.
    assert sorted(first.hours) == sorted(
        {(history[k].scored_at or history[k].failed_at).replace(minute=0, second=0) for k in "abcefgh"}
    )
    assert sum(n for n, _ in first.hours.values()) == first.versions == 7
    assert sum(cost for _, cost in first.hours.values()) == pytest.approx(first.cost)
    assert second.hours == {datetime(2026, 3, 3, 9, tzinfo=UTC): (1, pytest.approx(0.1))}


@pytest.mark.parametrize(
    "bounds",
    [
        ((0, 1.0), (3, 0.5), (6, 0.25)),  # two tiers start on 03-02, in different hours
        ((0, 1.0), (1, 0.5), (5, 0.25)),  # …each within a pair that finished together
        ((0, 1.0), (1, 0.5), (2, 0.25)),  # two in the same hour
        ((0, 1.0), (7, 0.5)),  # one on 03-03
    ],
)
@pytest.mark.parametrize("filters", [None, Filters(brand="Loom"), Filters(brand="Kiln")])
def test_the_hours_of_a_day_split_it_into_tiers_as_reading_the_whole_day_does(
    history, settings, prices, bounds, filters
):
    # With its hours known, a day where a tier starts is read again only in that tier's hour.
    settings.LIGHTBOX_VOLUME_TIERS = bounds
    for span in ((T0, at(hours=25)), (at(hours=2.5), at(hours=25))):
        days = cost_per_day(*span, filters)
        assert any(day.hours for day in days)
        by_hours = volume_tiers(*span, filters, days)
        by_days = volume_tiers(*span, filters, [dataclasses.replace(day, hours={}) for day in days])
        assert [(t.label, t.versions) for t in by_hours] == [(t.label, t.versions) for t in by_days]
        assert [t.list_cost for t in by_hours] == pytest.approx([t.list_cost for t in by_days])


def test_one_tier_by_default_is_the_plain_compute_cost(history, prices):
    (only,) = cost_per_volume_tier(*DAY)
    plain = compute_cost(*DAY)
    assert (only.label, only.factor, only.versions) == ("1+", 1.0, plain.versions)
    assert only.list_cost == only.tiered_cost == pytest.approx(plain.cost)


# --- first-pass compliance --------------------------------------------------


def test_first_pass_compliance_rates_each_profile_on_checked_first_attempts(history, profiles):
    first, second = profiles
    assert first_pass_compliance(*DAY) == [
        ProfileCompliance(first.slug, renditions_first_attempt=3, passed_first_attempt=2, rate=2 / 3),
        ProfileCompliance(second.slug, renditions_first_attempt=1, passed_first_attempt=1, rate=1.0),
    ]


def test_first_pass_compliance_narrows_by_profile_and_brand(history, profiles):
    first, second = profiles
    assert first_pass_compliance(*DAY, Filters(profile=second.slug)) == [
        ProfileCompliance(second.slug, 1, 1, 1.0)
    ]
    assert first_pass_compliance(*DAY, Filters(brand="Loom")) == [ProfileCompliance(first.slug, 1, 1, 1.0)]


def test_first_pass_compliance_of_an_empty_range_is_empty(history):
    assert first_pass_compliance(*EMPTY) == []


def block(version, profile, created_at) -> BlockedChannel:
    return BlockedChannel.objects.create(
        version=version, profile=profile, cause="size", reason="600 px, needs 1000 px", created_at=created_at
    )


def test_first_pass_compliance_counts_the_channels_blocked_in_the_range(history, profiles):
    first, second = profiles
    block(history["a"], first, at(60))
    block(history["b"], first, at(120))
    block(history["d"], second, at(hours=-1))  # before the day
    third = MarketplaceProfile.objects.exclude(pk__in=[first.pk, second.pk]).order_by("slug").first()
    block(history["c"], third, at(hours=2))  # never rendered: blocked for its size only

    assert first_pass_compliance(*DAY) == [
        ProfileCompliance(first.slug, 3, 2, 2 / 3, blocked=2),
        ProfileCompliance(second.slug, 1, 1, 1.0, blocked=0),
        ProfileCompliance(third.slug, 0, 0, None, blocked=1),
    ]
    assert first_pass_compliance(*DAY, Filters(profile=third.slug)) == [
        ProfileCompliance(third.slug, 0, 0, None, blocked=1)
    ]


# --- throughput, scores, reasons --------------------------------------------


def test_throughput_counts_publications_per_hour_including_quiet_hours(history):
    assert throughput_per_hour(T0, at(hours=3)) == [
        HourlyThroughput(at(hours=0), 2),
        HourlyThroughput(at(hours=1), 1),
        HourlyThroughput(at(hours=2), 0),
    ]
    assert throughput_per_hour(EMPTY[0], EMPTY[0] + timedelta(hours=2)) == [
        HourlyThroughput(EMPTY[0], 0),
        HourlyThroughput(EMPTY[0] + timedelta(hours=1), 0),
    ]


def test_score_distribution_buckets_by_tens_with_100_in_the_top_bucket(history):
    # Scored in the day: 95, 85, 100, 40, 15, 55.
    counts = [bucket.count for bucket in score_distribution(*DAY)]
    assert counts == [0, 1, 0, 0, 1, 1, 0, 0, 1, 2]
    buckets = score_distribution(*EMPTY)
    assert [(b.low, b.high) for b in buckets][::9] == [(0, 9), (90, 100)]
    assert sum(b.count for b in buckets) == 0


def test_the_scored_range_gives_intervention_and_scores_together(history):
    assert over_range(*DAY).scored == ScoredBreakdown(manual_intervention(*DAY), score_distribution(*DAY))


def test_flag_reasons_rank_codes_of_reviewed_versions_counting_each_version_once(history):
    # soft_shadow was on an auto-pass nobody reviewed; f repeats cut_off; i is outside the day.
    assert flag_reasons_ranked(*DAY) == [("cut_off", 3), ("background", 1), ("low_contrast", 1)]
    assert flag_reasons_ranked(*DAY, Filters(brand="Loom")) == [("cut_off", 2)]
    assert flag_reasons_ranked(*EMPTY) == []


def test_a_version_without_a_reason_list_is_ignored_by_the_ranking(history):
    ImageVersion.objects.filter(pk=history["e"].pk).update(reasons={"code": "not_a_list"})
    assert flag_reasons_ranked(*DAY) == [("cut_off", 2), ("background", 1)]


def test_throughput_starts_at_the_hour_holding_the_range_start_but_counts_only_inside_the_range(history):
    # a and b were published at 09:01 and 09:02, before a range opening at 09:30.
    assert throughput_per_hour(at(hours=0.5), at(hours=2)) == [
        HourlyThroughput(at(hours=0), 0),
        HourlyThroughput(at(hours=1), 1),
    ]


def test_the_reasons_index_holds_exactly_the_versions_that_went_to_review(db):
    # The day's flag reasons are read from that partial index alone only while its
    # condition is the query's.
    index = next(i for i in ImageVersion._meta.indexes if i.name == "catalog_version_to_review_idx")
    assert str(ImageVersion.objects.filter(index.condition).query) == str(
        ImageVersion.objects.filter(WENT_TO_REVIEW).query
    )
