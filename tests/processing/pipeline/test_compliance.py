"""The checker against renditions made by hand with Pillow, never by render(): it must
judge the bytes, whoever wrote them."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw, PngImagePlugin

from processing.pipeline.compliance import (
    RULES,
    ComplianceResult,
    Requirements,
    check,
    read_exif_fields,
    read_xmp_fields,
    sniff_format,
    validate_rules,
)
from processing.pipeline.render import RenditionMetadata
from processing.pipeline.spec import RenditionSpec
from tests.processing.pipeline.imagefactory import (
    DISPLAY_P3_PRIMARIES,
    display_p3_profile,
    rgb_matrix_profile,
)
from tests.processing.pipeline.test_spec import seeded_profile

TOTE = RenditionMetadata(
    sku="TOTE-77",
    title="Canvas tote",
    alt_text="A canvas tote bag, front",
    copyright="(c) 2026 Acme",
    source_version="v1",
)
NAVY = (38, 62, 140)
WHITE = (255, 255, 255)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

AMAZON = seeded_profile("amazon-main", scale=1 / 5)  # a 400×400 canvas
AMAZON_SPEC = RenditionSpec.from_profile_fields(**AMAZON)
AMAZON_LIMITS = Requirements.from_profile_fields(**AMAZON)


def xmp_packet(meta: RenditionMetadata) -> bytes:
    """XMP written another way than render writes it: other prefixes, the source
    version as an attribute, no xpacket wrapper."""
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description
 xmlns:purl="http://purl.org/dc/elements/1.1/" xmlns:lb="http://ns.lightbox.invalid/xmp/1.0/"
 lb:sourceVersion="{meta.source_version}">
 <purl:identifier>{meta.sku}</purl:identifier>
 <purl:title><rdf:Alt><rdf:li xml:lang="en">{meta.title}</rdf:li></rdf:Alt></purl:title>
 <purl:description><rdf:Alt><rdf:li xml:lang="x-default">{meta.alt_text}</rdf:li></rdf:Alt></purl:description>
 <purl:rights><rdf:Alt><rdf:li xml:lang="x-default">{meta.copyright}</rdf:li></rdf:Alt></purl:rights>
</rdf:Description></rdf:RDF></x:xmpmeta>""".encode()


def exif_block(meta: RenditionMetadata) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = meta.alt_text
    exif[ExifTags.Base.Copyright] = meta.copyright
    exif[ExifTags.Base.XPTitle] = meta.title.encode("utf-16-le") + b"\x00\x00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = (
        b"ASCII\x00\x00\x00" + f"sku={meta.sku}; source_version={meta.source_version}".encode()
    )
    return exif


def hand_made(
    size: tuple[int, int] = (400, 400),
    *,
    fill: float = 0.87,
    background: tuple[int, ...] = WHITE,
    fmt: str = "JPEG",
    mode: str = "RGB",
    quality: int = 95,
    subsampling: str = "4:4:4",
    icc: bytes | None = SRGB,
    exif: RenditionMetadata | None = TOTE,
    xmp: RenditionMetadata | None = TOTE,
    speck: tuple[int, int] | None = None,
) -> bytes:
    """A product shot drawn with Pillow: a navy bag whose height spans `fill` of the
    canvas (none when 0), with the metadata and ICC profile asked for."""
    width, height = size
    canvas = Image.new(mode, size, background)
    draw = ImageDraw.Draw(canvas)
    bag_height = round(fill * height)
    bag_width = round(bag_height * 0.7)
    left, top = (width - bag_width) // 2, (height - bag_height) // 2
    if fill:
        draw.rounded_rectangle((left, top, left + bag_width - 1, top + bag_height - 1), radius=12, fill=NAVY)
        draw.rectangle((left + 10, top + 20, left + bag_width - 11, top + 40), fill=(200, 170, 90))
    if speck:
        draw.ellipse((speck[0], speck[1], speck[0] + 3, speck[1] + 3), fill=(120, 120, 120))
    params: dict[str, object] = {}
    if icc:
        params["icc_profile"] = icc
    if exif:
        params["exif"] = exif_block(exif)
    if xmp and fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp_packet(xmp).decode())
        params["pnginfo"] = info
    elif xmp:
        params["xmp"] = xmp_packet(xmp)
    if fmt == "JPEG":
        params.update(quality=quality, subsampling=subsampling)
    elif fmt in ("WEBP", "AVIF"):
        params["quality"] = quality
    buffer = io.BytesIO()
    canvas.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def amazon_check(data: bytes, **kwargs) -> ComplianceResult:
    options = {"expected": TOTE, "rules": AMAZON["checks"], "requirements": AMAZON_LIMITS, **kwargs}
    return check(data, AMAZON_SPEC, **options)


