"""What an export holds: which images of which products, and why the others are left out.

Every export (Shopify CSV, Amazon ZIP, Shopify push) draws from here, so the rules
are the same everywhere:

- a product's photos in position order, its main photo first (the first photo with
  the Main role, else the first that is not a swatch), then the others, swatches last;
- for each photo its newest PUBLISHED version (a newer one still in review does not
  hide a published one);
- for each such version the newest rendition for the channel's profile: the main
  profile for the main photo, the additional profile for the others (falling back to
  the main profile, whose rules are the stricter ones, for a second photo uploaded
  with the Main role), the swatch profile for swatches;
- only renditions that passed their compliance checks, and never for a profile the
  version is blocked on (processing.publishing: a photo below the profile's minimum, or a
  rendition that failed its checks), whose reason is given instead.

- derived masters (catalog.derived: lifestyle scenes, ghost mannequin) of a photo, its
  newest published version per lineage that targets one of the channel's profiles, at
  the position their rule gives (2: Amazon PT01, Shopify image 2), never after the
  swatches; only for a product whose main image is exported. Position 1 (a ghost
  mannequin whose category asks to replace the main image) takes the main photo's place
  when it has a usable rendition for the main profile, else it comes second;
- inner shots (the inside of a garment, used by its ghost mannequin) are never exported.

Whatever is left out goes into `skipped` with a reason a merchandiser can act on.
`select` costs four queries whatever the number of products (sources, versions of
every kind, renditions, blocked channels, each by IN lists), so 1,000 products with 5 photos each
stay fast.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from catalog.models import (
    BlockedChannel,
    ImageVersion,
    Product,
    Rendition,
    SourceImage,
    SourceRole,
    VersionKind,
    VersionStatus,
)
from catalog.public_urls import public_url

MAIN = "main"
ADDITIONAL = "additional"
SWATCH = "swatch"

# Shopify's limit for the alt text column; Amazon takes none.
ALT_TEXT_MAX = 512
# Keeps the IN lists of one query at a size PostgreSQL plans well.
_IN_CHUNK = 5000


class ScopeError(ValueError):
    """A scope that does not say which products to export."""


@dataclass(frozen=True)
class ExportImage:
    position: int  # 1-based place in the product's exported images
    role: str  # MAIN | ADDITIONAL | SWATCH
    rendition: Rendition  # .version and .version.source are loaded; no query on access
    alt_text: str
    url: str  # public_url(rendition)


@dataclass(frozen=True)
class ExportProduct:
    product: Product
    images: list[ExportImage]


@dataclass
class Selection:
    products: list[ExportProduct] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {"sku", "image", "reason"}

    @property
    def image_count(self) -> int:
        return sum(len(p.images) for p in self.products)


def skip_entry(sku: str, image: str, reason: str) -> dict[str, str]:
    return {"sku": sku, "image": image, "reason": reason}


def image_label(source: SourceImage) -> str:
    """How a merchandiser recognises a photo in a skipped list."""
    return f"photo {source.position} ({source.original_filename})"


# --- scope ----------------------------------------------------------------------


def products_in_scope(scope: dict[str, Any]) -> QuerySet[Product]:
    """The products a scope names, by SKU. Raises ScopeError for a scope that names none
    of the four kinds, or names one wrongly."""
    from catalog.filters import ProductFilter

    if not isinstance(scope, dict) or len(scope) != 1:
        raise ScopeError(
            "An export needs exactly one of: a list of products, the product list's filters, "
            "a batch or a product."
        )
    ((kind, value),) = scope.items()
    products = Product.objects.order_by("sku")
    if kind == "products":
        if not isinstance(value, list) or not value or not all(_is_id(v) for v in value):
            raise ScopeError("Select at least one product to export.")
        return products.filter(pk__in=[int(v) for v in value])
    if kind == "product":
        if not _is_id(value):
            raise ScopeError("The product to export is not a valid product id.")
        return products.filter(pk=int(value))
    if kind == "batch":
        try:
            batch_id = uuid.UUID(str(value))
        except ValueError:
            raise ScopeError("The batch to export is not a valid batch id.") from None
        return products.filter(Exists(SourceImage.objects.filter(product=OuterRef("pk"), batch_id=batch_id)))
    if kind == "filters":
        if not isinstance(value, dict):
            raise ScopeError("The product list's filters must be given as a mapping.")
        form = ProductFilter({k: v for k, v in value.items() if k != "page"})
        if not form.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items()
            )
            raise ScopeError(f"The product list's filters are not valid ({problems}).")
        return form.apply(products)
    raise ScopeError(f"Unknown export scope {kind!r}: use products, filters, batch or product.")


def _is_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value > 0) or (
        isinstance(value, str) and value.isdigit() and int(value) > 0
    )


# --- selection --------------------------------------------------------------------


def select(
    products: Iterable[Product],
    *,
    main_profile: str,
    additional_profile: str | None,
    swatch_profile: str | None = None,
) -> Selection:
    """The exportable images of `products` for a channel's profiles (slugs), in order.

    A product none of whose images qualifies is not in `products` of the result; its
    images (or "no photos") are in `skipped`.
    """
    products = list(products)
    sources = _chunked(
        lambda ids: SourceImage.objects.filter(product_id__in=ids).order_by(
            "product_id", "position", "uploaded_at"
        ),
        [p.pk for p in products],
    )
    slugs = [s for s in (main_profile, additional_profile, swatch_profile) if s]
    derived_slugs = [s for s in (additional_profile, main_profile) if s]
    targets = ImageVersion.targets.through.objects.filter(
        imageversion_id=OuterRef("pk"), marketplaceprofile__slug__in=derived_slugs
    )
    versions = _chunked(
        lambda ids: (
            ImageVersion.objects.filter(source_id__in=ids)
            .only("id", "source_id", "number", "status", "error", "kind", "lineage", "export_position")
            .annotate(on_channel=Exists(targets))
            .order_by("source_id", "lineage", "-number")
        ),
        [s.pk for s in sources],
    )
    newest: dict[uuid.UUID, ImageVersion] = {}
    published: dict[uuid.UUID, ImageVersion] = {}
    derived_rows = []
    for version in versions:  # newest first per source and lineage
        if version.kind != VersionKind.CUTOUT:
            derived_rows.append(version)
            continue
        newest.setdefault(version.source_id, version)
        if version.status == VersionStatus.PUBLISHED:
            published.setdefault(version.source_id, version)
    derived = _derived_versions(derived_rows)
    with_images = [*published.values(), *(v for vs in derived.values() for v in vs)]
    renditions: dict[tuple[uuid.UUID, str], Rendition] = {}
    for rendition in _chunked(
        lambda ids: (
            Rendition.objects.filter(version_id__in=ids, profile__slug__in=slugs)
            .select_related("profile")
            .order_by("version_id", "-created_at")
        ),
        [v.pk for v in with_images],
    ):
        renditions.setdefault((rendition.version_id, rendition.profile.slug), rendition)
    blocked: dict[tuple[uuid.UUID, str], BlockedChannel] = {
        (block.version_id, block.profile.slug): block
        for block in _chunked(
            lambda ids: BlockedChannel.objects.filter(
                version_id__in=ids, profile__slug__in=slugs
            ).select_related("profile"),
            [v.pk for v in with_images],
        )
    }

    by_product: dict[int, list[SourceImage]] = defaultdict(list)
    for source in sources:
        by_product[source.product_id].append(source)

    profiles_for = {
        MAIN: [main_profile],
        ADDITIONAL: [p for p in (additional_profile, main_profile) if p],
        SWATCH: [p for p in (swatch_profile, additional_profile, main_profile) if p],
    }
    selection = Selection()
    for product in products:
        product_sources = by_product.get(product.pk, [])
        if not product_sources:
            selection.skipped.append(skip_entry(product.sku, "", "no photos"))
            continue
        images: list[ExportImage] = []
        alt_text = alt_text_for(product)
        for role, source in ordered_sources(product_sources):
            source.product = product
            ghost = (
                _main_replacement(source, derived, renditions, blocked, main_profile)
                if role == MAIN
                else None
            )
            if ghost is not None:
                images.append(ExportImage(1, MAIN, ghost, alt_text, public_url(ghost)))
                continue
            version = published.get(source.pk)
            if version is None:
                selection.skipped.append(
                    skip_entry(product.sku, image_label(source), unpublished_reason(newest.get(source.pk)))
                )
                continue
            version.source = source
            wanted = profiles_for[role]
            usable = [(version.pk, slug) for slug in wanted if (version.pk, slug) not in blocked]
            rendition = next((renditions[key] for key in usable if key in renditions), None)
            block = next(
                (blocked[(version.pk, slug)] for slug in wanted if (version.pk, slug) in blocked), None
            )
            if rendition is None and block is not None:
                reason = block.left_out_reason()
            elif rendition is None and role == SWATCH and not swatch_profile:
                reason = "swatch photos are not exported here (the channel has no swatch profile)"
            else:
                reason = _rendition_problem(rendition, wanted[0])
            if reason:
                selection.skipped.append(skip_entry(product.sku, image_label(source), reason))
                continue
            rendition.version = version
            images.append(
                ExportImage(
                    position=len(images) + 1,
                    role=role,
                    rendition=rendition,
                    alt_text=alt_text,
                    url=public_url(rendition),
                )
            )
        if images and images[0].role == MAIN:
            images = _with_derived(
                images,
                product,
                product_sources,
                derived,
                renditions,
                blocked,
                alt_text,
                selection,
                [s for s in (additional_profile, main_profile) if s],
            )
        if images:
            selection.products.append(ExportProduct(product=product, images=images))
    return selection


def _main_replacement(
    source: SourceImage,
    derived: dict[uuid.UUID, list[ImageVersion]],
    renditions: dict[tuple[uuid.UUID, str], Rendition],
    blocked: dict[tuple[uuid.UUID, str], BlockedChannel],
    main_profile: str,
) -> Rendition | None:
    """The rendition of a derived master that takes the main photo's place (export position 1:
    a ghost mannequin whose category asks for it), when it has a usable one for the main
    profile; it is then taken out of `derived`. Otherwise None, and the derived master is
    placed second like any other."""
    for version in derived.get(source.pk, []):
        if version.export_position != 1:
            continue
        key = (version.pk, main_profile)
        rendition = renditions.get(key)
        if key in blocked or rendition is None or _rendition_problem(rendition, main_profile):
            return None
        derived[source.pk] = [v for v in derived[source.pk] if v.pk != version.pk]
        version.source = source
        rendition.version = version
        return rendition
    return None


def _derived_versions(rows: list[ImageVersion]) -> dict[uuid.UUID, list[ImageVersion]]:
    """Source id → its derived versions to export: of `rows` (newest first per lineage), the
    newest published one of each lineage that targets the channel, in export position order."""
    newest: dict[tuple[uuid.UUID, str], ImageVersion] = {}
    for version in rows:
        if version.status == VersionStatus.PUBLISHED and getattr(version, "on_channel", False):
            newest.setdefault((version.source_id, version.lineage), version)
    by_source: dict[uuid.UUID, list[ImageVersion]] = defaultdict(list)
    for version in sorted(newest.values(), key=lambda v: (v.export_position or 99, v.lineage)):
        by_source[version.source_id].append(version)
    return by_source


def _with_derived(
    images: list[ExportImage],
    product: Product,
    sources: list[SourceImage],
    derived: dict[uuid.UUID, list[ImageVersion]],
    renditions: dict[tuple[uuid.UUID, str], Rendition],
    blocked: dict[tuple[uuid.UUID, str], BlockedChannel],
    alt_text: str,
    selection: Selection,
    wanted: list[str],
) -> list[ExportImage]:
    """`images` with the product's derived masters put in at their export positions."""
    placed: list[tuple[int, Rendition]] = []
    for source in sources:
        for version in derived.get(source.pk, []):
            version.source = source
            label = f"{version.get_kind_display().lower()} of {image_label(source)}"
            rendition = next(
                (renditions[(version.pk, s)] for s in wanted if (version.pk, s) in renditions), None
            )
            block = next((blocked[(version.pk, s)] for s in wanted if (version.pk, s) in blocked), None)
            if rendition is None and block is not None:
                reason = block.left_out_reason()
            else:
                reason = _rendition_problem(rendition, wanted[0])
            if reason or rendition is None:
                selection.skipped.append(skip_entry(product.sku, label, reason))
                continue
            rendition.version = version
            placed.append((version.export_position or len(images) + 1, rendition))
    if not placed:
        return images
    ordered = list(images)
    swatches_from = next((i for i, image in enumerate(ordered) if image.role == SWATCH), len(ordered))
    for position, rendition in sorted(placed, key=lambda item: item[0]):
        # Never first (the main image is white-background everywhere), never after a swatch.
        index = min(max(position - 1, 1), swatches_from)
        ordered.insert(index, ExportImage(0, ADDITIONAL, rendition, alt_text, public_url(rendition)))
        swatches_from += 1
    return [
        ExportImage(position=n, role=i.role, rendition=i.rendition, alt_text=i.alt_text, url=i.url)
        for n, i in enumerate(ordered, start=1)
    ]


