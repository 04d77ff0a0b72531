"""Launch priority is a permission, and each user's uploads and API calls are rate limited
with a clear 429 (Retry-After, and when to try again), counted in Redis."""

from __future__ import annotations

import io
import re
import time

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Product, UploadBatch
from lightbox import ratelimit
from tests.catalog.api.conftest import ApiClient, assert_error
from tests.conftest import grant_launch, photo_bytes

pytestmark = pytest.mark.django_db


def priority_options(page: str) -> list[str]:
    """The priorities offered by the page's priority menus."""
    menus = re.findall(r'<select name="priority".*?</select>', page, re.S)
    return sorted({label for menu in menus for label in re.findall(r">([^<>]+)</option>", menu)})


def away_from_a_window_edge() -> None:
    """Start a burst of requests well inside a one-minute window."""
    while time.time() % ratelimit.WINDOW_SECONDS > ratelimit.WINDOW_SECONDS - 8:
        time.sleep(0.5)


# --- Launch priority -------------------------------------------------------------------------


def test_a_merchandiser_is_not_offered_launch_and_is_refused_it_with_the_reason(client, merchandiser):
    client.force_login(merchandiser)

    page = client.get(reverse("catalog:upload")).content.decode()
    response = client.post(reverse("catalog:batch_create"), {"priority": 0, "name": "Launch"})

    assert priority_options(page) == ["Back-catalog", "Normal"]
    assert response.status_code == 400
    (error,) = response.json()["errors"]["priority"]
    assert "Launch priority is reserved" in error["message"]
    assert not UploadBatch.objects.exists()


def test_the_no_javascript_form_refuses_launch_without_the_permission(client, merchandiser, product):
    client.force_login(merchandiser)
    upload = SimpleUploadedFile("mug.jpg", photo_bytes(), content_type="image/jpeg")

    response = client.post(
        reverse("catalog:upload"), {"sku": product.sku, "role": "main", "priority": 0, "files": [upload]}
    )

    assert response.status_code == 200
    assert "Launch priority is reserved" in response.content.decode()
    assert not product.source_images.exists()


def test_someone_given_the_permission_and_an_admin_may_choose_launch(client, merchandiser, admin_user):
    grant_launch(merchandiser)
    for user in (merchandiser, admin_user):
        client.force_login(user)
        page = client.get(reverse("catalog:upload")).content.decode()
        assert priority_options(page) == ["Back-catalog", "Launch", "Normal"]
        assert client.post(reverse("catalog:batch_create"), {"priority": 0}).status_code == 201


def test_an_api_token_without_the_permission_cannot_choose_launch(api_as, merchandiser, product, redis_conn):
    client = api_as(merchandiser)
    upload = SimpleUploadedFile("mug.jpg", photo_bytes(), content_type="image/jpeg")

    refused = client.upload("/api/v1/products/MUG-001/images", {"file": upload, "priority": "0"})
    imported = client.post(
        "/api/v1/products/MUG-001/images/import", {"url": "https://example.com/a.jpg", "priority": 0}
    )

    assert "Launch priority is reserved" in assert_error(refused, 403, "priority_not_allowed")["message"]
    assert_error(imported, 403, "priority_not_allowed")
    assert not product.source_images.exists()
    assert django_rq.get_queue("high").job_ids == []


# --- rate limits -------------------------------------------------------------------------------


def send(client, batch, name: str, data: bytes):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(reverse("catalog:batch_files", args=[batch.pk]), {"file": upload})


def assert_retry_after(response) -> int:
    wait = int(response["Retry-After"])
    assert 1 <= wait <= ratelimit.WINDOW_SECONDS
    return wait


