"""The demo as `make run` serves it: the demo catalog loaded by its own command, processed
by a real worker with the real model, then looked at and exported in a real browser."""

from __future__ import annotations

import zipfile

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.demo import DEMO_PRODUCTS, DEMO_SCENE
from catalog.exports.shopify_csv import read_shopify_csv
from catalog.models import ImageVersion, VersionKind, VersionStatus
from tests.e2e.conftest import log_in_on

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-password-1"
CLEAN = [item for item in DEMO_PRODUCTS if not item.shot.defect]
DEFECTIVE = [item for item in DEMO_PRODUCTS if item.shot.defect]
IN_SCENE = [item for item in CLEAN if item.category == DEMO_SCENE["category"]]


def export_everything(page, live_server, button: str, burst_worker, tmp_path):
    """Export every product from the product list with `button`, let a worker run it, and
    download the file; returns the downloaded file's path."""
    page.goto(f"{live_server.url}/products/")
    page.get_by_test_id("export-scope-filters").check()
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/exports/*/")
    burst_worker()
    expect(page.get_by_test_id("export-progress")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    expect(page.get_by_test_id("export-summary")).to_contain_text(f"{len(CLEAN)} of {len(DEMO_PRODUCTS)}")
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return path


@pytest.fixture
def processed_demo(live_server, burst_worker, redis_conn):
    """The demo catalog, loaded as `make run` loads it and processed to the end."""
    call_command("load_demo", password=PASSWORD)
    burst_worker()
    cutouts = ImageVersion.objects.filter(kind=VersionKind.CUTOUT)
    statuses = dict(cutouts.values_list("source__product__sku", "status"))
    assert statuses == {
        **{item.sku: VersionStatus.PUBLISHED for item in CLEAN},
        **{item.sku: VersionStatus.FLAGGED for item in DEFECTIVE},
    }
    # The demo's scene rule: each clean product of its category in the table-top scene.
    scenes = ImageVersion.objects.filter(kind=VersionKind.SCENE)
    assert IN_SCENE
    assert sorted(scenes.values_list("source__product__sku", "status")) == sorted(
        (item.sku, VersionStatus.PUBLISHED) for item in IN_SCENE
    )


def test_the_demo_publishes_its_clean_photos_queues_two_for_review_and_exports_to_both_channels(
    browser, live_server, processed_demo, burst_worker, tmp_path
):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page = log_in_on(context.new_page(), live_server, "merch", PASSWORD)
        page.set_default_timeout(15_000)

        # The product list: every demo product, the clean ones published.
        table = page.get_by_test_id("product-table")
        for item in DEMO_PRODUCTS:
            row = table.get_by_role("row").filter(has=page.get_by_role("link", name=item.sku, exact=True))
            published = row.get_by_role("cell").nth(7)
            expect(published).to_have_text("0" if item.shot.defect else "1")

        # A published product's page shows its marketplace renditions, decoded by the browser.
        mug = CLEAN[0]
        table.get_by_role("link", name=mug.sku, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(mug.title)
        expect(page.locator("[data-testid=version][data-kind=cutout]")).to_have_attribute(
            "data-status", "published"
        )
        expect(page.locator("[data-testid=rendition][data-profile=amazon-main]")).to_have_count(1)
        assert page.get_by_test_id("rendition").count() >= 3
        page.locator("[data-testid=rendition] img").first.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=rendition] img')]"
            ".every(img => img.complete && img.naturalWidth > 0)"
        )

        # Amazon: a ZIP named by each published product's EAN.
        archive = export_everything(page, live_server, "Export to Amazon", burst_worker, tmp_path)
        with zipfile.ZipFile(archive) as zf:
            names = set(zf.namelist())
            assert {f"{item.ean}.MAIN.jpg" for item in CLEAN} <= names
            assert not any(name.startswith(item.ean) for item in DEFECTIVE for name in names)
            assert zf.read(f"{mug.ean}.MAIN.jpg")[:3] == b"\xff\xd8\xff"
            # The scene is the first additional image of the products in it.
            assert {f"{item.ean}.PT01.jpg" for item in IN_SCENE} <= names

        # Shopify: a CSV row per published product, pointing at its public image URL.
        csv_path = export_everything(page, live_server, "Shopify CSV", burst_worker, tmp_path)
        rows = read_shopify_csv(csv_path)
        assert {row["Title"] for row in rows if row["Title"]} == {item.title for item in CLEAN}
        assert all(row["Product image URL"].startswith("http") for row in rows)
    finally:
        context.close()

    # The reviewer's queue holds the two flagged on purpose, each with its plain reason.
    context = browser.new_context()
    try:
        page = log_in_on(context.new_page(), live_server, "reviewer", PASSWORD)
        page.goto(f"{live_server.url}/review/")
        rows = page.get_by_test_id("queue-row")
        expect(rows).to_have_count(len(DEFECTIVE))
        for item in DEFECTIVE:
            expect(rows.filter(has=page.get_by_role("link", name=item.sku, exact=True))).to_have_count(1)
            reason = page.locator(f"[data-testid=reason-counts] a[data-code={item.shot.defect}]")
            expect(reason).to_contain_text("1")
    finally:
        context.close()