def failed_names(result) -> list[str]:
    return [c.name for c in result.failed()]


# A good rendition, made by hand


def test_a_rendition_made_by_hand_to_the_amazon_main_spec_passes_every_check():
    result = amazon_check(hand_made())

    assert result.passed
    assert result.failed() == [], [(c.name, c.detail) for c in result.failed()]
    assert [c.name for c in result.checks] == list(RULES)
    assert result.get("fill").measured == pytest.approx(0.87, abs=0.005)


@pytest.mark.parametrize(
    ("quality", "subsampling"), [(90, "4:4:4"), (100, "4:4:4"), (85, "4:2:0"), (40, "4:2:0")]
)
def test_jpeg_keeps_a_flat_white_background_exactly_255_away_from_the_product(quality, subsampling):
    data = hand_made(quality=quality, subsampling=subsampling)

    background = amazon_check(data).get("background")
    pixels = np.asarray(Image.open(io.BytesIO(data)))

    assert background.passed, background.detail
    assert background.measured["off_pixels"] == 0
    # The product starts 26 px in; 4:2:0 rings through its 16-px block (rows 16-31)
    # and chroma upsampling one row beyond, no further.
    assert (pixels[:15] == 255).all()
    assert (pixels[:, :15] == 255).all()


# Background


def test_a_grey_background_fails_amazon_main_and_the_rendition_with_it():
    result = amazon_check(hand_made(background=(245, 245, 245)))

    background = result.get("background")
    assert not result.passed
    assert failed_names(result) == ["background"]
    assert background.severity == "error"
    assert background.measured["off_share"] == 1.0
    assert background.measured["worst_levels"] == 10
    assert "not exactly 255,255,255" in background.detail


def test_a_background_one_level_off_white_fails_pure_white_and_lossless_white_but_not_lossy_white():
    data = hand_made(background=(254, 254, 254), fmt="PNG")
    white = dataclasses.replace(AMAZON_SPEC, background_mode="white", format="png")
    pure_white = dataclasses.replace(AMAZON_SPEC, format="png")

    assert not check(data, pure_white, expected=TOTE).get("background").passed
    assert not check(data, white, expected=TOTE).get("background").passed  # lossless: exact
    lossy_white = dataclasses.replace(white, format="webp")
    webp = hand_made(background=(254, 254, 254), fmt="WEBP", quality=90)
    assert check(webp, lossy_white, expected=TOTE).get("background").passed


def test_a_stray_speck_far_from_the_product_breaks_a_pure_white_background():
    result = amazon_check(hand_made(speck=(10, 380)))

    background = result.get("background")
    assert not background.passed
    assert 0 < background.measured["off_pixels"] < 30
    assert result.get("fill").passed  # a speck is not part of the product


def test_a_transparent_background_is_asked_of_an_image_with_no_alpha():
    spec = dataclasses.replace(AMAZON_SPEC, background_mode="transparent", background=None, format="png")

    result = check(hand_made(fmt="PNG"), spec, expected=TOTE)

    assert not result.get("background").passed
    assert "no alpha" in result.get("background").detail


def test_a_transparent_spec_is_met_by_clear_pixels_and_broken_by_opaque_white_ones():
    spec = dataclasses.replace(AMAZON_SPEC, background_mode="transparent", background=None, format="png")

    clear = hand_made(fmt="PNG", mode="RGBA", background=(0, 0, 0, 0))
    opaque = hand_made(fmt="PNG", mode="RGBA", background=(255, 255, 255, 255))

    assert check(clear, spec, expected=TOTE).failed() == []
    assert failed_names(check(opaque, spec, expected=TOTE)) == ["background"]


def test_any_background_passes_when_the_profile_allows_any():
    spec = dataclasses.replace(AMAZON_SPEC, background_mode="any", background="ffffff")

    result = check(hand_made(background=(30, 160, 90)), spec, expected=TOTE)

    assert result.get("background").passed
    assert result.get("fill").passed


# Fill


def test_a_product_filling_60_percent_fails_a_minimum_of_85_percent():
    data = hand_made(fill=0.60)

    as_amazon_rules = amazon_check(data)
    fill = as_amazon_rules.get("fill")

    assert not fill.passed
    assert fill.measured == pytest.approx(0.60, abs=0.005)
    assert "outside 85%–100%" in fill.detail
    # Amazon's fill rule is only a warning (secondary sources): the rendition passes...
    assert fill.severity == "warn"
    assert as_amazon_rules.passed
    # ...and fails where the profile makes it an error.
    assert not amazon_check(data, rules={**AMAZON["checks"], "fill": "error"}).passed


