"""Photos imported from a URL: fetched from a real server on loopback (let through by
LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS in these tests only), then taken in by the same intake
as a browser upload, with the same refusals."""

from __future__ import annotations

import hashlib

import django_rq
import pytest

from catalog.intake.models import IntakeJob
from catalog.intake.url_import import import_from_url, import_url_job, start_url_import
from catalog.models import ImageVersion, Product, SourceImage, UploadBatch
from catalog.uploads import UploadRefused, create_batch
from lightbox.outbound import FetchFailed, UnsafeURL
from tests.catalog.http_server import LocalServer, send
from tests.conftest import photo_bytes

PNG = photo_bytes(fmt="PNG")


@pytest.fixture
def server(settings):
    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with LocalServer() as running:
        running.routes["/media/mug-front.png"] = lambda h: send(h, 200, PNG, "image/png")
        yield running


@pytest.mark.django_db
def test_a_png_at_a_url_becomes_a_source_image_and_a_queued_version(
    product, merchandiser, server, redis_conn, guard_sockets, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version = import_from_url(server.url("/media/mug-front.png"), product=product, user=merchandiser)

    source = SourceImage.objects.get(product=product)
    assert version.source_id == source.pk
    assert version.status == ImageVersion.Status.QUEUED
    assert (source.original_filename, source.format, source.role) == ("mug-front.png", "PNG", "main")
    assert source.sha256 == hashlib.sha256(PNG).hexdigest()
    with source.file.open("rb") as stored:
        assert stored.read() == PNG
    assert source.uploaded_by == merchandiser
    batch = source.batch
    assert (batch.source, batch.file_count, batch.rejected_count) == ("api", 1, 0)
    assert batch.closed_at is not None
    assert django_rq.get_queue("default").job_ids == [version.job_id]
    assert [r.path for r in server.received] == ["/media/mug-front.png"]
    assert guard_sockets.blocked == []


@pytest.mark.django_db
def test_an_internal_url_is_refused_on_the_batch_without_a_connection(product, merchandiser, guard_sockets):
    batch = create_batch(merchandiser)
    url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"

    with pytest.raises(UnsafeURL, match="link-local"):
        import_from_url(url, product=product, user=merchandiser, batch=batch)

    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count) == (1, 1)
    assert batch.errors[0]["file"] == url
    assert "only public internet addresses can be fetched" in batch.errors[0]["reason"]
    assert not SourceImage.objects.exists()
    assert guard_sockets.attempts == []


@pytest.mark.django_db
def test_loopback_is_refused_too_unless_the_setting_allows_it(product, merchandiser, server, settings):
    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = []

    with pytest.raises(UnsafeURL, match="loopback"):
        import_from_url(server.url("/media/mug-front.png"), product=product, user=merchandiser)

    assert server.received == []


@pytest.mark.django_db
def test_bytes_that_only_claim_to_be_a_png_meet_the_same_refusal_as_a_browser_upload(
    product, merchandiser, server
):
    server.routes["/fake.png"] = lambda h: send(
        h, 200, b"<html><script>alert(1)</script></html>", "image/png"
    )

    with pytest.raises(UploadRefused, match="not a photo Lightbox can read"):
        import_from_url(server.url("/fake.png"), product=product, user=merchandiser)

    assert not SourceImage.objects.exists()
    (batch,) = UploadBatch.objects.all()
    assert batch.rejected_count == 1
    assert batch.closed_at is not None


@pytest.mark.django_db
def test_the_same_photo_twice_is_refused_as_a_duplicate_like_an_upload(product, merchandiser, server):
    import_from_url(server.url("/media/mug-front.png"), product=product, user=merchandiser)

    with pytest.raises(UploadRefused, match="already attached to MUG-001"):
        import_from_url(server.url("/media/mug-front.png"), product=product, user=merchandiser)

    assert SourceImage.objects.count() == 1


