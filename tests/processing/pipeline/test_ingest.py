from __future__ import annotations

import hashlib
import io
import pickle
import warnings

import numpy as np
import pillow_heif
import pytest
from PIL import Image, features

from processing.pipeline.ingest import (
    BadImage,
    IngestedImage,
    IngestLimits,
    hamming_distance,
    ingest,
    sniff_format,
)
from tests.processing.pipeline import imagefactory as factory

CAN_ENCODE_HEIC = bool(pillow_heif.libheif_info().get("HEIF"))
CAN_ENCODE_AVIF = bool(features.check("avif"))


def refusal(data: bytes, limits: IngestLimits | None = None) -> BadImage:
    with pytest.raises(BadImage) as caught:
        ingest(data) if limits is None else ingest(data, limits)
    return caught.value


def pixel(result: IngestedImage, xy: tuple[int, int] = (0, 0)) -> tuple[int, ...]:
    return result.image.getpixel(xy)


def assert_close(actual: tuple[int, ...], expected: tuple[float, ...], tolerance: float) -> None:
    difference = np.abs(np.array(actual, dtype=float) - np.array(expected, dtype=float))
    assert difference.max() <= tolerance, f"{actual} is not within {tolerance} of {expected}"


# --- refused before decoding ------------------------------------------------


def test_an_empty_file_is_refused_as_empty() -> None:
    error = refusal(b"")

    assert error.code == "empty_file"
    assert "empty" in str(error)


def test_a_file_over_the_byte_limit_is_refused_before_decoding() -> None:
    error = refusal(factory.noisy_png(), IngestLimits(max_bytes=1024))

    assert error.code == "too_large_file"
    assert "MB" in str(error)


@pytest.mark.parametrize(
    ("make", "named_as"),
    [
        (factory.text_file, "text file"),
        (factory.pdf_document, "PDF document"),
        (factory.svg_document, "SVG"),
        (factory.html_page, "web page"),
        (factory.eps_file, "EPS"),
        (factory.zip_archive, "ZIP archive"),
    ],
    ids=["text", "pdf", "svg", "html", "eps", "zip"],
)
def test_a_document_renamed_to_jpg_is_refused_by_name(make, named_as: str) -> None:
    data = make()

    error = refusal(data)

    assert sniff_format(data) is None
    assert error.code == "not_an_image"
    assert named_as in str(error)


def test_the_pdf_message_tells_the_merchandiser_what_to_do() -> None:
    assert str(refusal(factory.pdf_document())) == (
        "This is a PDF document, not a photo. Export the page as JPEG or PNG and upload that."
    )


def test_a_raster_format_outside_the_allowlist_is_refused_as_unsupported() -> None:
    error = refusal(factory.psd_header())

    assert error.code == "unsupported_format"
    assert "Photoshop" in str(error)


def test_a_video_container_is_not_taken_for_heic() -> None:
    mp4 = factory.heif_brand_header(b"isom", (b"isom", b"mp42"))

    assert sniff_format(mp4) is None
    assert refusal(mp4).code == "not_an_image"


@pytest.mark.parametrize(
    ("major", "compatible", "expected"),
    [
        (b"heic", (b"mif1", b"heic"), "HEIF"),
        (b"mif1", (b"mif1", b"heic"), "HEIF"),
        (b"avif", (b"mif1", b"avif"), "AVIF"),
        (b"mif1", (b"mif1", b"avif", b"miaf"), "AVIF"),
    ],
)
def test_heif_and_avif_are_told_apart_by_their_brands(major, compatible, expected) -> None:
    assert sniff_format(factory.heif_brand_header(major, compatible)) == expected


# --- refused while decoding -------------------------------------------------


@pytest.mark.parametrize("make", [factory.noisy_jpeg, factory.noisy_png], ids=["jpeg", "png"])
def test_a_file_cut_short_is_reported_as_incomplete(make) -> None:
    error = refusal(factory.truncated(make()))

    assert error.code == "truncated"
    assert "incomplete" in str(error)


def test_a_png_with_damaged_pixel_data_is_reported_as_damaged() -> None:
    error = refusal(factory.damaged_png())

    assert error.code == "corrupt"
    assert "damaged" in str(error)


def test_a_small_png_declaring_40000_by_40000_is_refused_without_allocating_pixels() -> None:
    bomb = factory.png_bomb(40_000, 40_000)
    Image.core.reset_stats()

    error = refusal(bomb)

    assert len(bomb) < 1024
    assert error.code == "decompression_bomb"
    assert Image.core.get_stats()["new_count"] == 0


def test_an_image_just_over_the_pixel_limit_is_refused_as_too_many_pixels() -> None:
    data = factory.encode(factory.product_photo((40, 30)), "PNG")

    error = refusal(data, IngestLimits(max_pixels=1_000))

    assert error.code == "too_many_pixels"
    assert "1000" not in str(error)  # megapixels, not raw counts
    assert "megapixels" in str(error)


