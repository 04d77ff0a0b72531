"""The ghost-mannequin pipeline on generated photos whose mannequin, garment and neck opening are known."""

from __future__ import annotations

import functools
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from bench.ghost_photos import LABEL, LETTERING, MANNEQUINS, FrontPhoto, front_photo, inner_photo
from processing.pipeline.ghost import REASONS, Cutout, GhostError, make_ghost
from processing.pipeline.mannequin import chroma_distance, preset

SIZE = 384
CASES = [("grey", "navy"), ("skin", "red"), ("green", "mustard"), ("green", "red")]


@functools.cache
def _front(mannequin: str, garment: str) -> FrontPhoto:
    return front_photo(SIZE, mannequin, garment)


def _cutout(photo: FrontPhoto) -> Cutout:
    return Cutout(photo.image, Image.fromarray(photo.alpha))


def _inner(garment: str) -> Cutout:
    inner = inner_photo(SIZE * 6 // 10, garment)
    return Cutout(inner.image, Image.fromarray(inner.alpha))


def _core(pixels: np.ndarray) -> np.ndarray:
    """The pixels two away from any edge: anti-aliased borders are judged elsewhere."""
    eroded: np.ndarray = ndimage.binary_erosion(pixels, iterations=2)
    return eroded


@pytest.mark.parametrize(("mannequin", "garment"), CASES)
def test_no_mannequin_is_left_and_the_garment_is_kept(mannequin: str, garment: str) -> None:
    photo = _front(mannequin, garment)
    result = make_ghost(_cutout(photo), preset(mannequin))
    alpha = np.asarray(result.full)[..., 3]

    assert result.reasons == ()
    # Everywhere the mannequin showed (neck, inside the collar, arm stubs, below the hem) is transparent.
    assert (alpha[_core(photo.mannequin)] <= 10).mean() > 0.999
    # The mannequin's soft edge against the backdrop goes with it: nothing of its outline stays.
    outline = (
        photo.mannequin & ~_core(photo.mannequin) & ~ndimage.binary_dilation(photo.garment, iterations=2)
    )
    assert (alpha[outline] <= 40).mean() > 0.99
    assert (alpha[_core(photo.garment)] >= 250).mean() > 0.999


@pytest.mark.parametrize(("mannequin", "garment"), CASES)
def test_the_inner_shot_shows_in_the_neck_opening(mannequin: str, garment: str) -> None:
    photo = _front(mannequin, garment)
    result = make_ghost(_cutout(photo), preset(mannequin), _inner(garment))
    full = np.asarray(result.full)
    opening = _core(photo.neck_opening)

    assert result.reasons == ()
    assert result.figures["inner_cover"] >= 0.9
    # The opening is filled, and not with the mannequin: its colour is the inside of the shirt and its label.
    assert (full[..., 3][opening] >= 250).mean() > 0.9
    label = np.abs(full[..., :3].astype(int) - LABEL).max(axis=2) < 20
    lettering = np.abs(full[..., :3].astype(int) - LETTERING).max(axis=2) < 35
    distance = chroma_distance(full[..., :3], preset(mannequin))
    fabric = opening & (full[..., 3] >= 250) & ~ndimage.binary_dilation(label | lettering, iterations=2)
    assert (distance[fabric] > preset(mannequin).near).mean() > 0.98
    assert (label & opening).sum() > 20
    assert (lettering & opening).sum() > 5
    # Outside the opening the inner shot never shows: where the mannequin was elsewhere stays clear.
    elsewhere = _core(photo.mannequin) & ~ndimage.binary_dilation(photo.neck_opening, iterations=6)
    assert (full[..., 3][elsewhere] <= 10).mean() > 0.999


@pytest.mark.parametrize(("mannequin", "garment"), [("grey", "mustard"), ("skin", "navy"), ("green", "red")])
def test_a_jpeg_photo_and_a_cut_out_mask_with_a_rim_of_backdrop_still_make_a_clean_ghost(
    mannequin: str, garment: str
) -> None:
    photo = _front(mannequin, garment)
    buffer = io.BytesIO()
    photo.image.save(buffer, format="JPEG", quality=85)  # chroma subsampled, ringing at edges
    decoded = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    # Segmentation models often keep a couple of pixels of backdrop around the silhouette.
    mask = Image.fromarray(photo.alpha).filter(ImageFilter.MaxFilter(5))
    result = make_ghost(Cutout(decoded, mask), preset(mannequin), _inner(garment))
    alpha = np.asarray(result.full)[..., 3]
    # JPEG's chroma rings for a few pixels beside the garment's edge: judged beyond them, and
    # beyond the inner shot tucked a few pixels around the opening.
    beyond = ndimage.binary_dilation(photo.garment, iterations=3) | ndimage.binary_dilation(
        photo.neck_opening, iterations=6
    )
    elsewhere = _core(photo.mannequin) & ~beyond

    assert result.reasons == ()
    assert (alpha[elsewhere] <= 10).mean() > 0.995
    # The rim beside the neck is not taken for garment on both sides of it: the opening stays the neck's.
    assert abs(int(result.opening.sum()) - int(photo.neck_opening.sum())) < 0.15 * photo.neck_opening.sum()
    assert (alpha[_core(photo.neck_opening)] >= 250).mean() > 0.9


@pytest.mark.parametrize("mannequin", ["grey", "green"])
def test_highlights_on_a_glossy_mannequin_go_with_it(mannequin: str) -> None:
    photo = _front(mannequin, "navy")
    image = photo.image.copy()
    # Near-white glints on the neck above the collar and on an arm stub: not the mannequin's colour.
    glints = [(0.47, 0.13, 0.50, 0.17), (0.215, 0.425, 0.235, 0.44)]
    draw = ImageDraw.Draw(image)
    for box in glints:
        draw.ellipse([v * SIZE for v in box], fill=(246, 246, 244))
    result = make_ghost(Cutout(image, Image.fromarray(photo.alpha)), preset(mannequin))
    alpha = np.asarray(result.full)[..., 3]
    painted = np.zeros(photo.garment.shape, bool)
    for left, top, right, bottom in glints:
        painted[
            int(top * SIZE) + 1 : int(bottom * SIZE) - 1, int(left * SIZE) + 1 : int(right * SIZE) - 1
        ] = True

    assert painted.sum() > 30
    assert (alpha[painted & photo.mannequin] <= 10).all()
    assert result.reasons == ()


def test_the_neck_opening_is_transparent_without_an_inner_shot() -> None:
    photo = _front("grey", "navy")
    result = make_ghost(_cutout(photo), preset("grey"))

    assert (np.asarray(result.full)[..., 3][_core(photo.neck_opening)] <= 10).mean() > 0.995
    found = result.opening & photo.neck_opening
    assert found.sum() > 0.85 * photo.neck_opening.sum()
    assert (result.opening & photo.garment).sum() == 0


def test_the_shaded_mannequin_inside_the_collar_is_found_by_its_chroma_not_its_brightness() -> None:
    photo = _front("skin", "red")
    rgb = np.asarray(photo.image).astype(float)
    inside, lit = _core(photo.neck_opening), _core(photo.mannequin & ~photo.neck_opening)
    # The generator shades the inside of the collar to well under the lit mannequin's brightness.
    assert rgb[inside].mean() < 0.75 * rgb[lit].mean()

    result = make_ghost(_cutout(photo), preset("skin"))

    assert result.mannequin[inside].mean() > 0.999


@pytest.mark.parametrize("garment", ["red", "mustard"])
def test_green_spill_is_taken_off_the_garment_near_the_mannequin(garment: str) -> None:
    photo = _front("green", garment)
    result = make_ghost(_cutout(photo), preset("green"))
    source = np.asarray(photo.image).astype(float)
    out = np.asarray(result.full)[..., :3].astype(float)
    garment_px = _core(photo.garment)
    badge_free = garment_px & ~(np.abs(source - (230, 200, 60)).max(axis=2) < 25)
    near = badge_free & ndimage.binary_dilation(photo.mannequin, iterations=4)
    far = badge_free & ~ndimage.binary_dilation(photo.mannequin, iterations=40)

    def green_excess(rgb: np.ndarray, where: np.ndarray) -> float:
        # Green against red + blue, against the same ratio far from the mannequin.
        ratio = rgb[..., 1] / (rgb[..., 0] + rgb[..., 2] + 1)
        return float(ratio[where].mean() - ratio[far].mean())

    before, after = green_excess(source, near), green_excess(out, near)
    assert before > 0.015  # the generator's spill is there to take off
    assert after < before / 3
    # Red and blue are left as they were.
    assert np.abs(out[near][:, [0, 2]] - source[near][:, [0, 2]]).max() <= 1


def test_the_master_is_the_garment_trimmed_like_any_cut_out() -> None:
    photo = _front("grey", "navy")
    result = make_ghost(_cutout(photo), preset("grey"), _inner("navy"))
    master = result.master.image

    assert master.mode == "RGBA"
    rows, cols = np.nonzero(photo.garment)
    garment_w, garment_h = cols.max() - cols.min() + 1, rows.max() - rows.min() + 1
    # The mannequin below the hem and above the collar is no longer part of the box.
    assert master.height < 1.12 * garment_h
    assert master.width < 1.12 * garment_w


def test_a_wrong_mannequin_colour_is_flagged_with_its_reason() -> None:
    photo = _front("green", "navy")
    result = make_ghost(_cutout(photo), preset("grey"))

    assert "mannequin_not_found" in result.reasons
    assert "no_opening" in result.reasons
    assert "mannequin colour" in result.messages[0]


@pytest.mark.parametrize("top", [0.36, 0.6], ids=["chest", "belly"])
def test_mannequin_colour_enclosed_by_the_garment_is_kept_and_flagged(top: float) -> None:
    photo = _front("grey", "red")
    image = np.asarray(photo.image).copy()
    # A grey print on the shirt, the mannequin's colour, away from its edges and the collar.
    area = (slice(int(SIZE * top), int(SIZE * (top + 0.06))), slice(int(SIZE * 0.45), int(SIZE * 0.55)))
    image[area] = MANNEQUINS["grey"]
    cutout = Cutout(Image.fromarray(image), Image.fromarray(photo.alpha))
    result = make_ghost(cutout, preset("grey"))
    print_area = np.zeros(photo.garment.shape, bool)
    print_area[area] = True

    assert "mannequin_left" in result.reasons
    assert (np.asarray(result.full)[..., 3][print_area] == 255).all()
    assert "mannequin" in REASONS["mannequin_left"]


def test_a_garment_shown_without_its_neck_says_no_opening_was_found() -> None:
    photo = _front("grey", "navy")
    top = int(SIZE * 0.34)
    image = photo.image.crop((0, top, SIZE, SIZE))
    mask = Image.fromarray(photo.alpha).crop((0, top, SIZE, SIZE))
    result = make_ghost(Cutout(image, mask), preset("grey"), _inner("navy"))

    assert "no_opening" in result.reasons
    assert "inner_not_placed" in result.reasons


def test_an_inner_shot_that_cannot_cover_the_opening_is_left_out_and_flagged() -> None:
    photo = _front("grey", "navy")
    inner = inner_photo(SIZE * 6 // 10, "navy")
    # A strip: as wide as a neckline, far too short to reach down the opening.
    strip = np.zeros_like(inner.alpha)
    strip[100:104, 40:190] = 255
    result = make_ghost(_cutout(photo), preset("grey"), Cutout(inner.image, Image.fromarray(strip)))

    assert result.reasons == ("inner_not_placed",)
    assert result.figures["inner_cover"] < 0.9
    assert (np.asarray(result.full)[..., 3][_core(photo.neck_opening)] <= 10).mean() > 0.995


def test_an_empty_cut_out_cannot_make_a_ghost() -> None:
    photo = _front("grey", "navy")
    with pytest.raises(GhostError, match="empty"):
        make_ghost(Cutout(photo.image, Image.new("L", photo.image.size, 0)), preset("grey"))


def test_a_cut_out_that_is_all_mannequin_cannot_make_a_ghost() -> None:
    image = Image.new("RGB", (64, 64), MANNEQUINS["grey"])
    with pytest.raises(GhostError, match="no garment"):
        make_ghost(Cutout(image, Image.new("L", (64, 64), 255)), preset("grey"))


def test_an_unknown_mannequin_colour_names_the_choices() -> None:
    with pytest.raises(KeyError, match="grey, skin, green"):
        preset("blue")
