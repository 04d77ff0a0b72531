"""Seed the marketplace profiles from shared/marketplaces.md (checked 2026-11-25).

Strictness per rule follows the research: "error" where the channel's own page
says it, "warn" where only secondary or unconfirmed sources do. The data lives
here, frozen, so the migration replays identically on any database.
"""

from __future__ import annotations

import datetime

from django.db import migrations

CHECKED = datetime.date(2026, 11, 25)
META = ["sku", "title", "alt_text", "copyright", "source_version"]

PROFILES = [
    {
        "slug": "amazon-main", "name": "Amazon main image", "channel": "amazon", "role": "main",
        "canvas_width": 2000, "canvas_height": 2000, "min_long_side": 1000, "max_side": 10000,
        "background": "pure_white", "fill_ratio": 0.87, "fill_min": 0.85,
        "output_format": "jpeg", "allowed_formats": ["jpeg", "png", "tiff", "gif"], "quality": 90,
        "max_bytes": 10_000_000, "naming_template": "{amazon_id}.MAIN.{ext}",
        "checks": {"background": "error", "fill": "warn", "min_size": "error", "format": "error",
                   "max_bytes": "warn", "metadata": "warn"},
        "source_url": "https://sellercentral.amazon.com/gp/help/external/G9FUUH87RBNXGKB7",
    },
    {
        "slug": "amazon-additional", "name": "Amazon additional image", "channel": "amazon",
        "role": "additional", "canvas_width": 2000, "canvas_height": 2000, "min_long_side": 1000,
        "max_side": 10000, "background": "white", "fill_ratio": 0.85,
        "output_format": "jpeg", "allowed_formats": ["jpeg", "png", "tiff", "gif"], "quality": 90,
        "max_bytes": 10_000_000, "naming_template": "{amazon_id}.PT{slot:02d}.{ext}",
        "checks": {"min_size": "error", "format": "error", "max_bytes": "warn", "metadata": "warn"},
        "source_url": "https://sellercentral.amazon.com/gp/help/external/G9FUUH87RBNXGKB7",
    },
    {
        "slug": "shopify", "name": "Shopify product image", "channel": "shopify", "role": "main",
        "canvas_width": 2048, "canvas_height": 2048, "max_side": 4472, "max_megapixels": 20.0,
        "background": "white", "fill_ratio": 0.85, "output_format": "webp",
        "allowed_formats": ["jpeg", "png", "webp", "gif"], "quality": 85, "max_bytes": 20_000_000,
        "naming_template": "{sku}-{position}.{ext}",
        "checks": {"max_size": "error", "format": "error", "max_bytes": "error", "metadata": "warn"},
        "source_url": "https://shopify.dev/docs/apps/build/online-store/product-media",
    },
    {
        "slug": "instagram-square", "name": "Instagram feed, square", "channel": "instagram",
        "role": "feed_square", "canvas_width": 1080, "canvas_height": 1080, "min_short_side": 320,
        "max_side": 1440, "background": "white", "fill_ratio": 0.80, "output_format": "jpeg",
        "allowed_formats": ["jpeg"], "quality": 85, "max_bytes": 8_000_000,
        "naming_template": "{sku}-{position}-ig-square.{ext}",
        "checks": {"format": "error", "max_bytes": "error", "size": "error", "metadata": "warn"},
        "source_url": "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media",
    },
    {
        "slug": "instagram-portrait", "name": "Instagram feed, portrait 4:5", "channel": "instagram",
        "role": "feed_portrait", "canvas_width": 1080, "canvas_height": 1350, "min_short_side": 320,
        "max_side": 1440, "background": "white", "fill_ratio": 0.80, "output_format": "jpeg",
        "allowed_formats": ["jpeg"], "quality": 85, "max_bytes": 8_000_000,
        "naming_template": "{sku}-{position}-ig-portrait.{ext}",
        "checks": {"format": "error", "max_bytes": "error", "size": "error", "metadata": "warn"},
        "source_url": "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media",
    },
    {
        "slug": "ebay", "name": "eBay listing photo", "channel": "ebay", "role": "main",
        "canvas_width": 1600, "canvas_height": 1600, "min_long_side": 500, "background": "white",
        "fill_ratio": 0.85, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "png", "gif", "bmp", "tiff", "avif", "heic", "webp"],
        "quality": 90, "max_bytes": 12_000_000, "naming_template": "{sku}-{position}.{ext}",
        "checks": {"min_size": "error", "format": "error", "max_bytes": "warn", "metadata": "warn"},
        "source_url": "https://www.ebay.com/help/policies/listing-policies/picture-policy?id=4370",
    },
    {
        "slug": "etsy", "name": "Etsy listing photo", "channel": "etsy", "role": "main",
        "canvas_width": 2000, "canvas_height": 2000, "min_short_side": 635, "background": "white",
        "fill_ratio": 0.80, "output_format": "jpeg", "allowed_formats": ["jpeg", "png", "gif"],
        "quality": 82, "max_bytes": 1_000_000, "naming_template": "{sku}-{position}.{ext}",
        "checks": {"min_size": "error", "format": "error", "max_bytes": "warn", "metadata": "warn"},
        "source_url": "https://help.etsy.com/hc/en-us/articles/115015663347",
    },
    {
        "slug": "google-shopping", "name": "Google Shopping image", "channel": "google",
        "role": "main", "canvas_width": 1500, "canvas_height": 1500, "min_short_side": 500,
        "max_megapixels": 64.0, "background": "white", "fill_ratio": 0.82, "fill_min": 0.75,
        "fill_max": 0.90, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "webp", "png", "gif", "bmp", "tiff"], "quality": 88,
        "max_bytes": 16_000_000, "naming_template": "{sku}-{position}.{ext}",
        "checks": {"min_size": "error", "format": "error", "max_bytes": "error", "fill": "warn",
                   "metadata": "warn"},
        "source_url": "https://support.google.com/merchants/answer/6324350",
    },
    {
        "slug": "walmart", "name": "Walmart Marketplace main image", "channel": "walmart",
        "role": "main", "canvas_width": 2200, "canvas_height": 2200, "min_long_side": 1500,
        "min_short_side": 1500, "background": "pure_white", "fill_ratio": 0.85,
        "output_format": "jpeg", "allowed_formats": ["jpeg", "png", "bmp"], "quality": 88,
        "max_bytes": 5_000_000, "naming_template": "{gtin14}_{position}.{ext}",
        "checks": {"background": "error", "min_size": "error", "format": "error",
                   "max_bytes": "error", "metadata": "warn"},
        "source_url": "https://marketplacelearn.walmart.com/guides/Item%20setup/Item%20content,%20imagery%20and%20media/Product-detail-page:-Image-guidelines-&-requirements",
    },
    {
        "slug": "storefront-avif", "name": "Own storefront (AVIF)", "channel": "web", "role": "main",
        "canvas_width": 1600, "canvas_height": 1600, "background": "transparent",
        "fill_ratio": 0.85, "output_format": "avif", "allowed_formats": ["avif"], "quality": 60,
        "max_bytes": 500_000, "naming_template": "{sku}-{position}.{ext}",
        "checks": {"format": "error", "max_bytes": "warn", "metadata": "warn"},
    },
    {
        "slug": "zalando", "name": "Zalando packshot", "channel": "zalando", "role": "main",
        "enabled": False, "canvas_width": 1801, "canvas_height": 2600, "min_long_side": 1100,
        "min_short_side": 762, "background": "white", "fill_ratio": 0.85, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "png"], "quality": 90, "max_bytes": 20_000_000,
        "naming_template": "{sku}-{position}.{ext}",
        "checks": {"min_size": "error", "format": "error", "max_bytes": "error"},
        "source_url": "https://partner.zalando.com/university/article/zalando-image-guidelines",
    },
    {
        "slug": "pinterest", "name": "Pinterest product pin (2:3)", "channel": "pinterest",
        "role": "main", "enabled": False, "canvas_width": 1000, "canvas_height": 1500,
        "background": "white", "fill_ratio": 0.80, "output_format": "jpeg",
        "allowed_formats": ["jpeg", "png"], "quality": 85, "max_bytes": 32_000_000,
        "naming_template": "{sku}-{position}-pin.{ext}",
        "checks": {"format": "error", "max_bytes": "error"},
        "source_url": "https://help.pinterest.com/en/business/article/pinterest-product-specs",
    },
]


def seed(apps, schema_editor):
    MarketplaceProfile = apps.get_model("catalog", "MarketplaceProfile")
    for data in PROFILES:
        fields = {"metadata_fields": META, "source_checked_on": CHECKED, **data}
        slug = fields.pop("slug")
        MarketplaceProfile.objects.update_or_create(slug=slug, defaults=fields)


def unseed(apps, schema_editor):
    MarketplaceProfile = apps.get_model("catalog", "MarketplaceProfile")
    MarketplaceProfile.objects.filter(slug__in=[p["slug"] for p in PROFILES]).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
