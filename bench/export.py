"""Exports of 1,000 published products × 5 photos: seconds, peak memory and queries per export.

Seeds (once; idempotent) products with five photos each, a PUBLISHED version per
photo and passing renditions for amazon-main / amazon-additional (JPEG) and shopify
(WebP), with real image files written under var/bench-media, by bulk inserts. Then,
for the Shopify CSV and the Amazon ZIP, runs the export job (`run_export`) in a fresh
child process: `--repeat` timed runs, then one more under tracemalloc. The child's
peak RSS growth (ru_maxrss after minus before) shows that the ZIP streams to disk:
it stays far below the ZIP's size.

    .venv/bin/python bench/export.py [--products 1000] [--photos 5] [--pixels 64] [--repeat 3]

`--pixels` sets the side of the noise images (64 → about 4 KiB a file; 256 → about
50 KiB), to see memory stay flat as the files grow.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from _setup import ROOT, bench_environment, table

MEDIA = ROOT / "var" / "bench-media"
POOL = 40  # distinct images per format, reused across renditions


def prefix(pixels: int) -> str:
    return f"EXP{pixels}-"


def noise_images(pixels: int, fmt: str) -> list[bytes]:
    from PIL import Image

    rng = random.Random(pixels)
    images = []
    for _ in range(POOL):
        image = Image.frombytes("RGB", (pixels, pixels), rng.randbytes(pixels * pixels * 3))
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, quality=85)
        images.append(buffer.getvalue())
    return images


def seed(count: int, photos: int, pixels: int) -> None:
    import hashlib

    from django.utils import timezone

    from catalog.models import ImageVersion, MarketplaceProfile, Product, Rendition, SourceImage, SourceRole
    from catalog.public_urls import content_sha256, public_key_for

    sku_prefix = prefix(pixels)
    existing = Product.objects.filter(sku__startswith=sku_prefix)
    sample = Rendition.objects.filter(version__source__product__sku__startswith=sku_prefix).first()
    if existing.count() == count and sample and sample.file.storage.exists(sample.file.name):
        return
    Rendition.objects.filter(version__source__product__sku__startswith=sku_prefix).delete()
    SourceImage.objects.filter(product__sku__startswith=sku_prefix).delete()
    existing.delete()

    profiles = {
        p.slug: p
        for p in MarketplaceProfile.objects.filter(slug__in=["amazon-main", "amazon-additional", "shopify"])
    }
    jpegs, webps = noise_images(pixels, "JPEG"), noise_images(pixels, "WEBP")
    digests = {data: content_sha256(data) for data in jpegs + webps}
    now = timezone.now()
    started = time.perf_counter()
    for start in range(0, count, 200):
        products = Product.objects.bulk_create(
            Product(
                sku=f"{sku_prefix}{i:05d}", title=f"Export bench product {i}", asin=f"B0X{pixels:03d}{i:04d}"
            )
            for i in range(start, min(start + 200, count))
        )
        sources = SourceImage.objects.bulk_create(
            SourceImage(
                product=p,
                file=f"sources/bench/{p.sku}-{n}.jpg",
                original_filename=f"{p.sku}-{n}.jpg",
                sha256=hashlib.sha256(f"{p.sku}-{n}".encode()).hexdigest(),
                width=2000,
                height=2000,
                format="JPEG",
                byte_size=500_000,
                role=SourceRole.MAIN if n == 1 else SourceRole.ALTERNATE,
                position=n,
            )
            for p in products
            for n in range(1, photos + 1)
        )
        versions = ImageVersion.objects.bulk_create(
            ImageVersion(source=s, status="published", score=90, published_at=now, scored_at=now)
            for s in sources
        )
        renditions = []
        for k, version in enumerate(versions):
            source = version.source
            amazon = "amazon-main" if source.role == SourceRole.MAIN else "amazon-additional"
            for slug, data, ext in ((amazon, jpegs[k % POOL], "jpg"), ("shopify", webps[k % POOL], "webp")):
                name = f"renditions/{version.pk}/{slug}/{source.product.sku}-{source.position}.{ext}"
                path = MEDIA / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                renditions.append(
                    Rendition(
                        version=version,
                        profile=profiles[slug],
                        spec="bench",
                        file=name,
                        width=pixels,
                        height=pixels,
                        byte_size=len(data),
                        format="jpeg" if ext == "jpg" else "webp",
                        compliance_passed=True,
                        compliance={"passed": True, "checks": []},
                        sha256=digests[data],
                        public_key=public_key_for(digests[data]),
                    )
                )
        Rendition.objects.bulk_create(renditions)
    print(
        f"seeded {count:,} products × {photos} photos in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


def child(kind: str, pixels: int, repeat: int) -> None:
    """One export kind in a fresh process; prints a JSON line of its measurements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.exports.jobs import run_export
    from catalog.exports.models import Export

    def run() -> Export:
        export = Export.objects.create(
            kind=kind, scope={"filters": {"q": prefix(pixels)}}, scope_label="bench"
        )
        run_export(str(export.pk))
        export.refresh_from_db()
        if export.status != Export.Status.SUCCEEDED:
            raise SystemExit(f"{kind}: {export.status} {export.error}")
        return export

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, queries, last = [], 0, None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            export = run()
            seconds.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
        if last:
            last.file.delete(save=False)
        last = export
    rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    tracemalloc.start()
    traced = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    traced.file.delete(save=False)
    print(
        json.dumps(
            {
                "kind": kind,
                "seconds": statistics.median(seconds),
                "queries": queries,
                "peak_mib": peak / 2**20,
                "rss_growth_mib": rss_growth_kib / 1024,
                "file_mib": last.file.size / 2**20,
                "products": last.summary["products"],
                "images": last.summary["images"],
            }
        )
    )
    last.file.delete(save=False)
    Export.objects.filter(scope_label="bench").delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--pixels", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["MEDIA_ROOT"] = str(MEDIA)
    env = bench_environment()
    if args.child:
        child(args.child, args.pixels, args.repeat)
        return
    seed(args.products, args.photos, args.pixels)
    rows = []
    for kind in ("shopify_csv", "amazon_zip"):
        result = subprocess.run(  # noqa: S603
            [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--pixels",
                str(args.pixels),
                "--repeat",
                str(args.repeat),
            ],
            env={**env, "MEDIA_ROOT": str(MEDIA), "LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            check=True,
        )
        m = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append(
            (
                m["kind"],
                f"{m['products']:,}",
                f"{m['images']:,}",
                f"{m['seconds']:.2f}",
                f"{m['file_mib']:.1f}",
                f"{m['peak_mib']:.1f}",
                f"{m['rss_growth_mib']:.1f}",
                m["queries"],
            )
        )
    print(
        f"{args.products:,} products × {args.photos} photos, {args.pixels} px files; "
        f"run_export in-process, median of {args.repeat}"
    )
    print(
        table(
            rows,
            (
                "export",
                "products",
                "images",
                "seconds",
                "file MiB",
                "tracemalloc peak MiB",
                "RSS growth MiB",
                "queries",
            ),
        )
    )


if __name__ == "__main__":
    main()