def ordered_sources(sources: list[SourceImage]) -> list[tuple[str, SourceImage]]:
    """(role, source) with the main photo first, then the others in position order, swatches last.

    `sources` must already be in position order.
    """
    # An inner shot (the inside of a garment, for its ghost mannequin) is never exported itself.
    sources = [s for s in sources if s.role != SourceRole.INNER]
    main = next((s for s in sources if s.role == SourceRole.MAIN), None) or next(
        (s for s in sources if s.role != SourceRole.SWATCH), None
    )
    ordered = [(MAIN, main)] if main else []
    ordered += [(ADDITIONAL, s) for s in sources if s is not main and s.role != SourceRole.SWATCH]
    ordered += [(SWATCH, s) for s in sources if s.role == SourceRole.SWATCH]
    return ordered


def alt_text_for(product: Product) -> str:
    """The same rule the renditions' embedded metadata uses (processing.publishing.metadata_for)."""
    return str(product.attributes.get("alt_text") or product.title)[:ALT_TEXT_MAX]


_NOT_PUBLISHED: dict[str, str] = {
    VersionStatus.QUEUED: "not published yet (waiting to be processed)",
    VersionStatus.PROCESSING: "not published yet (being processed)",
    VersionStatus.RENDERING: "not published yet (renditions being made)",
    VersionStatus.FLAGGED: "not published yet (flagged for review)",
    VersionStatus.REJECTED: "not published (rejected in review)",
    VersionStatus.SUPERSEDED: "not published yet (sent back for reprocessing)",
}


