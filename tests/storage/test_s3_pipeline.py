"""The whole path with every file in an S3 bucket (a real SeaweedFS server): upload, process,
render, export. Public rendition URLs are fetched over HTTP from the bucket itself, private
files only through short-lived signed URLs, and nothing is written under any MEDIA_ROOT."""

from __future__ import annotations

import csv
import hashlib
import io
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from catalog.demo import DEMO_PRODUCTS
from catalog.exports.models import Export, ExportKind, ExportStatus
from catalog.models import ImageVersion, Product, Rendition, UploadBatch, VersionStatus
from catalog.public_urls import public_url
from tests import s3server
from tests.storage.workers import files_under, run_burst_worker

pytestmark = pytest.mark.django_db(transaction=True)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """A plain anonymous GET, as a marketplace or a browser without a session makes it."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (a test URL)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def send(client, batch_id, name: str, data: bytes):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(reverse("catalog:batch_files", args=[batch_id]), {"file": upload})


def export(client, kind: str, product: Product, machine: Path) -> Export:
    response = client.post(
        reverse("catalog:export_start"), {"kind": kind, "scope": "product", "product": product.pk}
    )
    assert response.status_code == 302
    run_burst_worker(machine)
    done = Export.objects.get(kind=kind)
    assert done.status == ExportStatus.SUCCEEDED, done.error
    return done


def download(client, done: Export) -> bytes:
    """The download view hands the browser a signed URL to the bucket; the bytes come from there."""
    response = client.get(reverse("catalog:export_download", args=[done.pk]))
    assert response.status_code == 302
    status, headers, body = fetch(response["Location"])
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment")
    return body


def test_upload_process_render_and_export_keep_every_file_in_the_bucket(
    s3_storage, client, merchandiser, small_profiles, model_dir, redis_conn, settings, tmp_path
):
    mug = DEMO_PRODUCTS[0]
    photo = mug.photo()
    client.force_login(merchandiser)
    batch_id = client.post(reverse("catalog:batch_create"), {"priority": 1}).json()["id"]
    # A ZIP: the web process keeps it in the bucket, a worker (another machine) imports it.
    assert send(client, batch_id, "mug.zip", zip_of(mug.file_name, photo)).status_code == 202
    worker_machine = tmp_path / "worker"

    run_burst_worker(worker_machine)

    batch = UploadBatch.objects.get(pk=batch_id)
    assert batch.errors == []
    version = ImageVersion.objects.get(source__product__sku=mug.sku)
    assert version.status == VersionStatus.PUBLISHED, version.error
    private = s3_storage.keys(s3server.PRIVATE)
    public = s3_storage.keys(s3server.PUBLIC)
    assert private == {
        version.source.file.name: len(photo),
        version.mask.name: version.mask.size,
        version.master.name: version.master.size,
    }
    renditions = list(Rendition.objects.filter(version=version))
    assert len(renditions) >= 5
    assert public == {f"public/{r.file.name}": r.byte_size for r in renditions}

    # Public rendition URLs are the bucket's own, fetched without credentials or the app.
    for rendition in renditions:
        url = public_url(rendition)
        assert url.startswith(f"{s3_storage.endpoint}/{s3server.PUBLIC}/public/renditions/")
        status, headers, body = fetch(url)
        assert status == 200
        assert hashlib.sha256(body).hexdigest() == rendition.sha256
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers["Content-Type"] == f"image/{rendition.format.lower()}"
        # The app's own public URL, handed out before the move, sends marketplaces there.
        name = url.rsplit("/", 1)[1]
        old = client.get(reverse("catalog:public_rendition", args=[rendition.public_key, name]))
        assert old.status_code == 301
        assert old["Location"] == url

    # Originals and masks stay private: the pages get a short-lived signed URL to them.
    for view, args, field in (
        ("catalog:source_file", [version.source_id], version.source.file),
        ("catalog:version_file", [version.pk, "mask"], version.mask),
        ("catalog:version_file", [version.pk, "master"], version.master),
    ):
        response = client.get(reverse(view, args=args))
        assert response.status_code == 302
        signed = response["Location"]
        assert "X-Amz-Signature=" in signed
        assert f"X-Amz-Expires={settings.LIGHTBOX_SIGNED_URL_SECONDS}" in signed
        status, _, body = fetch(signed)
        assert status == 200
        with field.open("rb") as fh:
            assert body == fh.read()
        unsigned = urlsplit(signed)._replace(query="").geturl()
        assert fetch(unsigned)[0] == 403
    client.logout()
    refused = client.get(reverse("catalog:source_file", args=[version.source_id]))
    assert s3_storage.endpoint not in refused.get("Location", "")
    client.force_login(merchandiser)

    # Exports: built by a worker from the bucket's renditions, kept in the private bucket.
    product = version.source.product
    shopify = export(client, ExportKind.SHOPIFY_CSV, product, worker_machine)
    rows = list(csv.DictReader(io.StringIO(download(client, shopify).decode("utf-8-sig"))))
    assert rows
    for row in rows:
        status, _, body = fetch(row["Product image URL"])
        assert status == 200
        assert hashlib.sha256(body).hexdigest() in {r.sha256 for r in renditions}
    Product.objects.filter(pk=product.pk).update(ean=mug.ean)  # Amazon names files by it
    amazon = export(client, ExportKind.AMAZON_ZIP, product, worker_machine)
    with zipfile.ZipFile(io.BytesIO(download(client, amazon))) as archive:
        main = archive.read(f"{mug.ean}.MAIN.jpg")
    amazon_main = Rendition.objects.get(version=version, profile__slug="amazon-main")
    assert hashlib.sha256(main).hexdigest() == amazon_main.sha256
    assert {shopify.file.name, amazon.file.name} <= set(s3_storage.keys(s3server.PRIVATE))

    assert files_under(Path(settings.MEDIA_ROOT)) == []
    assert files_under(worker_machine / "media") == []
