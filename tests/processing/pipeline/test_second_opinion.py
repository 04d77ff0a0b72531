"""The studio second opinion and the part-weighted disagreement, pinned on generated photos.

A studio shot's shadows, sweep gradient and vignetting are backdrop: a correct cut-out
of such a photo passes. A cut-out that loses a part of the product, or takes in a patch
of backdrop, is flagged with the reason that names it. No model runs here: the "cut-out"
is the true mask, or the true mask with a part taken away or a patch added, so each test
is about the gate alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from processing.pipeline.backdrop import estimate_backdrop
from processing.pipeline.quality import SecondOpinion, assess, compare_masks, fill_missing_parts
from tests.processing.pipeline.imagefactory import srgb_decode, srgb_encode
from tests.processing.pipeline.scenes import iou

WIDTH, HEIGHT = 900, 720


def _texture(height: int, width: int, seed: int) -> np.ndarray:
    """A printed, lit product surface: a crop of a real photo from scikit-image's data."""
    import skimage.data

    photo = skimage.data.astronaut() if seed % 2 else skimage.data.coffee()
    rng = np.random.default_rng(seed)
    top = rng.integers(0, photo.shape[0] - 200)
    left = rng.integers(0, photo.shape[1] - 200)
    crop = Image.fromarray(photo[top : top + 200, left : left + 200])
    return np.asarray(crop.resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32)


def _backdrop(colour: tuple[float, float, float], *, sweep: float, vignette: float) -> np.ndarray:
    xs = np.linspace(-1, 1, WIDTH, dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, HEIGHT, dtype=np.float32)[:, None]
    light = (1.0 - sweep * (1 - ys) / 2) * (1.0 - vignette * (xs**2 + ys**2) / 2)
    return np.array(colour, dtype=np.float32)[None, None, :] * light[..., None]


def _linear(srgb: np.ndarray) -> np.ndarray:
    return srgb_decode(srgb / 255.0)


def _srgb(linear: np.ndarray) -> np.ndarray:
    return srgb_encode(linear) * 255.0


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(mask.astype(np.float32), sigma)


class Studio:
    """A box-shaped product standing on a sweep, with its shadows, made in code."""

    def __init__(
        self,
        *,
        colour: tuple[float, float, float] = (242, 242, 240),
        sweep: float = 0.06,
        vignette: float = 0.08,
        contact: float = 0.0,
        cast: float = 0.0,
        grey_item: bool = False,
        white: bool = False,
        box: tuple[int, int, int, int] = (330, 180, 570, 560),  # left, top, right, bottom
        seed: int = 0,
    ) -> None:
        product = np.zeros((HEIGHT, WIDTH), bool)
        product[box[1] : box[3], box[0] : box[2]] = True
        light = _backdrop(colour, sweep=sweep, vignette=vignette)
        darkening = np.ones((HEIGHT, WIDTH), np.float32)
        if contact:
            floor = Image.new("L", (WIDTH, HEIGHT), 0)
            ImageDraw.Draw(floor).ellipse([box[0] - 30, box[3] - 22, box[2] + 30, box[3] + 22], fill=255)
            darkening *= 1 - contact * _soft(np.asarray(floor) > 0, 9)
        if cast:
            # The product's silhouette thrown sideways and sheared along the floor.
            thrown = np.zeros_like(product)
            thrown[box[3] - 160 : box[3], box[2] - 40 : box[2] + 200] = True
            darkening *= 1 - cast * _soft(thrown, 14)
        # Shadows take away light: they scale linear light, not sRGB values.
        photo = _srgb(_linear(light) * darkening[..., None])
        surface = np.zeros_like(photo)
        surface[box[1] : box[3], box[0] : box[2]] = _texture(box[3] - box[1], box[2] - box[0], seed)
        if white:
            # A white carton: lit like the sweep behind it and a shade darker (too little
            # for the second opinion to call it product), its side face a little darker.
            face = light[box[1] : box[3], box[0] : box[2]] * 0.985
            face[:, -60:] *= 0.92
            surface[box[1] : box[3], box[0] : box[2]] = face
        photo = np.where(product[..., None], surface, photo)
        self.grey_item = np.zeros_like(product)
        if grey_item:
            # A light-grey box (a laptop's lid, a white carton in a bundle) beside the product:
            # darker than the backdrop at its own chroma, like a shadow, but sharp-edged.
            self.grey_item[300:540, 600:800] = True
            photo = np.where(self.grey_item[..., None], _srgb(_linear(light) * 0.45), photo)
            product |= self.grey_item
        noise = np.random.default_rng(seed).normal(0, 1.5, photo.shape)
        self.image = Image.fromarray(np.clip(photo + noise, 0, 255).astype(np.uint8), "RGB")
        self.truth = product
        self.box = box

    def mask(self, pixels: np.ndarray | None = None) -> Image.Image:
        values = self.truth if pixels is None else pixels
        return Image.fromarray(np.where(values, 255, 0).astype(np.uint8), "L")

    def opinion(self) -> SecondOpinion:
        estimate = estimate_backdrop(self.image)
        assert estimate.is_plain
        return SecondOpinion(estimate.mask, unsure=estimate.unsure, shadow=estimate.shadow)

    def assess(self, mask: Image.Image):
        # As a working copy of a 1800 px photo: resolution is not what these tests are about.
        return assess(self.image, mask, original_size=(1800, 1440), second_mask=self.opinion())


