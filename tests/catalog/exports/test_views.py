"""Export buttons, the export page with its polling progress, the list, and downloads."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from catalog.exports.models import Export
from catalog.models import Product, UploadBatch
from tests.catalog.exports.helpers import run_now

pytestmark = pytest.mark.django_db

START = reverse("catalog:export_start")


@pytest.fixture
def lamp_client(client, merchandiser, amazon_product):
    client.force_login(merchandiser)
    return client


def post_export(client, redis_conn, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(START, data)


def test_the_product_list_offers_ticking_products_and_exporting_to_a_merchandiser(
    lamp_client, amazon_product
):
    html = lamp_client.get(reverse("catalog:product_list")).content.decode()

    assert f'name="products" value="{amazon_product.pk}" form="export-form"' in html
    assert "Export to Amazon" in html
    assert "Shopify CSV" in html
    assert "Everything matching the current filters (1 product)" in html
    assert "Push to Shopify" not in html  # no store connected


def test_a_reviewer_sees_no_export_controls_and_cannot_post_one(client, reviewer, amazon_product):
    client.force_login(reviewer)

    html = client.get(reverse("catalog:product_list")).content.decode()
    assert "Export to Amazon" not in html
    assert 'name="products"' not in html
    assert (
        client.post(
            START, {"kind": "amazon_zip", "scope": "product", "product": amazon_product.pk}
        ).status_code
        == 403
    )
    assert not Export.objects.exists()


def test_push_to_shopify_is_offered_once_a_store_is_connected(lamp_client, amazon_product):
    from catalog.shopify.models import ShopifyStore

    ShopifyStore.objects.create(shop_domain="lamps.myshopify.com", access_token_encrypted="sealed")

    html = lamp_client.get(reverse("catalog:product_detail", args=[amazon_product.sku])).content.decode()

    assert "Push to Shopify" in html


def test_exporting_ticked_products_queues_an_export_and_shows_its_page(
    lamp_client, amazon_product, merchandiser, redis_conn, django_capture_on_commit_callbacks
):
    other = Product.objects.create(sku="OTHER", title="Other")

    response = post_export(
        lamp_client,
        redis_conn,
        django_capture_on_commit_callbacks,
        kind="amazon_zip",
        scope="products",
        products=[amazon_product.pk, other.pk],
    )

    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:export_detail", args=[export.pk])
    assert export.kind == "amazon_zip"
    assert export.scope == {"products": sorted([amazon_product.pk, other.pk])}
    assert export.created_by == merchandiser
    assert redis_conn.exists(f"rq:job:export-{export.pk}")
    page = lamp_client.get(response["Location"]).content.decode()
    assert "Amazon image ZIP + inventory file" in page
    assert "2 selected products" in page
    assert 'data-testid="export-bar"' in page


def test_exporting_everything_matching_the_filters_keeps_the_filters(
    lamp_client, amazon_product, redis_conn, django_capture_on_commit_callbacks
):
    post_export(
        lamp_client,
        redis_conn,
        django_capture_on_commit_callbacks,
        kind="shopify_csv",
        scope="filters",
        filters="brand=Glow&q=lamp&page=3",
        products=[],
    )

    export = Export.objects.get()
    assert export.scope == {"filters": {"q": "lamp", "brand": "Glow"}}
    assert export.scope_label == "products matching brand Glow, q lamp"


def test_the_batch_and_product_pages_export_their_products(
    lamp_client, amazon_product, redis_conn, django_capture_on_commit_callbacks
):
    batch = UploadBatch.objects.create(name="Lamps")
    amazon_product.source_images.update(batch=batch)

    batch_page = lamp_client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    product_page = lamp_client.get(
        reverse("catalog:product_detail", args=[amazon_product.sku])
    ).content.decode()
    assert f'name="batch" value="{batch.pk}"' in batch_page
    assert f'name="product" value="{amazon_product.pk}"' in product_page

    post_export(
        lamp_client,
        redis_conn,
        django_capture_on_commit_callbacks,
        kind="amazon_zip",
        scope="batch",
        batch=batch.pk,
    )
    post_export(
        lamp_client,
        redis_conn,
        django_capture_on_commit_callbacks,
        kind="shopify_csv",
        scope="product",
        product=amazon_product.pk,
    )

    assert [(e.scope, e.scope_label) for e in Export.objects.order_by("created_at")] == [
        ({"batch": str(batch.pk)}, "batch Lamps"),
        ({"product": amazon_product.pk}, "product LAMP01"),
    ]


def test_exporting_with_nothing_ticked_goes_back_with_a_message(lamp_client):
    back = reverse("catalog:product_list") + "?brand=Glow"

    response = lamp_client.post(START, {"kind": "amazon_zip", "scope": "products", "next": back}, follow=True)

    assert response.redirect_chain[-1][0] == back
    assert "Tick at least one product to export" in response.content.decode()
    assert not Export.objects.exists()


def test_a_next_address_off_the_site_is_not_followed(lamp_client):
    response = lamp_client.post(
        START, {"kind": "amazon_zip", "scope": "products", "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("catalog:exports")


def test_a_filter_matching_nothing_is_refused_with_a_message(lamp_client):
    response = lamp_client.post(
        START, {"kind": "amazon_zip", "scope": "filters", "filters": "q=zzz"}, follow=True
    )

    assert "No products match this selection" in response.content.decode()
    assert not Export.objects.exists()


def test_the_progress_fragment_polls_while_running_and_stops_with_286_when_done(lamp_client, amazon_product):
    export = Export.objects.create(
        kind="amazon_zip", scope={"product": amazon_product.pk}, scope_label="LAMP01"
    )
    export.start(4)
    export.advance(1)
    url = reverse("catalog:export_detail", args=[export.pk])

    running = lamp_client.get(url, headers={"HX-Request": "true"})
    assert running.status_code == 200
    fragment = running.content.decode()
    assert fragment.lstrip().startswith('<section id="export-progress"')
    assert f'hx-get="{url}"' in fragment
    assert 'value="25"' in fragment
    assert "1 of 4 products done" in fragment

    export.succeed({"products": 1, "products_in_scope": 1, "images": 3}, [])
    done = lamp_client.get(url, headers={"HX-Request": "true"})
    assert done.status_code == 286
    assert "hx-get" not in done.content.decode()

    page = lamp_client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode()


def test_a_finished_export_shows_counts_skipped_reasons_and_a_download(
    lamp_client, amazon_product, make_photo
):
    from catalog.models import SourceRole, VersionStatus

    make_photo(amazon_product, 4, role=SourceRole.ALTERNATE, status=VersionStatus.FLAGGED, profiles=())
    export = run_now(Export.Kind.AMAZON_ZIP, {"product": amazon_product.pk})

    html = lamp_client.get(reverse("catalog:export_detail", args=[export.pk])).content.decode()

    assert "Succeeded" in html
    assert "1 of 1" in html
    assert "not published yet (flagged for review)" in html
    assert reverse("catalog:export_download", args=[export.pk]) in html


def test_a_failed_export_shows_its_error(lamp_client):
    item = Product.objects.create(sku="NONE1", title="No photos")
    export = run_now(Export.Kind.SHOPIFY_CSV, {"product": item.pk})

    html = lamp_client.get(reverse("catalog:export_detail", args=[export.pk])).content.decode()

    assert export.status == "failed"
    assert "Nothing could be exported" in html
    assert "no photos" in html
    assert "export-download" not in html


def test_the_download_is_an_attachment_with_the_right_type(lamp_client, amazon_product):
    zipped = run_now(Export.Kind.AMAZON_ZIP, {"product": amazon_product.pk})
    table = run_now(Export.Kind.SHOPIFY_CSV, {"product": amazon_product.pk})

    response = lamp_client.get(reverse("catalog:export_download", args=[zipped.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="amazon-images-')
    body = b"".join(response.streaming_content)
    assert "B0LAMP0001.MAIN.jpg" in zipfile.ZipFile(io.BytesIO(body)).namelist()

    response = lamp_client.get(reverse("catalog:export_download", args=[table.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="shopify-products-')
    assert b"".join(response.streaming_content).startswith(b"URL handle,Title,")


def test_downloads_need_the_export_permission_and_a_file(client, reviewer, merchandiser, amazon_product):
    export = run_now(Export.Kind.AMAZON_ZIP, {"product": amazon_product.pk})
    url = reverse("catalog:export_download", args=[export.pk])

    assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(reviewer)
    assert client.get(url).status_code == 403
    client.force_login(merchandiser)
    queued = Export.objects.create(kind="amazon_zip", scope={"product": amazon_product.pk}, scope_label="x")
    assert client.get(reverse("catalog:export_download", args=[queued.pk])).status_code == 404


def test_the_exports_page_lists_every_export_newest_first_in_pages(lamp_client, amazon_product, admin_user):
    done = run_now(Export.Kind.AMAZON_ZIP, {"product": amazon_product.pk}, admin_user)
    for n in range(25):
        Export.objects.create(
            kind="shopify_csv", scope={"product": amazon_product.pk}, scope_label=f"queued {n}"
        )

    first = lamp_client.get(reverse("catalog:exports")).content.decode()
    second = lamp_client.get(reverse("catalog:exports"), {"page": 2}).content.decode()

    assert "queued 24" in first
    assert "Page 1 of 2 · 26 exports" in first
    assert "ada-admin" not in first  # the oldest one is on page 2
    assert "ada-admin" in second
    assert "1 product, 3 images" in second
    assert reverse("catalog:export_download", args=[done.pk]) in second
