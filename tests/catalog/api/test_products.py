"""/products: pagination, filters with exact results, read, create, update, error bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.models import BlockedChannel, ImageVersion, MarketplaceProfile, Product, VersionStatus
from tests.catalog.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(product):
    """MUG-001 (Kiln, Kitchen) plus four more, with known update times."""
    for n, (brand, category) in enumerate(
        [("Kiln", "Kitchen"), ("Glow", "Lighting"), ("Glow", "Lighting"), ("", "")]
    ):
        Product.objects.create(sku=f"SKU-{n}", title=f"Item {n}", brand=brand, category=category)
    times = {
        "MUG-001": datetime(2025, 1, 1, tzinfo=UTC),
        "SKU-0": datetime(2025, 2, 1, tzinfo=UTC),
        "SKU-1": datetime(2025, 3, 1, tzinfo=UTC),
        "SKU-2": datetime(2025, 4, 1, tzinfo=UTC),
        "SKU-3": datetime(2025, 5, 1, tzinfo=UTC),
    }
    for sku, when in times.items():
        Product.objects.filter(sku=sku).update(updated_at=when)
    return times


def skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["sku"] for item in response.json()["items"]]


def test_the_list_pages_through_products_in_sku_order_with_total_and_next(api_as, reviewer, catalog):
    client = api_as(reviewer)
    first = client.get("/api/v1/products", {"limit": 2, "brand": "Glow"})
    assert first.json()["total"] == 2
    assert skus(first) == ["SKU-1", "SKU-2"]
    assert first.json()["next"] is None

    pages, url, params = [], "/api/v1/products", {"limit": 2}
    while url:
        body = client.get(url, params).json()
        pages.append([item["sku"] for item in body["items"]])
        assert (body["total"], body["limit"]) == (5, 2)
        url, params = body["next"], None
    assert pages == [["MUG-001", "SKU-0"], ["SKU-1", "SKU-2"], ["SKU-3"]]


def test_the_next_link_keeps_the_filters(api_as, reviewer, catalog):
    body = api_as(reviewer).get("/api/v1/products", {"limit": 1, "category": "Lighting"}).json()
    assert body["next"] == "http://testserver/api/v1/products?limit=1&category=Lighting&offset=1"


def test_the_list_filters_by_update_time_brand_and_version_status(api_as, reviewer, catalog, make_version):
    client = api_as(reviewer)
    since = client.get("/api/v1/products", {"updated_since": "2025-03-01T00:00:00Z"})
    assert skus(since) == ["SKU-1", "SKU-2", "SKU-3"]
    assert skus(client.get("/api/v1/products", {"updated_since": "2025-03-01T01:00:00+02:00"})) == [
        "SKU-1",
        "SKU-2",
        "SKU-3",
    ]
    assert skus(client.get("/api/v1/products", {"updated_since": "2025-03-01T00:00:01Z"})) == [
        "SKU-2",
        "SKU-3",
    ]

    make_version(Product.objects.get(sku="SKU-2"), status=VersionStatus.FLAGGED)
    make_version(
        Product.objects.get(sku="SKU-3"), status=VersionStatus.PUBLISHED, published_at=datetime.now(UTC)
    )
    assert skus(client.get("/api/v1/products", {"status": "flagged"})) == ["SKU-2"]
    assert skus(client.get("/api/v1/products", {"status": "flagged", "brand": "Kiln"})) == []
    assert skus(client.get("/api/v1/products", {"q": "item 1"})) == ["SKU-1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "2025-03-01T00:00:00"}, "updated_since"),  # no time zone
        ({"updated_since": "1700000000"}, "updated_since"),  # not a Unix time either
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"batch": "not-a-uuid"}, "batch"),
    ],
)
def test_an_invalid_filter_is_a_422_naming_the_parameter(api_as, reviewer, params, field):
    error = assert_error(api_as(reviewer).get("/api/v1/products", params), 422, "validation_error")
    assert [d["loc"] for d in error["details"]] == [["query", field]]


def test_a_misspelt_filter_is_refused_instead_of_ignored(api_as, reviewer, catalog):
    error = assert_error(api_as(reviewer).get("/api/v1/products", {"stauts": "flagged"}), 422)
    assert error["message"].startswith("Unknown query parameter(s): 'stauts'.")
    assert error["details"] == [
        {"loc": ["query", "stauts"], "message": "Unknown parameter.", "type": "extra_forbidden"}
    ]


def test_one_product_comes_with_its_photos_and_their_latest_version(api_as, reviewer, product, make_version):
    first = make_version(product, status=VersionStatus.FLAGGED, score=41)
    second = ImageVersion.objects.create(source=first.source, number=2, score=88, status=VersionStatus.QUEUED)
    body = api_as(reviewer).get("/api/v1/products/MUG-001").json()
    assert (body["sku"], body["title"], body["brand"]) == ("MUG-001", "Stoneware mug", "Kiln")
    assert body["url"] == "http://testserver/api/v1/products/MUG-001"
    [image] = body["images"]
    assert image["id"] == str(first.source_id)
    assert image["latest_version"] == {
        "id": str(second.pk),
        "number": 2,
        "status": "queued",
        "score": 88,
        "url": f"http://testserver/api/v1/versions/{second.pk}",
    }


def test_an_unknown_sku_is_a_404_with_the_error_body(api_as, reviewer):
    error = assert_error(api_as(reviewer).get("/api/v1/products/NOPE-1"), 404, "not_found")
    assert error == {"code": "not_found", "message": "No product with SKU 'NOPE-1'.", "details": None}


def test_any_other_address_under_the_api_is_a_json_404(api_as, reviewer):
    error = assert_error(api_as(reviewer).get("/api/v1/nothing/here"), 404, "not_found")
    assert "/api/v1/nothing/here" in error["message"]


def test_a_merchandiser_creates_a_product(api_as, merchandiser):
    response = api_as(merchandiser).post(
        "/api/v1/products",
        {
            "sku": "LAMP-7",
            "title": "Desk lamp",
            "brand": "Glow",
            "attributes": {"alt_text": "A lamp"},
            "ean": "1234",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["sku"], body["images"], body["attributes"]) == ("LAMP-7", [], {"alt_text": "A lamp"})
    product = Product.objects.get(sku="LAMP-7")
    assert (product.title, product.brand, product.ean) == ("Desk lamp", "Glow", "1234")


def test_creating_a_sku_that_exists_is_a_409(api_as, merchandiser, product):
    error = assert_error(api_as(merchandiser).post("/api/v1/products", {"sku": "MUG-001", "title": "X"}), 409)
    assert error == {
        "code": "conflict",
        "message": "A product with SKU 'MUG-001' already exists.",
        "details": None,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "bad sku", "title": "X"}, "sku"),
        ({"sku": "OK-1", "title": ""}, "title"),
        ({"sku": "OK-1"}, "title"),
        ({"sku": "OK-1", "title": "X", "attributes": ["not", "an", "object"]}, "attributes"),
        ({"sku": "OK-1", "title": "X", "attributes": {"note": "nul \x00 inside"}}, "attributes"),
        ({"sku": "OK-1", "title": "X\x00"}, "title"),
        ({"sku": "OK-1", "title": "X", "asin": "B0TOOLONG99"}, "asin"),
    ],
)
def test_an_invalid_product_is_a_422_naming_the_field(api_as, merchandiser, body, field):
    error = assert_error(api_as(merchandiser).post("/api/v1/products", body), 422, "validation_error")
    assert [d["loc"][0] for d in error["details"]] == [field]
    assert not Product.objects.filter(sku="OK-1").exists()


def test_a_body_that_is_not_json_is_a_400(api_as, merchandiser):
    response = api_as(merchandiser).client.post(
        "/api/v1/products",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_as(merchandiser).token}"},
    )
    assert_error(response, 400, "bad_request")


def test_patch_changes_only_the_fields_sent(api_as, merchandiser, product, make_version):
    version = make_version(product)
    response = api_as(merchandiser).patch("/api/v1/products/MUG-001", {"brand": "Kiln & Co", "title": None})
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (product.title, product.brand, product.category) == ("Stoneware mug", "Kiln & Co", "Kitchen")
    version.refresh_from_db()
    assert version.brand == "Kiln & Co"  # the review queue's copy follows, as when edited in a page


def test_patch_of_an_unknown_product_is_a_404(api_as, merchandiser):
    assert_error(api_as(merchandiser).patch("/api/v1/products/NOPE-1", {"title": "X"}), 404, "not_found")


def test_a_method_an_address_does_not_take_is_a_405_with_the_error_body(api_as, merchandiser):
    response = api_as(merchandiser).request("DELETE", "/api/v1/products/MUG-001")
    error = assert_error(response, 405, "method_not_allowed")
    assert set(response["Allow"].split(", ")) == {"GET", "PATCH"}
    assert error["message"].startswith("DELETE is not allowed here")


def test_the_list_filters_by_the_channel_a_product_is_blocked_on(api_as, reviewer, catalog, make_version):
    version = make_version(
        Product.objects.get(sku="SKU-2"), status=VersionStatus.PUBLISHED, published_at=datetime.now(UTC)
    )
    BlockedChannel.objects.create(
        version=version,
        profile=MarketplaceProfile.objects.get(slug="walmart"),
        cause=BlockedChannel.Cause.SIZE,
        reason="600 px, needs 1500 px",
    )
    client = api_as(reviewer)

    assert skus(client.get("/api/v1/products", {"blocked": "walmart"})) == ["SKU-2"]
    assert skus(client.get("/api/v1/products", {"blocked": "amazon"})) == []
