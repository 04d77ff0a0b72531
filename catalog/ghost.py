"""Ghost-mannequin masters, asked for by a batch or a category (issue #17).

Apparel shot on a mannequin: the upload batch (`UploadBatch.mannequin_colour`) or the
product's category (`processing.CategoryThresholds.mannequin_colour`, the batch wins) says
the mannequin's colour. When the cut-out of such a product's MAIN photo publishes, a
ghost-mannequin version is derived from it (catalog.derived, kind "ghost", lineage
"ghost"), made by processing.ghost: the mannequin taken out, the product's inner shot
(its newest photo with role `inner`, once that photo's own cut-out has published) placed
into the neck opening. When an inner shot's cut-out publishes later, the product's ghosts
are made again with it.

It renders for every enabled main and additional profile; exports place it second, or in
the main photo's place when the category sets `ghost_replaces_main` (export position 1,
catalog.exports.selection).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from catalog.derived import current_cutout, cutouts, derive_version
from catalog.models import (
    ImageVersion,
    MarketplaceProfile,
    SourceImage,
    SourceRole,
    VersionKind,
    VersionStatus,
)

logger = logging.getLogger("lightbox.jobs")

LINEAGE = "ghost"


def mannequin_for(source: SourceImage) -> tuple[str, bool]:
    """(mannequin colour or "", whether the ghost replaces the main image) for a photo: the
    colour from its batch, else from its category; the replacement from its category."""
    from processing.models import CategoryThresholds

    category = source.product.category
    row = CategoryThresholds.objects.filter(category=category).first() if category else None
    colour = (source.batch.mannequin_colour if source.batch_id and source.batch else "") or (
        row.mannequin_colour if row else ""
    )
    return colour, bool(row and row.ghost_replaces_main)


def inner_cutout_for(product_id: int) -> ImageVersion | None:
    """The newest published cut-out of the product's newest inner shot."""
    return (
        cutouts()
        .filter(source__product_id=product_id, source__role=SourceRole.INNER, status=VersionStatus.PUBLISHED)
        .order_by("-source__uploaded_at", "-number")
        .first()
    )


def derive_ghost(
    cutout: ImageVersion, *, force: bool = False, parent: ImageVersion | None = None
) -> ImageVersion | None:
    """A ghost-mannequin version of `cutout` (a main photo's published cut-out), queued; None
    when its batch and category name no mannequin colour, or one stands already (unless `force`)."""
    source = cutout.source
    if source.role != SourceRole.MAIN:
        return None
    colour, replaces_main = mannequin_for(source)
    if not colour:
        return None
    inner = inner_cutout_for(source.product_id)
    return derive_version(
        cutout,
        VersionKind.GHOST,
        lineage=LINEAGE,
        targets=MarketplaceProfile.objects.filter(
            enabled=True, role__in=[MarketplaceProfile.Role.MAIN, MarketplaceProfile.Role.ADDITIONAL]
        ),
        export_position=1 if replaces_main else 2,
        options={"recipe": {"mannequin": colour, "inner": str(inner.pk) if inner else None}},
        parent=parent,
        force=force,
    )


def on_cutout_published(version_id: Any) -> list[ImageVersion]:
    """What a cut-out that just published asks for: a main photo's ghost, or, for an inner
    shot, the product's ghosts made again with it. The ghosts queued."""
    version = (
        cutouts()
        .filter(pk=version_id, status=VersionStatus.PUBLISHED)
        .select_related("source__product", "source__batch")
        .first()
    )
    if version is None:
        return []
    role = version.source.role
    if role == SourceRole.MAIN:
        newest = current_cutout(version.source_id)
        made = derive_ghost(version) if newest is not None and newest.pk == version.pk else None
        return [made] if made else []
    if role != SourceRole.INNER:
        return []
    remade = []
    mains = SourceImage.objects.filter(product_id=version.source.product_id, role=SourceRole.MAIN)
    for source_id in mains.values_list("pk", flat=True):
        base = current_cutout(source_id)
        if base is None:
            continue
        standing = (
            ImageVersion.objects.filter(source_id=source_id, lineage=LINEAGE)
            .exclude(status__in=[VersionStatus.SUPERSEDED, VersionStatus.FAILED, VersionStatus.REJECTED])
            .order_by("-number")
            .first()
        )
        if standing is not None and (standing.options.get("recipe") or {}).get("inner") == str(version.pk):
            continue
        made = derive_ghost(base, force=standing is not None, parent=standing)
        if made is not None:
            remade.append(made)
    return remade


def on_version_status_changed(sender: Any, version: ImageVersion, status: str, **kwargs: Any) -> None:
    """A cut-out just published: its ghost mannequin is derived once the commit lands."""
    if status != VersionStatus.PUBLISHED or version.kind != VersionKind.CUTOUT:
        return
    version_id = version.pk
    # robust: a ghost that cannot be derived is logged, never fails the render that published.
    transaction.on_commit(lambda: on_cutout_published(version_id), robust=True)
