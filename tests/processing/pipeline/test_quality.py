from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from processing.pipeline.backdrop import estimate_backdrop
from processing.pipeline.compose import compose_master
from processing.pipeline.quality import PENALTIES, QualityReport, SecondOpinion, Thresholds, assess
from tests.processing.pipeline.scenes import (
    Scene,
    busy_backdrop,
    product_scene,
    shape_alpha,
    to_mask,
)

# The photos here are small working copies of a large original.
ORIGINAL = (3000, 3000)


def _codes(report: QualityReport) -> set[str]:
    return {reason.code for reason in report.reasons}


def _second_opinion(scene: Scene) -> SecondOpinion:
    estimate = estimate_backdrop(scene.image)
    assert estimate.is_plain
    return SecondOpinion(estimate.mask, unsure=estimate.unsure, shadow=estimate.shadow)


def _assess(scene: Scene, mask: Image.Image, **options) -> QualityReport:
    options.setdefault("original_size", ORIGINAL)
    options.setdefault("second_mask", _second_opinion(scene))
    return assess(scene.image, mask, **options)


# Bad cut-outs of the good scene, each as a model might return it.


def _chunk_missing(scene: Scene) -> Image.Image:
    alpha = scene.truth.copy()
    alpha[:, 180:] = 0
    return to_mask(alpha).filter(ImageFilter.GaussianBlur(1.2))


def _blotchy(scene: Scene) -> Image.Image:
    alpha = scene.truth.copy()
    for x, y in [(20, 20), (280, 30), (30, 290), (290, 290), (160, 300), (300, 160)]:
        alpha = np.maximum(alpha, shape_alpha(scene.size, (x - 8, y - 8, x + 8, y + 8)))
    return to_mask(alpha).filter(ImageFilter.GaussianBlur(1.2))


def _bleeding(scene: Scene) -> Image.Image:
    alpha = scene.truth.copy()
    alpha[150:, 40:300] = 1.0
    return to_mask(alpha).filter(ImageFilter.GaussianBlur(1.2))


def _all_uncertain(scene: Scene) -> Image.Image:
    return to_mask(scene.truth * 0.6).filter(ImageFilter.GaussianBlur(3))


def _holes(scene: Scene) -> Image.Image:
    alpha = scene.truth - shape_alpha(scene.size, (130, 120, 190, 200))
    return to_mask(alpha).filter(ImageFilter.GaussianBlur(1.2))


def _everything(scene: Scene) -> Image.Image:
    alpha = np.zeros(scene.truth.shape, np.float32)
    alpha[6:-6, 6:-6] = 1.0
    return to_mask(alpha)


@pytest.fixture
def scene() -> Scene:
    return product_scene()


def test_a_good_cut_out_passes_with_a_high_score(scene):
    composed = compose_master(scene.image, scene.model_mask())

    report = _assess(scene, scene.model_mask(), master=composed.image)

    assert report.passed
    assert report.score >= 95
    assert report.reasons == ()


def test_every_signal_is_recorded(scene):
    composed = compose_master(scene.image, scene.model_mask())

    report = _assess(scene, scene.model_mask(), master=composed.image)

    assert set(report.signals) == {
        "long_side", "coverage", "edge_contact", "uncertain_share", "fragments",
        "holes_share", "edge_width", "clipped_share", "backdrop_clipped_share", "part_missing", "part_added",
        "shadow_kept",
        "edge_disagreement", "colour_shift",
    }  # fmt: skip
    assert all(isinstance(value, float) for value in report.signals.values())


@pytest.mark.parametrize(
    ("bad_mask", "code"),
    [
        (_chunk_missing, "missing_part"),
        (_blotchy, "fragmented_mask"),
        (_bleeding, "backdrop_included"),
        (_holes, "holes"),
        (_everything, "implausible_coverage"),
    ],
)
def test_a_bad_cut_out_is_flagged_with_its_reason(scene, bad_mask, code):
    report = _assess(scene, bad_mask(scene))

    assert code in _codes(report)
    assert not report.passed
    assert report.score < Thresholds().pass_score or any(r.blocking for r in report.reasons)


def test_the_second_opinion_agrees_with_a_good_cut_out_and_not_with_a_bad_one(scene):
    good = _assess(scene, scene.model_mask())
    missing = _assess(scene, _chunk_missing(scene))
    bleeding = _assess(scene, _bleeding(scene))

    assert good.signals["part_missing"] == good.signals["part_added"] == 0.0
    assert missing.signals["part_missing"] > 0.3
    assert bleeding.signals["part_added"] > 0.3


