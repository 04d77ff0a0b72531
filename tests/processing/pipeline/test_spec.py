from __future__ import annotations

import dataclasses
import importlib

import pytest

from processing.pipeline.spec import RenditionSpec, SpecError

META = ["sku", "title", "alt_text", "copyright", "source_version"]

# The seeded marketplace profiles (catalog/migrations/0002_seed_marketplace_profiles.py),
# copied so the pipeline tests need no database; the last test keeps the copy honest.
SEEDED_PROFILES = {
    "amazon-main": {
        "canvas_width": 2000, "canvas_height": 2000, "min_long_side": 1000, "max_side": 10000,
        "background": "pure_white", "fill_ratio": 0.87, "fill_min": 0.85, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "png", "tiff", "gif"], "quality": 90, "max_bytes": 10_000_000,
        "checks": {"background": "error", "fill": "warn", "min_size": "error", "format": "error",
                   "max_bytes": "warn", "metadata": "warn"},
    },
    "amazon-additional": {
        "canvas_width": 2000, "canvas_height": 2000, "min_long_side": 1000, "max_side": 10000,
        "background": "white", "fill_ratio": 0.85, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "png", "tiff", "gif"], "quality": 90, "max_bytes": 10_000_000,
        "checks": {"min_size": "error", "format": "error", "max_bytes": "warn", "metadata": "warn"},
    },
    "shopify": {
        "canvas_width": 2048, "canvas_height": 2048, "max_side": 4472, "max_megapixels": 20.0,
        "background": "white", "fill_ratio": 0.85, "output_format": "webp",
        "allowed_formats": ["jpeg", "png", "webp", "gif"], "quality": 85, "max_bytes": 20_000_000,
        "checks": {"max_size": "error", "format": "error", "max_bytes": "error", "metadata": "warn"},
    },
    "instagram-square": {
        "canvas_width": 1080, "canvas_height": 1080, "min_short_side": 320, "max_side": 1440,
        "background": "white", "fill_ratio": 0.80, "output_format": "jpeg", "allowed_formats": ["jpeg"],
        "quality": 85, "max_bytes": 8_000_000,
        "checks": {"format": "error", "max_bytes": "error", "size": "error", "metadata": "warn"},
    },
    "instagram-portrait": {
        "canvas_width": 1080, "canvas_height": 1350, "min_short_side": 320, "max_side": 1440,
        "background": "white", "fill_ratio": 0.80, "output_format": "jpeg", "allowed_formats": ["jpeg"],
        "quality": 85, "max_bytes": 8_000_000,
        "checks": {"format": "error", "max_bytes": "error", "size": "error", "metadata": "warn"},
    },
    "ebay": {
        "canvas_width": 1600, "canvas_height": 1600, "min_long_side": 500, "background": "white",
        "fill_ratio": 0.85, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "png", "gif", "bmp", "tiff", "avif", "heic", "webp"],
        "quality": 90, "max_bytes": 12_000_000,
        "checks": {"min_size": "error", "format": "error", "max_bytes": "warn", "metadata": "warn"},
    },
    "etsy": {
        "canvas_width": 2000, "canvas_height": 2000, "min_short_side": 635, "background": "white",
        "fill_ratio": 0.80, "output_format": "jpeg", "allowed_formats": ["jpeg", "png", "gif"],
        "quality": 82, "max_bytes": 1_000_000,
        "checks": {"min_size": "error", "format": "error", "max_bytes": "warn", "metadata": "warn"},
    },
    "google-shopping": {
        "canvas_width": 1500, "canvas_height": 1500, "min_short_side": 500, "max_megapixels": 64.0,
        "background": "white", "fill_ratio": 0.82, "fill_min": 0.75, "fill_max": 0.90,
        "output_format": "jpeg", "allowed_formats": ["jpeg", "webp", "png", "gif", "bmp", "tiff"],
        "quality": 88, "max_bytes": 16_000_000,
        "checks": {"min_size": "error", "format": "error", "max_bytes": "error", "fill": "warn",
                   "metadata": "warn"},
    },
    "walmart": {
        "canvas_width": 2200, "canvas_height": 2200, "min_long_side": 1500, "min_short_side": 1500,
        "background": "pure_white", "fill_ratio": 0.85, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "png", "bmp"], "quality": 88, "max_bytes": 5_000_000,
        "checks": {"background": "error", "min_size": "error", "format": "error", "max_bytes": "error",
                   "metadata": "warn"},
    },
    "storefront-avif": {
        "canvas_width": 1600, "canvas_height": 1600, "background": "transparent", "fill_ratio": 0.85,
        "output_format": "avif", "allowed_formats": ["avif"], "quality": 60, "max_bytes": 500_000,
        "checks": {"format": "error", "max_bytes": "warn", "metadata": "warn"},
    },
    "zalando": {
        "canvas_width": 1801, "canvas_height": 2600, "min_long_side": 1100, "min_short_side": 762,
        "background": "white", "fill_ratio": 0.85, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "png"], "quality": 90, "max_bytes": 20_000_000,
        "checks": {"min_size": "error", "format": "error", "max_bytes": "error"},
    },
    "pinterest": {
        "canvas_width": 1000, "canvas_height": 1500, "background": "white", "fill_ratio": 0.80,
        "output_format": "jpeg", "allowed_formats": ["jpeg", "png"], "quality": 85,
        "max_bytes": 32_000_000, "checks": {"format": "error", "max_bytes": "error"},
    },
}  # fmt: skip