def test_an_image_exactly_at_the_pixel_limit_is_accepted() -> None:
    data = factory.encode(factory.product_photo((40, 25)), "PNG")

    assert ingest(data, IngestLimits(max_pixels=1_000)).image.size == (40, 25)


def test_an_image_far_over_the_pixel_limit_is_a_decompression_bomb() -> None:
    data = factory.encode(factory.product_photo((100, 100)), "PNG")

    assert refusal(data, IngestLimits(max_pixels=1_000)).code == "decompression_bomb"


def test_pillow_settings_are_restored_after_success_and_failure() -> None:
    limit_before = Image.MAX_IMAGE_PIXELS
    filters_before = list(warnings.filters)

    ingest(factory.noisy_png((8, 8)), IngestLimits(max_pixels=10_000))
    refusal(factory.png_bomb())

    assert limit_before == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters_before


def test_bad_image_survives_pickling_for_the_job_queue() -> None:
    error = BadImage("corrupt", "This PNG file is damaged.")

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert (copy.code, str(copy)) == ("corrupt", "This PNG file is damaged.")


def test_bad_image_rejects_codes_outside_the_contract() -> None:
    with pytest.raises(ValueError, match="unknown BadImage code"):
        BadImage("oops", "message")


# --- formats ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP"])
def test_each_allowed_format_is_sniffed_and_decoded_to_rgb(fmt: str) -> None:
    data = factory.encode(factory.product_photo((48, 32)), fmt)

    result = ingest(data)

    assert sniff_format(data) == fmt
    assert result.format == fmt
    assert (result.image.mode, result.image.size) == ("RGB", (48, 32))
    assert result.original_size == (48, 32)
    assert not result.has_alpha
    assert not result.was_animated
    assert not result.icc_converted


@pytest.mark.skipif(
    not CAN_ENCODE_HEIC, reason="this libheif build has no HEVC encoder, so no HEIC can be made"
)
def test_a_heic_photo_is_decoded() -> None:
    picture = Image.new("RGB", (64, 64), (200, 30, 30))
    buffer = io.BytesIO()
    pillow_heif.from_pillow(picture).save(buffer, quality=90)

    result = ingest(buffer.getvalue())

    assert result.format == "HEIF"
    assert (result.image.mode, result.image.size) == ("RGB", (64, 64))
    assert_close(pixel(result, (32, 32)), (200, 30, 30), tolerance=8)


@pytest.mark.skipif(not CAN_ENCODE_AVIF, reason="Pillow was built without an AVIF encoder")
def test_an_avif_photo_is_decoded() -> None:
    data = factory.encode(Image.new("RGB", (32, 32), (30, 30, 200)), "AVIF", quality=90)

    result = ingest(data)

    assert result.format == "AVIF"
    assert_close(pixel(result, (16, 16)), (30, 30, 200), tolerance=8)


def test_heif_is_refused_when_libheif_security_limits_are_switched_off(monkeypatch) -> None:
    heic = factory.heif_brand_header()
    assert pillow_heif.options.DISABLE_SECURITY_LIMITS is False

    monkeypatch.setattr(pillow_heif.options, "DISABLE_SECURITY_LIMITS", True)
    with pytest.raises(RuntimeError, match="security limits"):
        ingest(heic)

    monkeypatch.setattr(pillow_heif.options, "DISABLE_SECURITY_LIMITS", False)
    monkeypatch.setenv("LIBHEIF_SECURITY_LIMITS", "OFF")
    with pytest.raises(RuntimeError, match="security limits"):
        ingest(heic)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_an_animation_gives_its_first_frame(fmt: str) -> None:
    result = ingest(factory.animated(fmt, [(200, 30, 30), (30, 30, 200)]))

    assert result.was_animated
    assert result.image.mode == "RGB"
    assert_close(pixel(result, (8, 8)), (200, 30, 30), tolerance=2)


def test_a_multi_picture_jpeg_gives_its_first_picture() -> None:
    result = ingest(factory.mpo([(200, 30, 30), (30, 30, 200)]))

    assert result.format == "MPO"
    assert result.was_animated
    assert_close(pixel(result, (8, 8)), (200, 30, 30), tolerance=4)


# --- size -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sixty_megapixel_jpeg() -> bytes:
    return factory.big_photo_jpeg((9000, 6700), quality=20)


