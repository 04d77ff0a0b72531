"""A reviewer's mask correction: saved as a new version, refused when bad or stale, and
processed from the hand mask without segmentation."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, ImageDraw

from catalog.models import ImageVersion, VersionStatus
from processing.jobs import process_version
from review.mask_edit import do_correct_mask, upright_size
from review.models import ReviewDecision
from review.services import InvalidDecision, StaleDecision, claim_next, do_approve
from tests.conftest import photo_bytes

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
SIZE = (640, 480)


def mask_png(size=SIZE, box=(160, 120, 480, 360), mode="L") -> bytes:
    image = Image.new(mode, size, 0)
    ImageDraw.Draw(image).rectangle(box, fill=255 if mode == "L" else (255, 0, 140, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def flagged(make_flagged):
    """A flagged 640×480 photo whose cut-out lost a part."""
    photo = Image.new("RGB", SIZE, (240, 240, 240))
    ImageDraw.Draw(photo).rectangle((160, 120, 480, 360), fill=(180, 40, 40))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=95)
    version = make_flagged(
        photo=buffer.getvalue(), reasons=[{"code": "missing_part", "message": "Part left out"}]
    )
    version.mask.save("m.png", ContentFile(mask_png(box=(160, 120, 300, 360))), save=True)
    return version


def stored_hand_masks() -> list[str]:
    try:
        return default_storage.listdir("hand_masks")[1]
    except FileNotFoundError:
        return []


def test_a_saved_mask_supersedes_the_version_with_a_new_one_carrying_the_hand_mask(
    flagged, reviewer, redis_conn, django_capture_on_commit_callbacks
):
    claim_next(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        new = do_correct_mask(flagged.pk, reviewer, mask_png(mode="RGBA"), fixes=["brush"])

    flagged.refresh_from_db()
    assert flagged.status == VersionStatus.SUPERSEDED
    decision = flagged.decisions.get()
    assert (decision.action, decision.reviewer) == (ReviewDecision.Action.CORRECT, reviewer)
    assert decision.seconds_open is not None
    assert decision.seconds_open >= 0
    assert (new.status, new.number, new.parent) == (VersionStatus.QUEUED, 2, flagged)
    assert (new.mask_source, new.mask_by) == (ImageVersion.MaskSource.HAND, reviewer)
    with new.hand_mask.open("rb") as fh, Image.open(fh) as stored:
        assert (stored.mode, stored.size) == ("L", SIZE)
        assert stored.getpixel((400, 200)) == 255, "the canvas export's alpha is the mask"
    import django_rq

    assert new.job_id in django_rq.get_queue("default").job_ids


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (mask_png(size=(320, 240)), "must be the photo's full size, 640×480 px"),
        (b"not an image at all", "not a PNG"),
        (b"\x89PNG\r\n\x1a\n broken", "could not be read"),
        (Image.new("L", SIZE, 0), "empty"),
        (b"", "No mask"),
    ],
)
def test_a_bad_mask_is_refused_with_a_message_and_nothing_changes(flagged, reviewer, data, message):
    if isinstance(data, Image.Image):
        buffer = io.BytesIO()
        data.save(buffer, format="PNG")
        data = buffer.getvalue()

    with pytest.raises(InvalidDecision, match=message):
        do_correct_mask(flagged.pk, reviewer, data)

    flagged.refresh_from_db()
    assert flagged.status == VersionStatus.FLAGGED
    assert ImageVersion.objects.filter(source=flagged.source).count() == 1
    assert not flagged.decisions.exists()
    assert stored_hand_masks() == []


def test_a_save_on_a_version_another_reviewer_decided_meanwhile_is_refused(
    flagged, reviewer, other_reviewer, redis_conn
):
    claim_next(reviewer)
    ImageVersion.objects.filter(pk=flagged.pk).update(claimed_by=None)
    do_approve(flagged.pk, other_reviewer)

    with pytest.raises(StaleDecision, match="already decided"):
        do_correct_mask(flagged.pk, reviewer, mask_png())

    assert ImageVersion.objects.filter(source=flagged.source).count() == 1
    assert stored_hand_masks() == []


def test_a_save_while_another_reviewer_holds_the_item_is_refused_and_the_mask_not_kept(
    flagged, reviewer, other_reviewer
):
    claim_next(other_reviewer)

    with pytest.raises(StaleDecision, match="is reviewing this item"):
        do_correct_mask(flagged.pk, reviewer, mask_png())

    assert stored_hand_masks() == []


def test_the_save_view_answers_like_the_other_decisions(client, flagged, reviewer, redis_conn):
    client.force_login(reviewer)
    url = reverse("review:save_mask", args=[flagged.pk])

    refused = client.post(url, {"mask": ContentFile(b"nope", name="m.png"), "mask_source": "hand"}, **HX)
    assert refused.status_code == 422
    assert "The mask is not a PNG image." in refused.content.decode()
    refused_page = client.post(url, {"mask": ContentFile(b"nope", name="m.png"), "mask_source": "hand"})
    assert refused_page.status_code == 422
    assert "<html" in refused_page.content.decode()

    saved = client.post(url, {"mask": ContentFile(mask_png(), name="m.png"), "mask_source": "hand"}, **HX)
    assert saved.status_code == 200
    assert "Saved the corrected mask as ITEM-1 v2" in saved.content.decode()

    stale = client.post(url, {"mask": ContentFile(mask_png(), name="m.png"), "mask_source": "hand"}, **HX)
    assert stale.status_code == 409


def test_the_decision_page_carries_the_editor_with_the_fixes_the_reasons_call_for(client, flagged, reviewer):
    client.force_login(reviewer)

    page = client.get(reverse("review:decide")).content.decode()

    assert 'data-testid="mask-editor"' in page
    assert 'data-full-w="640" data-full-h="480"' in page
    assert "js/mask_editor.js" in page
    fragment = client.get(reverse("review:decide"), **HX).content.decode()
    assert 'data-testid="mask-editor"' in fragment
    assert 'data-testid="tool-grow"' in fragment


def test_a_fix_fills_the_holes_of_the_posted_mask(client, flagged, reviewer):
    client.force_login(reviewer)
    holed = Image.open(io.BytesIO(mask_png())).copy()
    ImageDraw.Draw(holed).rectangle((300, 200, 340, 240), fill=0)
    buffer = io.BytesIO()
    holed.save(buffer, format="PNG")

    response = client.post(
        reverse("review:fix_mask", args=[flagged.pk]),
        {"mask": ContentFile(buffer.getvalue(), name="m.png"), "op": "fill_holes"},
    )

    assert response.status_code == 200
    fixed = np.asarray(Image.open(io.BytesIO(response.content)))
    assert (fixed[200:241, 300:341] == 255).all()


def test_a_grow_click_takes_back_the_part_by_its_colour(client, flagged, reviewer):
    client.force_login(reviewer)
    response = client.post(
        reverse("review:fix_mask", args=[flagged.pk]),
        {
            "mask": ContentFile(mask_png(box=(160, 120, 300, 360)), name="m.png"),
            "op": "grow_at",
            "points": json.dumps([[400, 240]]),
        },
    )

    assert response.status_code == 200
    fixed = np.asarray(Image.open(io.BytesIO(response.content)))
    assert fixed[130:350, 310:470].min() == 255
    assert fixed[20:100, :].max() == 0


def test_a_fix_that_does_not_apply_says_why(client, flagged, reviewer):
    client.force_login(reviewer)
    response = client.post(
        reverse("review:fix_mask", args=[flagged.pk]),
        {"mask": ContentFile(mask_png(), name="m.png"), "op": "keep_clicked", "points": "[[1, 1]]"},
    )

    assert response.status_code == 422
    assert "Click on an object" in response.content.decode()


def test_processing_a_hand_masked_version_uses_the_mask_and_passes_without_a_model(
    flagged, reviewer, redis_conn, settings, django_capture_on_commit_callbacks
):
    settings.LIGHTBOX_MODEL_NAME = "no-such-model"  # segmentation would fail loudly
    new = do_correct_mask(flagged.pk, reviewer, mask_png())

    with django_capture_on_commit_callbacks(execute=True):
        outcome = process_version(str(new.pk))

    new.refresh_from_db()
    assert outcome == "passed"
    assert new.status == VersionStatus.RENDERING
    assert new.options["second_opinion"] == "hand"
    with new.master.open("rb") as fh, Image.open(fh) as master:
        left, top, right, bottom = master.getchannel("A").point(lambda a: 255 if a >= 128 else 0).getbbox()
        assert (right - left, bottom - top) == (321, 241), "the product is the hand mask's"


def test_the_mask_size_expected_is_the_upright_one(make_flagged):
    photo = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = photo.getexif()
    exif[0x0112] = 6  # rotated 90°: shown 48 wide, 64 high
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", exif=exif)
    version = make_flagged(photo=buffer.getvalue())

    assert upright_size(version.source) == (48, 64)


def test_photo_bytes_helper_is_unrotated(make_flagged):
    assert upright_size(make_flagged(photo=photo_bytes((64, 48))).source) == (64, 48)


def _hand_fixed_flagged(flagged, reviewer):
    ImageVersion.objects.filter(pk=flagged.pk).update(
        hand_mask="hand_masks/earlier.png", mask_source=ImageVersion.MaskSource.HAND, mask_by=reviewer
    )
    return flagged


def test_reprocessing_a_hand_fixed_version_keeps_the_hand_mask(flagged, reviewer, redis_conn):
    from review.services import do_reprocess

    _hand_fixed_flagged(flagged, reviewer)

    new = do_reprocess(flagged.pk, reviewer, {"shadow": True})

    assert (new.hand_mask.name, new.mask_source, new.mask_by) == (
        "hand_masks/earlier.png",
        ImageVersion.MaskSource.HAND,
        reviewer,
    )


def test_reprocessing_a_hand_fixed_version_with_the_model_asked_for_drops_the_hand_mask(
    flagged, reviewer, redis_conn
):
    from review.services import do_reprocess

    _hand_fixed_flagged(flagged, reviewer)

    new = do_reprocess(flagged.pk, reviewer, {"use_model": True})

    assert (new.hand_mask.name, new.mask_source) == ("", ImageVersion.MaskSource.MODEL)


def test_the_product_history_shows_who_fixed_the_mask_and_the_time_on_the_item(
    client, flagged, reviewer, redis_conn
):
    claim_next(reviewer)
    new = do_correct_mask(flagged.pk, reviewer, mask_png())
    client.force_login(reviewer)

    page = client.get(reverse("catalog:product_detail", args=[new.source.product.sku])).content.decode()

    assert f"Mask: touched up by hand by {reviewer}" in page
    assert "Correct the mask by rita-reviewer" in page
    assert " s on the item)" in page


def test_drop_shadow_removes_the_shadow_the_cut_out_kept_under_a_studio_product(
    client, make_flagged, reviewer
):
    from PIL import ImageFilter

    rng = np.random.default_rng(0)
    shade = Image.new("L", (800, 600), 0)
    ImageDraw.Draw(shade).ellipse((180, 420, 640, 500), fill=150)
    shade = np.asarray(shade.filter(ImageFilter.GaussianBlur(12)), dtype=np.float32)
    lit = np.full((600, 800, 3), (236, 236, 232), dtype=np.float32) * (1 - shade[..., None] / 255 * 0.55)
    photo = Image.fromarray(np.clip(lit + rng.normal(0, 2, lit.shape), 0, 255).astype(np.uint8))
    ImageDraw.Draw(photo).rectangle((250, 150, 550, 450), fill=(40, 90, 170))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=95)
    version = make_flagged(photo=buffer.getvalue(), reasons=[{"code": "shadow_included"}])
    kept = np.zeros((600, 800), dtype=np.uint8)
    kept[150:451, 250:551] = 255
    kept[(shade > 40) & (np.arange(600)[:, None] > 420)] = 255  # the cut-out kept the floor shadow
    client.force_login(reviewer)

    response = client.post(
        reverse("review:fix_mask", args=[version.pk]),
        {"mask": ContentFile(_png_of(kept), name="m.png"), "op": "drop_shadow"},
    )

    assert response.status_code == 200
    fixed = np.asarray(Image.open(io.BytesIO(response.content)))
    assert fixed[456:, :].max() == 0, "the shadow below the product is gone"
    assert (fixed[150:451, 250:551] == 255).all(), "the product is whole"


def _png_of(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(values, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()
