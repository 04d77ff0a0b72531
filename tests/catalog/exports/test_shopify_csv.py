"""The Shopify product CSV: current headers, a row per image in order, URLs the app serves."""

from __future__ import annotations

import csv
import io

import pytest

from catalog.exports.models import Export
from catalog.exports.shopify_csv import HEADERS, ShopifyCsvError, read_shopify_csv
from catalog.models import Product, Rendition, SourceRole, VersionStatus
from catalog.public_urls import IMMUTABLE_CACHE
from tests.catalog.exports.helpers import fetch, read_file, rendition_bytes, run_now

pytestmark = pytest.mark.django_db

SHOPIFY = ("shopify",)


@pytest.fixture
def teapot(make_photo):
    item = Product.objects.create(
        sku="Tea_Pot.2", title="Teapot, 1 l", attributes={"alt_text": "White teapot, side view"}
    )
    make_photo(item, 1, profiles=SHOPIFY, fmt="WEBP")
    make_photo(item, 2, role=SourceRole.ALTERNATE, profiles=SHOPIFY, fmt="WEBP")
    make_photo(item, 3, role=SourceRole.ALTERNATE, profiles=SHOPIFY, fmt="WEBP")
    return item


def csv_rows(export: Export) -> list[list[str]]:
    return list(csv.reader(io.StringIO(read_file(export).decode("utf-8"), newline="")))


def test_the_csv_has_the_current_headers_and_a_row_per_image_in_order(teapot, make_photo, merchandiser):
    mug = Product.objects.create(sku="MUG-7", title="Mug")
    make_photo(mug, 1, profiles=SHOPIFY)

    export = run_now(Export.Kind.SHOPIFY_CSV, {"products": [teapot.pk, mug.pk]}, merchandiser)

    assert export.status == Export.Status.SUCCEEDED, export.error
    assert export.file.name.endswith(".csv")
    header, *rows = csv_rows(export)
    assert header == [
        "URL handle",
        "Title",
        "Product image URL",
        "Image position",
        "Image alt text",
        "Variant image URL",
    ]
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows] == [
        ("mug-7", "Mug", "1", "Mug", ""),
        ("tea-pot-2", "Teapot, 1 l", "1", "White teapot, side view", ""),
        ("tea-pot-2", "", "2", "White teapot, side view", ""),
        ("tea-pot-2", "", "3", "White teapot, side view", ""),
    ]
    expected = [Rendition.objects.get(version__source=s) for s in teapot.source_images.order_by("position")]
    assert [r[2].rsplit("/", 1)[-1] for r in rows[1:]] == [r.file.name.rsplit("/", 1)[-1] for r in expected]
    assert export.summary == {
        "products_in_scope": 2,
        "products": 2,
        "images": 4,
        "skipped": 0,
        "bytes": export.file.size,
    }
    assert export.progress_done == export.progress_total == 2


def test_every_url_in_the_csv_serves_the_renditions_exact_bytes_without_a_login(teapot, merchandiser):
    export = run_now(Export.Kind.SHOPIFY_CSV, {"product": teapot.pk}, merchandiser)
    _, *rows = csv_rows(export)
    renditions = {r.public_key: r for r in Rendition.objects.filter(version__source__product=teapot)}

    assert len(rows) == 3
    for row in rows:
        response, body = fetch(row[2])
        assert response.status_code == 200
        rendition = renditions[row[2].split("/")[-2]]
        assert body == rendition_bytes(rendition)
        assert response["Content-Type"] == "image/webp"
        assert response["Cache-Control"] == IMMUTABLE_CACHE


def test_images_that_cannot_go_are_listed_with_their_reason_and_the_rest_exported(
    teapot, make_photo, merchandiser
):
    make_photo(teapot, 4, role=SourceRole.ALTERNATE, status=VersionStatus.FLAGGED, profiles=())
    make_photo(teapot, 5, role=SourceRole.ALTERNATE, profiles=SHOPIFY, passed=False)

    export = run_now(Export.Kind.SHOPIFY_CSV, {"product": teapot.pk}, merchandiser)

    assert export.status == Export.Status.SUCCEEDED
    assert len(csv_rows(export)) == 1 + 3
    assert [s["reason"] for s in export.skipped] == [
        "not published yet (flagged for review)",
        "rendition failed its checks: background",
    ]
    assert export.summary["skipped"] == 2


