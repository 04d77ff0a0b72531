"""A merchandiser's upload, in a real browser, with a real worker processing it."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from catalog.demo import photo_dir
from catalog.models import Product
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for_batch_done(page) -> None:
    page.get_by_test_id("batch-link").click()
    # No reload: htmx polls the progress fragment until the batch is done.
    page.wait_for_selector("[data-testid=batch-progress][data-done=true]", timeout=120_000)


def test_three_dropped_files_upload_and_their_batch_finishes_without_a_reload(
    log_in, merchandiser, live_worker, tmp_path
):
    for name, photo in (
        ("E2E-CUP.png", "coffee.png"),
        ("E2E-CUP_2.png", "chelsea.png"),
        ("E2E-MOTO.png", "motorcycle_left.png"),
    ):
        shutil.copy(photo_dir() / photo, tmp_path / name)
    page = log_in(merchandiser.username, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Upload").click()
    page.locator("#dropper").wait_for(state="visible")  # upload.js has run and listens

    page.locator("#file-input").set_input_files(
        [str(tmp_path / n) for n in ("E2E-CUP.png", "E2E-CUP_2.png", "E2E-MOTO.png")]
    )

    rows = page.get_by_test_id("upload-row")
    rows.nth(2).wait_for()
    for i in range(3):
        row = rows.nth(i)
        row.locator(".pct", has_text="100%").wait_for()
        row.locator(".result", has_text="queued for").wait_for()
    page.get_by_test_id("overall-text").filter(has_text="all sent").wait_for()
    assert page.get_by_test_id("overall-progress").get_attribute("value") == "100"

    url_before = page.url
    wait_for_batch_done(page)
    assert "3 of 3 photo(s) settled" in page.get_by_test_id("batch-state").inner_text()
    assert page.url != url_before  # on the batch page, which was never reloaded while it polled

    page.goto(page.url.split("/batches/")[0] + "/products/E2E-CUP/")
    versions = page.get_by_test_id("version")
    assert versions.count() == 2
    processed = page.locator("[data-testid=version] img.checker").first
    processed.wait_for()
    assert processed.evaluate("img => img.complete && img.naturalWidth > 0")
    assert Product.objects.get(sku="E2E-CUP").source_images.get(position=2).role == "alternate"


def test_a_zip_with_a_manifest_is_unpacked_and_the_manifest_applied(
    log_in, merchandiser, live_worker, tmp_path
):
    archive = tmp_path / "catalog.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(
            "manifest.csv",
            "file,sku,title,role,position\n"
            "shots/cup-front.png,ZIP-CUP,Espresso cup from the manifest,main,1\n",
        )
        zf.write(photo_dir() / "coffee.png", "shots/cup-front.png")
        zf.writestr("shots/notes.txt", "not a photo")
    page = log_in(merchandiser.username, PASSWORD)
    page.goto(page.url.replace("/products/", "/upload/"))
    page.locator("#dropper").wait_for(state="visible")

    page.locator("#file-input").set_input_files(str(archive))

    page.get_by_test_id("upload-row").locator(".result", has_text="unpacking").wait_for()
    wait_for_batch_done(page)
    errors = page.get_by_test_id("batch-errors").inner_text()
    assert "notes.txt" in errors
    assert "not an image" in errors.lower()
    product = Product.objects.get(sku="ZIP-CUP")
    assert product.title == "Espresso cup from the manifest"
    page.goto(page.url.split("/batches/")[0] + "/products/ZIP-CUP/")
    assert page.get_by_role("heading", level=1).inner_text() == "Espresso cup from the manifest"


def test_a_file_whose_name_gives_no_sku_can_be_given_one_on_the_spot(
    log_in, merchandiser, tmp_path, redis_conn
):
    shutil.copy(photo_dir() / "coffee.png", tmp_path / "photo (1).png")
    page = log_in(merchandiser.username, PASSWORD)
    page.goto(page.url.replace("/products/", "/upload/"))
    page.locator("#dropper").wait_for(state="visible")

    page.locator("#file-input").set_input_files(str(tmp_path / "photo (1).png"))
    row = page.get_by_test_id("upload-row")
    row.locator(".result", has_text="No SKU").wait_for()
    row.get_by_label("SKU for photo (1).png").fill("HANDPICKED-1")
    row.get_by_role("button", name="Send").click()

    row.locator(".result", has_text="queued for HANDPICKED-1").wait_for()
    assert Product.objects.get(sku="HANDPICKED-1").source_images.count() == 1
