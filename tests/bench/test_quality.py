"""bench/quality.py: what it reads from either form of labels, how it splits products for
cross-validation, how it re-judges one pipeline run at another `part_error_max`, and the
whole bench on a small generated set."""

from __future__ import annotations

import json

import pytest

from bench.quality import (
    GRID,
    Label,
    Row,
    evaluate,
    fit_threshold,
    gate_fields,
    main,
    read_label,
    split_products,
)
from processing.pipeline.quality import PENALTIES, QualityReport, Reason


def make_row(stem: str, *, iou=0.97, defects=(), part=0.0, otherwise=False, **fields) -> Row:
    values = {
        "stem": stem,
        "product": stem,
        "kind": "clean",
        "tags": {},
        "defects": list(defects),
        "iou": iou,
        "iou_plain": {"u2netp": iou},
        "passed": not otherwise and part <= 0.10,
        "score": 100,
        "reasons": [],
        "part_missing": part,
        "part_added": 0.0,
        "flagged_otherwise": otherwise,
        "second_opinion": "backdrop",
        "model": "u2netp",
        "cascade": None,
        "seconds": 1.0,
        "seconds_plain": {"u2netp": 0.5},
    }
    return Row(**{**values, **fields})


def reason(code: str, *, blocking: bool = False, penalty: int | None = None) -> Reason:
    return Reason(code, code, 0.0, 0.0, PENALTIES[code][0] if penalty is None else penalty, blocking)


def test_a_studio_label_names_its_defect_as_the_gates_reason_and_its_product_from_the_stem():
    label = read_label("lowres_c004", {"defect": "lowres", "backdrop": "warm", "shadow": "contact+cast"})

    assert label == Label(
        product="c004",
        kind="lowres",
        defects=("low_resolution",),
        tags={"backdrop": "warm", "shadow": "contact+cast"},
    )
    assert read_label("clean_c014a", {"defect": None, "backdrop": "white-sweep"}).product == "c014"
    assert read_label("clean_c014a", {"defect": None}).defects == ()
    assert read_label("cutoff_c000", {"defect": "cutoff"}).defects == ("cut_off",)
    assert read_label("blur_c002", {"defect": "blur"}).defects == ("blurry",)


def test_an_unknown_studio_defect_is_an_error_naming_it():
    with pytest.raises(ValueError, match="'glare'"):
        read_label("glare_c001", {"defect": "glare"})


def test_a_generated_photo_is_its_own_product_unless_its_label_names_one():
    plain = read_label("0003-tiny-box", {"kind": "tiny", "shape": "box", "defects": ["tiny_product"]})
    named = read_label("0004-glass-mug", {"kind": "glass", "defects": [], "product": "mug-7"})

    assert (plain.product, plain.kind, plain.defects) == ("0003-tiny-box", "tiny", ("tiny_product",))
    assert named.product == "mug-7"
    assert read_label("loose", None) == Label("loose", "unlabelled", ())


def test_the_halves_split_products_whatever_order_they_come_in():
    products = [f"c{n:03d}" for n in range(30)]

    first, second = split_products(products * 3, seed=0)

    assert len(first) == len(second) == 15
    assert set(first) | set(second) == set(products)
    assert not set(first) & set(second)
    assert split_products(reversed(products), seed=0) == (first, second)
    assert split_products(products, seed=1) != (first, second)


def test_a_photo_is_flagged_at_a_threshold_by_its_part_error_or_by_its_other_reasons():
    lost_a_part = make_row("a", part=0.15)
    blurred = make_row("b", defects=["blurry"], otherwise=True, reasons=["blurry"])

    assert lost_a_part.flagged_at(0.10)
    assert lost_a_part.reasons_at(0.10) == ["missing_part"]
    assert not lost_a_part.flagged_at(0.15)
    assert blurred.flagged_at(0.30)
    assert blurred.defects_named_at(0.30)


