"""From a version that passed the gate (or was approved) to PUBLISHED: one rendition
per applicable marketplace profile the photo can meet, each checked from its written bytes.

Publication is per channel. A profile whose minimum the photo misses (its size against
the profile's rules, known before anything is rendered: `forecast`) is not rendered; a
rendition that fails its error-level checks does not count. Each such profile is a
BlockedChannel with its reason, and the version is published on the others. It fails
only when a profile marked `required` is blocked, or when profiles apply and none
passes; its error then names them and why (`settle`). A photo that no profile applies
to (a swatch with no swatch profile) is published with nothing blocked, as before.

Rendering only makes what is missing (`missing_profiles`), so the job is
idempotent and also serves re-renders after a profile changes. All renditions of
a version share one decode of the master.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image

from catalog.models import (
    BlockedChannel,
    ImageVersion,
    InvalidTransition,
    MarketplaceProfile,
    Rendition,
    Shortfall,
)
from catalog.public_urls import content_sha256, public_key_for
from lightbox import jobs, outages
from lightbox.joblog import add_to_job_context
from processing.derived import rendition_spec
from processing.naming import rendition_filename
from processing.pipeline.compliance import check
from processing.pipeline.render import RenditionMetadata, render_many
from processing.pipeline.spec import RenditionSpec
from processing.profiles import requirements_for, spec_for

logger = logging.getLogger("lightbox.jobs")


def applicable_profiles(version: ImageVersion) -> list[MarketplaceProfile]:
    return version_profiles(version, list(MarketplaceProfile.objects.filter(enabled=True)))


def version_profiles(version: ImageVersion, profiles: list[MarketplaceProfile]) -> list[MarketplaceProfile]:
    """Of the enabled `profiles`, those `version` renders for: a cut-out's by its photo's role,
    a derived version's (catalog.derived) its targets."""
    if version.is_derived:
        targets = {profile.pk for profile in version.targets.all()}  # the prefetch, where there is one
        return [p for p in profiles if p.enabled and p.pk in targets]
    return profiles_for_role(profiles, version.source.role)


def profiles_for_role(profiles: list[MarketplaceProfile], role: str) -> list[MarketplaceProfile]:
    """Of the enabled `profiles`, those a photo in `role` gets a rendition for."""
    with_additional = {p.channel for p in profiles if p.role == MarketplaceProfile.Role.ADDITIONAL}
    return [p for p in profiles if p.enabled and p.applies_to(role, p.channel in with_additional)]


# --- what a photo can meet, before anything is rendered ------------------------------


@dataclass(frozen=True)
class Outlook:
    """One applicable profile and, when the photo misses its minimum, by how much."""

    profile: MarketplaceProfile
    shortfall: Shortfall | None

    @property
    def meets(self) -> bool:
        return self.shortfall is None

    @property
    def label(self) -> str:
        """ "Amazon: 600 px, needs 1000 px"."""
        return (
            f"{self.profile.channel_name}: {self.shortfall.reason}" if self.shortfall else self.profile.name
        )


@dataclass(frozen=True)
class Forecast:
    """What publishing a version can do, from its photo's size and the profiles' rules alone.

    A profile the photo meets can still be blocked later by its rendition's checks; one it
    misses will be blocked for certain. `refusal` says why the version cannot be published
    at all ("" when it can), in words a reviewer acts on.
    """

    size: tuple[int, int]
    outlooks: list[Outlook] = field(default_factory=list)

    @property
    def meets(self) -> list[Outlook]:
        return [o for o in self.outlooks if o.meets]

    @property
    def cannot(self) -> list[Outlook]:
        return [o for o in self.outlooks if not o.meets]

    @property
    def required_missed(self) -> list[Outlook]:
        return [o for o in self.cannot if o.profile.required]

    @property
    def refusal(self) -> str:
        width, height = self.size
        if self.required_missed:
            missed = "; ".join(o.label for o in self.required_missed)
            return (
                f"This {width}×{height} px photo cannot meet a required profile ({missed}). "
                "Ask for a reshoot or reject it."
            )
        if self.outlooks and not self.meets:
            missed = "; ".join(o.label for o in self.cannot)
            return (
                f"This {width}×{height} px photo meets no marketplace profile ({missed}). "
                "Ask for a reshoot or reject it."
            )
        return ""


def forecast(version: ImageVersion, profiles: list[MarketplaceProfile] | None = None) -> Forecast:
    """Which applicable profiles the version's photo meets and which it cannot, without rendering.
    `profiles`: the enabled profiles, when the caller already has them."""
    if profiles is None:
        profiles = list(MarketplaceProfile.objects.filter(enabled=True))
    size = version.photo_size
    return Forecast(
        size=size,
        outlooks=[Outlook(p, p.shortfall(*size)) for p in version_profiles(version, profiles)],
    )


