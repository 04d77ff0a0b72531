"""/versions: a processed photo's status, score, reasons, renditions with public URLs and
where it is published, channel by channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Greatest
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from catalog import public_urls
from catalog.api.errors import ApiError, get_or_404
from catalog.api.operations import operation
from catalog.api.schemas import Page, PageParams, Sku, Timestamp, paginate
from catalog.channels import ChannelState, with_channel_states
from catalog.models import BlockedChannel, ImageVersion, InvalidTransition, Rendition, VersionStatus
from catalog.retries import retry_version

router = Router(tags=["versions"])


class RenditionOut(Schema):
    id: UUID
    profile: str = Field(description="The marketplace profile's slug.")
    channel: str
    format: str
    width: int
    height: int
    byte_size: int
    compliance_passed: bool | None = Field(description="Null until checked.")
    created_at: datetime
    url: str | None = Field(description="Public URL, fetchable without a login (null until it has one).")

    @staticmethod
    def resolve_profile(rendition: Rendition) -> str:
        return rendition.profile.slug

    @staticmethod
    def resolve_channel(rendition: Rendition) -> str:
        return rendition.profile.channel

    @staticmethod
    def resolve_url(rendition: Rendition) -> str | None:
        return public_urls.public_url(rendition) if rendition.public_key else None


class ChannelOut(Schema):
    profile: str = Field(description="The marketplace profile's slug.")
    channel: str
    name: str = Field(description="The profile's name.")
    required: bool = Field(description="Whether the version is published only when this profile passes.")
    state: Literal["published", "blocked", "unpublished"] = Field(
        description="published: a passing rendition of a published version; blocked: the version cannot "
        "meet this profile (see reason); unpublished: neither yet."
    )
    reason: str = Field(description='Why it is blocked, e.g. "600 px, needs 1000 px"; empty otherwise.')

    @staticmethod
    def resolve_profile(state: ChannelState) -> str:
        return state.profile.slug

    @staticmethod
    def resolve_channel(state: ChannelState) -> str:
        return state.profile.channel

    @staticmethod
    def resolve_name(state: ChannelState) -> str:
        return state.profile.name

    @staticmethod
    def resolve_required(state: ChannelState) -> bool:
        return state.profile.required


class VersionOut(Schema):
    id: UUID
    sku: str
    source_id: UUID
    number: int
    kind: str = Field(
        description="cutout, or a master derived from one: scene, ghost (README, Derived masters)."
    )
    derived_from_id: UUID | None = Field(
        description="The cut-out version a scene or ghost version is made from."
    )
    status: VersionStatus
    score: int | None = Field(description="Quality score 0–100; null until scored.")
    reasons: list[dict[str, Any]] = Field(description="Why it was flagged: [{code, message, value, limit}].")
    error: str
    queued_at: datetime
    started_at: datetime | None
    scored_at: datetime | None
    reviewed_at: datetime | None
    published_at: datetime | None
    failed_at: datetime | None
    updated_at: datetime = Field(description="The latest of the timestamps above.")
    renditions: list[RenditionOut]
    channels: list[ChannelOut] = Field(description="Every profile that applies to the photo, with its state.")

    @staticmethod
    def resolve_sku(version: ImageVersion) -> str:
        return version.source.product.sku

    @staticmethod
    def resolve_renditions(version: ImageVersion) -> list[Rendition]:
        return list(version.renditions.all())

    @staticmethod
    def resolve_channels(version: ImageVersion) -> list[ChannelState]:
        return version.channel_states  # type: ignore[attr-defined]  # set by with_channel_states


class VersionPage(Page):
    items: list[VersionOut]


class VersionFilters(Schema):
    status: VersionStatus | None = None
    updated_since: Timestamp | None = Field(
        None, description="Only versions with any change (queued, started, scored, …) at or after this time."
    )
    sku: Sku | None = Field(None, description="Only this product's versions.")
    batch: UUID | None = Field(None, description="Only versions of photos from this upload batch.")


def versions() -> QuerySet[ImageVersion]:
    """Versions with `updated_at`: the latest event timestamp (PostgreSQL's GREATEST skips nulls)."""
    return (
        ImageVersion.objects.select_related("source__product")
        .prefetch_related(
            Prefetch(
                "renditions",
                queryset=Rendition.objects.select_related("profile").order_by(
                    "profile__channel", "profile__slug"
                ),
            ),
            Prefetch("blocked_channels", queryset=BlockedChannel.objects.select_related("profile")),
        )
        .annotate(
            updated_at=Greatest(
                "queued_at", "started_at", "scored_at", "reviewed_at", "published_at", "failed_at"
            )
        )
    )


@operation(router, "GET", "/versions", perms=("catalog.view_imageversion",), response=VersionPage)
def list_versions(
    request: HttpRequest, filters: Query[VersionFilters], page: Query[PageParams]
) -> dict[str, Any]:
    """Oldest change first, so a client syncing with `updated_since` pages forward through new changes."""
    rows = versions()
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.updated_since:
        rows = rows.filter(updated_at__gte=filters.updated_since)  # type: ignore[misc]  # an annotation
    if filters.sku:
        rows = rows.filter(source__product__sku=filters.sku)
    if filters.batch:
        rows = rows.filter(source__batch_id=filters.batch)
    result = paginate(request, rows.order_by("updated_at", "id"), page)
    result["items"] = with_channel_states(result["items"])
    return result


@operation(
    router,
    "GET",
    "/versions/{version_id}",
    perms=("catalog.view_imageversion",),
    response=VersionOut,
    errors=(404,),
    url_name="get_version",
)
def get_version(request: HttpRequest, version_id: UUID) -> ImageVersion:
    return with_channel_states([get_or_404(versions(), f"No version {version_id}.", pk=version_id)])[0]


@operation(
    router,
    "POST",
    "/versions/{version_id}/retry",
    perms=("catalog.upload_images",),
    response=VersionOut,
    errors=(404, 409),
)
def retry_failed_version(request: HttpRequest, version_id: UUID) -> ImageVersion:
    """Process a FAILED version again from the start, with fresh attempts (the Retry button
    of the product page). 409 when it is not failed (or already retried), or a newer version
    of its photo exists."""
    version = get_or_404(versions(), f"No version {version_id}.", pk=version_id)
    try:
        retried = retry_version(version)
    except InvalidTransition as exc:
        raise ApiError(409, f"{exc}.", code="not_retryable") from None
    if not retried:
        raise ApiError(409, "This version was already queued again.", code="not_retryable")
    return with_channel_states([get_or_404(versions(), f"No version {version_id}.", pk=version_id)])[0]
