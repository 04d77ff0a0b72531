"""`manage.py process_images`: the pipeline over files, without the web."""

from __future__ import annotations

import json
import shutil

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from catalog.demo import photo_dir

pytestmark = pytest.mark.usefixtures("model_dir")


@pytest.fixture
def folder(tmp_path):
    source = tmp_path / "in"
    (source / "nested").mkdir(parents=True)
    shutil.copy(photo_dir() / "coffee.png", source / "cup.png")
    shutil.copy(photo_dir() / "coffee.png", source / "nested" / "cup.png")  # same stem twice
    (source / "readme.jpg").write_text("not a photo")
    return source


def read_report(out):
    return {entry["input"]: entry for entry in json.loads((out / "report.json").read_text())}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_folder_is_processed_with_masters_full_size_masks_and_a_report(folder, tmp_path, workers):
    out = tmp_path / "out"

    call_command("process_images", str(folder), "--out", str(out), "--save-masks", "--workers", str(workers))

    report = read_report(out)
    assert set(report) == {
        str(folder / "cup.png"),
        str(folder / "nested" / "cup.png"),
        str(folder / "readme.jpg"),
    }
    cup = report[str(folder / "cup.png")]
    assert cup["status"] == "flagged"  # 600 px is below the 1000 px minimum
    assert "low_resolution" in cup["reasons"]
    assert 0 <= cup["score"] <= 100
    assert cup["seconds"] > 0
    with Image.open(cup["mask"]) as mask:
        assert mask.mode == "L"
        assert mask.size == (600, 400)  # the input's full size
    with Image.open(cup["master"]) as master:
        assert master.mode == "RGBA"
    masks = sorted(p.name for p in (out / "masks").iterdir())
    assert masks == ["cup-2.png", "cup.png"]  # two inputs with one stem do not overwrite each other

    bad = report[str(folder / "readme.jpg")]
    assert bad["status"] == "failed"
    assert "text file" in bad["error"]
    assert bad["score"] is None


def test_masks_are_written_only_when_asked(folder, tmp_path):
    out = tmp_path / "out"
    call_command("process_images", str(folder / "cup.png"), "--out", str(out))
    assert not (out / "masks").exists()
    assert (out / "cup.png").is_file()


def test_a_path_with_no_images_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="no images found"):
        call_command("process_images", str(tmp_path / "empty"), "--out", str(tmp_path / "out"))


def test_published_images_get_a_checked_rendition_per_requested_profile(tmp_path, db):
    from bench.quality_set import make_photo

    photo = make_photo("studio_white", 1200, seed=3, shape="box")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "boxed.jpg").write_bytes(photo.encode())
    out = tmp_path / "out"

    call_command(
        "process_images", str(tmp_path / "in"), "--out", str(out), "--profiles", "amazon-main,storefront-avif"
    )

    (entry,) = json.loads((out / "report.json").read_text())
    assert entry["status"] == "published", entry["reasons"]
    by_profile = {r["profile"]: r for r in entry["renditions"]}
    assert set(by_profile) == {"amazon-main", "storefront-avif"}
    amazon = by_profile["amazon-main"]
    assert amazon["path"] == str(out / "renditions" / "amazon-main" / "boxed.jpg")
    assert (amazon["width"], amazon["height"], amazon["format"]) == (2000, 2000, "jpeg")
    assert amazon["compliant"], amazon["failures"]
    with Image.open(by_profile["storefront-avif"]["path"]) as avif:
        assert avif.format == "AVIF"
        assert avif.size == (1600, 1600)


def test_an_unknown_profile_is_named(tmp_path, db, folder):
    with pytest.raises(CommandError, match="unknown profile.*walmrt"):
        call_command("process_images", str(folder), "--out", str(tmp_path / "o"), "--profiles", "walmrt")