def test_a_60_megapixel_photo_is_decoded_at_reduced_scale(sixty_megapixel_jpeg: bytes) -> None:
    full_frame_bytes = 9000 * 6700 * 4  # Pillow stores RGB as 4 bytes a pixel
    Image.core.reset_stats()

    result = ingest(sixty_megapixel_jpeg, IngestLimits(working_long_side=2048))

    stats = Image.core.get_stats()
    pillow_bytes_at_most = (stats["allocated_blocks"] + stats["reused_blocks"]) * (
        Image.core.get_block_size()
    )
    assert result.original_size == (9000, 6700)
    assert result.image.size == (2048, 1525)
    assert pillow_bytes_at_most < full_frame_bytes


def test_a_small_image_is_not_upscaled_to_the_working_size() -> None:
    data = factory.encode(factory.product_photo((48, 32)), "PNG")

    assert ingest(data, IngestLimits(working_long_side=2048)).image.size == (48, 32)


def test_the_working_size_applies_to_the_upright_image() -> None:
    data = factory.as_stored_with_orientation(factory.quadrants((200, 400)), 6)

    result = ingest(data, IngestLimits(working_long_side=100))

    assert result.original_size == (200, 400)
    assert result.image.size == (50, 100)


def test_a_jpeg_decoded_at_reduced_scale_matches_a_full_decode_resized() -> None:
    photo = factory.product_photo((1600, 1200))
    data = factory.encode(photo, "JPEG", quality=95)

    reduced = ingest(data, IngestLimits(working_long_side=1200)).image
    full = ingest(data).image.resize((1200, 900), Image.Resampling.LANCZOS)

    assert reduced.size == (1200, 900)
    difference = np.abs(np.asarray(reduced, dtype=float) - np.asarray(full, dtype=float))
    assert difference.mean() < 2.0


def test_a_rotated_wide_gamut_jpeg_decoded_at_reduced_scale_is_upright_and_converted() -> None:
    upright = factory.quadrants((400, 800))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = factory.encode(stored, "JPEG", quality=95, exif=exif, icc_profile=factory.display_p3_profile())

    result = ingest(data, IngestLimits(working_long_side=400))

    assert result.image.size == (200, 400)
    assert result.icc_converted
    reference = ingest(data).image.resize((200, 400), Image.Resampling.LANCZOS)
    for xy in [(50, 50), (150, 50), (50, 350), (150, 350)]:
        assert_close(pixel(result, xy), reference.getpixel(xy), tolerance=6)


def test_a_large_jpeg_cut_short_is_still_reported_as_incomplete() -> None:
    data = factory.truncated(factory.noisy_jpeg((1600, 1200)))

    error = refusal(data, IngestLimits(working_long_side=800))

    assert error.code == "truncated"


# --- orientation ------------------------------------------------------------


def test_orientation_6_on_a_40_by_20_jpeg_comes_out_20_by_40() -> None:
    upright = factory.quadrants((20, 40))

    result = ingest(factory.as_stored_with_orientation(upright, 6))

    assert result.image.size == (20, 40)
    assert result.original_size == (20, 40)
    for xy in [(5, 5), (15, 5), (5, 35), (15, 35)]:
        assert_close(pixel(result, xy), upright.getpixel(xy), tolerance=12)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_upright_pixels(orientation: int) -> None:
    upright = factory.quadrants((20, 40))

    result = ingest(factory.as_stored_with_orientation(upright, orientation, "PNG"))

    assert result.image.size == (20, 40)
    assert result.image.tobytes() == upright.tobytes()


def test_the_result_carries_no_metadata_from_the_upload() -> None:
    result = ingest(factory.as_stored_with_orientation(factory.quadrants((20, 40)), 6))

    assert result.image.info == {}
    assert dict(result.image.getexif()) == {}


# --- colour and channels ----------------------------------------------------


@pytest.mark.parametrize(("value", "grey"), [(0, 0), (30_000, 117), (65_535, 255)])
def test_a_16_bit_grey_png_is_scaled_not_clamped(value: int, grey: int) -> None:
    data = factory.png_16bit_grey(value)
    assert Image.open(io.BytesIO(data)).mode == "I;16"

    result = ingest(data)

    assert result.image.mode == "RGB"
    assert_close(pixel(result), (grey, grey, grey), tolerance=1)


def test_a_palette_png_with_transparency_keeps_its_alpha() -> None:
    data, _ = factory.palette_png_with_transparency()

    result = ingest(data)

    assert result.image.mode == "RGBA"
    assert result.has_alpha
    assert pixel(result, (0, 0))[3] == 0
    assert pixel(result, (7, 0)) == (200, 30, 30, 255)


def test_a_greyscale_png_becomes_rgb() -> None:
    result = ingest(factory.grey_png("L"))

    assert result.image.mode == "RGB"
    assert pixel(result) == (90, 90, 90)


def test_a_grey_png_with_alpha_becomes_rgba() -> None:
    result = ingest(factory.grey_png("LA"))

    assert result.image.mode == "RGBA"
    assert result.has_alpha
    assert pixel(result, (0, 0)) == (90, 90, 90, 255)
    assert pixel(result, (7, 7)) == (90, 90, 90, 128)


