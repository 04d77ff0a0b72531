"""`process_images --batch-size N`: many photos through one process, decoding, inference
in batches and finishing overlapped (processing/pipelined.py), with the real u2netp model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from bench.quality_set import make_photo

pytestmark = pytest.mark.usefixtures("model_dir")

SHOTS = [("studio_white", "bottle"), ("studio_grey", "box"), ("studio_colour", "shoe")]


@pytest.fixture
def folder(tmp_path):
    """Three product photos, a cut-out that already has transparency, a JPEG cut short
    after its header and a text file named like a photo."""
    source = tmp_path / "in"
    source.mkdir()
    for seed, (kind, shape) in enumerate(SHOTS):
        (source / f"{shape}.jpg").write_bytes(make_photo(kind, 640, seed=seed, shape=shape).encode())
    photo = make_photo("studio_white", 640, seed=4, shape="mug")
    cut_out = photo.image.convert("RGBA")
    cut_out.putalpha(photo.mask)
    cut_out.save(source / "mug-cutout.png")
    (source / "broken.jpg").write_bytes(make_photo("studio_grey", 640, seed=5, shape="lamp").encode()[:300])
    (source / "notes.jpg").write_text("not a photo")
    return source


def run(folder, out, *options):
    call_command("process_images", str(folder), "--out", str(out), "--save-masks", "--no-progress", *options)
    return {
        entry["input"].rpartition("/")[2]: entry for entry in json.loads((out / "report.json").read_text())
    }


def mask_of(entry):
    with Image.open(entry["mask"]) as mask:
        return np.asarray(mask, dtype=np.int16)


def test_a_corrupt_file_fails_alone_and_the_others_are_processed_as_one_at_a_time(folder, tmp_path):
    pipelined = run(folder, tmp_path / "pipelined", "--batch-size", "2", "--threads", "2")
    one_at_a_time = run(folder, tmp_path / "plain", "--workers", "1")

    assert set(pipelined) == {
        "bottle.jpg",
        "box.jpg",
        "shoe.jpg",
        "mug-cutout.png",
        "broken.jpg",
        "notes.jpg",
    }
    assert pipelined["broken.jpg"]["status"] == "failed"
    assert pipelined["broken.jpg"]["error"] == one_at_a_time["broken.jpg"]["error"] != ""
    assert pipelined["notes.jpg"]["status"] == "failed"
    assert "text file" in pipelined["notes.jpg"]["error"]
    for name in ("bottle.jpg", "box.jpg", "shoe.jpg", "mug-cutout.png"):
        ours, theirs = pipelined[name], one_at_a_time[name]
        assert ours["status"] in {"published", "flagged"}, ours["error"]
        assert ours["status"] == theirs["status"]
        assert ours["reasons"] == theirs["reasons"]
        with Image.open(ours["master"]) as master, Image.open(theirs["master"]) as plain_master:
            assert master.mode == "RGBA"
            assert master.size == plain_master.size  # the product's box, the same in both
        assert np.abs(mask_of(ours) - mask_of(theirs)).max() <= 1
    # Three photos, batches of two: a full batch and the last photo alone, each timed.
    assert all("inference" in pipelined[f"{shape}.jpg"]["timings_ms"] for _, shape in SHOTS)
    # The cut-out keeps its own transparency: the model never saw it.
    assert "inference" not in pipelined["mug-cutout.png"]["timings_ms"]


def test_batches_larger_than_the_folder_still_process_every_photo(folder, tmp_path):
    report = run(folder, tmp_path / "out", "--batch-size", "8", "--threads", "1")

    statuses = {name: entry["status"] for name, entry in report.items()}
    assert statuses["broken.jpg"] == statuses["notes.jpg"] == "failed"
    assert sorted(name for name, status in statuses.items() if status != "failed") == [
        "bottle.jpg",
        "box.jpg",
        "mug-cutout.png",
        "shoe.jpg",
    ]


def test_two_pipelined_processes_share_the_photos_and_make_the_same_masks(folder, tmp_path):
    two = run(folder, tmp_path / "two", "--batch-size", "2", "--threads", "1", "--workers", "2")
    one = run(folder, tmp_path / "one", "--batch-size", "2", "--threads", "1")

    assert set(two) == set(one)
    assert two["broken.jpg"]["status"] == two["notes.jpg"]["status"] == "failed"
    for name in ("bottle.jpg", "box.jpg", "shoe.jpg", "mug-cutout.png"):
        assert two[name]["status"] == one[name]["status"] != "failed"
        assert np.abs(mask_of(two[name]) - mask_of(one[name])).max() <= 1


def test_a_negative_batch_size_is_refused(folder, tmp_path):
    with pytest.raises(CommandError, match="at least 1"):
        run(folder, tmp_path / "out", "--batch-size", "-1")


def test_a_photo_that_breaks_its_batchs_session_run_fails_alone(model_dir):
    from processing.pipeline.segment import load_model, model_input, model_tensor
    from processing.pipelined import _Photo, _predict

    model = load_model("u2netp", model_dir, ["CPUExecutionProvider"], threads=1, batched=True)
    photos = []
    for seed, (kind, shape) in enumerate(SHOTS):
        photo = _Photo(f"{shape}.jpg", shape)
        photo.model_input = model_input(make_photo(kind, 480, seed=seed, shape=shape).image, model)
        photo.tensor = model_tensor(photo.model_input)
        photos.append(photo)
    # An input of the wrong size: the batch cannot be stacked, and alone the session refuses it.
    photos[1].tensor = model_tensor(photos[1].model_input.resize((200, 200)))

    results = _predict(model, photos)

    assert [photo for photo, _ in results] == photos
    (_, first), (odd, nothing), (_, last) = results
    assert nothing is None
    assert odd.failure is not None
    assert odd.failure.status == "failed"
    assert odd.failure.input == "box.jpg"
    assert photos[0].failure is None
    assert photos[2].failure is None
    for photo, mask in ((photos[0], first), (photos[2], last)):
        (alone,) = model.predict([photo.model_input])
        assert np.array_equal(np.asarray(mask), np.asarray(alone))