def test_a_product_above_the_minimum_but_off_the_spec_s_ratio_passes_a_minimum_only_rule():
    assert amazon_check(hand_made(fill=0.95)).get("fill").passed


def test_google_s_fill_band_takes_80_percent_and_refuses_95():
    google = seeded_profile("google-shopping", scale=400 / 1500)
    spec = RenditionSpec.from_profile_fields(**google)
    limits = Requirements.from_profile_fields(**google)

    def fill_check(fill: float):
        return check(hand_made(fill=fill), spec, expected=TOTE, requirements=limits).get("fill")

    assert fill_check(0.80).passed
    assert not fill_check(0.95).passed


def test_without_a_band_the_fill_must_be_within_two_points_of_the_spec():
    assert check(hand_made(fill=0.88), AMAZON_SPEC, expected=TOTE).get("fill").passed
    assert not check(hand_made(fill=0.84), AMAZON_SPEC, expected=TOTE).get("fill").passed


def test_a_blank_canvas_has_no_product_to_measure():
    result = amazon_check(hand_made(fill=0))

    assert not result.get("fill").passed
    assert "no product" in result.get("fill").detail


# Size, bytes, format


def test_a_rendition_of_the_wrong_size_fails_the_size_rule():
    result = amazon_check(hand_made(size=(400, 380)))

    size = result.get("size")
    assert not size.passed
    assert size.measured == [400, 380]
    assert size.severity == "error"  # not in Amazon's map: a rendition off its own spec is a bug
    assert not result.passed


def test_a_rendition_below_the_channel_s_minimum_fails_min_size():
    limits = dataclasses.replace(AMAZON_LIMITS, min_long_side=500, min_short_side=450)

    min_size = amazon_check(hand_made(), requirements=limits).get("min_size")

    assert not min_size.passed
    assert "long side 400 px < 500" in min_size.detail
    assert "short side 400 px < 450" in min_size.detail


def test_a_rendition_above_the_channel_s_maximum_fails_max_size():
    limits = dataclasses.replace(AMAZON_LIMITS, max_side=399, max_megapixels=0.1)

    max_size = amazon_check(hand_made(), requirements=limits).get("max_size")

    assert not max_size.passed
    assert max_size.measured == {"long_side": 400, "megapixels": 0.16}


def test_a_rendition_over_the_byte_limit_fails_max_bytes():
    data = hand_made()
    spec = dataclasses.replace(AMAZON_SPEC, max_bytes=len(data) - 1)

    result = check(data, spec, expected=TOTE, rules={"max_bytes": "error"})

    assert failed_names(result) == ["max_bytes"]
    assert result.get("max_bytes").measured == len(data)
    assert not result.passed


def test_a_png_where_a_jpeg_is_asked_for_fails_format():
    format_check = amazon_check(hand_made(fmt="PNG")).get("format")

    assert not format_check.passed
    assert format_check.measured == {"magic": "png", "pillow": "png"}


def test_a_format_the_channel_does_not_take_fails_even_when_it_matches_the_spec():
    spec = dataclasses.replace(AMAZON_SPEC, background_mode="white", format="webp")

    result = check(hand_made(fmt="WEBP"), spec, expected=TOTE, requirements=AMAZON_LIMITS)

    assert failed_names(result) == ["format"]
    assert "not among the channel's formats" in result.get("format").detail


@pytest.mark.parametrize(
    ("fmt", "name"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("AVIF", "avif")]
)
def test_the_container_is_sniffed_from_its_magic_bytes(fmt, name):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), NAVY).save(buffer, format=fmt)

    assert sniff_format(buffer.getvalue()) == name


def test_a_gif_or_a_text_file_is_no_container_we_write():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), NAVY).save(buffer, format="GIF")

    assert sniff_format(buffer.getvalue()) is None
    assert sniff_format(b"SKU-1042, blue shirt\n") is None


def test_bytes_that_do_not_decode_fail_every_rule_that_needs_pixels():
    truncated = hand_made()[:300]

    result = amazon_check(truncated)

    assert not result.passed
    assert not result.get("format").passed
    assert "cannot be decoded" in result.get("format").detail
    assert not result.get("background").passed
    assert result.get("max_bytes").passed


# Colour space


def test_a_rendition_without_an_icc_profile_fails_color_space():
    color_space = amazon_check(hand_made(icc=None)).get("color_space")

    assert not color_space.passed
    assert "no ICC profile" in color_space.detail


