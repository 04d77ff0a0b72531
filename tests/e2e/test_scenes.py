"""Lifestyle scenes as an admin makes them: a template marked on a photo in the browser, a
rule for a category, real workers making the scenes, and an Amazon export holding them."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.conftest import PASSWORD, master_png, photo_bytes
from tests.e2e.test_clean_pages import Problems

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kitchen(rendering_version, make_version, small_profiles):
    """Two published Kitchen products (one with real dimensions) and one of another category."""
    from catalog.models import Product, VersionStatus
    from processing.publishing import render_version

    mug = rendering_version.source.product  # MUG-001, Kitchen
    mug.width_cm, mug.height_cm = 12.0, 9.0
    mug.save()
    teapot = Product.objects.create(sku="TEA-002", title="Teapot", category="Kitchen", asin="B000TEST02")
    lamp = Product.objects.create(sku="LAMP-003", title="Lamp", category="Lighting", asin="B000TEST03")
    versions = [rendering_version]
    for item in (teapot, lamp):
        version = make_version(item, status=VersionStatus.RENDERING, photo=photo_bytes((700, 900)))
        version.master.save("m.png", ContentFile(master_png((700, 900))))
        versions.append(version)
    for version in versions:
        assert render_version(str(version.pk)) == "published"
    return mug, teapot, lamp


def counter_photo(path):
    """A kitchen counter: a grey wall above a wooden worktop."""
    image = Image.new("RGB", (800, 600), (205, 200, 192))
    ImageDraw.Draw(image).rectangle((0, 380, 800, 600), fill=(170, 130, 90))
    image.save(path, format="JPEG", quality=92)
    return path


def drag(page, locator, start, end):
    box = locator.bounding_box()
    page.mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
    page.mouse.down()
    page.mouse.move(
        box["x"] + (start[0] + end[0]) / 2 * box["width"], box["y"] + (start[1] + end[1]) / 2 * box["height"]
    )
    page.mouse.move(box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"])
    page.mouse.up()


def test_an_admin_marks_a_scene_makes_a_rule_and_the_export_holds_the_scenes(
    log_in, live_server, admin_user, kitchen, burst_worker, tmp_path
):
    from catalog.models import ImageVersion, VersionKind, VersionStatus
    from catalog.scenes.models import SceneTemplate

    page = log_in(admin_user.username, PASSWORD)
    problems = Problems(page)  # the marker runs under the Content-Security-Policy too
    page.goto(f"{live_server.url}/scenes/")
    page.get_by_test_id("new-template").click()
    page.get_by_label("Name").fill("Kitchen counter")
    page.get_by_label("Photo").set_input_files(counter_photo(tmp_path / "counter.jpg"))
    page.get_by_test_id("upload-template").click()

    # Mark it: drag the placement area, press s and click the worktop's line.
    photo = page.get_by_test_id("scene-photo")
    expect(photo).to_be_visible()
    photo.scroll_into_view_if_needed()
    drag(page, photo, (0.25, 0.2), (0.75, 0.9))
    page.keyboard.press("s")
    expect(page.get_by_test_id("mode-surface")).to_be_checked()
    box = photo.bounding_box()
    page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + 0.75 * box["height"])
    page.get_by_label("Right", exact=True).check()
    page.get_by_label("The area's real width (cm)").fill("60")
    expect(page.get_by_test_id("scene-area")).to_be_visible()
    assert problems.seen == []
    page.get_by_test_id("save-markings").click()
    expect(page.get_by_test_id("scene-template")).to_contain_text("Kitchen counter")

    template = SceneTemplate.objects.get(name="Kitchen counter")
    assert abs(template.area_left - 200) <= 4
    assert abs(template.area_right - 600) <= 4
    assert abs(template.area_top - 120) <= 4
    assert abs(template.area_bottom - 540) <= 4
    assert abs(template.surface_y - 450) <= 4
    assert (template.light_side, template.area_width_cm, template.revision) == ("right", 60.0, 2)

    # A rule for the Kitchen category: Amazon's additional slot and Shopify, position 2.
    page.get_by_test_id("new-rule").click()
    page.get_by_label("Template").select_option(label="Kitchen counter")
    page.get_by_label("Category").select_option("Kitchen")
    page.get_by_label("Amazon additional image").check()
    page.get_by_label("Shopify product image").check()
    page.get_by_label("Export position").fill("2")
    page.get_by_test_id("save-rule").click()
    expect(page.locator("article.message")).to_contain_text("2 scene versions queued")

    burst_worker()

    scenes = ImageVersion.objects.filter(kind=VersionKind.SCENE).select_related("source__product")
    assert sorted(s.source.product.sku for s in scenes) == ["MUG-001", "TEA-002"]
    assert {s.status for s in scenes} == {VersionStatus.PUBLISHED}
    for scene in scenes:
        assert sorted(scene.renditions.values_list("profile__slug", flat=True)) == [
            "amazon-additional",
            "shopify",
        ]

    # The product page shows the scene beside the cut-out.
    page.goto(f"{live_server.url}/products/MUG-001/")
    expect(page.get_by_test_id("version-kind")).to_contain_text("Kitchen counter")

    # An Amazon export of the category: each product's scene is its PT01.
    page.goto(f"{live_server.url}/products/")
    for sku in ("MUG-001", "TEA-002", "LAMP-003"):
        page.get_by_label(f"Select {sku}").check()
    page.get_by_role("button", name="Export to Amazon").click()
    page.wait_for_url("**/exports/*/")
    burst_worker()
    page.reload()
    expect(page.get_by_test_id("export-progress")).to_have_attribute("data-status", "succeeded")
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".jpg"))
        assert names == [
            "B000TEST01.MAIN.jpg",
            "B000TEST01.PT01.jpg",
            "B000TEST02.MAIN.jpg",
            "B000TEST02.PT01.jpg",
            "B000TEST03.MAIN.jpg",
        ]
        with Image.open(io.BytesIO(archive.read("B000TEST01.PT01.jpg"))) as scene_image:
            # The counter's wall fills the corner: a scene, not a product on white.
            assert (
                max(
                    abs(a - b)
                    for a, b in zip(scene_image.convert("RGB").getpixel((3, 3)), (205, 200, 192), strict=True)
                )
                < 25
            )