def _codes(report) -> set[str]:
    return {reason.code for reason in report.reasons}


PART_REASONS = {"missing_part", "backdrop_included"}


@pytest.mark.parametrize(
    "studio",
    [
        pytest.param({"contact": 0.55}, id="strong contact shadow"),
        pytest.param({"contact": 0.35, "cast": 0.45}, id="cast shadow"),
        pytest.param({"colour": (206, 207, 209), "contact": 0.4}, id="grey sweep"),
        pytest.param({"colour": (238, 228, 212), "contact": 0.4}, id="warm sweep"),
        pytest.param({"sweep": 0.12, "vignette": 0.22, "contact": 0.3}, id="strong vignetting and gradient"),
    ],
)
def test_a_correct_cut_out_of_a_studio_shot_passes_whatever_its_shadows_and_sweep(studio):
    shot = Studio(**studio)

    report = shot.assess(shot.mask())

    assert report.passed, report.reasons
    assert not _codes(report) & PART_REASONS
    assert report.signals["part_missing"] < 0.02
    assert report.signals["part_added"] < 0.02


def test_a_white_product_on_a_white_sweep_cut_out_correctly_is_not_called_backdrop():
    """The second opinion cannot tell the carton's face from the sweep by colour, but the
    cut-out's outline around it follows the carton's edges in the photo."""
    shot = Studio(colour=(236, 236, 234), white=True, contact=0.35)

    report = shot.assess(shot.mask())
    opinion_alone = compare_masks(shot.mask(), shot.opinion())  # without the photo's edges

    assert "backdrop_included" not in _codes(report)
    assert report.passed, report.reasons
    assert opinion_alone.added > 0.3  # what the outline check rescued


def test_the_second_opinion_calls_a_shadow_backdrop_and_says_it_saw_one():
    shot = Studio(contact=0.35, cast=0.5)
    estimate = estimate_backdrop(shot.image)

    shadow = np.asarray(estimate.shadow) >= 128
    foreground = np.asarray(estimate.mask) >= 128
    thrown = np.zeros_like(shadow)
    thrown[shot.box[3] - 120 : shot.box[3] - 10, shot.box[2] + 30 : shot.box[2] + 170] = True
    assert shadow[thrown].mean() > 0.6
    assert foreground[thrown].mean() < 0.05
    inside = ndimage.binary_erosion(shot.truth, iterations=6)
    assert foreground[inside].mean() > 0.95


