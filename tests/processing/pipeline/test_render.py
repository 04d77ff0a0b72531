from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFilter, IptcImagePlugin, JpegImagePlugin

from processing.pipeline import render as render_module
from processing.pipeline.compliance import Requirements, check
from processing.pipeline.render import QUALITY_FLOOR, RenditionMetadata, render, render_many
from processing.pipeline.spec import RenditionSpec
from tests.processing.pipeline.test_spec import META, SEEDED_PROFILES, seeded_profile

# Markup, quotes and non-ASCII on purpose: every writer must escape and encode them.
SHIRT = RenditionMetadata(
    sku="SKU-1042/B",
    title="Linen shirt <Café & Co>",
    alt_text="A blue linen shirt, folded — “front view”",
    copyright="© 2026 Acme Ltd",
    source_version="v3 sha256:ab12",
)
NAMESPACES = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "lightbox": render_module.XMP_NAMESPACE,
}
NO_EXIFTOOL = "exiftool is not installed (Debian/Ubuntu package libimage-exiftool-perl)"


def cut_out(size: tuple[int, int] = (600, 750), seed: int = 0) -> Image.Image:
    """What compose hands to render: an "RGBA" product, opaque inside a soft edge,
    transparent around it, with stripes and grain so encoders have work to do."""
    width, height = size
    alpha = Image.new("L", size, 0)
    ImageDraw.Draw(alpha).rounded_rectangle(
        (width * 0.04, height * 0.03, width * 0.96, height * 0.97), radius=min(size) // 6, fill=255
    )
    alpha = alpha.filter(ImageFilter.BoxBlur(1))
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    rgb = np.array([38, 62, 140], np.float32) + (18 * np.sin((xs + 0.5 * ys) / 5.0))[..., None]
    rgb[..., 0] += 40 * ys / height
    grain = np.random.default_rng(seed).integers(-4, 5, (height, width, 1), dtype=np.int16)
    image = Image.fromarray(np.clip(rgb + grain, 0, 255).astype(np.uint8), "RGB")
    image.putalpha(alpha)
    return image


@pytest.fixture(scope="module")
def master() -> Image.Image:
    return cut_out()


