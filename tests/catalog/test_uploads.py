"""Uploads from the merchandiser's side: batches, files, manifests, ZIPs, the live batch page."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from catalog.demo import photo_dir
from catalog.intake.service import import_archive
from catalog.models import ImageVersion, Product, UploadBatch
from tests.conftest import grant_launch, photo_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(client, merchandiser):
    grant_launch(merchandiser)
    client.force_login(merchandiser)
    response = client.post(reverse("catalog:batch_create"), {"priority": 0, "name": "Launch"})
    assert response.status_code == 201
    return UploadBatch.objects.get(pk=response.json()["id"])


def send(client, batch, name, data, **fields):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(reverse("catalog:batch_files", args=[batch.pk]), {"file": upload, **fields})


def test_a_photo_named_by_convention_creates_its_product_and_is_queued_after_commit(
    client, batch, redis_conn, django_capture_on_commit_callbacks
):
    import django_rq

    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, batch, "TEE-BLK_2.jpg", photo_bytes())

    assert response.status_code == 201, response.json()
    assert response.json()["sku"] == "TEE-BLK"
    source = Product.objects.get(sku="TEE-BLK").source_images.get()
    assert (source.role, source.position, source.batch_id) == ("alternate", 2, batch.pk)
    version = source.versions.get()
    assert version.priority == 0  # the batch's launch priority
    assert django_rq.get_queue("high").job_ids == [version.job_id]
    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count) == (1, 0)


def test_a_bad_file_is_refused_with_its_reason_and_the_batch_keeps_going(client, batch):
    assert send(client, batch, "GOOD-1.jpg", photo_bytes()).status_code == 201
    response = send(client, batch, "GOOD-2.jpg", b"%PDF-1.7 not a photo")
    assert response.status_code == 422
    assert "not a photo" in response.json()["reason"]
    assert send(client, batch, "GOOD-1.jpg", photo_bytes()).json()["reason"].startswith("This exact photo")
    assert send(client, batch, "no sku here!.jpg", photo_bytes(color=(1, 2, 3))).status_code == 422

    batch.refresh_from_db()
    assert (batch.file_count, batch.rejected_count) == (4, 3)
    assert [e["file"] for e in batch.errors] == ["GOOD-2.jpg", "GOOD-1.jpg", "no sku here!.jpg"]


def test_a_chosen_sku_wins_over_the_file_name(client, batch):
    response = send(client, batch, "IMG_0001.jpg", photo_bytes(), sku="CHOSEN-1", title="Chosen product")
    assert response.json()["sku"] == "CHOSEN-1"
    assert Product.objects.get(sku="CHOSEN-1").title == "Chosen product"


def test_a_manifest_sent_first_decides_sku_title_role_and_position(client, batch):
    manifest = (
        b"filename;SKU;Product title;Image role;Image position\nIMG_7.jpg;LAMP-9;Desk lamp;alternate;3\n"
    )
    assert send(client, batch, "manifest.csv", manifest).json()["rows"] == 1

    assert send(client, batch, "IMG_7.jpg", photo_bytes()).json()["sku"] == "LAMP-9"

    product = Product.objects.get(sku="LAMP-9")
    assert product.title == "Desk lamp"
    assert list(product.source_images.values_list("role", "position")) == [("alternate", 3)]


def test_someone_elses_batch_cannot_be_written_to(client, batch, django_user_model):
    from catalog.roles import MERCHANDISER, assign_role

    other = django_user_model.objects.create_user("other-merch")
    assign_role(other, MERCHANDISER)
    client.force_login(other)
    assert send(client, batch, "X-1.jpg", photo_bytes()).status_code == 404


def test_a_reviewer_cannot_upload(client, reviewer):
    client.force_login(reviewer)
    assert client.post(reverse("catalog:batch_create"), {"priority": 1}).status_code == 403


def test_a_closed_batch_takes_no_more_files(client, batch):
    client.post(reverse("catalog:batch_close", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.closed_at is not None
    assert send(client, batch, "LATE-1.jpg", photo_bytes()).status_code == 409


def test_the_batch_page_serves_its_fragment_to_htmx_and_stops_polling_when_done(client, batch):
    send(client, batch, "DONE-1.jpg", photo_bytes())
    url = reverse("catalog:batch_detail", args=[batch.pk])

    full = client.get(url)
    assert full.status_code == 200
    assert "<html" in full.content.decode()
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'hx-trigger="every 2s"' in fragment.content.decode()

    batch.close()
    ImageVersion.objects.filter(source__batch=batch).update(status="flagged", score=40)
    finished = client.get(url, headers={"HX-Request": "true"})
    assert finished.status_code == 286  # htmx stops polling
    assert 'data-done="true"' in finished.content.decode()
    assert "hx-trigger" not in finished.content.decode()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_is_imported_in_the_background_with_its_manifest_and_bad_members_reported(
    client, batch, settings, redis_conn, django_capture_on_commit_callbacks
):
    cup = (photo_dir() / "coffee.png").read_bytes()
    archive = zip_bytes(
        {
            "manifest.csv": b"file,sku,title\nfront.png,ZCUP-1,Cup from the manifest\n",
            "front.png": cup,
            "ZCUP-2/side.png": photo_bytes(),
            "ZCUP-3.png": b"broken \x89PNG",
            "../../escape.png": photo_bytes(color=(9, 9, 9)),
            "readme.txt": b"hello",
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, batch, "catalog.zip", archive)
    assert response.status_code == 202
    import django_rq

    (job,) = django_rq.get_queue("high").jobs
    assert job.func_name == "catalog.intake.service.import_archive"

    assert import_archive(*job.args) == "imported"

    batch.refresh_from_db()
    assert batch.closed_at is not None
    assert Product.objects.get(sku="ZCUP-1").title == "Cup from the manifest"
    assert Product.objects.get(sku="ZCUP-2").source_images.count() == 1
    refused = {e["file"]: e["reason"] for e in batch.errors}
    assert set(refused) == {"ZCUP-3.png", "../../escape.png", "readme.txt"}
    assert batch.file_count == 5  # every member but the manifest counts as a file received
    written = {p.name for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()}
    assert "escape.png" not in written
    assert not any(p.name == "escape.png" for p in settings.MEDIA_ROOT.parent.rglob("escape.png"))
    assert not (settings.MEDIA_ROOT / "archives").exists() or not any(
        (settings.MEDIA_ROOT / "archives").iterdir()
    )


def test_the_product_list_filters_by_status_brand_category_and_batch(client, merchandiser, make_version):
    a = Product.objects.create(sku="A-1", title="A", brand="Kiln", category="Kitchen")
    b = Product.objects.create(sku="B-1", title="B", brand="Lumen", category="Lighting")
    make_version(a, status="flagged", score=10)
    version_b = make_version(b)
    batch = UploadBatch.objects.create(created_by=merchandiser)
    version_b.source.batch = batch
    version_b.source.save()
    client.force_login(merchandiser)
    url = reverse("catalog:product_list")

    def skus(**params):
        html = client.get(url, params).content.decode()
        return {sku for sku in ("A-1", "B-1") if f">{sku}</a>" in html}

    assert skus() == {"A-1", "B-1"}
    assert skus(status="flagged") == {"A-1"}
    assert skus(status="queued") == {"B-1"}
    assert skus(brand="Lumen") == {"B-1"}
    assert skus(category="Kitchen") == {"A-1"}
    assert skus(batch=str(batch.pk)) == {"B-1"}
    assert skus(q="b-") == {"B-1"}


def test_a_zip_of_ten_thousand_tiny_files_is_refused_whole_with_a_clear_message(
    client, batch, redis_conn, django_capture_on_commit_callbacks
):
    archive = zip_bytes({f"P-{i}.jpg": b"x" for i in range(10_000)})
    with django_capture_on_commit_callbacks(execute=True):
        send(client, batch, "many.zip", archive)
    import django_rq

    (job,) = django_rq.get_queue("high").jobs
    import_archive(*job.args)

    batch.refresh_from_db()
    (error,) = batch.errors
    assert "10,000" in error["reason"] or "10000" in error["reason"]
    assert not Product.objects.exists()
    assert batch.closed_at is not None


def test_a_sku_with_a_trailing_newline_is_not_valid():
    from django.core.exceptions import ValidationError

    from catalog.models import sku_validator

    with pytest.raises(ValidationError):
        sku_validator("ABC\n")


def test_a_mac_zip_folder_does_not_hide_a_known_sku_in_the_file_name(merchandiser):
    from catalog.intake.service import receive_file
    from catalog.uploads import create_batch

    Product.objects.create(sku="ESP-CUP-RED", title="Espresso cup")
    batch = create_batch(merchandiser)

    version = receive_file(batch, "photos/ESP-CUP-RED.jpg", photo_bytes())

    assert version.source.product.sku == "ESP-CUP-RED"
    assert not Product.objects.filter(sku="photos").exists()


def test_a_batch_names_its_mannequin_and_an_inner_shot_is_taken_in_by_its_name(client, merchandiser):
    client.force_login(merchandiser)
    response = client.post(reverse("catalog:batch_create"), {"priority": 1, "mannequin_colour": "green"})
    assert response.status_code == 201
    batch = UploadBatch.objects.get(pk=response.json()["id"])
    assert batch.mannequin_colour == "green"

    assert send(client, batch, "TEE-GRN-inner.jpg", photo_bytes()).status_code == 201

    source = Product.objects.get(sku="TEE-GRN").source_images.get()
    assert source.role == "inner"


def test_an_unknown_mannequin_colour_is_refused(client, merchandiser):
    client.force_login(merchandiser)
    response = client.post(reverse("catalog:batch_create"), {"priority": 1, "mannequin_colour": "blue"})
    assert response.status_code == 400
    assert "mannequin_colour" in response.json()["errors"]
    assert not UploadBatch.objects.exists()