def test_two_products_with_the_same_handle_do_not_merge(make_photo, merchandiser):
    first = Product.objects.create(sku="MUG.1", title="Mug dot")
    second = Product.objects.create(sku="MUG_1", title="Mug underscore")
    make_photo(first, 1, profiles=SHOPIFY)
    make_photo(second, 1, profiles=SHOPIFY)

    export = run_now(Export.Kind.SHOPIFY_CSV, {"products": [first.pk, second.pk]}, merchandiser)

    _, *rows = csv_rows(export)
    assert [(r[0], r[1]) for r in rows] == [("mug-1", "Mug dot")]
    assert export.skipped[0]["sku"] == "MUG_1"
    assert export.skipped[0]["reason"] == "URL handle 'mug-1' is already used by SKU MUG.1"


# --- reading ---------------------------------------------------------------------------

CURRENT = (
    "URL handle,Title,Product image URL,Image position,Image alt text,Variant image URL,Vendor\r\n"
    "mug,Mug,https://cdn.example/a.jpg,1,A mug,,Kiln\r\n"
    "mug,,https://cdn.example/b.jpg,2,,,\r\n"
)
LEGACY = (
    "Handle,Title,Body (HTML),Image Src,Image Position,Image Alt Text,Variant Image\r\n"
    "mug,Mug,<p>x</p>,https://cdn.example/a.jpg,1,A mug,\r\n"
    "mug,,,https://cdn.example/b.jpg,2,,https://cdn.example/v.jpg\r\n"
)


def test_the_reader_takes_the_current_headers(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(CURRENT, encoding="utf-8")

    rows = read_shopify_csv(path)

    assert rows == [
        {
            "URL handle": "mug",
            "Title": "Mug",
            "Product image URL": "https://cdn.example/a.jpg",
            "Image position": "1",
            "Image alt text": "A mug",
            "Variant image URL": "",
            "Vendor": "Kiln",
        },
        {
            "URL handle": "mug",
            "Title": "",
            "Product image URL": "https://cdn.example/b.jpg",
            "Image position": "2",
            "Image alt text": "",
            "Variant image URL": "",
            "Vendor": "",
        },
    ]


def test_the_reader_renames_legacy_headers_to_the_current_ones():
    rows = read_shopify_csv(io.BytesIO(("\ufeff" + LEGACY).encode("utf-8")))

    assert [{k: r[k] for k in HEADERS} for r in rows] == [
        {
            "URL handle": "mug",
            "Title": "Mug",
            "Product image URL": "https://cdn.example/a.jpg",
            "Image position": "1",
            "Image alt text": "A mug",
            "Variant image URL": "",
        },
        {
            "URL handle": "mug",
            "Title": "",
            "Product image URL": "https://cdn.example/b.jpg",
            "Image position": "2",
            "Image alt text": "",
            "Variant image URL": "https://cdn.example/v.jpg",
        },
    ]
    assert rows[0]["Body (HTML)"] == "<p>x</p>"
    assert "Handle" not in rows[0]


def test_what_we_write_reads_back_the_same(teapot, merchandiser):
    export = run_now(Export.Kind.SHOPIFY_CSV, {"product": teapot.pk}, merchandiser)

    rows = read_shopify_csv(read_file(export))

    assert [r["Image position"] for r in rows] == ["1", "2", "3"]
    assert {r["URL handle"] for r in rows} == {"tea-pot-2"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"sku,title,image\r\nA,B,C\r\n", "neither the current headers"),
        (b"", "empty"),
        ("Handle,Title\r\nmug,Caf\u00e9\r\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_the_reader_refuses_a_file_that_is_not_a_shopify_csv(content, message):
    with pytest.raises(ShopifyCsvError, match=message):
        read_shopify_csv(content)