def test_a_gross_disagreement_flags_whatever_the_score(scene):
    report = _assess(scene, _chunk_missing(scene), thresholds=Thresholds(pass_score=0))

    (reason,) = [r for r in report.reasons if r.code == "missing_part"]
    assert reason.blocking
    assert reason.value > 2 * reason.limit
    assert not report.passed


def test_a_lost_part_alone_fails_an_image_but_no_single_mask_statistic_does(scene):
    alpha = scene.truth.copy()
    alpha[:, 215:] = 0  # a strip about 15% of the product: past the limit, not twice
    disagreeing = _assess(scene, to_mask(alpha).filter(ImageFilter.GaussianBlur(1.2)))
    small_hole = scene.truth - shape_alpha(scene.size, (144, 144, 176, 176))
    weak = _assess(scene, to_mask(small_hole).filter(ImageFilter.GaussianBlur(1.2)))
    uncertain = _assess(scene, _all_uncertain(scene))

    assert _codes(disagreeing) == {"missing_part"}
    assert not disagreeing.reasons[0].blocking
    assert not disagreeing.passed
    assert _codes(weak) == {"holes"}
    assert weak.passed
    assert "uncertain_edges" in _codes(uncertain)
    assert uncertain.passed


def test_an_empty_mask_scores_zero_and_blocks(scene):
    report = _assess(scene, Image.new("L", scene.size, 0))

    assert report.score == 0
    assert not report.passed
    (reason,) = report.reasons
    assert reason.code == "empty_mask"
    assert reason.blocking


def test_a_product_cut_off_at_the_bottom_is_flagged_whatever_the_score():
    scene = product_scene(box=(90, 150, 230, 380))

    report = _assess(scene, scene.model_mask(), thresholds=Thresholds(pass_score=0))

    (reason,) = [r for r in report.reasons if r.code == "cut_off"]
    assert reason.blocking
    assert "bottom edge" in reason.message
    assert not report.passed


def test_a_tiny_product_is_flagged():
    scene = product_scene(box=(150, 150, 176, 170))

    report = _assess(scene, scene.model_mask())

    assert "tiny_product" in _codes(report)
    assert not report.passed


def test_a_blurred_photo_is_flagged(scene):
    blurred = Scene(image=scene.image.filter(ImageFilter.GaussianBlur(3)), truth=scene.truth)

    report = _assess(blurred, scene.model_mask())

    assert _codes(report) == {"blurry"}
    assert report.signals["edge_width"] > Thresholds().edge_width_max
    assert not report.passed


def test_an_over_exposed_photo_is_flagged():
    scene = product_scene(colour=(232, 226, 218))
    photo = np.asarray(scene.image, np.float32) * 1.2
    bright = Scene(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)), scene.truth)

    report = _assess(bright, scene.model_mask(), second_mask=None)

    assert "exposure" in _codes(report)
    assert not report.passed


def test_a_white_product_on_a_sweep_that_keeps_its_tone_is_not_an_exposure_fault():
    # A white mouse on a light-grey sweep: the product sits at the clip, the sweep at 215.
    white = product_scene(colour=(255, 255, 255), texture=0.0, noise=0.0, backdrop=(215, 215, 218))

    report = _assess(white, white.model_mask(), second_mask=None)

    assert report.signals["clipped_share"] == 0.0
    assert "exposure" not in _codes(report)


def test_the_same_white_product_over_exposed_with_its_sweep_is_flagged():
    white = product_scene(colour=(255, 255, 255), texture=0.0, noise=0.0, backdrop=(215, 215, 218))
    photo = np.asarray(white.image, np.float32) * 1.25
    bright = Scene(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)), white.truth)

    report = _assess(bright, bright.model_mask(), second_mask=None)

    assert report.signals["backdrop_clipped_share"] > 0.5
    assert "exposure" in _codes(report)


def test_a_product_blown_out_on_a_dark_backdrop_is_judged_by_the_product_alone():
    dark = product_scene(colour=(255, 255, 255), texture=0.0, noise=0.0, backdrop=(40, 40, 45))

    report = _assess(dark, dark.model_mask(), second_mask=None)

    assert "exposure" in _codes(report)


def test_a_small_original_is_low_resolution(scene):
    report = _assess(scene, scene.model_mask(), original_size=(800, 600))

    (reason,) = report.reasons
    assert reason.code == "low_resolution"
    assert (reason.value, reason.limit) == (800, 1000)
    assert not report.passed


def test_the_photo_itself_is_the_original_when_no_size_is_given(scene):
    report = assess(scene.image, scene.model_mask())

    assert report.signals["long_side"] == 320
    assert "low_resolution" in _codes(report)


