"""A 500-photo ZIP from upload to every version settled, with two real workers.

Uses its own database (lightbox_bench) and Redis database (12) so it never touches
the demo or the tests. The ZIP is posted through the real upload endpoint as a
merchandiser; the clock stops when the batch is closed and every version is
settled (flagged, published, rejected or failed).

    .venv/bin/python bench/upload.py [--count 500] [--size 1200] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
import zipfile

from _setup import ROOT, bench_environment, table


def make_zip(count: int, size: int) -> bytes:
    """`count` generated product photos, one of them cut short (a corrupt file that
    must fail alone). Cached in the temp folder: generating is slower than importing."""
    import tempfile
    from pathlib import Path

    from bench.quality_set import make_photo, plan

    cached = Path(tempfile.gettempdir()) / f"lightbox-bench-upload-{count}-{size}.zip"
    if cached.exists():
        return cached.read_bytes()
    kinds = plan(count, seed=11)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i, kind in enumerate(kinds):
            data = make_photo(kind, size, seed=1000 + i).encode()
            if i == count // 2:
                data = data[: len(data) // 3]
            archive.writestr(f"BENCH-{i:04d}.jpg", data)
    cached.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--size", type=int, default=1200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = bench_environment()
    import django_rq
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from catalog.models import ImageVersion, Product, SourceImage, UploadBatch
    from catalog.roles import MERCHANDISER, assign_role

    django_rq.get_connection("default").flushdb()
    ImageVersion.objects.all().delete()
    SourceImage.objects.all().delete()
    Product.objects.filter(sku__startswith="BENCH-").delete()
    user, _ = get_user_model().objects.get_or_create(username="bench-merch")
    assign_role(user, MERCHANDISER)

    print(f"making a ZIP of {args.count} JPEGs at {args.size} px …")
    data = make_zip(args.count, args.size)
    print(f"ZIP is {len(data) / 2**20:.0f} MiB; starting {args.workers} workers")
    workers = [
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "manage.py",
                "rqworker",
                "interactive",
                "high",
                "default",
                "low",
                "--with-scheduler",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    try:
        time.sleep(3)  # let the workers import and register
        client = Client()
        client.force_login(user)
        started = time.perf_counter()
        batch_id = client.post(reverse("catalog:batch_create"), {"priority": 1}).json()["id"]
        upload = io.BytesIO(data)
        upload.name = "bench.zip"
        response = client.post(reverse("catalog:batch_files", args=[batch_id]), {"file": upload})
        if response.status_code != 202:
            raise SystemExit(f"upload refused: {response.status_code} {response.content[:300]!r}")
        uploaded = time.perf_counter() - started
        settled_states = (*ImageVersion.TERMINAL_STATES, *ImageVersion.REVIEWABLE_STATES)
        while True:
            batch = UploadBatch.objects.get(pk=batch_id)
            versions = ImageVersion.objects.filter(source__batch=batch)
            total = versions.count()
            settled = versions.filter(status__in=settled_states).count()
            if batch.closed_at and settled == total:
                break
            time.sleep(1)
        elapsed = time.perf_counter() - started
        counts = dict(versions.values_list("status").annotate(n=Count("id")))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    rows = [
        ("photos in the ZIP (one cut short)", args.count),
        ("versions settled", total),
        ("refused at intake", batch.rejected_count),
        ("upload request (seconds)", f"{uploaded:.1f}"),
        ("upload to all settled (seconds)", f"{elapsed:.1f}"),
        ("images per hour", f"{total / elapsed * 3600:.0f}"),
        ("outcome", ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))),
    ]
    print(table(rows, ("measure", "value")))


if __name__ == "__main__":
    main()
