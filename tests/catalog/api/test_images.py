"""Photos into a product through the API: a multipart upload, or an import from a URL that
refuses internal addresses before any connection."""

from __future__ import annotations

from urllib.parse import urlsplit

import django_rq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import ImageVersion, SourceImage, UploadBatch
from tests.catalog.api.conftest import ApiClient, assert_error
from tests.catalog.http_server import LocalServer, send
from tests.conftest import grant_launch, photo_bytes

JPEG = photo_bytes()


def photo(data: bytes = JPEG, name: str = "mug-front.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@pytest.mark.django_db
def test_a_multipart_upload_stores_the_photo_and_queues_its_first_version(
    api_as, merchandiser, product, redis_conn, django_capture_on_commit_callbacks
):
    grant_launch(merchandiser)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(merchandiser).upload(
            "/api/v1/products/MUG-001/images", {"file": photo(), "role": "alternate", "priority": "0"}
        )

    assert response.status_code == 201, response.content
    body = response.json()
    source = SourceImage.objects.get(product=product)
    version = source.versions.get()
    assert body["source_id"] == str(source.pk)
    assert body["version"]["id"] == str(version.pk)
    assert (body["version"]["status"], version.status) == ("queued", "queued")
    assert (source.role, source.original_filename, source.uploaded_by) == (
        "alternate",
        "mug-front.jpg",
        merchandiser,
    )
    batch = UploadBatch.objects.get(pk=body["batch_id"])
    assert (batch.source, batch.priority, batch.file_count, batch.rejected_count) == ("api", 0, 1, 0)
    assert batch.closed_at is not None
    # Queued like a browser upload: on the batch's priority queue, under the version's job id.
    assert django_rq.get_queue("high").job_ids == [version.job_id]


@pytest.mark.django_db
def test_an_upload_that_is_not_a_photo_is_refused_with_the_reason(api_as, merchandiser, product):
    response = api_as(merchandiser).upload(
        "/api/v1/products/MUG-001/images", {"file": photo(b"%PDF-1.7", "a.jpg")}
    )
    error = assert_error(response, 422, "image_refused")
    assert error["message"].startswith("This is not a photo Lightbox can read")
    assert not ImageVersion.objects.exists()


@pytest.mark.django_db
def test_the_same_photo_twice_is_refused_as_a_duplicate(api_as, merchandiser, product):
    client = api_as(merchandiser)
    assert client.upload("/api/v1/products/MUG-001/images", {"file": photo()}).status_code == 201
    error = assert_error(client.upload("/api/v1/products/MUG-001/images", {"file": photo()}), 422)
    assert error["message"] == "This exact photo is already attached to MUG-001."


@pytest.mark.django_db
def test_an_upload_over_the_size_limit_is_a_413(api_as, merchandiser, product, settings):
    settings.LIGHTBOX_MAX_UPLOAD_BYTES = len(JPEG) - 1
    assert_error(
        api_as(merchandiser).upload("/api/v1/products/MUG-001/images", {"file": photo()}), 413, "too_large"
    )
    assert not SourceImage.objects.exists()


@pytest.mark.django_db
def test_an_upload_without_a_file_or_to_an_unknown_product_is_refused(api_as, merchandiser, product):
    client = api_as(merchandiser)
    error = assert_error(client.upload("/api/v1/products/MUG-001/images", {"role": "main"}), 422)
    assert error["details"][0]["loc"] == ["file", "file"]
    assert_error(client.upload("/api/v1/products/NOPE-1/images", {"file": photo()}), 404)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:8000/admin/", "is this server itself (loopback)"),
        ("http://localhost/x.jpg", "localhost points to"),  # resolved first, then refused
        ("http://10.0.0.7/photo.jpg", "is a private network address"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata services"),
        ("http://[::1]/photo.jpg", "loopback"),
        ("http://2130706433/photo.jpg", "127.0.0.1"),
        ("file:///etc/passwd", "Only http:// and https:// addresses can be fetched"),
    ],
)
def test_an_import_from_an_internal_address_is_refused_before_any_connection(
    api_as, merchandiser, product, redis_conn, url, says, guard_sockets
):
    client = api_as(merchandiser)
    guard_sockets.attempts.clear()

    response = client.post("/api/v1/products/MUG-001/images/import", {"url": url})

    error = assert_error(response, 422, "url_refused")
    assert says in error["message"]
    # The only connection made is the rate limit's count in Lightbox's own Redis.
    redis = urlsplit(settings.REDIS_URL)
    assert [a for a in guard_sockets.attempts if a != (redis.hostname, redis.port)] == []
    assert not UploadBatch.objects.exists()  # nothing recorded for a refused address
    assert django_rq.get_queue("default").jobs == []


@pytest.fixture
def server(settings):
    """A real web server on loopback, let through for these tests only."""
    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with LocalServer() as running:
        running.routes["/media/mug.png"] = lambda h: send(h, 200, photo_bytes(fmt="PNG"), "image/png")
        running.routes["/page"] = lambda h: send(h, 200, b"<html></html>", "text/html")
        yield running


@pytest.mark.django_db(transaction=True)
def test_an_import_by_url_is_accepted_and_a_burst_worker_brings_the_photo_in(
    merchandiser, product, server, redis_conn
):
    from catalog.api.models import ApiToken
    from processing.worker import LightboxWorker

    client = ApiClient(ApiToken.issue(merchandiser, "pim")[1])
    response = client.post("/api/v1/products/MUG-001/images/import", {"url": server.url("/media/mug.png")})

    assert response.status_code == 202, response.content
    body = response.json()
    batch = UploadBatch.objects.get(pk=body["batch_id"])
    assert (batch.source, batch.created_by) == ("api", merchandiser)
    assert body["batch_url"] == f"http://testserver/api/v1/batches/{batch.pk}"
    queue = django_rq.get_queue("default")
    assert queue.job_ids == [body["job_id"]]
    assert queue.fetch_job(body["job_id"]).func_name == "catalog.intake.url_import.import_url_job"

    LightboxWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1, with_scheduler=False)

    progress = client.get(body["batch_url"]).json()
    assert (progress["file_count"], progress["rejected_count"], progress["errors"]) == (1, 0, [])
    assert progress["progress"]["counts"]["queued"] == 1
    assert progress["closed_at"] is not None
    [version] = client.get("/api/v1/versions", {"batch": str(batch.pk)}).json()["items"]
    assert (version["sku"], version["status"]) == ("MUG-001", "queued")
    assert SourceImage.objects.get(product=product).original_filename == "mug.png"


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_page_is_not_an_image_ends_with_the_reason_on_the_batch(
    merchandiser, product, server, redis_conn
):
    from catalog.api.models import ApiToken
    from processing.worker import LightboxWorker

    client = ApiClient(ApiToken.issue(merchandiser, "pim")[1])
    body = client.post("/api/v1/products/MUG-001/images/import", {"url": server.url("/page")}).json()
    queue = django_rq.get_queue("default")
    LightboxWorker([queue], connection=queue.connection).work(burst=True, max_jobs=1, with_scheduler=False)

    batch = client.get(body["batch_url"]).json()
    assert (batch["file_count"], batch["rejected_count"]) == (1, 1)
    assert batch["errors"] == [
        {"file": server.url("/page"), "reason": "This address is not an image (the server says text/html)."}
    ]
