"""The KPI dashboard over 1,000,000 versions: server time of the page for 7 days, 30 days
and all time, and of each KPI query behind it.

Seeds the bench database (lightbox_bench) with SQL alone (INSERT … SELECT over
generate_series): 400,888 products, 902,000 photos in 480 upload batches, and
1,000,000 versions spread over 120 days — most published by the gate, some flagged and
then approved, rejected or reprocessed (the reprocessed ones have a second version),
a few failed, the last two hours still queued, processing or rendering — with review
decisions, two renditions per published version on the seeded marketplace profiles (and
each version's rendered_for, as catalog.rendered keeps it) and re-renders of those that
failed their first compliance check. Seeding is skipped when a
seed of the same size less than a week old is there (--reseed forces it; an earlier seed
is deleted first and the indexes rebuilt after), and ends with VACUUM ANALYZE. Then, as
an admin through Django's test client, GET /dashboard/ (the view and its templates,
charts drawn) for 7 days, 30 days and all time, each with no filter, one brand, one
category, one upload batch and one marketplace profile, and the htmx backlog poll; and
what the page runs, each alone.

The page composes every range figure from stored days (insights.daycache), which
`manage.py roll_up_dashboard` stores ahead: its time from nothing is printed. "First
load": a new database connection, and the last three days dropped before every load (as a
day of reviewing drops the days its decisions touch), so the page computes them; "repeated":
the same page again. A third table loads each page with nothing stored at all (the roll-up
never ran). Median and 95th percentile over the loads. LIGHTBOX_BENCH_DATABASE_URL picks
another database (see _setup.py).

    .venv/bin/python bench/dashboard.py [--versions 1000000] [--repeat 20] [--cold-repeat 2]
        [--reseed | --remove | --seed-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from _setup import bench_environment, table

DAYS = 120
VOLUME_TIERS = ((0, 1.0), (100_000, 0.8), (200_000, 0.6))
BATCHES = DAYS * 4  # one every six hours
BATCH_PREFIX = "bench dashboard "
SKU_PREFIX = "DB-"
# The newest photos have had no time to be reprocessed: they have one version only.
RECENT_WITHOUT_REPROCESS = 20_000
# Weighted by repetition, as the gate names them (cut_off most often).
REASON_CODES = [
    *["cut_off"] * 3,
    *["low_resolution", "mask_disagreement"] * 2,
    "blurry",
    "uncertain_edges",
    "holes",
    "tiny_product",
    "exposure",
    "fragmented_mask",
    "colour_shift",
    "implausible_coverage",
    "empty_mask",
]


def sizes(versions: int) -> tuple[int, int]:
    """(photos, products) such that photos plus the reprocessed ones' second versions make
    `versions`: every ninth photo, bar the newest, was reprocessed once."""
    photos = (9 * versions + RECENT_WITHOUT_REPROCESS) // 10
    while photos + _reprocessed(photos) > versions:
        photos -= 1
    while photos + _reprocessed(photos) < versions:
        photos += 1
    return photos, max(1, photos * 4 // 9)


def _reprocessed(photos: int) -> int:
    eligible = max(0, photos - RECENT_WITHOUT_REPROCESS)
    return (eligible + 8) // 9


SEEDED_TABLES = (
    "catalog_rendition",
    "catalog_reviewdecision",
    "catalog_imageversion",
    "catalog_sourceimage",
    "catalog_product",
    "catalog_uploadbatch",
)
MINE = (
    "SELECT v.id FROM catalog_imageversion v JOIN catalog_sourceimage s ON s.id = v.source_id "
    "JOIN catalog_uploadbatch b ON b.id = s.batch_id WHERE b.name LIKE %(batches)s"
)


def seeded(versions: int) -> bool:
    """A seed of this size, younger than a week, is in place."""
    from django.utils import timezone

    from catalog.models import UploadBatch

    marker = UploadBatch.objects.filter(name=f"{BATCH_PREFIX}000").values_list("manifest", flat=True).first()
    if not marker or marker.get("versions") != versions:
        return False
    return timezone.now() - datetime.fromisoformat(marker["seeded_at"]) < timedelta(days=7)


def unseed(cursor: Any) -> int:
    """Remove an earlier seed (any size), returning how many versions it had. FKs are not
    ON DELETE CASCADE: children first."""
    removed = 0
    for sql in (
        f"DELETE FROM catalog_rendition WHERE version_id IN ({MINE})",  # noqa: S608 - constants
        f"DELETE FROM catalog_reviewdecision WHERE version_id IN ({MINE})",  # noqa: S608
        f"DELETE FROM catalog_imageversion WHERE id IN ({MINE})",  # noqa: S608
        "DELETE FROM catalog_sourceimage WHERE batch_id IN "
        "(SELECT id FROM catalog_uploadbatch WHERE name LIKE %(batches)s)",
        "DELETE FROM catalog_product WHERE sku LIKE %(skus)s",
        "DELETE FROM catalog_uploadbatch WHERE name LIKE %(batches)s",
    ):
        cursor.execute(sql, {"batches": f"{BATCH_PREFIX}%", "skus": f"{SKU_PREFIX}%"})
        if sql.startswith("DELETE FROM catalog_imageversion "):
            removed = cursor.rowcount
    return removed


def seed(versions: int, reviewer_id: int) -> None:
    """Insert the whole history in a few INSERT … SELECT statements, in one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from catalog.models import MarketplaceProfile

    photos, products = sizes(versions)
    now = timezone.now()
    start = now - timedelta(days=DAYS)
    span = timedelta(days=DAYS) - timedelta(minutes=5)
    profile_ids = list(
        MarketplaceProfile.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True)
    )
    params = {
        "now": now,
        "start": start,
        "span": span,
        "photos": photos,
        "products": products,
        "batches": BATCHES,
        "reviewer": reviewer_id,
        "profiles": profile_ids,
        "codes": REASON_CODES,
        "last_reprocessed": photos - RECENT_WITHOUT_REPROCESS,
    }
    steps: list[tuple[str, str]] = [
        (
            "batches",
            """
            INSERT INTO catalog_uploadbatch (id, name, created_at, priority, source, file_count,
                rejected_count, errors, manifest, closed_at, finished_at, close_reason, mannequin_colour)
            SELECT md5('dash-batch-' || i)::uuid, %(prefix)s || lpad(i::text, 3, '0'),
                   %(start)s + i * interval '6 hours', 1, 'zip', 0, 0, '[]', '{}',
                   %(start)s + i * interval '6 hours', %(start)s + (i + 1) * interval '6 hours', '', ''
            FROM generate_series(0, %(batches)s - 1) AS i
            """,
        ),
        (
            "products",
            # Brands log-uniform over 60 (a few big ones, a long tail), categories even over 25.
            """
            INSERT INTO catalog_product (sku, title, brand, category, attributes, asin, ean, upc,
                created_at, updated_at)
            SELECT %(sku)s || lpad(p::text, 7, '0'), 'Bench item ' || p,
                   'Brand ' || (floor(exp(random() * ln(61)))::int - 1),
                   'Category ' || floor(random() * 25)::int, '{}', '', '', '',
                   %(start)s + %(span)s * p / %(products)s, %(start)s + %(span)s * p / %(products)s
            FROM generate_series(0, %(products)s - 1) AS p
            """,
        ),
        (
            "photos",
            """
            INSERT INTO catalog_sourceimage (id, product_id, batch_id, file, original_filename, sha256,
                perceptual_hash, width, height, format, byte_size, role, position, uploaded_at)
            SELECT md5('dash-src-' || j)::uuid, pr.id,
                   md5('dash-batch-' || (j::bigint * %(batches)s / %(photos)s))::uuid,
                   'sources/db/' || j || '.jpg', 'db-' || j || '.jpg', md5('a' || j) || md5('b' || j),
                   '', 2000, 2000, 'JPEG', 1500000,
                   CASE WHEN j / %(products)s = 0 THEN 'main' ELSE 'alternate' END,
                   j / %(products)s + 1, %(start)s + %(span)s * j / %(photos)s
            FROM generate_series(0, %(photos)s - 1) AS j
            JOIN catalog_product pr ON pr.sku = %(sku)s || lpad((j %% %(products)s)::text, 7, '0')
            """,
        ),
        (
            "plan",
            # What becomes of each version, and its random draws: first versions, then the
            # second versions of the reprocessed photos, queued just after their review.
            """
            CREATE TEMP TABLE dash_plan ON COMMIT DROP AS
            WITH first AS (
                SELECT md5('dash-ver-' || j || '-1')::uuid AS id, s.id AS source_id, NULL::uuid AS parent_id,
                       1 AS number, pr.brand, pr.category, s.uploaded_at AS t,
                       (j %% 9 = 0 AND j < %(last_reprocessed)s) AS reprocessed,
                       random() AS r_kind, random() AS r_dev, random() AS r_a, random() AS r_b,
                       random() AS r_c
                FROM generate_series(0, %(photos)s - 1) AS j
                JOIN catalog_sourceimage s ON s.id = md5('dash-src-' || j)::uuid
                JOIN catalog_product pr ON pr.id = s.product_id
            )
            SELECT id, source_id, parent_id, number, brand, category, t, r_dev, r_a, r_b, r_c,
                   CASE WHEN reprocessed THEN 'superseded' ELSE NULL END AS kind, r_kind
            FROM first
            UNION ALL
            SELECT md5('dash-ver-' || id || '-2')::uuid, source_id, id, 2, brand, category,
                   t + interval '2 hours', random(), random(), random(), random(), NULL, random()
            FROM first WHERE reprocessed
            """,
        ),
        (
            "plan kinds",
            # The last two hours are still in flight; items flagged in the last three days
            # wait in the queue, older ones were decided.
            """
            UPDATE dash_plan SET kind = CASE
                WHEN t > %(now)s - interval '2 hours' AND r_kind < 0.3 THEN 'queued'
                WHEN t > %(now)s - interval '2 hours' AND r_kind < 0.4 THEN 'processing'
                WHEN t > %(now)s - interval '2 hours' AND r_kind < 0.5 THEN 'rendering'
                WHEN r_kind < 0.78 THEN 'published'
                WHEN r_kind < 0.92 AND t > %(now)s - interval '3 days' THEN 'flagged'
                WHEN r_kind < 0.86 THEN 'approved'
                WHEN r_kind < 0.92 THEN 'rejected'
                WHEN r_kind < 0.94 THEN 'failed'
                ELSE 'published' END
            WHERE kind IS NULL
            """,
        ),
        (
            "versions",
            """
            INSERT INTO catalog_imageversion (id, source_id, parent_id, number, status, priority, brand,
                category, queued_at, started_at, scored_at, reviewed_at, published_at, failed_at,
                processed_by, reviewed_by_id, attempts, score, reasons, options, model_name,
                model_sha256, timings_ms, compute_seconds, compute_device, error, mask, master, hand_mask,
                mask_source, outage_retries, render_attempts, worker_deaths, rendered_for, kind, lineage)
            SELECT id, source_id, parent_id, number,
                   CASE kind WHEN 'approved' THEN 'published' ELSE kind END, 1, brand, category,
                   t, started, scored, reviewed,
                   CASE kind WHEN 'published' THEN done + (5 + 60 * r_c) * interval '1 second'
                             WHEN 'approved' THEN reviewed + (5 + 60 * r_b) * interval '1 second' END,
                   CASE WHEN kind = 'failed' THEN done END,
                   CASE WHEN kind = 'queued' THEN '' ELSE 'bench:1' END,
                   CASE WHEN reviewed IS NOT NULL THEN %(reviewer)s END,
                   CASE WHEN kind = 'queued' THEN 0 ELSE 1 END,
                   CASE WHEN kind IN ('queued', 'processing', 'failed') THEN NULL
                        WHEN kind IN ('flagged', 'approved', 'rejected', 'superseded') THEN floor(r_c * 70)
                        ELSE 70 + floor(r_c * 31) END,
                   CASE WHEN kind IN ('flagged', 'approved', 'rejected', 'superseded') THEN
                        jsonb_build_array(jsonb_build_object(
                            'code', (%(codes)s::text[])[1 + floor(r_a * cardinality(%(codes)s::text[]))],
                            'message', 'bench'))
                        || CASE WHEN r_b < 0.3 THEN jsonb_build_array(jsonb_build_object(
                            'code',
                            (%(codes)s::text[])[1 + floor(r_b / 0.3 * cardinality(%(codes)s::text[]))],
                            'message', 'bench')) ELSE '[]'::jsonb END
                        ELSE '[]'::jsonb END,
                   '{}', 'u2netp', '', '{"segment": 300}', seconds,
                   CASE WHEN seconds IS NULL THEN '' WHEN r_dev < 0.3 THEN 'gpu' ELSE 'cpu' END,
                   CASE WHEN kind = 'failed' THEN 'The model crashed (bench).' ELSE '' END,
                   '', '', '', 'model', 0, 0, 0,
                   -- the profiles of its renditions (the "renditions" step), as catalog.rendered keeps them
                   CASE WHEN kind IN ('published', 'approved') THEN ARRAY(
                       SELECT DISTINCT (%(profiles)s::bigint[])[1 + (abs(hashtext(id::text)::bigint) + 3 * k)
                                                               %% cardinality(%(profiles)s::bigint[])]
                       FROM generate_series(0, 1) AS k ORDER BY 1
                   ) ELSE '{}' END,
                   'cutout', ''
            FROM (
                SELECT p.*, started + seconds * interval '1 second' AS done,
                       CASE WHEN kind IN ('queued', 'processing', 'failed') THEN NULL
                            ELSE started + seconds * interval '1 second' END AS scored,
                       CASE WHEN kind IN ('approved', 'rejected') THEN
                                started + seconds * interval '1 second' + interval '1 minute'
                                + r_c * interval '2 days'
                            WHEN kind = 'superseded' THEN
                                started + seconds * interval '1 second' + interval '1 minute'
                                + r_c * interval '1 hour' END AS reviewed
                FROM (
                    SELECT dash_plan.*,
                           CASE WHEN kind = 'queued' THEN NULL
                                ELSE t + (2 + 58 * r_b) * interval '1 second' END AS started,
                           CASE WHEN kind IN ('queued', 'processing') THEN NULL
                                WHEN r_dev < 0.3 THEN 0.1 + 0.5 * r_a ELSE 0.5 + 3.5 * r_a END AS seconds
                    FROM dash_plan
                ) AS p
            ) AS v
            """,
        ),
        (
            "decisions",
            """
            INSERT INTO catalog_reviewdecision (version_id, reviewer_id, action, reason, note, options,
                decided_at)
            SELECT v.id, %(reviewer)s,
                   CASE v.status WHEN 'published' THEN 'approve' WHEN 'rejected' THEN 'reject'
                                 ELSE 'reprocess' END,
                   CASE WHEN v.status = 'rejected' THEN 'cut_off' ELSE '' END, '', '{}', v.reviewed_at
            FROM catalog_imageversion v JOIN dash_plan p ON p.id = v.id
            WHERE v.reviewed_at IS NOT NULL
            """,
        ),
        (
            "renditions",
            # Two profiles per published version; 5% fail their first compliance check.
            """
            INSERT INTO catalog_rendition (id, version_id, profile_id, spec, file, width, height, byte_size,
                format, compliance_passed, compliance, first_attempt, created_at, sha256, public_key,
                brand, category)
            SELECT md5('dash-r-' || v.id || '-' || k)::uuid, v.id,
                   (%(profiles)s::bigint[])[1 + (abs(hashtext(v.id::text)::bigint) + 3 * k)
                                            %% cardinality(%(profiles)s::bigint[])],
                   'bench|fit-2000x2000', 'renditions/db/' || v.id || '-' || k || '.jpg', 2000, 2000, 300000,
                   'jpeg', random() >= 0.05, '{}', true, v.published_at - interval '3 seconds', '', '',
                   v.brand, v.category
            FROM catalog_imageversion v JOIN dash_plan p ON p.id = v.id
            CROSS JOIN generate_series(0, 1) AS k
            WHERE v.status = 'published'
            """,
        ),
        (
            "re-renders",
            """
            INSERT INTO catalog_rendition (id, version_id, profile_id, spec, file, width, height, byte_size,
                format, compliance_passed, compliance, first_attempt, created_at, sha256, public_key,
                brand, category)
            SELECT md5('dash-rr-' || r.id)::uuid, r.version_id, r.profile_id, 'bench|fit-2000x2000|retry',
                   r.file || '.retry.jpg', 2000, 2000, 300000, 'jpeg', true, '{}', false,
                   r.created_at + interval '2 seconds', '', '', r.brand, r.category
            FROM catalog_rendition r JOIN dash_plan p ON p.id = r.version_id
            WHERE NOT r.compliance_passed
            """,
        ),
        (
            "marker",
            """
            UPDATE catalog_uploadbatch
            SET manifest = jsonb_build_object('versions', %(versions)s, 'seeded_at', %(now_iso)s::text)
            WHERE name = %(prefix)s || '000'
            """,
        ),
    ]
    params.update(prefix=BATCH_PREFIX, sku=SKU_PREFIX, versions=versions, now_iso=now.isoformat())
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        removed = unseed(cursor)
    if removed:
        with connection.cursor() as cursor:
            for table in SEEDED_TABLES:  # so the new seed reuses the old one's table space
                cursor.execute(f"VACUUM {table}")
        print(f"  cleared an earlier seed in {time.perf_counter() - began:.0f} s", flush=True)
    with transaction.atomic(), connection.cursor() as cursor:
        for name, sql in steps:
            started = time.perf_counter()
            cursor.execute(sql, params)
            print(f"  {name}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if removed:
            # Index pages the old seed emptied are not reusable yet, so the new entries went
            # to new pages: rebuilt, the indexes are as dense as a first seed's (measured:
            # twice the size otherwise, and the index-only scans twice as slow).
            for table in SEEDED_TABLES:
                cursor.execute(f"REINDEX TABLE CONCURRENTLY {table}")
        cursor.execute("VACUUM ANALYZE")  # statistics, and the visibility map index-only scans need
    print(f"  (REINDEX and) VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")
    print(f"seeded {versions:,} versions in {time.perf_counter() - began:.0f} s")


def timed(
    repeat: int, call: Callable[[], Any], before: Callable[[], Any] | None = None, warm_up: bool = True
) -> tuple[float, float]:
    """Median and p95 in ms of `repeat` calls, after one warm-up; `before` runs untimed before each."""
    if warm_up:
        call()
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def kpi_calls(start: datetime, end: datetime, filters: Any) -> dict[str, Callable[[], Any]]:
    """What the page runs, each alone (call them inside kpis.analytics(), as the page does)."""
    from functools import partial

    from insights import dashboard, daycache, kpis

    def stored_days_then_tiers() -> None:
        figures = daycache.range_figures(start, end, filters)
        kpis.volume_tiers(
            start,
            end,
            filters,
            figures.cost_days,
            daycache.finished_per_day(start, end),
            daycache.finished_per_hour(start, end),
        )

    return {
        "daycache.range_figures (days stored)": partial(daycache.range_figures, start, end, filters),
        "kpis.over_range (every day computed now)": partial(kpis.over_range, start, end, filters),
        "range_figures + volume_tiers (live walk)": stored_days_then_tiers,
        "status_counts (now)": partial(dashboard.status_counts, filters),
        "backlog (now, every poll)": dashboard.backlog,
        # Only with failed jobs in Redis, for the failure-rate alert (none in this bench).
        "versions_queued (alerts)": partial(dashboard.versions_queued, start, end, filters),
    }


def in_analytics(call: Callable[[], Any]) -> Callable[[], Any]:
    from insights.kpis import analytics

    def run() -> Any:
        with analytics():
            return call()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reseed", action="store_true", help="seed again even if a seed is there")
    parser.add_argument(
        "--remove",
        action="store_true",
        help="delete this bench's seed (the other benches share the database)",
    )
    parser.add_argument("--cold-repeat", type=int, default=2, help="loads with nothing stored")
    parser.add_argument("--seed-only", action="store_true", help="seed (if needed) and stop")
    parser.add_argument("--aim-ms", type=float, default=300.0, help="the p95 the page should stay under")
    args = parser.parse_args()
    bench_environment()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from catalog.models import ImageVersion, Rendition, UploadBatch
    from catalog.roles import ADMIN, assign_role
    from insights import dashboard
    from insights.models import DashboardDay
    from review.models import ReviewDecision

    if args.remove:
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            print(f"removed the seed: {unseed(cursor):,} versions")
        return
    user, _ = get_user_model().objects.get_or_create(username="bench-admin")
    assign_role(user, ADMIN)
    if args.reseed or not seeded(args.versions):
        seed(args.versions, user.pk)
    else:
        print(f"reusing the seed of {args.versions:,} versions")
    if args.seed_only:
        return

    # About 250,000 versions finish a month here: three tiers, so the tier walk runs.
    settings.LIGHTBOX_VOLUME_TIERS = VOLUME_TIERS
    today = timezone.localdate()
    all_time = {"range": "custom", "start": str(today - timedelta(days=DAYS + 1)), "end": str(today)}
    ranges = {"7 days": {"range": "7d"}, "30 days": {"range": "30d"}, f"all time ({DAYS + 2} days)": all_time}
    client = Client()
    client.force_login(user)
    url = reverse("insights:dashboard")

    def page(params: dict[str, str], headers: dict[str, str] | None = None) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(url, params, headers=headers or {})
            if response.status_code != 200 or b'data-testid="backlog"' not in response.content:
                raise SystemExit(f"{url} {params}: HTTP {response.status_code}")

        return fetch

    from insights import daycache
    from insights.daycache import roll_up

    def forget_everything() -> None:
        DashboardDay.objects.all().delete()
        daycache.forget_decoded()
        connection.close()

    def forget_recent_days() -> None:
        # What a day of reviewing leaves: each decision drops its version's scored day (for every
        # filter), and the bench's flagged versions are from the last three days.
        DashboardDay.objects.filter(day__gte=today - timedelta(days=3)).delete()
        daycache.forget_decoded()  # a fresh web worker has decoded no stored day yet
        connection.close()  # and a new database connection, as a fresh web worker has

    forget_everything()
    started = time.perf_counter()
    rolled = roll_up()
    roll_up_seconds = time.perf_counter() - started
    print(
        f"roll_up_dashboard from nothing: {rolled.days} days, {rolled.rows:,} rows in {roll_up_seconds:.0f} s"
    )
    started = time.perf_counter()
    DashboardDay.objects.filter(day__gte=today - timedelta(days=3)).delete()
    rolled = roll_up()
    print(
        f"  again after the last 3 days were dropped: {rolled.rows:,} rows "
        f"in {time.perf_counter() - started:.1f} s"
    )

    batch = UploadBatch.objects.get(name=f"{BATCH_PREFIX}{BATCHES - 40:03d}")  # ten days ago
    filters = {
        "no filter": {},
        "brand": {"brand": "Brand 3"},
        "category": {"category": "Category 7"},
        "batch": {"batch": str(batch.pk)},
        "profile": {"profile": "shopify"},
    }
    rows = []
    for range_name, range_params in ranges.items():
        for filter_name, filter_params in filters.items():
            params = {**range_params, **filter_params}
            name = f"{range_name}, {filter_name}"
            # First load: a new connection, the last three days dropped (computed by this load),
            # the older ones stored by the roll-up. Repeated: the same page again.
            first = timed(args.repeat, page(params), before=forget_recent_days)
            repeated = timed(args.repeat, page(params))
            roll_up()
            rows.append((name, *first, *repeated))
    cold = []
    for range_name, range_params in ranges.items():
        for filter_name, filter_params in filters.items():
            params = {**range_params, **filter_params}
            cold.append(
                (
                    f"{range_name}, {filter_name}",
                    *timed(args.cold_repeat, page(params), forget_everything, warm_up=False),
                )
            )
    roll_up()
    poll = timed(args.repeat, page({"range": "30d"}, {"HX-Request": "true"}))

    kpi_rows = []
    for name, params in ranges.items():
        form = dashboard.DashboardForm(params)
        if not form.is_valid():
            raise SystemExit(f"{name}: {form.errors.as_text()}")
        for kpi, call in kpi_calls(*form.period(), form.filters()).items():
            slow = "computed now" in kpi
            repeat = args.cold_repeat if slow else args.repeat
            kpi_rows.append((f"{name}: {kpi}", *timed(repeat, in_analytics(call), warm_up=not slow)))

    published_30d = ImageVersion.objects.filter(published_at__gte=timezone.now() - timedelta(days=30)).count()
    print(
        f"\n{ImageVersion.objects.count():,} versions ({published_30d:,} published in the last 30 days), "
        f"{ReviewDecision.objects.count():,} decisions, {Rendition.objects.count():,} renditions "
        f"in PostgreSQL {connection.pg_version // 10000}; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; {args.repeat} loads each, as an admin; "
        f"volume tiers {VOLUME_TIERS}"
    )
    aim, first_aim = args.aim_ms, 2 * args.aim_ms
    print(
        table(
            [
                (
                    n,
                    f"{fm:.0f}",
                    f"{fp:.0f}",
                    f"{fp / first_aim:.2f}",
                    f"{rm:.0f}",
                    f"{rp:.0f}",
                    f"{rp / aim:.2f}",
                )
                for n, fm, fp, rm, rp in rows
            ],
            (
                "page",
                "first median ms",
                "first p95 ms",
                f"/ {first_aim:.0f}",
                "repeated median ms",
                "repeated p95 ms",
                f"/ {aim:.0f}",
            ),
        )
    )
    print(f"backlog poll (htmx): median {poll[0]:.0f} ms, p95 {poll[1]:.0f} ms")
    print(
        f"\nNothing stored (the roll-up never ran, every day computed by the page), {args.cold_repeat} loads:"
    )
    print(table([(n, f"{m:.0f}", f"{p:.0f}") for n, m, p in cold], ("page", "median ms", "p95 ms")))
    print()
    print(table([(n, f"{m:.1f}", f"{p:.1f}") for n, m, p in kpi_rows], ("query", "median ms", "p95 ms")))


if __name__ == "__main__":
    main()
