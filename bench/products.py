"""The product list with 100,000 products: server time per page, with and without filters.

Seeds products (and a photo with a version for every tenth) into the bench
database with COPY-speed bulk inserts, then times the real view through Django's
test client: median and 95th percentile over repeated requests.

    .venv/bin/python bench/products.py [--products 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import bench_environment, table


def seed(count: int) -> None:
    import hashlib
    import random

    from django.utils import timezone

    from catalog.models import ImageVersion, Product, SourceImage, UploadBatch

    now = timezone.now()
    existing = Product.objects.filter(sku__startswith="P1-").count()
    if existing >= count:
        return
    rng = random.Random(5)
    brands = [f"Brand {i}" for i in range(60)]
    categories = [f"Category {i}" for i in range(25)]
    batch = UploadBatch.objects.create(name="bench products")
    for start in range(existing, count, 5000):
        products = Product.objects.bulk_create(
            Product(
                sku=f"P1-{i:07d}",
                title=f"Product {i}",
                brand=rng.choice(brands),
                category=rng.choice(categories),
            )
            for i in range(start, min(start + 5000, count))
        )
        sources = SourceImage.objects.bulk_create(
            SourceImage(
                product=p,
                batch=batch,
                file=f"sources/bench/{p.sku}.jpg",
                original_filename=f"{p.sku}.jpg",
                sha256=hashlib.sha256(p.sku.encode()).hexdigest(),
                width=1200,
                height=1200,
                format="JPEG",
                byte_size=100_000,
            )
            for p in products[::10]
        )
        statuses = [rng.choice(["flagged", "published", "queued"]) for _ in sources]
        ImageVersion.objects.bulk_create(
            ImageVersion(
                source=s,
                status=status,
                score=50,
                published_at=now if status == "published" else None,
                brand=s.product.brand,
                category=s.product.category,
            )
            for s, status in zip(sources, statuses, strict=True)
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    bench_environment()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from catalog.models import Product, UploadBatch
    from catalog.roles import MERCHANDISER, assign_role

    seed(args.products)
    user, _ = get_user_model().objects.get_or_create(username="bench-merch")
    assign_role(user, MERCHANDISER)
    client = Client()
    client.force_login(user)
    batch = UploadBatch.objects.filter(name="bench products").first()
    cases = [
        ("first page", {}),
        ("page 1000", {"page": 1000}),
        ("search 'Product 4242'", {"q": "Product 4242"}),
        ("brand filter", {"brand": "Brand 7"}),
        ("status flagged", {"status": "flagged"}),
        ("brand + category + status", {"brand": "Brand 7", "category": "Category 3", "status": "published"}),
        ("batch filter", {"batch": str(batch.pk)} if batch else {}),
    ]
    rows = []
    for name, params in cases:
        client.get("/products/", params)  # warm
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get("/products/", params)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        rows.append((name, f"{statistics.median(times):.0f}", f"{p95:.0f}"))
    print(f"{Product.objects.count():,} products; server time of GET /products/ over {args.repeat} requests")
    print(table(rows, ("query", "median ms", "p95 ms")))


if __name__ == "__main__":
    main()
