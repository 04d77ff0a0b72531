"""Several photos per session run (SegmentationModel.predict on a batched session), with
the real u2netp model: each photo's mask is the one a run of it alone gives."""

from __future__ import annotations

import numpy as np
import pytest

from bench.quality_set import make_photo
from processing.pipeline.segment import file_sha256, load_model, model_input, segment

pytestmark = pytest.mark.usefixtures("model_dir")

CPU = ["CPUExecutionProvider"]


@pytest.fixture(scope="module")
def single(model_dir):
    return load_model("u2netp", model_dir, CPU, threads=1)


@pytest.fixture(scope="module")
def batched(model_dir):
    return load_model("u2netp", model_dir, CPU, threads=1, batched=True)


@pytest.fixture(scope="module")
def photos():
    """Four small product photos, each a different product on a different backdrop."""
    shots = [("studio_white", "bottle"), ("studio_grey", "box"), ("busy_backdrop", "shoe"), ("glass", "mug")]
    return [make_photo(kind, 480, seed=i, shape=shape).image for i, (kind, shape) in enumerate(shots)]


def test_a_batched_run_gives_each_photo_the_mask_a_run_of_it_alone_gives(single, batched, photos):
    inputs = [model_input(photo, single) for photo in photos]

    together = batched.predict(inputs)
    alone = [single.predict([image])[0] for image in inputs]

    assert len(together) == len(inputs)
    for mask_together, mask_alone in zip(together, alone, strict=True):
        assert mask_together.mode == "L"
        assert mask_together.size == (320, 320)
        difference = np.abs(np.asarray(mask_together, np.int16) - np.asarray(mask_alone, np.int16))
        assert difference.max() <= 1  # at most the last level's rounding
    # Four different products: a batch that mixed them up would show here.
    first = np.asarray(together[0], np.int16)
    assert all(np.abs(first - np.asarray(other, np.int16)).mean() > 5 for other in together[1:])


def test_a_batch_of_one_and_a_batch_of_four_agree(batched, photos):
    inputs = [model_input(photo, batched) for photo in photos]

    masks = batched.predict(inputs)

    for image, mask in zip(inputs, masks, strict=True):
        (own,) = batched.predict([image])
        assert np.abs(np.asarray(own, np.int16) - np.asarray(mask, np.int16)).max() <= 1


def test_segmenting_with_a_batched_session_gives_the_plain_sessions_mask(single, batched, photos):
    alone = segment(photos[2], single).mask
    together = segment(photos[2], batched).mask

    assert together.size == photos[2].size
    assert np.abs(np.asarray(alone, np.int16) - np.asarray(together, np.int16)).max() <= 1


def test_the_provisioned_file_takes_one_photo_per_run_and_is_left_as_it_was(
    model_dir, single, batched, photos
):
    import onnxruntime as ort

    inputs = [model_input(photo, single) for photo in photos[:2]]

    # The file's fixed batch of one is why the graph is rewritten (in memory) at all.
    with pytest.raises(ort.capi.onnxruntime_pybind11_state.InvalidArgument):
        single.session.inner_session.run(None, {"input.1": np.zeros((2, 3, 320, 320), np.float32)})
    assert len(single.predict(inputs)) == 2  # one run each
    assert batched.sha256 == single.sha256 == file_sha256(model_dir / "u2netp.onnx")
    assert batched.batched
    assert not single.batched


def test_models_outside_the_u2net_family_are_not_batched(model_dir):
    with pytest.raises(ValueError, match="U²-Net family only"):
        load_model("isnet-general-use", model_dir, CPU, batched=True)