# Background modes where a shadow would break the profile's rules (see RenditionSpec).
NO_SHADOW_MODES = frozenset(
    {MarketplaceProfile.Background.PURE_WHITE.value, MarketplaceProfile.Background.TRANSPARENT.value}
)


def version_spec(version: ImageVersion, profile: MarketplaceProfile) -> RenditionSpec:
    """The profile's spec as this version renders it: a reviewer's `shadow` choice on a
    reprocess replaces the profile's, where the background can take one."""
    spec = spec_for(profile)
    if version.is_derived:
        return rendition_spec(version, spec)
    shadow = version.options.get("shadow")
    if isinstance(shadow, bool) and profile.background not in NO_SHADOW_MODES:
        spec = replace(spec, shadow=shadow)
    return spec


def missing_profiles(version: ImageVersion, profiles: list[MarketplaceProfile]) -> list[MarketplaceProfile]:
    """Profiles with no rendition for their current spec yet."""
    have = set(version.renditions.values_list("profile_id", "spec"))
    return [p for p in profiles if (p.pk, str(version_spec(version, p))) not in have]


def metadata_for(version: ImageVersion) -> RenditionMetadata:
    product = version.source.product
    alt_text = str(product.attributes.get("alt_text") or product.title)
    copyright_ = str(product.attributes.get("copyright") or (f"© {product.brand}" if product.brand else ""))
    return RenditionMetadata(
        sku=product.sku,
        title=product.title,
        alt_text=alt_text[:500],
        copyright=copyright_,
        source_version=f"{version.pk}",
    )


def render_missing(version: ImageVersion) -> list[Rendition]:
    """Render and check every applicable profile the photo meets and that is not yet rendered
    for this version. A profile whose minimum the photo misses is never rendered."""
    todo = missing_profiles(version, [o.profile for o in forecast(version).meets])
    if not todo:
        return []
    metadata = metadata_for(version)
    with version.master.open("rb") as fh, Image.open(fh) as master:
        master.load()
        rendered = render_many(master.convert("RGBA"), [version_spec(version, p) for p in todo], metadata)
    made = []
    for profile, image in zip(todo, rendered, strict=True):
        started = time.perf_counter()
        spec = version_spec(version, profile)
        result = check(
            image.data,
            spec,
            expected=metadata,
            rules=profile.checks,
            requirements=requirements_for(profile),
        )
        name = rendition_filename(
            profile.naming_template,
            product=version.source.product,
            # A derived master is named by the place exports give it (a scene at 2: PT01, "-2").
            position=(version.export_position or version.source.position)
            if version.is_derived
            else version.source.position,
            ext=spec.extension,
            profile_slug=profile.slug,
        )
        rendition = Rendition(
            version=version,
            profile=profile,
            spec=str(spec),
            width=image.width,
            height=image.height,
            byte_size=image.byte_size,
            format=image.format,
            compliance_passed=result.passed,
            compliance={
                **result.as_dict(),
                "render_seconds": round(image.seconds, 3),
                "check_seconds": round(time.perf_counter() - started, 3),
                "quality_used": image.quality_used,
            },
            first_attempt=not version.renditions.filter(profile=profile).exists(),
            sha256=content_sha256(image.data),
        )
        rendition.public_key = public_key_for(rendition.sha256)
        rendition.file.save(f"{profile.slug}/{name}", ContentFile(image.data), save=False)
        try:
            with transaction.atomic():
                rendition.save()
        except IntegrityError:  # a concurrent run made the same rendition first
            rendition.file.delete(save=False)
            continue
        made.append(rendition)
    return made


@dataclass(frozen=True)
class Settlement:
    """A rendered version's channels: the profiles that passed, the blocked ones with their
    reasons, and `error` when the version cannot be published ("" when it can)."""

    passed: list[MarketplaceProfile]
    blocked: list[BlockedChannel]
    error: str


def settle(version: ImageVersion) -> Settlement:
    """Per applicable profile: blocked by the photo's size, passed by its current-spec
    rendition, or blocked by that rendition's failed checks."""
    outlook = forecast(version)
    newest: dict[tuple[int, str], Rendition] = {}
    for rendition in version.renditions.order_by("-created_at"):
        newest.setdefault((rendition.profile_id, rendition.spec), rendition)
    passed: list[MarketplaceProfile] = []
    blocked: list[BlockedChannel] = []
    for item in outlook.outlooks:
        profile = item.profile
        if item.shortfall is not None:
            blocked.append(
                BlockedChannel(
                    version=version,
                    profile=profile,
                    cause=BlockedChannel.Cause.SIZE,
                    reason=item.shortfall.reason,
                    shortfall_data=item.shortfall.as_json(),
                )
            )
            continue
        newest_rendition = newest.get((profile.pk, str(version_spec(version, profile))))
        if newest_rendition is not None and newest_rendition.compliance_passed:
            passed.append(profile)
            continue
        blocked.append(
            BlockedChannel(
                version=version,
                profile=profile,
                cause=BlockedChannel.Cause.CHECKS,
                reason=failed_checks_reason(newest_rendition),
            )
        )
    error = ""
    required = [b for b in blocked if b.profile.required]
    if required:
        error = "cannot meet a required profile: " + "; ".join(b.label for b in required)
    elif blocked and not passed:
        error = "meets no marketplace profile: " + "; ".join(b.label for b in blocked)
    return Settlement(passed, blocked, error[:2000])


