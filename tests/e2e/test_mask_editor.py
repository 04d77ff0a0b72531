"""The mask editor in Chromium: a lost part painted back with the brush and published from
the hand mask, undo and redo, and a one-click fill of a hole."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from catalog.models import ImageVersion, MarketplaceProfile, VersionStatus
from tests.conftest import PASSWORD
from tests.e2e.test_review import wait_for, wait_for_item

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZE = (800, 600)
BODY = (150, 150, 550, 450)  # a red box…
HANDLE = (550, 250, 650, 350)  # …and its handle, which the model dropped
RED = (185, 35, 35)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def studio_photo() -> bytes:
    photo = Image.new("RGB", SIZE, (236, 236, 236))
    draw = ImageDraw.Draw(photo)
    draw.rectangle(BODY, fill=RED)
    draw.rectangle(HANDLE, fill=RED)
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def model_mask(hole: tuple[int, int, int, int] | None = None) -> bytes:
    mask = Image.new("L", SIZE, 0)
    draw = ImageDraw.Draw(mask)
    draw.rectangle(BODY, fill=255)
    if hole:
        draw.rectangle(hole, fill=0)
    return png(mask)


def open_editor(page, live_server, version):
    page.goto(f"{live_server.url}/review/item/")
    wait_for_item(page, version)
    page.keyboard.press("t")
    page.locator("[data-testid=mask-editor][data-ready='1']").wait_for()
    page.get_by_test_id("mask-stage").evaluate("el => el.scrollIntoView({block: 'end'})")


def on_screen(page, x: float, y: float) -> tuple[float, float]:
    """Where photo pixel (x, y) is on the screen, through the editor's own zoom and pan."""
    return page.evaluate(
        """([x, y]) => {
            const ed = window.lightboxMaskEditor();
            const rect = ed.view.getBoundingClientRect();
            const k = ed.work.w / ed.full.w;
            return [rect.left + ed.ox + x * k * ed.scale, rect.top + ed.oy + y * k * ed.scale];
        }""",
        [x, y],
    )


def mask_at(page, x: float, y: float) -> int:
    """The editor's mask (0–255) at photo pixel (x, y)."""
    return page.evaluate(
        """([x, y]) => {
            const ed = window.lightboxMaskEditor();
            const k = ed.work.w / ed.full.w;
            return ed.mctx.getImageData(Math.floor(x * k), Math.floor(y * k), 1, 1).data[3];
        }""",
        [x, y],
    )


def test_a_reviewer_paints_back_a_lost_handle_and_the_hand_mask_is_published(
    log_in, live_server, reviewer, make_flagged, small_profiles, live_worker
):
    version = make_flagged(
        photo=studio_photo(), reasons=[{"code": "missing_part", "message": "A part is left out."}]
    )
    version.mask.save("m.png", ContentFile(model_mask()), save=True)
    page = log_in(reviewer.username, PASSWORD)
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    open_editor(page, live_server, version)
    assert mask_at(page, 600, 300) == 0

    page.keyboard.press("b")
    for _ in range(4):
        page.keyboard.press("]")  # a bigger brush: 24 px * 1.25^4 ≈ 59 px on screen
    # Three horizontal strokes across the handle, like a hand: mouse down, moves, up.
    for y in (262, 300, 338):
        page.mouse.move(*on_screen(page, 545, y))
        page.mouse.down()
        page.mouse.move(*on_screen(page, 645, y), steps=10)
        page.mouse.up()
    assert mask_at(page, 600, 300) == 255
    assert mask_at(page, 600, 100) == 0, "the backdrop above the handle is not painted"

    # Undo takes the last stroke back, redo puts it again.
    page.keyboard.press("z")
    assert mask_at(page, 600, 338) == 0
    assert mask_at(page, 600, 262) == 255
    page.keyboard.press("Z")
    assert mask_at(page, 600, 338) == 255

    page.keyboard.press("Enter")

    page.get_by_test_id("done").wait_for()
    assert "Saved the corrected mask as ITEM-1 v2" in page.get_by_test_id("done").inner_text()
    new = ImageVersion.objects.get(source=version.source, number=2)
    assert (new.mask_source, new.mask_by) == (ImageVersion.MaskSource.HAND, reviewer)
    published = wait_for(
        lambda: ImageVersion.objects.filter(pk=new.pk, status=VersionStatus.PUBLISHED).first(), timeout=120
    )
    rendition = published.renditions.get(profile__slug="amazon-main")
    with rendition.file.open("rb") as fh, Image.open(fh) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    product = (np.abs(pixels - np.array(RED)).sum(axis=2) < 90).nonzero()
    height = product[0].max() - product[0].min() + 1
    width = product[1].max() - product[1].min() + 1
    # Body and handle are 500 × 300 px together (5:3); the body alone would be 4:3.
    assert width / height == pytest.approx(500 / 300, rel=0.04)
    handle_x = product[1].min() + round(width * 450 / 500)  # 450 px into the product: the handle
    middle_y = product[0].min() + height // 2
    assert (np.abs(pixels[middle_y, handle_x] - np.array(RED)).sum()) < 90
    assert not errors


def test_fill_holes_repairs_a_hole_in_one_click_and_saves_as_a_fixed_model_mask(
    log_in, live_server, reviewer, make_flagged, redis_conn
):
    version = make_flagged(
        photo=studio_photo(), reasons=[{"code": "holes", "message": "Holes in the cut-out."}]
    )
    version.mask.save("m.png", ContentFile(model_mask(hole=(300, 250, 380, 330))), save=True)
    page = log_in(reviewer.username, PASSWORD)
    open_editor(page, live_server, version)
    assert mask_at(page, 340, 290) == 0
    fix = page.get_by_test_id("fix-fill_holes")
    assert "suggested" in fix.get_attribute("class")

    fix.click()

    page.get_by_text("Holes filled.").wait_for()
    assert mask_at(page, 340, 290) == 255
    page.get_by_test_id("mask-save").click()
    page.get_by_test_id("done").wait_for()
    new = ImageVersion.objects.get(source=version.source, number=2)
    assert new.mask_source == ImageVersion.MaskSource.MODEL_FIX
    with new.hand_mask.open("rb") as fh, Image.open(fh) as stored:
        assert stored.size == SIZE
        assert stored.getpixel((340, 290)) == 255
        assert stored.getpixel((50, 50)) == 0
    assert MarketplaceProfile.objects.exists()


def test_zoom_view_keys_and_a_grow_click_take_back_the_handle_by_colour(
    log_in, live_server, reviewer, make_flagged, redis_conn
):
    version = make_flagged(photo=studio_photo(), reasons=[{"code": "missing_part", "message": "Lost."}])
    version.mask.save("m.png", ContentFile(model_mask()), save=True)
    page = log_in(reviewer.username, PASSWORD)
    open_editor(page, live_server, version)
    editor = page.get_by_test_id("mask-editor")

    page.keyboard.press("1")
    assert float(editor.get_attribute("data-zoom")) == pytest.approx(1.0)
    page.keyboard.press("+")
    assert float(editor.get_attribute("data-zoom")) == pytest.approx(1.25)
    page.keyboard.press("0")
    for mode in ("white", "checker", "profile", "edit"):
        page.keyboard.press("v")
        assert editor.get_attribute("data-mode") == mode

    page.keyboard.press("g")
    page.mouse.click(*on_screen(page, 600, 300))

    page.get_by_text("Part taken back.").wait_for()
    assert mask_at(page, 600, 300) == 255
    assert mask_at(page, 600, 100) == 0
    page.keyboard.press("z")
    assert mask_at(page, 600, 300) == 0