def seeded_profile(slug: str, scale: float = 1.0) -> dict:
    """The seeded profile's field values, with every pixel limit scaled by `scale` and
    every area limit (bytes, megapixels) by its square, so tests can run small."""
    fields = {"metadata_fields": META, **SEEDED_PROFILES[slug]}
    for name in ("canvas_width", "canvas_height", "min_long_side", "min_short_side", "max_side"):
        if fields.get(name):
            fields[name] = round(fields[name] * scale)
    for name in ("max_bytes", "max_megapixels"):
        if fields.get(name):
            fields[name] = type(fields[name])(fields[name] * scale * scale)
    return fields


AMAZON_MAIN = (
    "canvas-2000x2000|fill-0.87|bg-ffffff|bgmode-pure_white|shadow-0|format-jpeg|quality-90"
    "|maxbytes-10000000|meta-sku,title,alt_text,copyright,source_version"
)


def _spec(**changes) -> RenditionSpec:
    return dataclasses.replace(RenditionSpec.parse(AMAZON_MAIN), **changes)


# Compiling profiles


def test_the_amazon_main_profile_compiles_to_its_canonical_spec_string():
    spec = RenditionSpec.from_profile_fields(**seeded_profile("amazon-main"))

    assert str(spec) == AMAZON_MAIN
    assert spec.size == (2000, 2000)
    assert spec.background_rgb == (255, 255, 255)
    assert spec.extension == "jpg"


@pytest.mark.parametrize("slug", SEEDED_PROFILES)
def test_every_seeded_profile_compiles_and_its_string_parses_back_to_the_same_spec(slug):
    spec = RenditionSpec.from_profile_fields(**seeded_profile(slug))

    assert RenditionSpec.parse(str(spec)) == spec
    assert str(RenditionSpec.parse(str(spec))) == str(spec)


def test_a_profile_s_fields_that_do_not_shape_the_image_are_ignored():
    fields = {**seeded_profile("etsy"), "slug": "etsy", "naming_template": "{sku}.{ext}", "revision": 7}

    assert RenditionSpec.from_profile_fields(**fields) == RenditionSpec.from_profile_fields(
        **seeded_profile("etsy")
    )


def test_the_transparent_storefront_profile_carries_no_background_colour():
    spec = RenditionSpec.from_profile_fields(**seeded_profile("storefront-avif"))

    assert spec.transparent
    assert spec.background is None
    assert spec.background_rgb is None
    assert "bg-" not in str(spec)
    assert "bgmode-transparent" in str(spec)


def test_a_profile_with_no_byte_limit_and_no_metadata_leaves_those_parts_out():
    fields = {**seeded_profile("pinterest"), "max_bytes": None, "metadata_fields": []}

    assert str(RenditionSpec.from_profile_fields(**fields)) == (
        "canvas-1000x1500|fill-0.8|bg-ffffff|bgmode-white|shadow-0|format-jpeg|quality-85"
    )


def test_a_pure_white_profile_with_a_tinted_colour_is_a_form_error():
    fields = {**seeded_profile("amazon-main"), "background_color": "#fafafa"}

    with pytest.raises(SpecError, match=r"^bg-fafafa: ") as raised:
        RenditionSpec.from_profile_fields(**fields)
    assert raised.value.part == "bg-fafafa"


def test_a_profile_with_an_unknown_metadata_field_is_a_form_error():
    fields = {**seeded_profile("ebay"), "metadata_fields": ["sku", "gtin"]}

    with pytest.raises(SpecError, match="gtin"):
        RenditionSpec.from_profile_fields(**fields)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"output_format": "webp"}, "output_format"),  # pure white needs an exact format
        ({"quality": 0}, "quality"),
        ({"canvas_width": 0}, "canvas_width"),
        ({"fill_ratio": 1.5}, "fill_ratio"),
        ({"background_color": "#eeeeee"}, "background_color"),
        ({"shadow": True}, "shadow"),
        ({"max_bytes": -5}, "max_bytes"),
        ({"background": "mauve"}, "background"),
    ],
)
def test_a_spec_error_names_the_profile_field_to_show_it_on(change, field):
    with pytest.raises(SpecError) as raised:
        RenditionSpec.from_profile_fields(**{**seeded_profile("amazon-main"), **change})

    assert raised.value.field == field


# Canonical form


def test_parts_may_come_in_any_order_but_print_in_one():
    shuffled = "|".join(reversed(AMAZON_MAIN.split("|")))

    assert str(RenditionSpec.parse(shuffled)) == AMAZON_MAIN