def test_the_part_reasons_are_left_out_when_judging_what_else_flags_a_photo():
    parts_only = QualityReport(
        score=45,
        reasons=(reason("missing_part", penalty=35), reason("uncertain_edges", penalty=20)),
        signals={"part_missing": 0.12, "part_added": 0.01},
        passed=False,
    )
    blocked = QualityReport(
        score=90, reasons=(reason("cut_off", blocking=True, penalty=10),), signals={}, passed=False
    )

    assert gate_fields(parts_only, pass_score=70) == {
        "part_missing": 0.12,
        "part_added": 0.01,
        "flagged_otherwise": False,
    }
    assert gate_fields(blocked, pass_score=70)["flagged_otherwise"]


def test_the_fit_takes_the_fewest_false_flags_that_keep_every_bad_cut_out_flagged():
    rows = [
        make_row("bad-1", iou=0.6, part=0.12),
        make_row("bad-2", iou=0.5, part=0.20),
        make_row("good-1", part=0.045),
        make_row("good-2", part=0.15),
    ]

    fit = fit_threshold(rows)

    # 0.05..0.11 all flag both bad cut-outs and one good one; the middle of the run is taken.
    assert fit["tied"] == [0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11]
    assert fit["threshold"] == 0.08
    assert (fit["recall"], fit["false_flags"], fit["aim_met"]) == (1.0, 0.5, True)
    assert len(fit["grid"]) == len(GRID)


def test_when_no_threshold_reaches_the_recall_aim_the_highest_recall_is_taken():
    rows = [
        make_row("unseen", iou=0.6, part=0.01),
        make_row("seen", iou=0.6, part=0.09),
        make_row("good", part=0.05),
    ]

    fit = fit_threshold(rows)

    assert not fit["aim_met"]
    assert fit["recall"] == 0.5
    # 0.05..0.08 keep recall at 0.5 with no false flag; the middle of the run is taken.
    assert fit["tied"] == [0.05, 0.06, 0.07, 0.08]
    assert fit["threshold"] == 0.06


def test_each_reason_is_counted_on_good_cut_outs_and_on_photos_that_deserve_a_person():
    rows = [
        make_row("good-with-holes", reasons=["holes"]),
        make_row("blurred", defects=["blurry"], otherwise=True, reasons=["blurry", "holes"]),
        make_row("lost-a-part", iou=0.7, part=0.2, reasons=["missing_part"]),
        make_row("so-so", iou=0.85, reasons=["holes"]),
    ]

    measures = evaluate(rows, lambda _row: 0.10)

    assert measures["reasons"] == {
        "blurry": {"good": 0, "deserving": 1, "neither": 0},
        "holes": {"good": 1, "deserving": 1, "neither": 1},
        "missing_part": {"good": 0, "deserving": 1, "neither": 0},
    }
    assert measures["good"] == {"n": 1, "flagged": 0, "false_flag_rate": 0.0}
    assert measures["deserving"] == {"n": 2, "share": 0.5}
    assert measures["sent_aim"] == pytest.approx(0.55)


@pytest.fixture(scope="session")
def both_models(model_dir):
    from processing.provisioning import provision

    provision("u2net", model_dir)
    return model_dir


@pytest.mark.usefixtures("both_models")
def test_the_bench_reports_both_halves_and_writes_every_photo(tmp_path, capsys):
    from bench.quality_set import generate

    generate(tmp_path / "set", count=4, long_side=320, seed=5)

    assert main([str(tmp_path / "set"), "--json", str(tmp_path / "out.json")]) == 0

    printed = capsys.readouterr().out
    assert "all, out-of-fold" in printed
    assert "the cascade's trigger" in printed
    data = json.loads((tmp_path / "out.json").read_text())
    assert len(data["photo_rows"]) == 4
    assert {row["half"] for row in data["photo_rows"]} == {"A", "B"}
    assert set(data["photo_rows"][0]["iou_plain"]) == {"u2netp", "u2net"}
    assert data["consistency"]["disagree"] == []
