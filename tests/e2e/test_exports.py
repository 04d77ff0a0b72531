"""An Amazon export as a merchandiser runs it: tick products, press the button, watch the bar, download."""

from __future__ import annotations

import zipfile

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from tests.conftest import PASSWORD, master_png, photo_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published_catalog(rendering_version, make_version, small_profiles):
    """Two products published through the real renderer, and a third with no photos."""
    from catalog.models import Product, VersionStatus
    from processing.publishing import render_version

    teapot = Product.objects.create(sku="TEA-002", title="Teapot", asin="B000TEST02")
    # A photo big enough for every (quartered) profile's minimum.
    second = make_version(teapot, status=VersionStatus.RENDERING, photo=photo_bytes((700, 900)))
    second.master.save("m.png", ContentFile(master_png((700, 900))))
    for version in (rendering_version, second):
        assert render_version(str(version.pk)) == "published"
    Product.objects.create(sku="BARE-003", title="No photos yet")
    return [rendering_version.source.product, teapot]


def test_a_merchandiser_exports_ticked_products_to_amazon_and_downloads_the_zip(
    log_in, merchandiser, published_catalog, live_worker, tmp_path
):
    page = log_in(merchandiser.username, PASSWORD)

    for product in published_catalog:
        page.get_by_label(f"Select {product.sku}").check()
    page.get_by_role("button", name="Export to Amazon").click()

    page.wait_for_url("**/exports/*/")
    progress = page.get_by_test_id("export-progress")
    expect(page.get_by_test_id("export-bar")).to_be_visible()
    detail_url = page.url
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=60_000)
    assert page.url == detail_url  # htmx swapped the fragment in; nobody reloaded the page
    expect(page.get_by_test_id("export-bar")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("export-summary")).to_contain_text("2 of 2")

    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)

    assert path.name.startswith("amazon-images-")
    assert path.suffix == ".zip"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "B000TEST01.MAIN.jpg",
            "B000TEST02.MAIN.jpg",
            "inventory.csv",
            "inventory.txt",
        ]
        assert archive.read("B000TEST01.MAIN.jpg")[:3] == b"\xff\xd8\xff"
