"""RQ entry point for exports: an id in, the row claimed, the file written, the outcome on the row.

Products are taken in chunks of CHUNK: each chunk is selected (a constant number of
queries), written, and counted on the row, so the progress bar moves while a big
export runs and memory holds one chunk of rows at a time. The file is written to a
temporary file and handed to storage at the end.

An export that produces nothing (no product matches any more, or every product was
left out) FAILS with the reason and the skipped list: an empty file would look like
success to someone who then uploads it. Any other error fails it with the message;
it is not retried, since the person watching can run it again.

Shopify push: the whole selection is built first and the progress total becomes its
number of images; then catalog.shopify.jobs records one push item per image and queues
one job per product, and the last of those finishes the export (this job only starts it).
A database error is not the export's fault: the row stays RUNNING and the sweeper runs
it again.
"""

from __future__ import annotations

import io
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.core.files import File
from django.db import DatabaseError
from django.utils import timezone

from catalog.exports import amazon, shopify_csv
from catalog.exports.models import Export, ExportKind, ExportStatus
from catalog.exports.selection import ScopeError, Selection, products_in_scope, select
from catalog.models import Product

logger = logging.getLogger("lightbox.jobs")

CHUNK = 100
SHOPIFY_PROFILE = "shopify"


def run_export(export_id: str) -> str:
    """Run a QUEUED export to the end; safe to run twice (the second run finds nothing to do)."""
    export = Export.objects.filter(pk=export_id).first()
    if export is None:
        return "missing"
    if export.status != ExportStatus.QUEUED:
        return f"nothing to do ({export.status})"
    started = time.perf_counter()
    try:
        ids = list(products_in_scope(export.scope).values_list("pk", flat=True))
    except ScopeError as exc:
        export.fail(str(exc))
        return "failed"
    runner = _RUNNERS.get(export.kind)
    if runner is None:
        export.fail(f"Unknown export kind {export.kind!r}.")
        return "failed"
    if not export.start(len(ids)):
        return "taken by another run"
    try:
        outcome = runner(export, ids)
    except DatabaseError:
        # The database went away mid-run: nothing can be recorded now. The row stays
        # RUNNING and the sweeper runs the export again once it is back.
        logger.exception("run_export %s stopped: the database is unavailable", export_id)
        raise
    except Exception as exc:  # every outcome goes on the row, where people look for it
        logger.exception("run_export %s stopped", export_id)
        export.fail(f"The export stopped with an error: {exc}")
        outcome = "failed"
    logger.info(
        "run_export %s %s %s products=%d total=%dms",
        export_id,
        export.kind,
        outcome,
        len(ids),
        (time.perf_counter() - started) * 1000,
    )
    return outcome


def _chunks(ids: list[int]) -> Iterator[list[Product]]:
    for start in range(0, len(ids), CHUNK):
        yield list(Product.objects.filter(pk__in=ids[start : start + CHUNK]).order_by("sku"))


def _selections(ids: list[int], **profiles: Any) -> Iterator[tuple[int, Selection]]:
    for chunk in _chunks(ids):
        yield len(chunk), select(chunk, **profiles)


def _shopify_csv(export: Export, ids: list[int]) -> str:
    skipped: list[dict[str, Any]] = []
    with tempfile.TemporaryFile() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = shopify_csv.ShopifyCsvWriter(text)
        for size, selection in _selections(ids, main_profile=SHOPIFY_PROFILE, additional_profile=None):
            skipped += selection.skipped
            for item in selection.products:
                skipped += writer.add(item)
            export.advance(size)
        text.flush()
        text.detach()  # the temporary file stays open for storage to copy
        if not writer.products:
            return _nothing_exported(export, ids, skipped)
        _store(export, raw, f"shopify-products-{_stamp()}.csv")
    return _succeed(export, ids, writer.products, writer.images, skipped)


def _amazon_zip(export: Export, ids: list[int]) -> str:
    skipped: list[dict[str, Any]] = []
    profiles = {
        "main_profile": amazon.MAIN_PROFILE,
        "additional_profile": amazon.ADDITIONAL_PROFILE,
        "swatch_profile": amazon.swatch_profile(),
    }
    with tempfile.TemporaryFile() as raw:
        writer = amazon.AmazonZipWriter(raw)
        try:
            for size, selection in _selections(ids, **profiles):
                skipped += selection.skipped
                for item in selection.products:
                    skipped += writer.add(item)
                export.advance(size)
        except BaseException:
            writer.abort()
            raise
        writer.finish(skipped)
        if not writer.products:
            return _nothing_exported(export, ids, skipped)
        _store(export, raw, f"amazon-images-{_stamp()}.zip")
    return _succeed(export, ids, writer.products, writer.images, skipped)


def _full_selection(ids: list[int]) -> Selection:
    selection = Selection()
    for _, part in _selections(ids, main_profile=SHOPIFY_PROFILE, additional_profile=None):
        selection.products += part.products
        selection.skipped += part.skipped
    return selection


def _shopify_push(export: Export, ids: list[int]) -> str:
    from catalog.shopify.client import ShopifyError
    from catalog.shopify.connection import client_for, connected_store
    from catalog.shopify.jobs import start_push

    selection = _full_selection(ids)
    # The push counts images, not products (Shopify is slow enough that a moving bar
    # matters): the total becomes the number of images, still guarded by the status.
    # What the selection left out is kept on the row now; the push adds its own at the end.
    Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
        progress_total=selection.image_count,
        progress_done=0,
        skipped=selection.skipped,
        summary={"products_in_scope": len(ids)},
    )
    if not selection.products:
        return _nothing_exported(export, ids, selection.skipped)
    try:
        client_for(connected_store())
    except ShopifyError as exc:  # its messages are written for the person pushing
        export.fail(str(exc), selection.skipped)
        return "failed"
    export.refresh_from_db()
    # One job per product from here (catalog.shopify.jobs); the last one finishes the export.
    left = start_push(export, selection)
    return f"pushing {left} images"


_RUNNERS: dict[str, Callable[[Export, list[int]], str]] = {
    ExportKind.SHOPIFY_CSV: _shopify_csv,
    ExportKind.AMAZON_ZIP: _amazon_zip,
    ExportKind.SHOPIFY_PUSH: _shopify_push,
}


def _summary(ids: list[int], products: int, images: int, skipped: list) -> dict[str, int]:
    return {"products_in_scope": len(ids), "products": products, "images": images, "skipped": len(skipped)}


def _succeed(export: Export, ids: list[int], products: int, images: int, skipped: list) -> str:
    summary = _summary(ids, products, images, skipped)
    summary["bytes"] = export.file.size if export.file else 0
    return "succeeded" if export.succeed(summary, skipped) else "state moved on"


def _nothing_exported(export: Export, ids: list[int], skipped: list) -> str:
    if not ids:
        error = "No products match this export any more (they may have been deleted), so there is no file."
    else:
        error = (
            f"Nothing could be exported: all {len(ids)} product(s) were left out. "
            "The list below says why for each one."
        )
    export.fail(error, skipped)
    return "failed"


def _store(export: Export, fileobj: IO[bytes], filename: str) -> None:
    """Hand the finished file to storage (copied in chunks) and point the row at it."""
    fileobj.seek(0)
    name = export.file.field.generate_filename(export, filename)
    stored = export.file.storage.save(name, File(fileobj, name=filename))
    Export.objects.filter(pk=export.pk).update(file=stored)
    export.file.name = stored


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M%S")
