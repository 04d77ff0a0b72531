"""The review queue with 100,000 flagged versions: server time to decide and load the
next item, and of the queue page under its filters.

Seeds products, their photos and a FLAGGED version of each into the bench database
(lightbox_bench) with bulk inserts, with reasons, scores, priorities, brands and
categories spread like a real backlog; seeding is idempotent, and items a previous
run approved are put back in the queue. Then, as a reviewer through Django's test
client: approve the claimed item over htmx and get the next one claimed (approval
queues rendering in Redis database 12, flushed before and after), and the queue page
with and without filters. Median and 95th percentile over repeated requests.

    .venv/bin/python bench/review.py [--versions 100000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from _setup import bench_environment, table

SKU_PREFIX = "RV-"
CHUNK = 5000

# How often the gate names each reason among flagged items, and what it says.
REASON_WEIGHTS: dict[str, int] = {
    "cut_off": 18,
    "low_resolution": 15,
    "mask_disagreement": 14,
    "blurry": 10,
    "uncertain_edges": 10,
    "holes": 8,
    "tiny_product": 6,
    "exposure": 6,
    "fragmented_mask": 5,
    "colour_shift": 4,
    "implausible_coverage": 3,
    "empty_mask": 1,
}
MESSAGES: dict[str, str] = {
    "cut_off": "The product touches the {edge} edge of the photo.",
    "low_resolution": "The photo is {value:.0f} px on its longest side, below the 1000 px minimum.",
    "mask_disagreement": "The cut-out and a second opinion disagree on {value:.0%} of the product.",
    "blurry": "The product looks blurry (sharpness {value:.0f}, needs 60).",
    "uncertain_edges": "{value:.0%} of the product's edge is neither clearly in nor out.",
    "holes": "The cut-out has holes covering {value:.0%} of the product.",
    "tiny_product": "The product covers only {value:.1%} of the photo.",
    "exposure": "{value:.0%} of the product is clipped to black or white.",
    "fragmented_mask": "The cut-out is in {value:.0f} separate pieces.",
    "colour_shift": "Colours changed by ΔE {value:.1f} in the cut-out.",
    "implausible_coverage": "The product fills {value:.0%} of the photo.",
    "empty_mask": "No product was found in the photo.",
}
LIMITS: dict[str, tuple[float, float]] = {  # code: (limit, typical value past it, as a multiple)
    "cut_off": (0, 1),
    "low_resolution": (1000, 0.6),
    "mask_disagreement": (0.12, 1.8),
    "blurry": (60, 0.5),
    "uncertain_edges": (0.08, 1.6),
    "holes": (0.02, 2.0),
    "tiny_product": (0.02, 0.5),
    "exposure": (0.05, 2.0),
    "fragmented_mask": (3, 2.0),
    "colour_shift": (6.0, 1.5),
    "implausible_coverage": (0.92, 1.04),
    "empty_mask": (0, 0),
}
NOUNS = ("mug", "lamp", "chair", "sneaker", "backpack", "watch", "kettle", "jacket", "vase", "speaker")


def _reasons(rng: Any) -> tuple[list[dict[str, Any]], int]:
    """One to three reasons like the gate writes them, and the score they leave."""
    from processing.pipeline.quality import PENALTIES

    codes = list(REASON_WEIGHTS)
    picked: list[str] = []
    for _ in range(rng.choices((1, 2, 3), (60, 30, 10))[0]):
        code = rng.choices(codes, [REASON_WEIGHTS[c] for c in codes])[0]
        if code not in picked:
            picked.append(code)
    reasons, penalty = [], 0
    for code in picked:
        limit, typical = LIMITS[code]
        value = round(limit * typical * rng.uniform(0.9, 1.3), 4) if limit else float(code == "cut_off")
        edge = rng.choice(("top", "right", "bottom", "left"))
        message = MESSAGES[code].format(value=value, edge=edge)
        reasons.append({"code": code, "message": message, "value": value, "limit": limit})
        base, full = PENALTIES[code]
        penalty += rng.randint(base, full)
    return reasons, max(0, min(69, 100 - penalty))


def seed(count: int) -> None:
    """`count` FLAGGED versions on products RV-000000…; only what is missing is made."""
    import hashlib
    import random
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from catalog.models import ImageVersion, Priority, Product, SourceImage, UploadBatch
    from review.models import ReviewDecision

    mine = ImageVersion.objects.filter(source__product__sku__startswith=SKU_PREFIX)
    # Items an earlier run decided go back in the queue, so every run sees the same backlog.
    decided = mine.exclude(status=ImageVersion.Status.FLAGGED)
    ReviewDecision.objects.filter(version__in=decided).delete()
    decided.update(status=ImageVersion.Status.FLAGGED, reviewed_at=None, reviewed_by=None)
    mine.filter(claimed_by__isnull=False).update(claimed_by=None, claim_expires_at=None)
    if mine.count() >= count:
        return

    started = time.perf_counter()
    rng = random.Random(7)
    now = timezone.now()
    brands = [f"Brand {i}" for i in range(60)]
    brand_weights = [1 / (i + 1) for i in range(60)]  # a few big brands, a long tail
    categories = [f"Category {i}" for i in range(25)]
    batches = list(UploadBatch.objects.filter(name__startswith="bench review "))
    if not batches:
        batches = UploadBatch.objects.bulk_create(
            UploadBatch(name=f"bench review {i}", priority=rng.choice(Priority.values)) for i in range(200)
        )
    sizes = [(2000, 2000), (3000, 2000), (1600, 1600), (1200, 900), (800, 600)]
    for start in range(0, count, CHUNK):
        skus = [f"{SKU_PREFIX}{i:06d}" for i in range(start, min(start + CHUNK, count))]
        have = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))
        Product.objects.bulk_create(
            Product(
                sku=sku,
                title=f"{rng.choice(NOUNS).capitalize()} {sku[len(SKU_PREFIX) :]}",
                brand=rng.choices(brands, brand_weights)[0],
                category=rng.choice(categories),
            )
            for sku in skus
            if sku not in have
        )
        products = dict(Product.objects.filter(sku__in=skus).values_list("pk", "sku"))
        with_source = set(
            SourceImage.objects.filter(product_id__in=products).values_list("product_id", flat=True)
        )
        new_sources = []
        for pk, sku in products.items():
            if pk in with_source:
                continue
            width, height = rng.choice(sizes)
            digest = hashlib.sha256(sku.encode()).hexdigest()
            new_sources.append(
                SourceImage(
                    product_id=pk,
                    batch=rng.choice(batches),
                    file=f"sources/{digest[:2]}/{digest}.jpg",
                    original_filename=f"{sku}.jpg",
                    sha256=digest,
                    width=width,
                    height=height,
                    format="JPEG",
                    byte_size=rng.randint(150_000, 4_000_000),
                )
            )
        SourceImage.objects.bulk_create(new_sources)
        sources = list(
            SourceImage.objects.filter(product_id__in=products).values_list(
                "pk", "batch__priority", "product__brand", "product__category"
            )
        )
        versioned = set(
            ImageVersion.objects.filter(source_id__in=[s[0] for s in sources]).values_list(
                "source_id", flat=True
            )
        )
        versions = []
        # bulk_create skips ImageVersion.save(), which copies these from the product.
        for source_id, priority, brand, category in sources:
            if source_id in versioned:
                continue
            reasons, score = _reasons(rng)
            scored_at = now - timedelta(minutes=rng.uniform(1, 30 * 24 * 60))
            versions.append(
                ImageVersion(
                    source_id=source_id,
                    status=ImageVersion.Status.FLAGGED,
                    priority=priority if priority is not None else Priority.NORMAL,
                    brand=brand,
                    category=category,
                    queued_at=scored_at - timedelta(seconds=rng.uniform(5, 600)),
                    started_at=scored_at - timedelta(seconds=rng.uniform(1, 5)),
                    scored_at=scored_at,
                    processed_by="bench:1",
                    attempts=1,
                    score=score,
                    reasons=reasons,
                    options={"second_opinion": "backdrop", "near_duplicate_of": None},
                    model_name="u2netp",
                    timings_ms={"ingest": 40, "segment": 300, "second_opinion": 90, "compose": 30},
                    compute_seconds=0.6,
                    compute_device="cpu",
                    mask=f"masks/{source_id}.png",
                    master=f"masters/{source_id}.png",
                )
            )
        ImageVersion.objects.bulk_create(versions)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics, no dead rows from earlier runs
    print(f"seeded to {mine.count():,} flagged versions in {time.perf_counter() - started:.0f} s")


def timed(repeat: int, request: Callable[[], Any]) -> tuple[str, str]:
    """Median and p95 in ms of `repeat` calls, after one warm-up."""
    request()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        request()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return f"{statistics.median(times):.0f}", f"{p95:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    bench_environment()
    import django_rq
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from catalog.models import ImageVersion
    from catalog.roles import REVIEWER, assign_role

    seed(args.versions)
    redis = django_rq.get_connection("default")
    redis.flushdb()
    user, _ = get_user_model().objects.get_or_create(username="bench-reviewer")
    assign_role(user, REVIEWER)
    client = Client()
    client.force_login(user)
    hx = {"HTTP_HX_REQUEST": "true"}
    shown = re.compile(r'data-version="([0-9a-f-]{36})"')

    def decide_and_next(query: str) -> Callable[[], None]:
        """Approve the item on screen over htmx; the response is the next one, claimed."""
        page = client.get(f"{reverse('review:decide')}?{query}")
        current = {"id": shown.search(page.content.decode()).group(1)}

        def approve() -> None:
            response = client.post(f"{reverse('review:approve', args=[current['id']])}?{query}", **hx)
            found = shown.search(response.content.decode())
            if response.status_code != 200 or not found:
                raise SystemExit(f"approve {query!r}: HTTP {response.status_code}, no next item")
            current["id"] = found.group(1)

        return approve

    def get(url: str, params: dict[str, Any], headers: dict[str, str]) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(url, params, **headers)
            if response.status_code != 200:
                raise SystemExit(f"{url} {params}: HTTP {response.status_code}")

        return fetch

    queue = reverse("review:queue")
    # Made when their turn comes: opening the decision page claims an item, and a
    # reviewer holds one claim at a time.
    cases: list[tuple[str, Callable[[], Callable[[], None]]]] = [
        ("approve + next item (htmx)", lambda: decide_and_next("")),
        ("approve + next, reason=blurry", lambda: decide_and_next("reason=blurry")),
        (
            "approve + next, brand + score 20-50",
            lambda: decide_and_next("brand=Brand+7&score_min=20&score_max=50"),
        ),
        ("queue page", lambda: get(queue, {}, {})),
        ("queue page, reason=holes", lambda: get(queue, {"reason": "holes"}, {})),
        ("queue page, brand=Brand 7", lambda: get(queue, {"brand": "Brand 7"}, {})),
        ("queue page, score 20-50", lambda: get(queue, {"score_min": 20, "score_max": 50}, {})),
        (
            "queue page, reason + brand + score",
            lambda: get(
                queue, {"reason": "cut_off", "brand": "Brand 3", "score_min": 10, "score_max": 40}, {}
            ),
        ),
        ("queue results (htmx), reason=exposure", lambda: get(queue, {"reason": "exposure"}, hx)),
    ]
    rows = [(name, *timed(args.repeat, make())) for name, make in cases]
    redis.flushdb()
    flagged = ImageVersion.objects.filter(status=ImageVersion.Status.FLAGGED).count()
    print(f"{flagged:,} flagged versions; server time over {args.repeat} requests as a reviewer")
    print(table(rows, ("request", "median ms", "p95 ms")))


if __name__ == "__main__":
    main()