def test_a_cut_out_that_lost_a_whole_part_is_flagged_missing_part_saying_where():
    shot = Studio(contact=0.4, cast=0.3)
    lost = shot.truth.copy()
    left, top, right, bottom = shot.box
    lost[top : top + (bottom - top) // 3, left:right] = False  # the top third is gone

    report = shot.assess(shot.mask(lost))

    assert not report.passed
    (reason,) = [r for r in report.reasons if r.code == "missing_part"]
    assert reason.blocking  # a third of the product: far past twice the limit
    assert "at the top" in reason.message
    assert "backdrop_included" not in _codes(report)


def test_a_cut_out_that_took_in_a_patch_of_backdrop_is_flagged_backdrop_included():
    shot = Studio(contact=0.4)
    patched = shot.truth.copy()
    left, top, right, bottom = shot.box
    patched[top + 40 : top + 200, right : right + 110] = True  # a slab of sweep beside the box

    report = shot.assess(shot.mask(patched))

    assert not report.passed
    assert "backdrop_included" in _codes(report)
    assert "missing_part" not in _codes(report)
    assert "right" in next(r for r in report.reasons if r.code == "backdrop_included").message


def test_a_product_reaching_the_frame_does_not_blind_the_second_opinion():
    """A product cut off by the top of the frame fills part of the frame the backdrop is
    learnt from; the cut-out that dropped that part is still caught."""
    shot = Studio(contact=0.4, box=(250, 0, 650, 520))
    dropped = shot.truth.copy()
    dropped[:200] = False

    report = shot.assess(shot.mask(dropped))

    assert "missing_part" in _codes(report)
    assert "at the top" in next(r for r in report.reasons if r.code == "missing_part").message
    assert not report.passed


def test_a_few_pixels_of_edge_disagreement_are_recorded_but_fail_nothing():
    shot = Studio(contact=0.4)
    grown = ndimage.binary_dilation(shot.truth, iterations=3)  # a 3 px halo all round

    report = shot.assess(shot.mask(grown))

    assert report.passed
    assert report.signals["edge_disagreement"] > 0
    assert not _codes(report) & PART_REASONS


def test_a_grey_item_dropped_by_the_cut_out_is_a_missing_part_not_a_shadow():
    shot = Studio(contact=0.3, grey_item=True)
    dropped = shot.truth & ~shot.grey_item

    report = shot.assess(shot.mask(dropped))

    assert "missing_part" in _codes(report)
    assert not report.passed


def test_a_cut_out_that_keeps_the_cast_shadow_is_told_so_without_failing():
    shot = Studio(contact=0.3, cast=0.5)
    estimate = estimate_backdrop(shot.image)
    with_shadow = shot.truth | (np.asarray(estimate.shadow) >= 128)

    report = shot.assess(shot.mask(with_shadow))

    assert "shadow_included" in _codes(report)
    assert "backdrop_included" not in _codes(report)
    assert report.passed


def test_unsure_regions_are_left_out_of_the_comparison():
    shot = Studio(contact=0.4)
    lost = shot.truth.copy()
    left, top, right, bottom = shot.box
    lost[top : top + 150, left:right] = False
    unsure = np.zeros_like(lost)
    unsure[top - 10 : top + 160, left - 10 : right + 10] = True
    opinion = SecondOpinion(shot.mask(), unsure=shot.mask(unsure))

    assert compare_masks(shot.mask(lost), opinion).missing == 0.0
    assert compare_masks(shot.mask(lost), SecondOpinion(shot.mask())).missing > 0.3


# --- putting back what the model missed ------------------------------------------


def test_a_grey_item_the_cut_out_missed_is_put_back_from_the_backdrop_model():
    shot = Studio(contact=0.4, grey_item=True)
    without_item = shot.truth & ~shot.grey_item

    filled = fill_missing_parts(shot.mask(without_item), shot.opinion(), shot.image)

    assert filled is not None
    assert filled.share > 0.3
    assert "right" in filled.where
    assert iou(np.asarray(filled.mask) >= 128, shot.truth) > 0.95
    assert shot.assess(filled.mask).passed


def test_a_missed_part_with_patches_the_opinion_is_unsure_of_is_judged_by_its_outline_on_the_backdrop():
    """A laptop's keyboard: keys the backdrop model is unsure of dot the missed part.
    Around them there is no outline to look for; the part's edges towards the backdrop
    are sharp, so it is put back."""
    shot = Studio(contact=0.4, grey_item=True)
    without_item = shot.truth & ~shot.grey_item
    estimate = estimate_backdrop(shot.image)
    keys = np.zeros_like(shot.truth)
    for top in range(320, 520, 40):
        for left in range(615, 790, 36):
            keys[top : top + 14, left : left + 22] = True
    unsure = (np.asarray(estimate.unsure) >= 128) | keys
    opinion = SecondOpinion(estimate.mask, unsure=shot.mask(unsure), shadow=estimate.shadow)

    filled = fill_missing_parts(shot.mask(without_item), opinion, shot.image)

    assert filled is not None
    assert "right" in filled.where
    put_back = (np.asarray(filled.mask) >= 128) & ~without_item
    assert (put_back & shot.grey_item).sum() > 0.8 * (shot.grey_item & ~keys).sum()
    assert not (put_back & ~ndimage.binary_dilation(shot.grey_item, iterations=3)).any()


def test_a_shadow_left_out_of_a_correct_cut_out_is_not_put_back():
    shot = Studio(contact=0.55, cast=0.45)

    assert fill_missing_parts(shot.mask(), shot.opinion(), shot.image) is None


def test_a_soft_edged_dark_patch_is_not_put_back_as_a_part():
    """Darker than any shadow (so the backdrop model calls it product) but with no
    outline in the photo: nothing says it is an object, so it is not added."""
    shot = Studio(contact=0.3)
    blot = np.zeros_like(shot.truth)
    left, top, right, bottom = shot.box
    blot[top + 60 : top + 260, right - 10 : right + 160] = True
    darkness = np.clip(_soft(blot, 30)[..., None] * 1.4, 0, 0.97)
    pixels = _srgb(_linear(np.asarray(shot.image, dtype=np.float32)) * (1 - darkness))
    shot.image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")

    assert compare_masks(shot.mask(), shot.opinion(), shot.image).missing > 0.2  # the opinion's view
    assert fill_missing_parts(shot.mask(), shot.opinion(), shot.image) is None
