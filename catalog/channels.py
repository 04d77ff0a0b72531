"""Where a version is published, channel by channel: what the product page, the JSON API
and webhooks show.

Each applicable profile of a version is in one of three states:

- `published`: the version is published and the profile's newest rendition passed;
- `blocked`: the version cannot meet the profile (a BlockedChannel says why);
- `unpublished`: neither yet (the version is not published, or not rendered for it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q

from catalog.models import BlockedChannel, ImageVersion, MarketplaceProfile, VersionStatus, channel_name
from processing.publishing import version_profiles

PUBLISHED = "published"
BLOCKED = "blocked"
UNPUBLISHED = "unpublished"
STATES = (PUBLISHED, BLOCKED, UNPUBLISHED)

# Blocked channels count for these versions: the others never had theirs settled, or moved on.
SETTLED_STATES = (VersionStatus.PUBLISHED, VersionStatus.FAILED)


@dataclass(frozen=True)
class ChannelState:
    profile: MarketplaceProfile
    state: str
    reason: str = ""

    @property
    def label(self) -> str:
        return f"{self.profile.channel_name}: {self.reason}" if self.reason else self.profile.name

    def as_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile.slug,
            "channel": self.profile.channel,
            "name": self.profile.name,
            "required": self.profile.required,
            "state": self.state,
            "reason": self.reason,
        }


def channel_states(
    version: ImageVersion, profiles: list[MarketplaceProfile] | None = None
) -> list[ChannelState]:
    """The state of every profile that applies to the version's photo, in profile order.

    `profiles`: the enabled profiles, when the caller already has them (a page of versions
    shares one list). The version's renditions and blocked channels may be prefetched.
    """
    if profiles is None:
        profiles = list(MarketplaceProfile.objects.filter(enabled=True))
    blocked = {b.profile_id: b for b in version.blocked_channels.all()}
    newest: dict[int, bool | None] = {}
    for rendition in sorted(version.renditions.all(), key=lambda r: r.created_at, reverse=True):
        newest.setdefault(rendition.profile_id, rendition.compliance_passed)
    states = []
    for profile in version_profiles(version, profiles):
        if profile.pk in blocked:
            states.append(ChannelState(profile, BLOCKED, blocked[profile.pk].reason))
        elif version.status == VersionStatus.PUBLISHED and newest.get(profile.pk):
            states.append(ChannelState(profile, PUBLISHED))
        else:
            states.append(ChannelState(profile, UNPUBLISHED))
    return states


def settled_on_channels(version: ImageVersion) -> bool:
    """Whether the version has channel states worth showing: it is published, or it failed on
    its channels (a required one blocked, or none passing), not earlier in processing.
    Reads blocked channels through the prefetch cache when there is one."""
    if version.status == VersionStatus.PUBLISHED:
        return True
    return version.status == VersionStatus.FAILED and bool(version.blocked_channels.all())


def with_channel_states(versions: Iterable[ImageVersion]) -> list[ImageVersion]:
    """The versions, each with `.channel_states` set from one shared list of profiles."""
    profiles = list(MarketplaceProfile.objects.filter(enabled=True))
    versions = list(versions)
    for version in versions:
        version.channel_states = channel_states(version, profiles)  # type: ignore[attr-defined]
    return versions


def blocked_on(channel: str) -> Q:
    """Products with a settled version blocked on `channel` (e.g. "amazon"), as a Q over Product."""
    return Q(
        Exists(
            BlockedChannel.objects.filter(
                version__source__product=OuterRef("pk"),
                version__status__in=SETTLED_STATES,
                profile__channel=channel,
            )
        )
    )


def blocked_channel_names(product_ids: list[int]) -> dict[int, list[str]]:
    """Product id → names of the channels its settled versions are blocked on, for a page of products."""
    names: dict[int, set[str]] = {}
    rows = BlockedChannel.objects.filter(
        version__source__product_id__in=product_ids, version__status__in=SETTLED_STATES
    ).values_list("version__source__product_id", "profile__channel")
    for product_id, channel in rows.distinct():
        names.setdefault(product_id, set()).add(channel_name(channel))
    return {product_id: sorted(found, key=str.lower) for product_id, found in names.items()}


def channel_choices() -> list[tuple[str, str]]:
    """(channel, name) of every enabled profile's channel, for a filter drop-down."""
    names: dict[str, str] = {}
    for profile in MarketplaceProfile.objects.filter(enabled=True).order_by("channel"):
        names.setdefault(profile.channel, channel_name(profile.channel))
    return sorted(names.items(), key=lambda item: item[1].lower())
