"""Nothing lost, nothing done twice, under real faults (issue 16).

Real `rqworker` processes run a batch (loose photos and a ZIP import) and a Shopify push
(to the fake Admin API on loopback). The test SIGKILLs the first worker mid-job, flushes
its (private) Redis, starts a second worker and cuts the database under it for a few
seconds (a TCP proxy between the workers and PostgreSQL), and sweeps as `manage.py sweep`
would. Afterwards every version, the import, the batch and the export ended once, in a
terminal state: each version's outcome event exists once, the ZIP's photos are in the
batch once each, the batch completed and its webhook arrived once, the shop shows each
pushed image once.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from catalog.exports.models import ExportKind, ExportStatus
from catalog.exports.services import start_export
from catalog.intake.models import IntakeJob, IntakeStatus
from catalog.intake.service import receive_archive, receive_file
from catalog.models import ImageVersion, MarketplaceProfile, Product, Rendition, SourceImage, UploadBatch
from catalog.public_urls import content_sha256, public_key_for
from catalog.uploads import create_batch
from processing.sweeper import sweep
from tests.catalog.webhooks.conftest import Receiver, _handler
from tests.fakes.shopify import FakeShopify
from tests.faults import PrivateRedis, TcpProxy, kill_group

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[1]
LOOSE = 4
ZIP_PHOTOS = 5
ZIP_NOTES = 5
STALE_SECONDS = 15  # longer than any one job here, so a live job is never taken over
OUTCOME_EVENTS = ("version.published", "version.flagged", "version.failed")


def studio_photo(n: int) -> bytes:
    """A small product shot: a coloured object on a light backdrop, different for every n."""
    image = Image.new("RGB", (480, 360), (236, 236, 232))
    colour = (40 + 37 * n % 200, 60 + 53 * n % 180, 90 + 29 * n % 150)
    ImageDraw.Draw(image).rounded_rectangle((150, 80, 330, 300), 30, fill=colour)
    ImageDraw.Draw(image).ellipse((200 + n % 7 * 5, 120, 260 + n % 7 * 5, 180), fill=(250, 250, 250))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def archive_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(ZIP_PHOTOS):
            archive.writestr(f"FT-ZIP-{n}.jpg", studio_photo(100 + n))
            archive.writestr(f"notes-{n}.txt", f"not a photo {n}")
    return buffer.getvalue()


def webp(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), (20 + 60 * n, 200 - 50 * n, 90)).save(buffer, format="WEBP")
    return buffer.getvalue()


def published_for_shopify(make_version, count: int = 2) -> Product:
    """A product whose photos are published with a passed Shopify rendition each."""
    product = Product.objects.create(sku="FT-SHELF", title="Oak shelf", attributes={"alt_text": "Oak shelf"})
    profile = MarketplaceProfile.objects.get(slug="shopify")
    for n in range(count):
        version = make_version(product, status="published", published_at=timezone.now())
        data = webp(n)
        rendition = Rendition(
            version=version, profile=profile, spec="test-webp", width=96, height=96, byte_size=len(data),
            format="webp", compliance_passed=True, sha256=content_sha256(data),
        )  # fmt: skip
        rendition.public_key = public_key_for(rendition.sha256)
        rendition.file.save(f"shopify/FT-SHELF-{n + 1}.webp", ContentFile(data), save=False)
        rendition.save()
    return product


@pytest.fixture
def private_redis(tmp_path, settings):
    redis = PrivateRedis(tmp_path)
    settings.RQ_QUEUES = {name: {**config, "URL": redis.url} for name, config in settings.RQ_QUEUES.items()}
    yield redis
    redis.stop()


@pytest.fixture
def database_proxy():
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    yield proxy
    proxy.stop()


@pytest.fixture
def webhook_receiver():
    from http.server import ThreadingHTTPServer
    from threading import Thread

    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


class Workers:
    """`manage.py rqworker` processes, as production runs them, on the private Redis and
    reaching PostgreSQL only through the proxy."""

    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env = env
        self.logdir = logdir
        self.started: list[subprocess.Popen] = []

    def start(self, name: str) -> subprocess.Popen:
        log = (self.logdir / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - this interpreter and manage.py
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
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            kill_group(process)

    def log(self, name: str) -> str:
        return (self.logdir / f"{name}.log").read_text(errors="replace")[-6000:]


def wait_for(condition, timeout: float, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


def test_a_batch_and_an_export_survive_a_killed_worker_a_flushed_redis_and_a_database_outage(
    private_redis, database_proxy, webhook_receiver, merchandiser, admin_user, make_version,
    model_dir, settings, tmp_path,
):  # fmt: skip
    from catalog.shopify.connection import do_connect_store
    from catalog.shopify.models import PushItemStatus, ShopifyPushItem
    from catalog.webhooks import services
    from catalog.webhooks.models import SUBSCRIBABLE_EVENTS, Event

    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.LIGHTBOX_STALE_AFTER_SECONDS = STALE_SECONDS
    shopify = FakeShopify().__enter__()
    settings.LIGHTBOX_SHOPIFY_API_URL_TEMPLATE = shopify.url_template
    db = connection.settings_dict
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{database_proxy.port}/{db['NAME']}",
        "DATABASE_CONN_MAX_AGE": "600",  # keep connections, so the outage breaks live ones
        "TEST_REDIS_URL": private_redis.url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LIGHTBOX_CASCADE_MODEL": "",
        "LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32",
        "LIGHTBOX_SHOPIFY_API_URL_TEMPLATE": shopify.url_template,
        "LIGHTBOX_SHOPIFY_MEDIA_WAIT_SECONDS": "20",
    }
    workers = Workers(env, tmp_path)
    try:
        # --- the work: a batch with loose photos and a ZIP, a Shopify push --------------------
        endpoint, secret = services.register_endpoint(
            url=webhook_receiver.url, event_types=list(SUBSCRIBABLE_EVENTS), user=admin_user
        )
        webhook_receiver.secrets.append(secret)
        shelf = published_for_shopify(make_version)
        shopify.add_product("ft-shelf", "Oak shelf")
        with transaction.atomic():
            do_connect_store(shopify.shop, shopify.token, admin_user)

        batch = create_batch(merchandiser, source=UploadBatch.Source.BROWSER, name="fault test")
        intake = receive_archive(batch, ContentFile(archive_bytes(), name="catalog.zip"))
        for n in range(LOOSE):
            receive_file(batch, f"FT-LOOSE-{n}.jpg", studio_photo(n))
            batch.record_accepted()
        export = start_export(ExportKind.SHOPIFY_PUSH, {"product": shelf.pk}, "", merchandiser)

        # --- worker A, SIGKILLed mid-job --------------------------------------------------------
        first = workers.start("worker-a")

        def mid_job():
            intake.refresh_from_db()
            if intake.status == IntakeStatus.RUNNING and intake.cursor > 0:
                return f"the ZIP import, after entry {intake.cursor}"
            if intake.status == IntakeStatus.DONE:
                busy = ImageVersion.objects.filter(source__batch=batch, status="processing").first()
                return busy and f"processing {busy.source.original_filename}"
            return None

        killed_during = wait_for(mid_job, timeout=90)
        kill_group(first)
        assert killed_during, workers.log("worker-a")

        # --- Redis flushed, a second worker, the database away for a few seconds ----------------
        private_redis_client(private_redis).flushall()
        second = workers.start("worker-b")
        sweep(grace_seconds=0)
        # The outage hits worker B while it works (its next step finds the connection reset).
        working = ImageVersion.objects.filter(status="processing", processed_by__endswith=f":{second.pid}")
        wait_for(lambda: working.exists() or None, timeout=60)
        database_proxy.cut()
        time.sleep(4)
        database_proxy.restore()

        # --- the sweeper, as `manage.py sweep --every` runs it, until everything has settled ----
        def settled():
            sweep(grace_seconds=2)
            active = ImageVersion.objects.filter(source__batch=batch, status__in=ImageVersion.ACTIVE_STATES)
            export.refresh_from_db()
            batch.refresh_from_db()
            done = not active.exists() and batch.finished_at and export.status in (
                ExportStatus.SUCCEEDED, ExportStatus.FAILED)  # fmt: skip
            delivered = any(
                r.headers.get("webhook-id") and b'"batch.completed"' in r.body
                for r in webhook_receiver.received
            )
            return bool(done and delivered)

        assert wait_for(settled, timeout=180, step=2), (
            f"killed during {killed_during}; "
            f"{list(ImageVersion.objects.filter(source__batch=batch).values_list('status', 'error'))}; "
            f"import {IntakeJob.objects.values('status', 'cursor', 'attempts', 'last_error').first()}; "
            f"export {export.status} {export.error}\n{workers.log('worker-b')}"
        )
        assert second.poll() is None, "worker B died in the outage:\n" + workers.log("worker-b")
        outage_errors = (tmp_path / "worker-b.log").read_text(errors="replace").count("OperationalError")
    finally:
        workers.stop_all()
        shopify.__exit__(None)

    # The import: read to the end once, from where it was stopped.
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.DONE, intake.last_error
    assert intake.cursor == ZIP_PHOTOS + ZIP_NOTES
    # Every photo in the batch once; the only refusals are the ZIP's text files.
    batch.refresh_from_db()
    names = Counter(SourceImage.objects.filter(batch=batch).values_list("original_filename", flat=True))
    expected = {f"FT-LOOSE-{n}.jpg" for n in range(LOOSE)} | {f"FT-ZIP-{n}.jpg" for n in range(ZIP_PHOTOS)}
    assert set(names) == expected
    assert set(names.values()) == {1}
    assert sorted(e["file"] for e in batch.errors) == sorted(f"notes-{n}.txt" for n in range(ZIP_NOTES))
    assert (batch.file_count, batch.rejected_count) == (LOOSE + ZIP_PHOTOS + ZIP_NOTES, ZIP_NOTES)
    # Every version settled, and each reached its outcome exactly once.
    versions = list(ImageVersion.objects.filter(source__batch=batch))
    assert len(versions) == LOOSE + ZIP_PHOTOS
    assert {v.status for v in versions} <= {"published", "flagged", "failed"}
    outcomes = Counter(
        e.payload["version_id"]
        for e in Event.objects.filter(type__in=OUTCOME_EVENTS, payload__batch_id=str(batch.pk))
    )
    assert outcomes == {str(v.pk): 1 for v in versions}
    # The batch completed once, and its webhook arrived once.
    assert batch.finished_at is not None
    assert Event.objects.filter(type="batch.completed").count() == 1
    completed = [r for r in webhook_receiver.received if b'"batch.completed"' in r.body]
    assert len(completed) == 1
    assert completed[0].verified
    assert completed[0].status == 200
    # The export ended once, every image pushed once, no image twice in the shop.
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error
    assert Event.objects.filter(type="export.completed").count() == 1
    assert set(ShopifyPushItem.objects.filter(export=export).values_list("status", flat=True)) == {
        PushItemStatus.DONE
    }
    assert len(shopify.media_of("ft-shelf")) == 2
    assert shopify.duplicates == []
    assert [v for v in shopify.violations if "duplicate" in v] == []
    print(  # noqa: T201 - the run's story, for whoever reads the output
        f"\nfault test: worker A killed during {killed_during}; import stops {intake.attempts}; "
        f"database errors in worker B's log during the outage: {outage_errors}"
    )


def private_redis_client(redis: PrivateRedis):
    import redis as redis_py

    return redis_py.Redis.from_url(redis.url)
