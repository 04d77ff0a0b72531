"""Imports that could take a worker down or leak credentials, each pinned: the ZIP's manifest
read only after the archive's guards, the upload form's size checked before reading, a
manifest of bad rows in one UPDATE, and signed query strings kept out of errors and logs."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import django_rq
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.intake.models import IntakeJob
from catalog.intake.service import import_archive, store_manifest
from catalog.intake.url_import import import_url_job
from catalog.models import Product, UploadBatch
from catalog.uploads import UploadRefused, add_photo, create_batch
from lightbox import jobs
from tests.conftest import photo_bytes

pytestmark = pytest.mark.django_db

SIXTY_MB = 60 * 1024 * 1024


def lying_bzip2_manifest() -> bytes:
    """A ZIP of a few hundred bytes whose CSV inflates to 60 MB while its headers claim 100
    bytes: bzip2, which zipfile inflates a whole compressed read at a time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_BZIP2, compresslevel=9) as zf:
        zf.writestr("manifest.csv", b"\0" * SIXTY_MB)
    data = bytearray(buffer.getvalue())
    struct.pack_into("<I", data, 22, 100)  # local header: uncompressed size
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 100)  # central directory: uncompressed size
    return bytes(data)


def test_a_tiny_zip_whose_manifest_inflates_60_mb_is_never_inflated(merchandiser):
    archive = lying_bzip2_manifest()
    assert len(archive) < 400
    batch = create_batch(merchandiser, name="bomb")
    name = default_storage.save(f"archives/{batch.pk}.zip", ContentFile(archive))
    intake = IntakeJob.objects.create(batch=batch, kind=IntakeJob.Kind.ARCHIVE, archive_name=name)

    tracemalloc.start()
    try:
        assert import_archive(str(intake.pk)) == "imported"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 8 * 1024 * 1024, f"{peak / 2**20:.1f} MB allocated"
    batch.refresh_from_db()
    assert batch.manifest == {}
    assert [e["file"] for e in batch.errors] == ["manifest.csv"]
    assert "compressed with bzip2" in batch.errors[0]["reason"]


class ReadRecorder(io.BytesIO):
    """An uploaded file that keeps what was asked of it, and may declare a size of its own."""

    def __init__(self, data: bytes, size: int) -> None:
        super().__init__(data)
        self.size = size
        self.reads: list[int] = []

    def read(self, n: int | None = -1) -> bytes:
        self.reads.append(-1 if n is None else n)
        return super().read(n)


def test_an_upload_is_refused_by_its_size_before_any_byte_is_read(product, settings):
    settings.LIGHTBOX_MAX_UPLOAD_BYTES = 10_000
    batch = create_batch(None)
    declared_big = ReadRecorder(b"\0" * 50_000, size=50_000)
    declared_small = ReadRecorder(b"\0" * 50_000, size=100)  # a stream that lies about its size

    with pytest.raises(UploadRefused, match="larger than"):
        add_photo(batch, product, "big.jpg", declared_big)
    with pytest.raises(UploadRefused, match="larger than"):
        add_photo(batch, product, "liar.jpg", declared_small)

    assert declared_big.reads == []
    assert declared_small.reads == [10_001]  # never more than one byte past the limit


def test_the_no_javascript_form_refuses_a_file_over_the_limit(client, merchandiser, product, settings):
    settings.LIGHTBOX_MAX_UPLOAD_BYTES = 10_000
    client.force_login(merchandiser)
    big = io.BytesIO(photo_bytes(size=(900, 900)) + b"\0" * 20_000)
    big.name = "big.jpg"

    response = client.post(
        reverse("catalog:upload"),
        {"sku": product.sku, "role": "main", "priority": 1, "files": [big]},
        follow=True,
    )

    assert "larger than" in response.content.decode()
    assert not product.source_images.exists()


def test_a_manifest_of_bad_rows_is_recorded_in_one_update(merchandiser):
    batch = create_batch(merchandiser)
    rows = "".join(f"photo{n}.jpg,not a sku!\n" for n in range(500))

    with CaptureQueriesContext(connection) as queries:
        manifest = store_manifest(batch, f"file,sku\n{rows}".encode())

    updates = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "catalog_uploadbatch"')
    ]
    assert len(updates) == 2  # the rows, then the errors
    assert len(manifest.errors) == 500
    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count, len(batch.errors)) == (500, 500, 500)
    assert batch.errors[0] == {"file": "manifest.csv", "reason": manifest.errors[0]}


SIGNED = (
    "https://uploader:hunter2@127.0.0.1:9/photos/mug.jpg?X-Amz-Signature=SECRETSIG&token=SECRETTOKEN#frag"
)


def test_an_imported_urls_credentials_stay_out_of_batch_errors_logs_and_job_descriptions(
    merchandiser, caplog, redis_conn, django_capture_on_commit_callbacks
):
    Product.objects.create(sku="MUG-9", title="Mug")
    batch = create_batch(merchandiser)

    # Recorded as start_url_import records it (which would refuse this loopback address).
    intake = IntakeJob.objects.create(
        batch=batch,
        kind=IntakeJob.Kind.URL,
        url=SIGNED,
        params={"sku": "MUG-9", "user_id": merchandiser.pk, "role": "", "close": True},
    )
    with django_capture_on_commit_callbacks(execute=True):
        jobs.queue_url_import(intake)
    (job,) = django_rq.get_queue("default").jobs
    with caplog.at_level("DEBUG"):
        assert import_url_job(str(intake.pk)) == "refused"

    batch.refresh_from_db()
    (error,) = batch.errors
    assert error["file"] == "https://127.0.0.1:9/photos/mug.jpg"
    shown = [str(batch.errors), caplog.text, job.description]
    for secret in ("SECRET", "hunter2", "uploader", "frag"):
        assert not any(secret in text for text in shown), secret
    intake.refresh_from_db()
    assert intake.url == SIGNED  # the import itself still fetches the real address


def test_upload_batch_refusals_keep_counting_one_file_each(merchandiser):
    batch: UploadBatch = create_batch(merchandiser)

    batch.record_refusal("a.jpg", "bad")
    batch.record_refusals([("b.jpg", "worse"), ("c.jpg", "worst")])
    batch.record_refusals([])

    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count) == (3, 3)
    assert [e["file"] for e in batch.errors] == ["a.jpg", "b.jpg", "c.jpg"]
