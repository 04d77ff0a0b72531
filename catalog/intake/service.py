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

from catalog.intake.archive import ArchiveMember, ArchiveRefused, SkippedMember, iter_archive, read_manifest
from catalog.intake.models import IntakeJob
from catalog.intake.naming import Manifest, ManifestRow, parse_manifest, placement_from_name
from catalog.models import ImageVersion, Product, SourceRole, UploadBatch, sku_validator
from catalog.uploads import UploadRefused, add_photo
from lightbox import jobs

logger = logging.getLogger("lightbox.intake")
MAX_MANIFEST_BYTES = 5 * 1024 * 1024
# Entries one run takes in: a 2,000-entry archive is read by several short jobs, each
# continuing from the import's cursor, so none comes near the job timeout.
ARCHIVE_SLICE = 200


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


def receive_archive(batch: UploadBatch, upload: Any) -> IntakeJob:
    """Keep the ZIP in storage, record its import and read it in the background (after commit)."""
    name = default_storage.save(f"archives/{batch.pk}.zip", upload)
    intake = IntakeJob.objects.create(batch=batch, kind=IntakeJob.Kind.ARCHIVE, archive_name=name)
    jobs.queue_archive_import(intake)
    return intake


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


class _LostClaim(Exception):
    """The sweeper gave this run's import to another run (this one was too slow)."""


def import_archive(intake_id: str) -> str:
    """Read a stored ZIP into its batch, one entry at a time, from the import's cursor on:
    each photo becomes a queued version, each skipped entry a reason on the batch, and the
    cursor moves in the same transaction, so a run killed anywhere leaves every entry
    either taken in once or still to read. At most ARCHIVE_SLICE entries per run; the
    next run continues. The batch is closed once the whole archive is read."""
    intake = IntakeJob.objects.select_related("batch").filter(pk=intake_id).first()
    if intake is None:
        return "missing"
    token = intake.claim()
    if token is None:
        return f"nothing to do ({intake.status})"
    if not default_storage.exists(intake.archive_name):
        give_up_import(intake, "The stored ZIP is gone, so it could not be read to the end; upload it again.")
        return "failed"
    try:
        with default_storage.open(intake.archive_name, "rb") as fh:
            manifest = _take_manifest(intake, token, fh)
            read_to_end = _take_entries(intake, token, fh, manifest)
    except _LostClaim:
        return "taken over"
    if not read_to_end:
        if intake.release(token):
            intake.refresh_from_db(fields=["cursor", "attempts"])
            jobs.queue_archive_import(intake)
        return "continued"
    with transaction.atomic():
        finished = intake.finish(token)
        if finished:
            intake.batch.close()
    if finished:
        default_storage.delete(intake.archive_name)
    logger.info("import_archive %s: %d entries into %s", intake_id, intake.cursor, intake.batch_id)
    return "imported" if finished else "taken over"


def _take_manifest(intake: IntakeJob, token: Any, fh: Any) -> Manifest | None:
    if intake.manifest_read:
        return manifest_of(intake.batch)
    data = _archive_manifest(fh)
    with transaction.atomic():
        if not intake.step(token, manifest_read=True):
            raise _LostClaim
        return store_manifest(intake.batch, data) if data else manifest_of(intake.batch)


def _take_entries(intake: IntakeJob, token: Any, fh: Any, manifest: Manifest | None) -> bool:
    """Entries from the cursor on, each with its cursor step in one transaction. True when
    the archive was read to the end, False when the slice is used up."""
    batch = intake.batch
    taken = 0
    try:
        for index, item in enumerate(iter_archive(fh, start=intake.cursor), start=intake.cursor):
            with transaction.atomic():
                if not intake.step(token, cursor=index + 1):
                    raise _LostClaim
                _take_entry(batch, item, manifest)
            intake.cursor = index + 1
            taken += 1
            if taken >= ARCHIVE_SLICE:
                return False
    except ArchiveRefused as exc:
        with transaction.atomic():
            if not intake.step(token):
                raise _LostClaim from None
            batch.record_refusal(PurePosixPath(intake.archive_name).name, str(exc))
    return True


def _take_entry(batch: UploadBatch, item: ArchiveMember | SkippedMember, manifest: Manifest | None) -> None:
    if isinstance(item, SkippedMember):
        batch.record_refusal(item.name, item.reason)
        return
    if item.name.lower().endswith(".csv"):
        return
    try:
        receive_file(batch, item.name, item.data, manifest=manifest)
    except UploadRefused as exc:
        batch.record_refusal(item.name, str(exc))
    else:
        batch.record_accepted()


def give_up_import(intake: IntakeJob, reason: str) -> bool:
    """End an import FAILED with `reason`: the reason goes on the batch as the refusal of
    the archive (or URL), and the batch is closed with what it has, when this import was
    the one to close it. True when this call ended it."""
    with transaction.atomic():
        if not intake.give_up(reason):
            return False
        batch = intake.batch
        # A URL without its query: signed links carry their credentials there.
        label = (
            PurePosixPath(intake.archive_name).name
            if intake.kind == IntakeJob.Kind.ARCHIVE
            else intake.url.split("?", 1)[0][:300]
        )
        batch.record_refusal(label or "import", reason)
        if intake.kind == IntakeJob.Kind.ARCHIVE or intake.params.get("close", True):
            batch.close(reason="An import into it could not finish.")
    return True