def test_a_user_over_the_upload_rate_gets_a_429_saying_when_to_try_again(
    client, merchandiser, settings, redis_conn
):
    settings.LIGHTBOX_UPLOAD_RATE_PER_MINUTE = 2
    client.force_login(merchandiser)
    batch = UploadBatch.objects.create(created_by=merchandiser)
    Product.objects.create(sku="TEE-1", title="Tee")
    away_from_a_window_edge()

    sent = [send(client, batch, f"TEE-1_{n}.jpg", photo_bytes(color=(n * 40, 10, 10))) for n in range(1, 4)]

    assert [r.status_code for r in sent] == [201, 201, 429]
    wait = assert_retry_after(sent[2])
    body = sent[2].json()
    assert body["retry_after"] == wait
    assert re.fullmatch(
        r"Too many uploads: the limit is 2 a minute per user\. "
        r"Try again in \d+ s \(after \d\d:\d\d:\d\d UTC\)\.",
        body["reason"],
    )
    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count) == (2, 0)  # the browser sends it again


def test_the_limit_is_per_user(client, merchandiser, django_user_model, settings, redis_conn):
    from catalog.roles import assign_role

    settings.LIGHTBOX_UPLOAD_RATE_PER_MINUTE = 1
    other = django_user_model.objects.create_user("max-merchandiser", password="x")
    assign_role(other, "Merchandiser")
    away_from_a_window_edge()

    assert ratelimit.hit(ratelimit.UPLOADS, merchandiser.pk) is None
    assert ratelimit.hit(ratelimit.UPLOADS, merchandiser.pk) is not None
    assert ratelimit.hit(ratelimit.UPLOADS, other.pk) is None


def test_the_window_ends_on_the_minute_and_the_wait_says_so(settings, redis_conn):
    settings.LIGHTBOX_API_RATE_PER_MINUTE = 1
    start = 1_800_000_000.0  # on a minute boundary

    assert ratelimit.hit(ratelimit.API, 7, now=start + 10) is None
    limited = ratelimit.hit(ratelimit.API, 7, now=start + 15)
    assert limited is not None
    assert limited.retry_after == 45
    assert "Try again in 45 s" in limited.message
    assert ratelimit.hit(ratelimit.API, 7, now=start + 60) is None  # a new window


def test_an_api_token_over_the_api_rate_gets_the_apis_429_with_retry_after(
    api_as, merchandiser, settings, redis_conn
):
    settings.LIGHTBOX_API_RATE_PER_MINUTE = 2
    client: ApiClient = api_as(merchandiser)
    away_from_a_window_edge()

    answers = [client.get("/api/v1/products") for _ in range(3)]

    assert [r.status_code for r in answers[:2]] == [200, 200]
    error = assert_error(answers[2], 429, "throttled")
    wait = assert_retry_after(answers[2])
    assert f"Try again in {wait} s" in error["message"]
    assert "API requests" in error["message"]


def test_uploads_go_through_when_the_counter_is_unreachable(settings, merchandiser):
    from tests.faults import free_port

    settings.LIGHTBOX_UPLOAD_RATE_PER_MINUTE = 1
    settings.RQ_QUEUES = {
        name: {**config, "URL": f"redis://127.0.0.1:{free_port()}/0"}
        for name, config in settings.RQ_QUEUES.items()
    }

    assert ratelimit.hit(ratelimit.UPLOADS, merchandiser.pk) is None
    assert ratelimit.hit(ratelimit.UPLOADS, merchandiser.pk) is None


# --- retrying a failed version through the API ---------------------------------------------


def test_a_failed_version_is_retried_through_the_api_and_a_second_retry_is_a_conflict(
    api_as, merchandiser, product, make_version, redis_conn, django_capture_on_commit_callbacks
):
    version = make_version(product, status="failed", error="the disk is full")
    client = api_as(merchandiser)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/versions/{version.pk}/retry")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "queued"
    assert django_rq.get_queue("default").job_ids == [version.job_id]
    error = assert_error(client.post(f"/api/v1/versions/{version.pk}/retry"), 409, "not_retryable")
    assert error["message"] == "This version was already queued again."
