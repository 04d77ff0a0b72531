"""From a version that passed the gate (or was approved) to PUBLISHED: one rendition
per applicable marketplace profile, each checked from its written bytes.

Rendering only makes what is missing (`missing_profiles`), so the job is
idempotent and also serves re-renders after a profile changes. All renditions of
a version share one decode of the master. A version is published only when every
required rendition passes its error-level checks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image

from catalog.models import ImageVersion, InvalidTransition, MarketplaceProfile, Priority, Rendition
from catalog.public_urls import content_sha256, public_key_for
from processing.naming import rendition_filename
from processing.pipeline.compliance import check
from processing.pipeline.render import RenditionMetadata, render_many
from processing.pipeline.spec import RenditionSpec
from processing.profiles import requirements_for, spec_for

logger = logging.getLogger("lightbox.jobs")
RENDER_JOB = "processing.publishing.render_version"


def enqueue_rendering(version: ImageVersion, *, priority: int | None = None) -> None:
    import django_rq
    from rq import Retry

    queue = django_rq.get_queue(Priority(version.priority if priority is None else priority).queue_name)
    queue.enqueue(
        RENDER_JOB, str(version.pk), job_id=f"render-{version.pk}", retry=Retry(max=3, interval=[10, 60, 300])
    )


def applicable_profiles(version: ImageVersion) -> list[MarketplaceProfile]:
    profiles = list(MarketplaceProfile.objects.filter(enabled=True))
    with_additional = {p.channel for p in profiles if p.role == MarketplaceProfile.Role.ADDITIONAL}
    role = version.source.role
    return [p for p in profiles if p.applies_to(role, p.channel in with_additional)]


# Background modes where a shadow would break the profile's rules (see RenditionSpec).
NO_SHADOW_MODES = frozenset(
    {MarketplaceProfile.Background.PURE_WHITE.value, MarketplaceProfile.Background.TRANSPARENT.value}
)


def version_spec(version: ImageVersion, profile: MarketplaceProfile) -> RenditionSpec:
    """The profile's spec as this version renders it: a reviewer's `shadow` choice on a
    reprocess replaces the profile's, where the background can take one."""
    spec = spec_for(profile)
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
    """Render and check every applicable profile not yet rendered for this version."""
    todo = missing_profiles(version, applicable_profiles(version))
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
            position=version.source.position,
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


def failing_profiles(version: ImageVersion) -> list[str]:
    """Applicable profiles whose current-spec rendition did not pass."""
    profiles = applicable_profiles(version)
    passed = set(version.renditions.filter(compliance_passed=True).values_list("profile_id", "spec"))
    return [p.slug for p in profiles if (p.pk, str(version_spec(version, p))) not in passed]


def render_version(version_id: str) -> str:
    """Render a version's missing renditions; publish it when they all pass. Safe to run twice."""
    version = ImageVersion.objects.select_related("source__product").filter(pk=version_id).first()
    if version is None:
        return "missing"
    if version.status not in (ImageVersion.Status.RENDERING, ImageVersion.Status.PUBLISHED):
        return f"nothing to do ({version.status})"
    if not version.master:
        version.fail("cannot render: the version has no master image")
        return "failed"
    started = time.perf_counter()
    made = render_missing(version)
    failing = failing_profiles(version)
    outcome = "re-rendered" if version.status == ImageVersion.Status.PUBLISHED else "published"
    if version.status == ImageVersion.Status.RENDERING:
        try:
            if failing:
                version.fail(f"renditions did not pass their checks: {', '.join(failing)}")
                outcome = "failed"
            else:
                version.publish()
        except InvalidTransition:
            outcome = f"state moved on ({version.status})"
    logger.info(
        "render_version %s %s renditions=%d failing=%s total=%dms",
        version_id,
        outcome,
        len(made),
        ",".join(failing) or "-",
        (time.perf_counter() - started) * 1000,
    )
    return outcome
