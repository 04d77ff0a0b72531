"""Files arriving in a batch: decide the product for each, store it, queue it.

One file at a time from the browser (`receive_file`), or a whole ZIP in the
background (`import_archive`, an RQ job, so a 500-file archive never holds a web
request open). A file that cannot be taken fails alone with its reason on the
batch; the others go through.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from catalog.intake.archive import ArchiveRefused, SkippedMember, iter_archive, read_manifest
from catalog.intake.naming import Manifest, ManifestRow, parse_manifest, placement_from_name
from catalog.models import ImageVersion, Product, SourceRole, UploadBatch, sku_validator
from catalog.uploads import UploadRefused, add_photo
from lightbox import jobs

logger = logging.getLogger("lightbox.intake")
MAX_MANIFEST_BYTES = 5 * 1024 * 1024


class CatalogSkus:
    """`sku in CatalogSkus()` asks the database, once per SKU: the file-name rules only
    ever test a couple of candidates per file, so the catalog is never loaded."""

    def __init__(self) -> None:
        self._seen: dict[str, bool] = {}

    def __contains__(self, sku: object) -> bool:
        if not isinstance(sku, str):
            return False
        if sku not in self._seen:
            self._seen[sku] = Product.objects.filter(sku=sku).exists()
        return self._seen[sku]


def product_for(sku: str, row: ManifestRow | None = None, *, title: str = "") -> Product:
    """The product for an upload's SKU, made on first sight with the manifest's (or the
    given) title, brand and category; an invalid SKU is refused with a readable reason.
    Every way in (upload page, ZIP, manifest, URL, API) finds or makes products here, so
    two uploads racing to create one SKU both get the same product."""
    try:
        sku_validator(sku)
    except ValidationError:
        raise UploadRefused(f"{sku!r} is not a valid SKU (letters, digits, . _ - only).") from None
    title = (row.title if row else "") or title
    defaults = {"title": (title or sku)[:255]}
    if row:
        defaults.update(brand=row.brand[:120], category=row.category[:120])
    try:
        with transaction.atomic():
            product, created = Product.objects.get_or_create(sku=sku, defaults=defaults)
    except IntegrityError:  # created by a parallel upload a moment ago
        product, created = Product.objects.get(sku=sku), False
    if not created and title and product.title == product.sku:
        Product.objects.filter(pk=product.pk).update(title=title[:255])
    return product


def receive_file(
    batch: UploadBatch,
    filename: str,
    data: bytes,
    *,
    sku: str = "",
    title: str = "",
    role: str = "",
    manifest: Manifest | None = None,
) -> ImageVersion:
    """Store one photo in `batch` and queue it. Raises UploadRefused with the reason.

    The product comes from, in order: the SKU chosen for the file, the manifest row
    for its name, the file-name conventions (README, "Bulk uploads").
    """
    row = manifest.lookup(filename) if manifest else None
    placement = placement_from_name(filename, known_skus=CatalogSkus())  # type: ignore[arg-type]
    if sku:
        chosen_sku, chosen_role, position = sku, role or SourceRole.MAIN, None
        if not (row and row.sku == sku):
            row = ManifestRow(file=filename, sku=sku, title=title)
    elif row:
        chosen_sku, chosen_role, position = row.sku, row.role, row.position
    elif placement:
        chosen_sku, chosen_role, position = placement.sku, placement.role, placement.position
    else:
        raise UploadRefused("No SKU: choose one for this file, name it SKU.jpg, or list it in a manifest.")
    product = product_for(chosen_sku, row)
    return add_photo(batch, product, PurePosixPath(filename).name, data, role=chosen_role, position=position)


def manifest_of(batch: UploadBatch) -> Manifest | None:
    if not batch.manifest:
        return None
    rows = {name: ManifestRow(**fields) for name, fields in batch.manifest.items()}
    return Manifest(rows=rows, errors=[])


def store_manifest(batch: UploadBatch, data: bytes) -> Manifest:
    """Parse a CSV manifest and keep its rows on the batch; bad rows become batch errors."""
    manifest = parse_manifest(data)
    UploadBatch.objects.filter(pk=batch.pk).update(
        manifest={name: asdict(row) for name, row in manifest.rows.items()}
    )
    batch.record_refusals([("manifest.csv", error) for error in manifest.errors])
    batch.refresh_from_db()
    return manifest


def receive_archive(batch: UploadBatch, upload: Any) -> str:
    """Keep the ZIP in storage and import it in the background (after commit)."""
    name = default_storage.save(f"archives/{batch.pk}.zip", upload)
    jobs.queue_archive_import(batch, name, stem=PurePosixPath(name).stem)
    return name


def _archive_manifest(fh) -> bytes | None:
    """The first CSV in the archive, read before the photos so every photo can use it: only
    after the archive's guards, and never more than MAX_MANIFEST_BYTES inflated."""
    try:
        found = read_manifest(fh, MAX_MANIFEST_BYTES)
    except ArchiveRefused:
        return None  # iter_archive below refuses the archive with its reason
    finally:
        fh.seek(0)
    return found[1] if found else None


def import_archive(batch_id: str, archive_name: str) -> str:
    """Read a stored ZIP into the batch, one member at a time: each photo becomes a
    queued version, each skipped member a reason on the batch."""
    batch = UploadBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return "missing"
    if not default_storage.exists(archive_name):
        return "archive already imported"
    received = skipped = 0
    with default_storage.open(archive_name, "rb") as fh:
        manifest_data = _archive_manifest(fh)
        manifest = store_manifest(batch, manifest_data) if manifest_data else manifest_of(batch)
        try:
            for item in iter_archive(fh):  # type: ignore[arg-type]
                if isinstance(item, SkippedMember):
                    batch.record_refusal(item.name, item.reason)
                    skipped += 1
                    continue
                if item.name.lower().endswith(".csv"):
                    continue
                try:
                    receive_file(batch, item.name, item.data, manifest=manifest)
                    batch.record_accepted()
                    received += 1
                except UploadRefused as exc:
                    batch.record_refusal(item.name, str(exc))
        except ArchiveRefused as exc:
            batch.record_refusal(PurePosixPath(archive_name).name, str(exc))
    batch.close()
    default_storage.delete(archive_name)
    logger.info("import_archive %s: %d received, %d skipped", batch_id, received, skipped)
    return "imported"
