"""Scene rules at catalog scale: "scene X for category Y (or these products), profiles A, B".

A rule applies to every product it matches whose main photo has a published cut-out, when
it is saved (`apply_rule`) and whenever such a cut-out is published later
(`on_version_status_changed`, connected in catalog.apps). Each application derives a
scene version (catalog.derived) in the template's lineage; one that exists already for the
same cut-out is not made twice.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from catalog.derived import current_cutout, derive_version
from catalog.models import ImageVersion, Product, SourceRole, VersionKind, VersionStatus
from catalog.scenes.models import SceneRule


def matching_products(rule: SceneRule) -> QuerySet[Product]:
    match = Q(pk__in=rule.products.values("pk"))
    if rule.category:
        match |= Q(category=rule.category)
    return Product.objects.filter(match)


def rules_for(product: Product) -> QuerySet[SceneRule]:
    """The enabled rules that match `product`."""
    match = Q(products=product)
    if product.category:
        match |= Q(category=product.category)
    return SceneRule.objects.filter(match, enabled=True).select_related("template").distinct()


# A scene of the cut-out in one of these states stands: applying the rule again leaves it.
SCENE_STANDS = (*ImageVersion.ACTIVE_STATES, *ImageVersion.REVIEWABLE_STATES, VersionStatus.PUBLISHED)


def derive_scene(cutout: ImageVersion, rule: SceneRule) -> ImageVersion | None:
    """`cutout` (a published cut-out) in the rule's template, queued; None when that scene
    exists already (queued, in progress, flagged or published) and was made with the
    template's current markings. One made before the template was marked again is made anew."""
    template = rule.template
    existing = (
        ImageVersion.objects.filter(
            source_id=cutout.source_id,
            lineage=template.lineage,
            derived_from=cutout,
            status__in=SCENE_STANDS,
        )
        .order_by("-number")
        .first()
    )
    if existing is not None:
        made_with = (existing.options or {}).get("recipe", {}).get("template_revision")
        if made_with == template.revision or existing.status in ImageVersion.ACTIVE_STATES:
            return None
    return derive_version(
        cutout,
        VersionKind.SCENE,
        lineage=template.lineage,
        targets=rule.profiles.all(),
        export_position=rule.export_position,
        options={"recipe": {"template_revision": template.revision}},
        scene_template=template,
        scene_rule=rule,
        force=existing is not None,
    )


def _main_cutouts(products: QuerySet[Product]) -> list[ImageVersion]:
    """The newest published cut-out of each product's main photos."""
    versions = (
        ImageVersion.objects.filter(
            kind=VersionKind.CUTOUT,
            status=VersionStatus.PUBLISHED,
            source__product__in=products,
            source__role=SourceRole.MAIN,
        )
        .select_related("source__product")
        .order_by("source_id", "-number")
    )
    newest: dict[Any, ImageVersion] = {}
    for version in versions:
        newest.setdefault(version.source_id, version)
    return list(newest.values())


def apply_rule(rule: SceneRule) -> list[ImageVersion]:
    """Derive the rule's scene for every matching product's published main photo now; the
    scene versions made (those that existed already are left alone)."""
    if not rule.enabled:
        return []
    made = []
    for cutout in _main_cutouts(matching_products(rule)):
        with transaction.atomic():
            version = derive_scene(cutout, rule)
        if version is not None:
            made.append(version)
    return made


def apply_rules_to(version_id: Any) -> list[ImageVersion]:
    """The matching rules' scenes of a newly published cut-out of a main photo."""
    cutout = current_cutout_by_id(version_id)
    if cutout is None:
        return []
    made = []
    for rule in rules_for(cutout.source.product):
        with transaction.atomic():
            version = derive_scene(cutout, rule)
        if version is not None:
            made.append(version)
    return made


def current_cutout_by_id(version_id: Any) -> ImageVersion | None:
    version = (
        ImageVersion.objects.filter(pk=version_id, kind=VersionKind.CUTOUT, status=VersionStatus.PUBLISHED)
        .select_related("source__product")
        .first()
    )
    if version is None or version.source.role != SourceRole.MAIN:
        return None
    newest = current_cutout(version.source_id)
    return version if newest is not None and newest.pk == version.pk else None


def on_version_status_changed(sender: Any, version: ImageVersion, status: str, **kwargs: Any) -> None:
    """A cut-out just published: its product's scene rules apply to it once the commit lands."""
    if status != VersionStatus.PUBLISHED or version.kind != VersionKind.CUTOUT:
        return
    version_id = version.pk
    # robust: a rule that cannot be applied is logged, never fails the render that published.
    transaction.on_commit(lambda: apply_rules_to(version_id), robust=True)