def test_a_master_whose_colours_drifted_is_flagged(scene):
    master = np.array(compose_master(scene.image, scene.model_mask()).image)
    master[..., 0] = np.clip(master[..., 0].astype(int) + 30, 0, 255)

    report = _assess(scene, scene.model_mask(), master=Image.fromarray(master))

    assert _codes(report) == {"colour_shift"}
    assert report.signals["colour_shift"] > 6
    assert not report.passed


def test_a_master_made_at_full_size_compares_with_a_working_copy():
    full = product_scene((480, 480))
    master = compose_master(full.image, full.model_mask(2)).image
    working = full.image.resize((240, 240), Image.Resampling.BOX)
    mask = full.model_mask(2).resize((240, 240), Image.Resampling.BOX)

    report = assess(working, mask, original_size=ORIGINAL, master=master)

    assert report.signals["colour_shift"] < 2
    assert report.passed


def test_a_busy_background_is_judged_on_the_mask_alone():
    scene = product_scene(backdrop=busy_backdrop((320, 320)))

    report = assess(scene.image, scene.model_mask(), original_size=ORIGINAL)

    assert report.passed
    assert "part_missing" not in report.signals


def test_a_second_opinion_of_another_size_is_compared_at_the_mask_size(scene):
    second = _second_opinion(scene).foreground.resize((160, 160), Image.Resampling.BILINEAR)

    report = _assess(scene, scene.model_mask(), second_mask=second)

    assert report.signals["part_missing"] == report.signals["part_added"] == 0.0


def test_the_score_never_drops_below_zero(scene):
    tiny = product_scene(box=(150, 290, 170, 330))
    blurred = tiny.image.filter(ImageFilter.GaussianBlur(3))
    second = Image.new("L", tiny.size, 255)

    report = assess(blurred, _all_uncertain(tiny), original_size=(200, 200), second_mask=second)

    assert sum(r.penalty for r in report.reasons) > 100
    assert report.score == 0


def test_penalties_grow_with_how_far_a_signal_is_past_its_limit(scene):
    mild = _assess(scene, scene.model_mask(), thresholds=Thresholds(uncertain_share_max=0.05))
    severe = _assess(scene, _all_uncertain(scene))

    (mild_reason,) = mild.reasons
    (severe_reason,) = [r for r in severe.reasons if r.code == "uncertain_edges"]
    base, full = PENALTIES["uncertain_edges"]
    assert base <= mild_reason.penalty < full
    assert severe_reason.penalty == full


def test_reasons_are_recorded_as_json(scene):
    report = _assess(scene, scene.model_mask(), original_size=(800, 600))

    assert report.reasons_json() == [
        {
            "code": "low_resolution",
            "message": report.reasons[0].message,
            "value": 800.0,
            "limit": 1000.0,
        }
    ]
    assert "800 px" in report.reasons[0].message


def test_a_mask_of_another_size_is_refused(scene):
    with pytest.raises(ValueError, match="size"):
        assess(scene.image, Image.new("L", (10, 10), 255))


# Thresholds.from_dict


def test_thresholds_come_from_a_dict_and_none_keeps_the_default():
    thresholds = Thresholds.from_dict({"pass_score": 80, "edge_width_max": 3, "coverage_max": None})

    assert thresholds.pass_score == 80
    assert thresholds.edge_width_max == 3.0
    assert isinstance(thresholds.edge_width_max, float)
    assert thresholds.coverage_max == Thresholds().coverage_max


def test_an_unknown_threshold_is_refused_by_name():
    with pytest.raises(ValueError, match="'blurr_min'"):
        Thresholds.from_dict({"blurr_min": 40})


@pytest.mark.parametrize(
    ("retired", "replacement"), [("disagreement_max", "part_error_max"), ("blur_min", "edge_width_max")]
)
def test_a_retired_threshold_is_refused_naming_what_replaced_it(retired, replacement):
    with pytest.raises(ValueError, match=replacement):
        Thresholds.from_dict({retired: 0.1})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("edge_width_max", "2"),
        ("pass_score", True),
        ("pass_score", 70.5),
        ("fragments_max", [3]),
        ("coverage_min", -0.1),
        ("coverage_max", float("nan")),
        ("pass_score", 101),
    ],
)
def test_a_threshold_of_the_wrong_type_or_range_is_refused_by_name(key, value):
    with pytest.raises(ValueError, match=key):
        Thresholds.from_dict({key: value})


def test_stricter_thresholds_flag_what_the_defaults_pass(scene):
    strict = Thresholds.from_dict({"coverage_min": 0.9})

    report = _assess(scene, scene.model_mask(), thresholds=strict)

    assert _codes(report) == {"tiny_product"}
    assert not report.passed
    assert not _assess(scene, scene.model_mask(), thresholds=Thresholds(pass_score=100)).reasons
