"""Derived masters: versions of another kind (a lifestyle scene, a ghost mannequin) made
from a photo's published cut-out, living beside it with the usual lifecycle.

A derived version is an ImageVersion with `kind` other than "cutout", `derived_from` the
published cut-out it is made from and a `lineage` of its own ("scene:<template pk>",
"ghost"): it is numbered, superseded and retried within that lineage only, so a scene
never replaces the cut-out or another scene, and "the current published cut-out of a
photo" still means its newest PUBLISHED version of lineage "". It renders only for its
`targets` and exports place it at `export_position`.

`derive_version` makes one and queues it; processing.jobs.process_version then runs the
kind's stage (processing.derived) instead of segmentation, and from there it is gated,
flagged or rendered and published like any version.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from catalog.models import ImageVersion, MarketplaceProfile, VersionKind, VersionStatus
from lightbox import jobs

# States in which a lineage already has what a new derivation would make.
_COVERED_STATES = (*ImageVersion.ACTIVE_STATES, *ImageVersion.REVIEWABLE_STATES, VersionStatus.PUBLISHED)


def cutouts(queryset: Any = None) -> Any:
    """Only the cut-outs of `queryset` (all versions by default): the photo's own lineage."""
    return (queryset if queryset is not None else ImageVersion.objects).filter(kind=VersionKind.CUTOUT)


def derive_version(
    base: ImageVersion,
    kind: str,
    *,
    lineage: str,
    targets: Iterable[MarketplaceProfile],
    export_position: int | None = None,
    options: dict[str, Any] | None = None,
    parent: ImageVersion | None = None,
    force: bool = False,
    **links: Any,
) -> ImageVersion | None:
    """A new QUEUED version of `kind` made from `base` (a published cut-out), numbered next
    in `lineage`, its processing queued on commit. `links` are the kind's own foreign keys
    (`scene_template=…`, `scene_rule=…`); `options` its settings, kept on the version.

    Idempotent: None when the lineage already has a version from this same cut-out that
    is queued, in progress, flagged or published (unless `force`, a reviewer's reprocess,
    which passes the version it replaces as `parent`)."""
    if kind == VersionKind.CUTOUT or kind not in VersionKind.values:
        raise ValueError(f"not a derived kind: {kind!r}")
    if base.kind != VersionKind.CUTOUT:
        raise ValueError("a derived version is made from a cut-out")
    if not lineage:
        raise ValueError("a derived version needs a lineage")
    same = ImageVersion.objects.filter(source_id=base.source_id, lineage=lineage)
    if not force and same.filter(derived_from=base, status__in=_COVERED_STATES).exists():
        return None
    targets = list(targets)
    for _ in range(3):  # two derivations racing for the next number: the loser tries again
        latest = same.aggregate(n=Max("number"))["n"] or 0
        try:
            with transaction.atomic():
                version = ImageVersion.objects.create(
                    source_id=base.source_id,
                    kind=kind,
                    lineage=lineage,
                    derived_from=base,
                    parent=parent,
                    number=latest + 1,
                    priority=base.priority,
                    brand=base.brand,
                    category=base.category,
                    export_position=export_position,
                    options=options or {},
                    **links,
                )
                version.targets.set(targets)
        except IntegrityError:
            continue
        jobs.queue_processing(version)
        return version
    raise RuntimeError(f"could not number a new {kind} version of {base.source_id}")


def current_cutout(source_id: Any) -> ImageVersion | None:
    """The photo's newest published cut-out: what derived versions are made from."""
    return (
        cutouts()
        .filter(source_id=source_id, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .select_related("source__product")
        .first()
    )