def failed_checks_reason(rendition: Rendition | None) -> str:
    """ "fails background: 0.4% of the background … is not exactly 255,255,255"."""
    if rendition is None:
        return "no rendition yet"
    checks = [
        c for c in rendition.compliance.get("checks", []) if isinstance(c, dict) and not c.get("passed")
    ]
    blocking = [c for c in checks if c.get("severity") == "error"] or checks
    if not blocking:
        return "its rendition did not pass its checks"
    return ("fails " + "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in blocking))[:500]


def record_blocked(version: ImageVersion, blocked: list[BlockedChannel]) -> None:
    """Make `blocked` the version's blocked channels. A channel blocked for the same reason as
    before keeps its row (and the day it was first counted on the dashboard)."""
    wanted = {(b.profile_id, b.cause, b.reason): b for b in blocked}
    existing = {(b.profile_id, b.cause, b.reason): b.pk for b in version.blocked_channels.all()}
    with transaction.atomic():
        version.blocked_channels.exclude(
            pk__in=[pk for key, pk in existing.items() if key in wanted]
        ).delete()
        BlockedChannel.objects.bulk_create([b for key, b in wanted.items() if key not in existing])


def render_version(version_id: str) -> str:
    """Render a version's missing renditions and publish it where it complies: every profile
    it cannot meet is recorded as blocked. Fails it only as `settle` says. Safe to run twice."""
    version = ImageVersion.objects.select_related("source__product").filter(pk=version_id).first()
    if version is None:
        return "missing"
    add_to_job_context(version_id=str(version.pk), batch_id=version.source.batch_id)
    if version.status not in (ImageVersion.Status.RENDERING, ImageVersion.Status.PUBLISHED):
        return f"nothing to do ({version.status})"
    if not version.master:
        version.fail("cannot render: the version has no master image")
        return "failed"
    run = version.start_rendering_attempt()  # None: a published version, re-rendered
    started = time.perf_counter()
    try:
        made = render_missing(version)
        settlement = settle(version)
    except Exception as exc:
        if run is None:
            raise
        return _render_failed(version, exc, run)
    outcome = "re-rendered" if version.status == ImageVersion.Status.PUBLISHED else "published"
    # One transaction, blocked channels first: the transition's signal (webhooks) reads them.
    with transaction.atomic():
        record_blocked(version, settlement.blocked)
        if version.status == ImageVersion.Status.RENDERING:
            try:
                if settlement.error:
                    version.fail(settlement.error)
                    outcome = "failed"
                else:
                    version.publish()
            except InvalidTransition:
                outcome = f"state moved on ({version.status})"
    logger.info(
        "render_version %s %s renditions=%d blocked=%s total=%dms",
        version_id,
        outcome,
        len(made),
        ",".join(b.profile.slug for b in settlement.blocked) or "-",
        (time.perf_counter() - started) * 1000,
    )
    return outcome


def _render_failed(version: ImageVersion, exc: Exception, run: int) -> str:
    """A rendering run that raised: an outage waits and runs again later without counting;
    anything else is retried by RQ until LIGHTBOX_MAX_ATTEMPTS runs, then the version fails."""
    message = f"{type(exc).__name__}: {exc}"[:1500]
    if (what := outages.outage_of(exc)) is not None and not outages.exhausted(version.outage_retries):
        retry_at = outages.next_try(version.outage_retries)
        version.wait_to_render(f"{what}; rendering again at {retry_at:%H:%M} UTC ({message})", retry_at)
        logger.warning("render_version %s: %s, retrying at %s: %s", version.pk, what, retry_at, message)
        try:
            jobs.queue_rendering(version, at=retry_at)
        except Exception:  # noqa: BLE001 - the sweeper queues it at retry_at
            logger.warning("render_version %s: could not schedule the retry; the sweeper will", version.pk)
        return "waiting for an outage"
    if run >= settings.LIGHTBOX_MAX_ATTEMPTS:
        version.fail(f"rendering failed {run} times; last error: {message}")
        logger.exception("render_version %s gave up", version.pk)
        return "failed"
    ImageVersion.objects.filter(pk=version.pk).update(
        error=f"rendering attempt {run} failed, will retry: {message}"
    )
    raise exc  # RQ's Retry runs it again with backoff


def rerender_published(version: ImageVersion) -> list[Rendition]:
    """A re-render run's step for one published version: render what is missing and record
    its blocked channels again under the profiles' current rules."""
    made = render_missing(version)
    record_blocked(version, settle(version).blocked)
    return made