def small_spec(fmt: str = "jpeg", **changes) -> RenditionSpec:
    spec = RenditionSpec(
        width=400, height=400, fill_ratio=0.85, format=fmt, quality=85, metadata_fields=tuple(META)
    )
    return dataclasses.replace(spec, **changes)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def xmp_packet(data: bytes) -> ET.Element:
    start = data.index(b"<x:xmpmeta")
    end = data.index(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")
    return ET.fromstring(data[start:end])  # noqa: S314 - bytes this test just made


FORMATS = [
    ("jpeg", "white"),
    ("webp", "white"),
    ("webp", "transparent"),
    ("avif", "white"),
    ("avif", "transparent"),
    ("png", "pure_white"),
    ("png", "transparent"),
]


def spec_for(fmt: str, mode: str) -> RenditionSpec:
    background = None if mode == "transparent" else "ffffff"
    return small_spec(fmt, background_mode=mode, background=background)


# Every seeded profile


@pytest.mark.parametrize("slug", SEEDED_PROFILES)
def test_every_seeded_profile_renders_a_master_that_passes_all_its_own_checks(master, slug):
    profile = seeded_profile(slug, scale=1 / 4)
    spec = RenditionSpec.from_profile_fields(**profile)

    rendered = render(master, spec, SHIRT)
    result = check(
        rendered.data,
        spec,
        expected=SHIRT,
        rules=profile["checks"],
        requirements=Requirements.from_profile_fields(**profile),
    )

    assert (rendered.width, rendered.height) == spec.size
    assert rendered.quality_used == spec.quality
    assert result.passed
    assert result.failed() == [], [(c.name, c.detail) for c in result.failed()]


def test_amazon_main_at_full_size_turns_a_3000_px_master_into_a_compliant_2000_px_jpeg():
    profile = seeded_profile("amazon-main")
    spec = RenditionSpec.from_profile_fields(**profile)

    rendered = render(cut_out((2400, 3000)), spec, SHIRT)
    result = check(
        rendered.data,
        spec,
        expected=SHIRT,
        rules=profile["checks"],
        requirements=Requirements.from_profile_fields(**profile),
    )

    assert result.failed() == [], [(c.name, c.detail) for c in result.failed()]
    assert (rendered.format, rendered.width, rendered.height) == ("jpeg", 2000, 2000)
    assert rendered.byte_size == len(rendered.data) <= 10_000_000
    assert 0.86 <= result.get("fill").measured <= 0.89
    assert rendered.seconds > 0


# Pixels


def test_a_pure_white_rendition_is_exactly_255_out_to_the_frame(master):
    spec = RenditionSpec.from_profile_fields(**seeded_profile("amazon-main", scale=1 / 4))

    pixels = np.asarray(decode(render(master, spec, SHIRT).data))

    frame = np.concatenate([pixels[:20].reshape(-1, 3), pixels[-20:].reshape(-1, 3)])
    frame = np.concatenate([frame, pixels[:, :20].reshape(-1, 3), pixels[:, -20:].reshape(-1, 3)])
    assert (frame == 255).all()


def test_the_product_is_centred_on_the_canvas(master):
    pixels = np.asarray(decode(render(master, small_spec("png"), SHIRT).data))

    rows, columns = np.nonzero((pixels < 200).any(axis=-1))
    assert abs((rows.min() + rows.max() + 1) / 2 - 200) <= 1
    assert abs((columns.min() + columns.max() + 1) / 2 - 200) <= 1


def test_a_transparent_rendition_keeps_its_alpha_and_is_clear_around_the_product(master):
    image = decode(render(master, spec_for("png", "transparent"), SHIRT).data)

    alpha = np.asarray(image.getchannel("A"))
    assert image.mode == "RGBA"
    assert alpha[0].max() == alpha[-1].max() == alpha[:, 0].max() == alpha[:, -1].max() == 0
    assert alpha[200, 200] == 255


def test_a_white_profile_with_a_shadow_renders_one_under_the_product_and_passes_its_checks(master):
    spec = small_spec("jpeg", shadow=True)

    rendered = render(master, spec, SHIRT)
    pixels = np.asarray(decode(rendered.data)).astype(int)

    below_the_product = pixels[372:380, 150:250]
    assert below_the_product.mean() < 250
    assert check(rendered.data, spec, expected=SHIRT).failed() == []


# Formats, ICC, metadata


@pytest.mark.parametrize(("fmt", "mode"), FORMATS)
def test_every_format_opens_in_pillow_at_the_canvas_size_with_the_srgb_profile(master, fmt, mode):
    rendered = render(master, spec_for(fmt, mode), SHIRT)

    image = decode(rendered.data)

    assert image.format == fmt.upper()
    assert image.size == (400, 400)
    assert image.mode == ("RGBA" if mode == "transparent" else "RGB")
    profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    assert ImageCms.getProfileDescription(profile).strip() == "sRGB built-in"


@pytest.mark.skipif(shutil.which("exiftool") is None, reason=NO_EXIFTOOL)
@pytest.mark.parametrize(("fmt", "mode"), FORMATS)
def test_exiftool_reads_back_the_metadata_written_into_every_format(master, tmp_path, fmt, mode):
    spec = spec_for(fmt, mode)
    path = tmp_path / f"rendition.{spec.extension}"
    path.write_bytes(render(master, spec, SHIRT).data)

    run = subprocess.run(
        ["exiftool", "-json", "-G1", "-a", "-charset", "utf8", "-all", "-validate", "-warning", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    tags = json.loads(run.stdout)[0]

    assert tags["ExifTool:Validate"] == "OK", tags.get("ExifTool:Warning")
    assert tags["IFD0:ImageDescription"] == SHIRT.alt_text
    assert tags["IFD0:XPTitle"] == SHIRT.title
    assert tags["IFD0:Copyright"] == SHIRT.copyright
    assert tags["ExifIFD:UserComment"] == f"sku={SHIRT.sku}; source_version={SHIRT.source_version}"
    assert tags["ExifIFD:ColorSpace"] == "sRGB"
    assert tags["XMP-dc:Title"] == SHIRT.title
    assert tags["XMP-dc:Description"] == SHIRT.alt_text
    assert tags["XMP-iptcCore:AltTextAccessibility"] == SHIRT.alt_text
    assert tags["XMP-dc:Rights"] == SHIRT.copyright
    assert tags["XMP-dc:Identifier"] == SHIRT.sku
    assert tags["XMP-lightbox:SourceVersion"] == SHIRT.source_version
    assert tags["ICC_Profile:ProfileDescription"] == "sRGB built-in"
    if fmt == "jpeg":
        assert tags["IPTC:CodedCharacterSet"] == "UTF8"
        assert tags["IPTC:ObjectName"] == SHIRT.title
        assert tags["IPTC:Caption-Abstract"] == SHIRT.alt_text
        assert tags["IPTC:CopyrightNotice"] == SHIRT.copyright
        assert tags["IPTC:OriginalTransmissionReference"] == SHIRT.sku


@pytest.mark.parametrize(("fmt", "mode"), FORMATS)
def test_the_xmp_packet_parses_with_the_standard_xml_parser(master, fmt, mode):
    root = xmp_packet(render(master, spec_for(fmt, mode), SHIRT).data)

    def lang_alt(tag: str) -> str:
        return root.find(f".//dc:{tag}/rdf:Alt/rdf:li", NAMESPACES).text

    assert lang_alt("title") == SHIRT.title
    assert lang_alt("description") == SHIRT.alt_text
    assert lang_alt("rights") == SHIRT.copyright
    assert root.find(".//dc:identifier", NAMESPACES).text == SHIRT.sku
    assert root.find(".//lightbox:sourceVersion", NAMESPACES).text == SHIRT.source_version


def test_a_jpeg_carries_iptc_as_utf8_that_pillow_reads(master):
    image = decode(render(master, small_spec("jpeg"), SHIRT).data)

    iptc = IptcImagePlugin.getiptcinfo(image)

    assert iptc[(1, 90)] == b"\x1b%G"
    assert iptc[(2, 5)].decode() == SHIRT.title
    assert iptc[(2, 120)].decode() == SHIRT.alt_text
    assert iptc[(2, 116)].decode() == SHIRT.copyright
    assert iptc[(2, 103)].decode() == SHIRT.sku


def test_only_the_metadata_fields_the_spec_lists_are_written(master):
    data = render(master, small_spec("webp", metadata_fields=("sku",)), SHIRT).data

    root = xmp_packet(data)
    assert root.find(".//dc:identifier", NAMESPACES).text == SHIRT.sku
    assert root.find(".//dc:title", NAMESPACES) is None
    assert b"Linen shirt" not in data
    assert "Linen shirt".encode("utf-16-le") not in data


def test_a_spec_without_metadata_fields_writes_none_but_keeps_the_colour_profile(master):
    data = render(master, small_spec("jpeg", metadata_fields=()), SHIRT).data

    image = decode(data)
    assert b"x:xmpmeta" not in data
    assert b"Photoshop 3.0" not in data
    assert len(image.getexif()) == 0
    assert image.info["icc_profile"] == render_module.srgb_profile()


def test_empty_metadata_values_are_left_out_rather_than_written_blank(master):
    bare = RenditionMetadata(sku="SKU-7")

    root = xmp_packet(render(master, small_spec("png"), bare).data)

    assert root.find(".//dc:identifier", NAMESPACES).text == "SKU-7"
    assert root.find(".//dc:title", NAMESPACES) is None
    assert root.find(".//dc:description", NAMESPACES) is None


def test_jpeg_keeps_full_chroma_from_quality_90_and_halves_it_below(master):
    high = decode(render(master, small_spec("jpeg", quality=90), SHIRT).data)
    low = decode(render(master, small_spec("jpeg", quality=89), SHIRT).data)

    assert JpegImagePlugin.get_sampling(high) == 0  # 4:4:4
    assert JpegImagePlugin.get_sampling(low) == 2  # 4:2:0
    assert high.info.get("progressive") == 1


# Determinism and shared work


@pytest.mark.parametrize(("fmt", "mode"), FORMATS)
def test_a_second_render_of_the_same_spec_is_byte_identical(master, fmt, mode):
    spec = spec_for(fmt, mode)

    assert render(master, spec, SHIRT).data == render(master, spec, SHIRT).data


def test_a_rendition_made_in_another_worker_process_is_byte_identical(master):
    # Nothing time- or process-dependent may reach the bytes (LittleCMS stamps the
    # creation time into a new sRGB profile, for one).
    specs = [spec_for("jpeg", "white"), spec_for("avif", "transparent")]
    script = (
        "import sys, hashlib\n"
        "from tests.processing.pipeline.test_render import cut_out, spec_for, SHIRT\n"
        "from processing.pipeline.render import render_many\n"
        "specs = [spec_for('jpeg', 'white'), spec_for('avif', 'transparent')]\n"
        "for r in render_many(cut_out(), specs, SHIRT): print(hashlib.sha256(r.data).hexdigest())\n"
    )
    root = Path(__file__).resolve().parents[3]

    run = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True, timeout=120
    )

    here = [hashlib.sha256(r.data).hexdigest() for r in render_many(master, specs, SHIRT)]
    assert run.stdout.split() == here


def test_render_many_gives_each_spec_the_rendition_render_gives_it(master):
    specs = [
        small_spec("jpeg"),
        small_spec("webp"),
        small_spec("png", width=300),
        small_spec("jpeg", quality=60),
    ]

    together = render_many(master, specs, SHIRT)

    assert [r.data for r in together] == [render(master, spec, SHIRT).data for spec in specs]
    assert [r.format for r in together] == ["jpeg", "webp", "png", "jpeg"]


def test_render_many_places_the_product_once_for_specs_that_differ_only_in_encoding(master, monkeypatch):
    placements = []
    real_place = render_module.place_on_canvas

    def counting_place(*args, **kwargs):
        placements.append(args[1])
        return real_place(*args, **kwargs)

    monkeypatch.setattr(render_module, "place_on_canvas", counting_place)
    specs = [
        small_spec("jpeg"),
        small_spec("webp"),
        small_spec("avif", quality=50),
        small_spec("png", width=300),
    ]

    render_many(master, specs, SHIRT)

    assert placements == [(400, 400), (300, 400)]


# Byte limits


def test_a_byte_limit_lowers_quality_to_the_highest_that_fits(master):
    unlimited = render(master, small_spec("jpeg", quality=95), SHIRT)
    limit = unlimited.byte_size * 6 // 10
    spec = small_spec("jpeg", quality=95, max_bytes=limit)

    rendered = render(master, spec, SHIRT)

    assert rendered.byte_size <= limit
    assert QUALITY_FLOOR <= rendered.quality_used < 95
    one_better = render(master, small_spec("jpeg", quality=rendered.quality_used + 1), SHIRT)
    assert one_better.byte_size > limit
    assert (rendered.width, rendered.height) == (400, 400)
    assert check(rendered.data, spec, expected=SHIRT).failed() == []


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_webp_and_avif_also_meet_a_byte_limit_by_lowering_quality(master, fmt):
    unlimited = render(master, small_spec(fmt, quality=90), SHIRT)
    spec = small_spec(fmt, quality=90, max_bytes=unlimited.byte_size * 7 // 10)

    rendered = render(master, spec, SHIRT)

    assert rendered.byte_size <= spec.max_bytes
    assert rendered.quality_used < 90


def test_a_byte_limit_that_cannot_be_met_stops_at_the_quality_floor_and_compliance_fails_it(master):
    spec = small_spec("jpeg", max_bytes=2_000)

    rendered = render(master, spec, SHIRT)
    result = check(rendered.data, spec, expected=SHIRT)

    assert rendered.quality_used == QUALITY_FLOOR
    assert rendered.byte_size > 2_000
    assert (rendered.width, rendered.height) == (400, 400)
    assert not result.passed
    assert [c.name for c in result.failed()] == ["max_bytes"]


def test_a_png_over_its_byte_limit_is_returned_as_it_is_for_compliance_to_fail(master):
    spec = small_spec("png", max_bytes=1_000)

    rendered = render(master, spec, SHIRT)

    assert rendered.byte_size > 1_000
    assert not check(rendered.data, spec, expected=SHIRT).get("max_bytes").passed


def with_haze(image: Image.Image) -> Image.Image:
    """The cut-out with a faint, wide veil around it, as a soft model mask leaves."""
    margin = 160
    hazy = Image.new("RGBA", (image.width + 2 * margin, image.height + 2 * margin), (0, 0, 0, 0))
    hazy.paste(image, (margin, margin))
    alpha = np.asarray(hazy.getchannel("A")).copy()
    veil = np.asarray(hazy.getchannel("A").filter(ImageFilter.GaussianBlur(60)))
    alpha = np.maximum(alpha, (veil > 2) * 30).astype(np.uint8)
    hazy.putalpha(Image.fromarray(alpha, "L"))
    return hazy


def test_a_faint_haze_around_the_cut_out_never_reaches_a_pure_white_background(master):
    hazy = with_haze(master)
    pure = spec_for("jpeg", "pure_white")

    result = check(render(hazy, pure, SHIRT).data, pure, expected=SHIRT)

    assert result.get("background").passed, result.get("background").detail


def test_a_plain_white_background_keeps_the_soft_edge_of_the_cut_out(master):
    hazy = with_haze(master)
    white = spec_for("png", "white")
    pure = spec_for("png", "pure_white")

    softer = np.asarray(decode(render(hazy, white, SHIRT).data).convert("L"))
    cleaner = np.asarray(decode(render(hazy, pure, SHIRT).data).convert("L"))

    assert (softer < 255).sum() > (cleaner < 255).sum()