def test_colours_fill_ratios_and_metadata_fields_are_normalised_so_equal_recipes_make_one_key():
    messy = RenditionSpec.parse(
        "canvas-500x500|fill-0.850000001|bg-FFFFFF|format-png|quality-90|meta-title,sku"
    )

    assert messy == RenditionSpec.parse(
        "canvas-500x500|fill-0.85|bg-ffffff|format-png|quality-90|meta-sku,title"
    )
    assert (
        str(messy)
        == "canvas-500x500|fill-0.85|bg-ffffff|bgmode-white|shadow-0|format-png|quality-90|meta-sku,title"
    )


def test_a_fill_ratio_of_one_prints_without_decimals():
    assert "|fill-1|" in str(_spec(fill_ratio=1.0))


def test_the_background_mode_defaults_to_white_on_white():
    spec = RenditionSpec.parse("canvas-10x20|fill-0.5|format-webp|quality-70")

    assert spec.background_mode == "white"
    assert spec.background == "ffffff"
    assert spec.shadow is False
    assert spec.max_bytes is None
    assert spec.metadata_fields == ()


def test_specs_are_frozen_and_hashable_so_they_can_key_a_cache():
    spec = RenditionSpec.parse(AMAZON_MAIN)

    assert {spec: 1}[RenditionSpec.parse(AMAZON_MAIN)] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.quality = 50


# Invalid specs name the part at fault


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("canvas-0x500|fill-0.8|format-jpeg|quality-80", "canvas-0x500"),
        ("canvas-10001x500|fill-0.8|format-jpeg|quality-80", "canvas-10001x500"),
        ("canvas-500|fill-0.8|format-jpeg|quality-80", "canvas-500"),
        ("canvas-500x500|fill-0|format-jpeg|quality-80", "fill-0"),
        ("canvas-500x500|fill-1.2|format-jpeg|quality-80", "fill-1.2"),
        ("canvas-500x500|fill-nan|format-jpeg|quality-80", "fill-nan"),
        ("canvas-500x500|fill-0.8|format-gif|quality-80", "format-gif"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-0", "quality-0"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-101", "quality-101"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-high", "quality-high"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|bg-fff", "bg-fff"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|bgmode-grey", "bgmode-grey"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|shadow-yes", "shadow-yes"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|maxbytes-0", "maxbytes-0"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|meta-sku,gtin", "meta-sku,gtin"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|meta-sku,sku", "meta-sku,sku"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|crop-center", "crop-center"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|quality-90", "quality-90"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|", "(empty part)"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality", "quality"),
        ("canvas-500x500|fill-0.8|format-jpeg", "quality"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|bgmode-transparent", "format-jpeg"),
        ("canvas-500x500|fill-0.8|format-png|quality-80|bgmode-transparent|bg-ffffff", "bg-ffffff"),
        ("canvas-500x500|fill-0.8|format-png|quality-80|bgmode-transparent|shadow-1", "shadow-1"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|bgmode-pure_white|bg-f0f0f0", "bg-f0f0f0"),
        ("canvas-500x500|fill-0.8|format-jpeg|quality-80|bgmode-pure_white|shadow-1", "shadow-1"),
        ("canvas-500x500|fill-0.8|format-webp|quality-80|bgmode-pure_white", "format-webp"),
        ("canvas-500x500|fill-0.8|format-avif|quality-80|bgmode-pure_white", "format-avif"),
    ],
)
def test_a_bad_spec_raises_a_spec_error_naming_the_part(text, part):
    with pytest.raises(SpecError) as raised:
        RenditionSpec.parse(text)

    assert raised.value.part == part
    assert str(raised.value).startswith(f"{part}: ")


def test_an_empty_spec_is_refused():
    with pytest.raises(SpecError, match="empty"):
        RenditionSpec.parse("  ")


def test_jpeg_cannot_have_a_transparent_background_but_png_webp_and_avif_can():
    with pytest.raises(SpecError, match="no alpha channel"):
        _spec(background_mode="transparent", background=None)

    for fmt in ("png", "webp", "avif"):
        assert _spec(format=fmt, background_mode="transparent", background=None).transparent


def test_building_a_spec_in_code_validates_it_too():
    with pytest.raises(SpecError, match=r"^quality-0: "):
        _spec(quality=0)
    with pytest.raises(SpecError, match=r"^canvas-2000x0: "):
        _spec(height=0)
    with pytest.raises(SpecError, match=r"^canvas-"):
        _spec(width=True)


# The copy above is the seed


def test_the_profile_table_here_matches_the_seed_migration():
    seed = importlib.import_module("catalog.migrations.0002_seed_marketplace_profiles")
    copied_fields = {name for fields in SEEDED_PROFILES.values() for name in fields}

    for profile in seed.PROFILES:
        fields = {name: value for name, value in profile.items() if name in copied_fields}
        assert SEEDED_PROFILES[profile["slug"]] == fields, profile["slug"]
    assert seed.META == META
    assert set(SEEDED_PROFILES) == {profile["slug"] for profile in seed.PROFILES}