def test_an_rgba_png_that_is_opaque_everywhere_becomes_rgb() -> None:
    result = ingest(factory.rgba_png(alpha=255))

    assert result.image.mode == "RGB"
    assert not result.has_alpha


def test_an_rgba_png_with_one_transparent_pixel_stays_rgba() -> None:
    result = ingest(factory.rgba_png(alpha=255, transparent_pixels=1))

    assert result.image.mode == "RGBA"
    assert result.has_alpha


def test_a_cmyk_jpeg_without_a_profile_gets_the_plain_conversion() -> None:
    result = ingest(factory.cmyk_jpeg((255, 0, 0, 0)))

    assert result.image.mode == "RGB"
    assert not result.icc_converted
    assert_close(pixel(result, (8, 8)), (0, 255, 255), tolerance=2)


@pytest.mark.parametrize("cmyk", [(255, 0, 0, 0), (0, 255, 255, 0), (0, 0, 0, 128), (0, 0, 0, 255)])
def test_a_cmyk_jpeg_is_converted_through_its_embedded_profile(cmyk) -> None:
    expected = factory.srgb_encode(factory.cmyk_ink_model(np.array(cmyk) / 255)) * 255

    result = ingest(factory.cmyk_jpeg(cmyk, factory.cmyk_profile()))

    assert result.image.mode == "RGB"
    assert result.icc_converted
    assert_close(pixel(result, (8, 8)), tuple(expected), tolerance=3)


WIDE_GAMUT_PATCHES = [(255, 0, 0), (200, 60, 50), (40, 70, 190), (128, 128, 128)]


@pytest.mark.parametrize(
    ("profile", "primaries", "gamma"),
    [
        (factory.display_p3_profile, factory.DISPLAY_P3_PRIMARIES, None),
        (factory.adobe_rgb_profile, factory.ADOBE_RGB_PRIMARIES, factory.ADOBE_RGB_GAMMA),
    ],
    ids=["display-p3", "adobe-rgb"],
)
def test_a_wide_gamut_profile_is_converted_to_srgb(profile, primaries, gamma) -> None:
    to_srgb = np.linalg.inv(factory.rgb_to_xyz_matrix(factory.SRGB_PRIMARIES)) @ (
        factory.rgb_to_xyz_matrix(primaries)
    )

    result = ingest(factory.patches_png(WIDE_GAMUT_PATCHES, profile()))

    assert result.icc_converted
    for index, colour in enumerate(WIDE_GAMUT_PATCHES):
        encoded = np.array(colour) / 255
        linear = factory.srgb_decode(encoded) if gamma is None else encoded**gamma
        expected = factory.srgb_encode(to_srgb @ linear) * 255
        assert_close(pixel(result, (4 * index + 1, 1)), tuple(expected), tolerance=2)


def test_a_saturated_p3_red_differs_from_reading_it_as_srgb() -> None:
    p3 = factory.patches_png([(200, 60, 50)], factory.display_p3_profile())

    result = ingest(p3)

    assert_close(pixel(result), (217, 42, 39), tolerance=2)


def test_an_srgb_tagged_image_is_left_as_it_is() -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

    result = ingest(factory.patches_png([(200, 60, 50)], srgb))

    assert not result.icc_converted
    assert pixel(result) == (200, 60, 50)


# --- identity ---------------------------------------------------------------


def test_sha256_is_the_digest_of_the_raw_bytes() -> None:
    data = factory.noisy_png((16, 16))

    assert ingest(data).sha256 == hashlib.sha256(data).hexdigest()


def test_the_perceptual_hash_survives_re_encoding_and_separates_other_pictures() -> None:
    original = factory.encode(factory.product_photo((256, 192), 0), "JPEG", quality=95)
    re_encoded = factory.encode(Image.open(io.BytesIO(original)).resize((200, 150)), "JPEG", quality=40)
    other = factory.encode(factory.product_photo((256, 192), 1), "JPEG", quality=95)

    hashes = [ingest(data).perceptual_hash for data in (original, re_encoded, other)]

    assert all(len(h) == 16 and int(h, 16) >= 0 for h in hashes)
    assert hamming_distance(hashes[0], hashes[1]) <= 6
    assert hamming_distance(hashes[0], hashes[2]) >= 16


def test_hamming_distance_counts_differing_bits() -> None:
    assert hamming_distance("0" * 16, "0" * 16) == 0
    assert hamming_distance("0" * 16, "f" * 16) == 64
    assert hamming_distance("8000000000000001", "0000000000000000") == 2
    with pytest.raises(ValueError, match="length"):
        hamming_distance("00", "000")