@pytest.mark.django_db
def test_a_photo_over_the_url_import_limit_is_refused_before_it_is_stored(
    product, merchandiser, server, settings
):
    settings.LIGHTBOX_URL_IMPORT_MAX_BYTES = len(PNG) - 1

    with pytest.raises(FetchFailed, match="over the .* limit"):
        import_from_url(server.url("/media/mug-front.png"), product=product, user=merchandiser)

    assert not SourceImage.objects.exists()


@pytest.mark.django_db
def test_an_unknown_role_is_refused_before_anything_is_fetched(product, merchandiser, server):
    with pytest.raises(UploadRefused, match="Unknown image role 'hero'"):
        import_from_url(server.url("/media/mug-front.png"), product=product, user=merchandiser, role="hero")

    assert server.received == []


@pytest.mark.django_db
def test_enqueueing_refuses_an_internal_url_at_once(merchandiser, redis_conn, guard_sockets):
    batch = create_batch(merchandiser)

    with pytest.raises(UnsafeURL, match="10.0.0.1"):
        start_url_import(batch, "http://10.0.0.1/photo.png", sku="MUG-9", user=merchandiser)

    assert django_rq.get_queue("default").jobs == []
    assert [a for a in guard_sockets.attempts if a[1] != 6379] == []  # Redis aside, nothing


@pytest.mark.django_db(transaction=True)
def test_a_queued_url_import_is_run_by_a_burst_worker_into_a_new_product(merchandiser, server, redis_conn):
    from processing.worker import LightboxWorker

    batch = create_batch(merchandiser)
    job_id = start_url_import(
        batch, server.url("/media/mug-front.png"), sku="URL-MUG-1", user=merchandiser, role="alternate"
    )
    queue = django_rq.get_queue("default")
    assert queue.job_ids == [job_id]
    assert queue.fetch_job(job_id).func_name == "catalog.intake.url_import.import_url_job"

    LightboxWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1, with_scheduler=False)

    assert queue.fetch_job(job_id).return_value() == "imported"
    source = Product.objects.get(sku="URL-MUG-1").source_images.get()
    assert (source.role, source.batch_id) == ("alternate", batch.pk)
    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count) == (1, 0)
    assert batch.closed_at is not None
    assert queue.job_ids == [source.versions.get().job_id]  # processing queued next


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "sku", "reason"),
    [
        ("/missing.png", "MUG-001", "The server answered 404 Not Found."),
        ("/page", "MUG-001", "This address is not an image (the server says text/html)."),
        ("/media/mug-front.png", "not a sku!", "'not a sku!' is not a valid SKU"),
    ],
    ids=["not-found", "html-page", "bad-sku"],
)
def test_a_failed_url_import_job_records_the_reason_on_the_batch_and_closes_it(
    path, sku, reason, product, merchandiser, server
):
    server.routes["/page"] = lambda h: send(h, 200, b"<html></html>", "text/html")
    batch = create_batch(merchandiser)
    url = server.url(path)

    start_url_import(batch, url, sku=sku, user=merchandiser)
    intake = IntakeJob.objects.get(batch=batch)

    assert import_url_job(str(intake.pk)) == "refused"

    batch.refresh_from_db()
    assert [error["file"] for error in batch.errors] == [url]
    assert reason in batch.errors[0]["reason"]
    assert (batch.file_count, batch.rejected_count) == (1, 1)
    assert batch.closed_at is not None
    assert not SourceImage.objects.exists()


@pytest.mark.django_db
def test_a_url_import_job_for_a_deleted_batch_does_nothing(merchandiser, server):
    batch = create_batch(merchandiser)
    start_url_import(batch, server.url("/media/mug-front.png"), sku="MUG-001", user=merchandiser)
    intake_id = str(IntakeJob.objects.get(batch=batch).pk)
    batch.delete()

    assert import_url_job(intake_id) == "missing"
    assert server.received == []