def unpublished_reason(latest: ImageVersion | None) -> str:
    if latest is None:
        return "not published yet (not processed)"
    if latest.status == VersionStatus.FAILED:
        return f"not published (processing failed: {latest.error})"
    return _NOT_PUBLISHED.get(latest.status, f"not published yet ({latest.status})")


def _rendition_problem(rendition: Rendition | None, profile: str) -> str:
    if rendition is None:
        return f"no rendition for {profile}"
    if rendition.compliance_passed is None:
        return f"rendition for {rendition.profile.slug} not checked yet"
    if not rendition.compliance_passed:
        return f"rendition failed its checks: {', '.join(failed_checks(rendition)) or 'unknown'}"
    if not rendition.public_key:
        return f"rendition for {rendition.profile.slug} has no public URL yet (render it again)"
    return ""


def failed_checks(rendition: Rendition) -> list[str]:
    """Names of the checks that failed it: the blocking (error-level) ones, else every failed one."""
    checks = [
        c for c in rendition.compliance.get("checks", []) if isinstance(c, dict) and not c.get("passed")
    ]
    blocking = [str(c.get("name")) for c in checks if c.get("severity") == "error"]
    return blocking or [str(c.get("name")) for c in checks]


def _chunked(query, ids: list) -> list:
    rows: list = []
    for start in range(0, len(ids), _IN_CHUNK):
        rows.extend(query(ids[start : start + _IN_CHUNK]))
    return rows
