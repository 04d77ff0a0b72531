"""Photos imported from a web address: fetched behind the SSRF rules, then taken in exactly
like a browser upload (catalog.uploads.add_photo: same header check, size limit, duplicate
check, storage and queueing), so a URL is never a way around the upload rules.

Fetching can take LIGHTBOX_URL_IMPORT_TIMEOUT seconds (20 by default), too long for a web
request: `start_url_import` checks the URL at once and fetches in an RQ job
(`import_url_job`), which records a refusal on the batch with its reason, as ZIP imports do.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.contrib.auth import get_user_model

from catalog.intake.service import product_for
from catalog.models import ImageVersion, Product, SourceRole, UploadBatch
from catalog.uploads import UploadRefused, add_photo, create_batch
from lightbox import jobs, outbound
from lightbox.outbound import FetchFailed, UnsafeURL, redacted

logger = logging.getLogger("lightbox.intake")
# What a URL import can fail with; every one carries a message for the merchandiser.
IMPORT_ERRORS = (UnsafeURL, FetchFailed, UploadRefused)


def import_from_url(
    url: str,
    *,
    product: Product,
    user: Any,
    batch: UploadBatch | None = None,
    role: str = SourceRole.MAIN,
    position: int | None = None,
) -> ImageVersion:
    """Fetch the photo at `url` and add it to `product`; returns the queued ImageVersion
    (its `.source` is the new SourceImage). Raises UnsafeURL, FetchFailed or UploadRefused.

    The outcome is counted on the batch here (accepted, or refused with the reason, the
    URL standing in for the file name): callers must not count it again. Without a batch,
    one is made for this photo (source API, created by `user`) and closed afterwards.
    Call it outside a transaction: it holds no lock while fetching, and the processing job
    is queued when add_photo's transaction commits.
    """
    own_batch = batch is None
    if batch is None:
        batch = create_batch(user, source=UploadBatch.Source.API, name=f"{product.sku} from URL"[:200])
    try:
        if role not in SourceRole.values:
            # Checked here: the database constraint would surface as a misleading "duplicate".
            raise UploadRefused(f"Unknown image role {role!r}: choose main, alternate or swatch.")
        fetched = outbound.fetch_image(url)
        version = add_photo(batch, product, fetched.filename, fetched.data, role=role, position=position)
    except IMPORT_ERRORS as exc:
        batch.record_refusal(redacted(url), str(exc))
        raise
    else:
        batch.record_accepted()
    finally:
        if own_batch:
            batch.close()
    logger.info("import_from_url %s: %s -> %s v%s", batch.pk, _for_log(url), product.sku, version.number)
    return version


def _for_log(url: str) -> str:
    """The URL without its query (or user and password): signed CDN links carry their
    credentials there."""
    return redacted(url)


def start_url_import(
    batch: UploadBatch, url: str, *, sku: str, user: Any = None, role: str = "", close: bool = True
) -> str:
    """Check `url` now (UnsafeURL / FetchFailed for the caller to show at once) and import
    it in the background into `sku`'s product (created if new, as a browser upload with a
    chosen SKU would). Returns the job id. The job is queued after the surrounding
    transaction commits, on the batch's priority queue.

    `close=True` closes the batch when the import is done (one URL per batch, like one
    ZIP per batch); enqueueing several URLs into one batch, pass close=False and close it
    once they are all done.
    """
    outbound.check_url(url)
    digest = hashlib.sha256(f"{sku}\n{url}".encode()).hexdigest()[:16]
    return jobs.queue_url_import(
        batch, url, sku=sku, user_id=getattr(user, "pk", None), role=role, close=close, digest=digest
    )


def import_url_job(
    batch_id: str, url: str, sku: str, user_id: int | None = None, role: str = "", close: bool = True
) -> str:
    """Fetch one URL into the batch (RQ job, ids in): "imported", "refused" (the reason is
    on the batch) or "missing" (the batch is gone). Not retried: a refusal is final, and a
    second run of an import that went through would only be refused as a duplicate."""
    batch = UploadBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return "missing"
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    outcome = "imported"
    try:
        product = product_for(sku)
    except UploadRefused as exc:
        batch.record_refusal(redacted(url), str(exc))
        outcome = "refused"
    else:
        try:
            import_from_url(url, product=product, user=user, batch=batch, role=role or SourceRole.MAIN)
        except IMPORT_ERRORS as exc:
            outcome = "refused"  # already recorded on the batch by import_from_url
            logger.info("import_url_job %s: %s refused: %s", batch_id, _for_log(url), exc)
    if close:
        batch.close()
    return outcome
