"""/exports: started through the API, run by a real RQ burst worker, read back with its file."""

from __future__ import annotations

import csv
import io

import pytest

from catalog.api.models import ApiToken
from catalog.exports.models import Export
from catalog.models import Product, SourceRole, UploadBatch
from tests.catalog.api.conftest import ApiClient, assert_error


def run_burst_worker() -> None:
    import django_rq
    from django.conf import settings

    from processing.worker import LightboxWorker

    queues = [django_rq.get_queue(name) for name in settings.QUEUE_NAMES]
    LightboxWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=False)


@pytest.fixture
def shelf(make_photo):
    """Two products with published, passing photos, and one with none."""
    for n in range(2):
        item = Product.objects.create(sku=f"SHELF{n}", title=f"Shelf {n}", brand="Oak")
        make_photo(item, 1)
        make_photo(item, 2, role=SourceRole.ALTERNATE, profiles=("amazon-additional", "shopify"))
    Product.objects.create(sku="BARE1", title="No photos yet", brand="Oak")


@pytest.mark.django_db(transaction=True)
def test_an_export_started_through_the_api_runs_and_its_result_and_file_can_be_read(
    shelf, merchandiser, redis_conn
):
    client = ApiClient(ApiToken.issue(merchandiser, "erp")[1])
    response = client.post(
        "/api/v1/exports",
        {"kind": "shopify_csv", "scope": {"filters": {"brand": "Oak"}}, "label": "Oak range"},
    )
    assert response.status_code == 202, response.content
    started = response.json()
    assert (started["status"], started["scope_label"], started["download_url"]) == (
        "queued",
        "Oak range",
        None,
    )
    assert started["created_by"] == "mia-merchandiser"

    run_burst_worker()

    result = client.get(f"/api/v1/exports/{started['id']}").json()
    assert result["status"] == "succeeded", result["error"]
    assert result["progress"] == {"done": 3, "total": 3, "percent": 100}
    assert {k: result["summary"][k] for k in ("products_in_scope", "products", "images", "skipped")} == {
        "products_in_scope": 3,
        "products": 2,
        "images": 4,
        "skipped": 1,
    }
    assert result["skipped"] == [{"sku": "BARE1", "image": "", "reason": "no photos"}]
    assert result["download_url"] == f"http://testserver/api/v1/exports/{started['id']}/file"

    download = client.get(result["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    cells = {cell for row in rows[1:] for cell in row}
    assert {"Shelf 0", "Shelf 1"} <= cells
    assert "No photos yet" not in cells


@pytest.mark.django_db
def test_an_export_of_chosen_skus_records_their_ids(api_as, merchandiser, shelf, redis_conn):
    response = api_as(merchandiser).post(
        "/api/v1/exports", {"kind": "amazon_zip", "scope": {"products": ["SHELF1", "SHELF0"]}}
    )
    assert response.status_code == 202, response.content
    export = Export.objects.get()
    ids = dict(Product.objects.values_list("sku", "pk"))
    assert (export.kind, export.scope) == ("amazon_zip", {"products": [ids["SHELF1"], ids["SHELF0"]]})
    assert export.scope_label == "2 selected products"


@pytest.mark.django_db
def test_an_export_of_a_batch_names_it_in_the_scope(api_as, merchandiser, shelf, redis_conn):
    batch = UploadBatch.objects.create(created_by=merchandiser)
    Product.objects.get(sku="SHELF0").source_images.update(batch=batch)
    assert (
        api_as(merchandiser)
        .post("/api/v1/exports", {"kind": "shopify_csv", "scope": {"batch": str(batch.pk)}})
        .status_code
        == 202
    )
    assert Export.objects.get().scope == {"batch": str(batch.pk)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        (
            {"kind": "shopify_csv", "scope": {"products": ["SHELF0", "GHOST1"]}},
            422,
            "unknown_sku",
            "No product with SKU GHOST1.",
        ),
        (
            {"kind": "shopify_csv", "scope": {"filters": {"brand": "Nobody"}}},
            422,
            "export_refused",
            "No products match",
        ),
        (
            {"kind": "shopify_push", "scope": {"products": ["SHELF0"]}},
            422,
            "export_refused",
            "No Shopify store",
        ),
        (
            {"kind": "zip_of_everything", "scope": {"products": ["SHELF0"]}},
            422,
            "validation_error",
            "not valid",
        ),
        (
            {"kind": "shopify_csv", "scope": {"products": ["SHELF0"], "batch": "x"}},
            422,
            "validation_error",
            "not valid",
        ),
        ({"kind": "shopify_csv", "scope": {}}, 422, "validation_error", "not valid"),
    ],
    ids=["unknown-sku", "empty-selection", "no-store", "bad-kind", "two-scopes", "no-scope"],
)
def test_an_export_that_cannot_start_says_why(api_as, merchandiser, shelf, body, status, code, message):
    error = assert_error(api_as(merchandiser).post("/api/v1/exports", body), status, code)
    assert message in error["message"]
    assert not Export.objects.exists()


@pytest.mark.django_db
def test_an_unfinished_or_unknown_export_has_no_file(api_as, merchandiser, shelf, redis_conn):
    client = api_as(merchandiser)
    started = client.post(
        "/api/v1/exports", {"kind": "shopify_csv", "scope": {"products": ["SHELF0"]}}
    ).json()
    error = assert_error(client.get(f"/api/v1/exports/{started['id']}/file"), 404)
    assert "no file" in error["message"]
    assert_error(client.get("/api/v1/exports/00000000-0000-0000-0000-000000000000"), 404)
