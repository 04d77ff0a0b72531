"""Versions that FAILED only because some profile's rendition did not pass are brought to
publication per channel (processing.publishing): published on the profiles they pass, with
every other applicable profile a blocked channel and its reason.

Before publication per channel, render_version failed a version with "renditions did not
pass their checks: <slugs>" as soon as one profile failed. Those versions are found by that
error. For each, every enabled profile that applies to its photo is judged as the renderer
now does: a photo below the profile's minimum is blocked for its size; otherwise the
profile's newest rendition decides (passed, or blocked by its failed checks). No profile is
required yet (the flag is new, and off), so a version with one passing profile becomes
PUBLISHED, at the moment it failed; one with none stays FAILED and says why, profile by
profile. Blocked channels are dated when the version failed, so the dashboard counts them
on that day; its cached days are dropped.

The rules are copied here, frozen, so the migration replays the same on any database.
Nothing is sent to webhooks: these are corrections of past events, not new ones.
"""

from __future__ import annotations

from django.db import migrations

OLD_ERROR = "renditions did not pass their checks:"
CHUNK = 500

CHANNEL_NAMES = {
    "amazon": "Amazon",
    "ebay": "eBay",
    "etsy": "Etsy",
    "google": "Google Shopping",
    "instagram": "Instagram",
    "pinterest": "Pinterest",
    "shopify": "Shopify",
    "walmart": "Walmart",
    "web": "Own storefront",
    "zalando": "Zalando",
}


def channel_name(channel):
    return CHANNEL_NAMES.get(channel, channel.replace("_", " ").capitalize())


def applies_to(profile, source_role, channel_has_additional):
    # catalog.models.MarketplaceProfile.applies_to as of this migration.
    if profile.role == "additional":
        return source_role == "alternate"
    if profile.role == "swatch":
        return source_role == "swatch"
    if profile.role != "main":
        return source_role == "main"
    return source_role == "main" or (source_role == "alternate" and not channel_has_additional)


def photo_size(version):
    crop = (version.options or {}).get("crop")
    if isinstance(crop, list) and len(crop) == 4 and all(isinstance(v, int) for v in crop):
        left, top, right, bottom = crop
        return max(0, right - left), max(0, bottom - top)
    return version.source.width, version.source.height


def shortfall(profile, width, height):
    if (profile.checks or {}).get("min_size", "error") != "error":
        return None
    long_side, short_side = max(width, height), min(width, height)
    if long_side < profile.min_long_side:
        return {"side": "long", "have": long_side, "need": profile.min_long_side}
    if short_side < profile.min_short_side:
        return {"side": "short", "have": short_side, "need": profile.min_short_side}
    return None


def shortfall_reason(data):
    side = " on the short side" if data["side"] == "short" else ""
    return f"{data['have']} px{side}, needs {data['need']} px"


def checks_reason(rendition):
    if rendition is None:
        return "no rendition yet"
    checks = [
        c
        for c in (rendition.compliance or {}).get("checks", [])
        if isinstance(c, dict) and not c.get("passed")
    ]
    blocking = [c for c in checks if c.get("severity") == "error"] or checks
    if not blocking:
        return "its rendition did not pass its checks"
    return ("fails " + "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in blocking))[:500]


def publish_where_it_complies(apps, schema_editor):
    ImageVersion = apps.get_model("catalog", "ImageVersion")
    MarketplaceProfile = apps.get_model("catalog", "MarketplaceProfile")
    Rendition = apps.get_model("catalog", "Rendition")
    BlockedChannel = apps.get_model("catalog", "BlockedChannel")
    DashboardDay = apps.get_model("review", "DashboardDay")

    profiles = list(MarketplaceProfile.objects.filter(enabled=True).order_by("channel", "slug"))
    with_additional = {p.channel for p in profiles if p.role == "additional"}
    failed = (
        ImageVersion.objects.filter(status="failed", error__startswith=OLD_ERROR)
        .select_related("source")
        .order_by("pk")
    )
    moved = False
    for version in failed.iterator(chunk_size=CHUNK):
        newest = {}
        for rendition in Rendition.objects.filter(version_id=version.pk).order_by("-created_at"):
            newest.setdefault(rendition.profile_id, rendition)
        width, height = photo_size(version)
        passed, blocked = [], []
        for profile in profiles:
            if not applies_to(profile, version.source.role, profile.channel in with_additional):
                continue
            short = shortfall(profile, width, height)
            rendition = newest.get(profile.pk)
            if short is not None:
                cause, reason, data = "size", shortfall_reason(short), short
            elif rendition is not None and rendition.compliance_passed:
                passed.append(profile)
                continue
            else:
                cause, reason, data = "checks", checks_reason(rendition), {}
            blocked.append(
                BlockedChannel(
                    version_id=version.pk,
                    profile=profile,
                    cause=cause,
                    reason=reason,
                    shortfall_data=data,
                    created_at=version.failed_at or version.queued_at,
                )
            )
        BlockedChannel.objects.filter(version_id=version.pk).delete()
        BlockedChannel.objects.bulk_create(blocked)
        if passed:
            ImageVersion.objects.filter(pk=version.pk, status="failed").update(
                status="published",
                published_at=version.failed_at or version.queued_at,
                failed_at=None,
                error="",
            )
        elif blocked:
            labels = "; ".join(f"{channel_name(b.profile.channel)}: {b.reason}" for b in blocked)
            ImageVersion.objects.filter(pk=version.pk, status="failed").update(
                error=("meets no marketplace profile: " + labels)[:2000]
            )
        moved = True
    if moved:
        DashboardDay.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_publication_per_channel"),
        ("review", "0001_initial"),
    ]

    # Not reversed: the versions stay published where they comply (reversing 0010 drops
    # their blocked channels with the table).
    operations = [migrations.RunPython(publish_where_it_complies, migrations.RunPython.noop)]
