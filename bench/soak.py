"""Soak: photos through two real workers while one is SIGKILLed every so often and Redis is
flushed once; nothing may be lost or done twice.

    PYTHONPATH=$PWD .venv/bin/python bench/soak.py                  # issue 16: 2,000 photos
    PYTHONPATH=$PWD .venv/bin/python bench/soak.py --back 90 --normal 20 --launch 10 --kill-every 30

A back-catalog batch (`--back`, 1,500 by default) is submitted first, then a Normal one
(`--normal`) and a Launch batch (`--launch`) behind them: 2,000 photos in all. Two
`manage.py rqworker` processes and `manage.py sweep --every 5` run as in production, on a
database of the bench's own (`--database`, created and migrated) and a private redis-server
(flushed once, at `--flush-at` seconds). Every `--kill-every` seconds one worker is SIGKILLed
and started again (the supervisor's job). A webhook endpoint on loopback receives every
outcome, so an outcome reached twice would show as two events.

Prints: images per hour, lost (versions never settled, must be 0), duplicated (versions
with more than one outcome event, or a photo with two versions; must be 0), the slowest
time from upload to settled, and how long the Launch batch waited before its first photo
started. The photos are small synthetic studio shots (480 x 360); with real 12 MP photos
the per-image time grows, the accounting does not.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import PrivateRedis, kill_group  # noqa: E402 - after the path is set

OUTCOME_EVENTS = ("version.published", "version.flagged", "version.failed")
WORKER = ("rqworker", "interactive", "high", "default", "low", "--with-scheduler")


def studio_photo(n: int) -> bytes:
    image = Image.new("RGB", (480, 360), (236, 236, 232))
    colour = (40 + 37 * n % 200, 60 + 53 * n % 180, 90 + 29 * n % 150)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((150, 80, 330, 300), 30, fill=colour)
    draw.rectangle((10 + n % 97, 10, 12 + n % 97, 12 + n // 97 % 40), fill=(200, 200, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def environment(args: argparse.Namespace, redis: PrivateRedis, media: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "REDIS_URL": redis.url,
        "MEDIA_ROOT": media,
        "LIGHTBOX_CASCADE_MODEL": "",
        "LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
        "LIGHTBOX_STALE_AFTER_SECONDS": str(args.stale),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PYTEST_VERSION", None)
    os.environ.pop("PYTEST_VERSION", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")})
    os.environ["LIGHTBOX_STALE_AFTER_SECONDS"] = env["LIGHTBOX_STALE_AFTER_SECONDS"]
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "ensure_database"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    return env


def start(env: dict[str, str], logdir: Path, name: str, *command: str) -> subprocess.Popen:
    log = (logdir / f"{name}.log").open("ab")
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--back", type=int, default=1500, help="photos in the back-catalog batch")
    parser.add_argument("--normal", type=int, default=490, help="photos in the Normal batch")
    parser.add_argument("--launch", type=int, default=10, help="photos in the Launch batch")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds between worker kills")
    parser.add_argument(
        "--flush-at", type=float, default=None, help="seconds in (default: a third of a kill)"
    )
    parser.add_argument("--stale", type=int, default=60, help="LIGHTBOX_STALE_AFTER_SECONDS (minimum 30)")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="give up waiting after this long")
    parser.add_argument("--database", default="lightbox_soak")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="lightbox-soak-"))
    redis = PrivateRedis(workdir)
    env = environment(args, redis, str(workdir / "media"))
    from django.db.models import Count

    from catalog.models import ImageVersion, Priority, Product, SourceImage
    from catalog.uploads import add_photo, create_batch
    from catalog.webhooks import services
    from catalog.webhooks.models import SUBSCRIBABLE_EVENTS, Event

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    services.register_endpoint(
        url=f"http://127.0.0.1:{receiver.server_address[1]}/hooks",
        event_types=list(SUBSCRIBABLE_EVENTS),
        user=None,
    )
    run_tag = time.strftime("%H%M%S")
    workers = [start(env, workdir, f"worker-{i}", *WORKER) for i in range(2)]
    sweeper = start(env, workdir, "sweeper", "sweep", "--every", "5")
    batches = {}
    started = time.monotonic()
    try:
        n = 0
        for label, priority, count in (
            ("back-catalog", Priority.LOW, args.back),
            ("normal", Priority.NORMAL, args.normal),
            ("launch", Priority.HIGH, args.launch),
        ):
            batch = create_batch(None, priority=priority, name=f"soak {run_tag} {label}")
            batches[label] = (batch, time.monotonic(), time.time())
            for _ in range(count):
                product = Product.objects.create(sku=f"SOAK-{run_tag}-{n}", title=f"Soak {n}")
                add_photo(batch, product, f"soak-{n}.jpg", studio_photo(n))
                n += 1
            batch.close()
        total = n
        print(f"submitted {total} photos in {time.monotonic() - started:.0f} s")  # noqa: T201

        launch_batch, launch_submitted, _ = batches["launch"]
        launch_wait = None
        flush_at = args.flush_at if args.flush_at is not None else args.kill_every / 3
        flushed = False
        next_kill = time.monotonic() + args.kill_every
        kills = 0
        ours = ImageVersion.objects.filter(source__batch__name__startswith=f"soak {run_tag}")
        while time.monotonic() - started < args.timeout:
            now = time.monotonic()
            if not flushed and now - started >= flush_at:
                import redis as redis_py

                redis_py.Redis.from_url(redis.url).flushall()
                flushed = True
                print(f"{now - started:6.0f} s  Redis flushed")  # noqa: T201
            if now >= next_kill:
                victim = kills % 2
                kill_group(workers[victim])
                workers[victim] = start(env, workdir, f"worker-{victim}", *WORKER)
                kills += 1
                next_kill = now + args.kill_every
            if (
                launch_wait is None
                and ImageVersion.objects.filter(source__batch=launch_batch)
                .exclude(status=ImageVersion.Status.QUEUED)
                .exists()
            ):
                launch_wait = time.monotonic() - launch_submitted
            active = ours.filter(status__in=ImageVersion.ACTIVE_STATES).count()
            if not active:
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
    finally:
        for process in [*workers, sweeper]:
            kill_group(process, signal.SIGTERM)
        receiver.shutdown()
        redis.stop()

    versions = list(ours)
    lost = sum(1 for v in versions if v.status in ImageVersion.ACTIVE_STATES) + (total - len(versions))
    outcome_counts = Counter(
        e.payload.get("version_id")
        for e in Event.objects.filter(
            type__in=OUTCOME_EVENTS, payload__version_id__in=[str(v.pk) for v in versions]
        )
    )
    twice = sum(1 for count in outcome_counts.values() if count > 1)
    two_versions = (
        SourceImage.objects.filter(batch__name__startswith=f"soak {run_tag}")
        .annotate(n=Count("versions"))
        .filter(n__gt=1)
        .count()
    )
    settled_at = [
        (v.published_at or v.failed_at or v.scored_at) - v.queued_at
        for v in versions
        if (v.published_at or v.failed_at or v.scored_at)
    ]
    slowest = max(settled_at).total_seconds() if settled_at else float("nan")
    waited = launch_wait if launch_wait is not None else float("nan")
    lines = [
        f"soak: {total} photos, 2 workers, {kills} worker kills (every {args.kill_every:g} s), "
        "Redis flushed once",
        f"  images per hour            {total / elapsed * 3600:,.0f}  ({elapsed:.0f} s in all)",
        f"  lost                       {lost}",
        f"  duplicated                 {twice + two_versions}  "
        f"(outcome twice {twice}, two versions {two_versions})",
        f"  slowest upload -> settled  {slowest:.0f} s",
        f"  Launch batch waited        {waited:.0f} s before its first photo started "
        f"(behind {args.back} back-catalog and {args.normal} normal photos)",
        f"  statuses                   {dict(Counter(v.status for v in versions))}",
        f"  logs in                    {workdir}",
    ]
    print("\n" + "\n".join(lines))  # noqa: T201
    return 0 if lost == 0 and twice + two_versions == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