def test_a_display_p3_profile_is_not_srgb():
    color_space = amazon_check(hand_made(icc=display_p3_profile())).get("color_space")

    assert not color_space.passed
    assert "Display P3" in color_space.detail


def test_a_profile_that_calls_itself_srgb_but_has_wider_primaries_is_not_srgb():
    impostor = rgb_matrix_profile("sRGB (really P3)", DISPLAY_P3_PRIMARIES)

    color_space = amazon_check(hand_made(icc=impostor)).get("color_space")

    assert not color_space.passed
    assert "primaries" in color_space.detail


def test_a_16_bit_png_is_not_an_8_bit_rendition():
    spec = dataclasses.replace(AMAZON_SPEC, format="png")
    buffer = io.BytesIO()
    Image.new("I;16", (400, 400), 40000).save(buffer, format="PNG", icc_profile=SRGB)

    color_space = check(buffer.getvalue(), spec, expected=TOTE).get("color_space")

    assert not color_space.passed
    assert color_space.measured["bits"] == 16


# Metadata


def test_a_rendition_without_metadata_fails_the_metadata_rule():
    result = amazon_check(hand_made(exif=None, xmp=None))

    metadata = result.get("metadata")
    assert failed_names(result) == ["metadata"]
    assert metadata.severity == "warn"
    assert "exif:sku missing" in metadata.detail
    assert "xmp:alt_text missing" in metadata.detail


def test_metadata_in_exif_but_not_in_xmp_is_not_enough():
    metadata = amazon_check(hand_made(xmp=None)).get("metadata")

    assert not metadata.passed
    assert "exif:" not in metadata.detail
    assert "xmp:sku missing" in metadata.detail


def test_another_product_s_sku_fails_metadata_naming_where_it_was_found():
    other = dataclasses.replace(TOTE, sku="TOTE-78")

    metadata = amazon_check(hand_made(exif=other, xmp=other)).get("metadata")

    assert not metadata.passed
    assert "exif:sku is 'TOTE-78', expected 'TOTE-77'" in metadata.detail
    assert "xmp:sku is 'TOTE-78'" in metadata.detail


def test_a_spec_that_asks_for_no_metadata_passes_without_any():
    spec = dataclasses.replace(AMAZON_SPEC, metadata_fields=())

    assert check(hand_made(exif=None, xmp=None), spec, expected=TOTE).get("metadata").passed


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "AVIF"])
def test_exif_and_xmp_are_read_back_from_every_format(fmt):
    data = hand_made(fmt=fmt)

    expected = dataclasses.asdict(TOTE)
    assert read_xmp_fields(data) == expected
    assert read_exif_fields(Image.open(io.BytesIO(data))) == expected


def test_a_unicode_user_comment_is_read_in_the_byte_order_of_its_exif_block():
    exif = Image.Exif()  # Pillow writes big-endian ("MM") EXIF
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = (
        b"UNICODE\x00" + "sku=TÖTE-77; source_version=v1".encode("utf-16-be")
    )
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), WHITE).save(buffer, format="JPEG", exif=exif)

    found = read_exif_fields(Image.open(buffer))

    assert found == {"sku": "TÖTE-77", "source_version": "v1"}


def test_a_broken_xmp_packet_reads_as_none():
    assert read_xmp_fields(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF></x:xmpmeta>") == {}
    assert read_xmp_fields(b"no packet at all") == {}


# Rules and results


def test_rules_not_named_by_the_profile_are_errors():
    assert validate_rules({"fill": "warn"}) == {**dict.fromkeys(RULES, "error"), "fill": "warn"}


@pytest.mark.parametrize(
    ("rules", "message"),
    [({"halo": "error"}, "unknown rule 'halo'"), ({"fill": "fatal"}, "severity is 'error' or 'warn'")],
)
def test_an_unknown_rule_or_severity_is_refused(rules, message):
    with pytest.raises(ValueError, match=message):
        validate_rules(rules)


@pytest.mark.parametrize("slug", ["amazon-main", "shopify", "walmart", "storefront-avif"])
def test_every_seeded_profile_s_rule_map_is_valid(slug):
    validate_rules(seeded_profile(slug)["checks"])


def test_a_result_serialises_to_json_for_the_rendition_row():
    result = amazon_check(hand_made(fill=0.6, background=(240, 240, 240)))

    stored = json.loads(json.dumps(result.as_dict()))

    assert stored["passed"] is False
    assert {c["name"]: c["passed"] for c in stored["checks"]}["background"] is False
    assert {c["name"]: c["severity"] for c in stored["checks"]}["fill"] == "warn"
