"""Photos imported from a web address: fetched behind the SSRF rules, then taken in exactly
like a browser upload (catalog.uploads.add_photo: same header check, size limit, duplicate
check, storage and queueing), so a URL is never a way around the upload rules.

Fetching can take LIGHTBOX_URL_IMPORT_TIMEOUT seconds (20 by default), too long for a web
request: `start_url_import` checks the URL at once and fetches in an RQ job
(`import_url_job`), which records a refusal on the batch with its reason, as ZIP imports do.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.intake.models import IntakeJob
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
            raise UploadRefused(f"Unknown image role {role!r}: choose main, alternate, swatch or inner.")
        fetched = outbound.fetch_image(url)
        version = take_in_fetched(batch, product, fetched, role=role, position=position)
    except IMPORT_ERRORS as exc:
        batch.record_refusal(redacted(url), str(exc))
        raise
    finally:
        if own_batch:
            batch.close()
    logger.info("import_from_url %s: %s -> %s v%s", batch.pk, _for_log(url), product.sku, version.number)
    return version


def take_in_fetched(
    batch: UploadBatch, product: Product, fetched: Any, *, role: str, position: int | None = None
) -> ImageVersion:
    """A fetched photo into `product` through the upload rules, counted on the batch as
    accepted. Raises UploadRefused (the caller records the refusal)."""
    if role not in SourceRole.values:
        # Checked here: the database constraint would surface as a misleading "duplicate".
        raise UploadRefused(f"Unknown image role {role!r}: choose main, alternate, swatch or inner.")
    version = add_photo(batch, product, fetched.filename, fetched.data, role=role, position=position)
    batch.record_accepted()
    return version


def _for_log(url: str) -> str:
    """The URL without its query (or user and password): signed CDN links carry their
    credentials there."""
    return redacted(url)


def start_url_import(
    batch: UploadBatch, url: str, *, sku: str, user: Any = None, role: str = "", close: bool = True
) -> str:
    """Check `url` now (UnsafeURL / FetchFailed for the caller to show at once), record the
    import (an IntakeJob) and fetch it in the background into `sku`'s product (created if
    new, as a browser upload with a chosen SKU would). Returns the RQ job's id. The job is
    queued after the surrounding transaction commits, on the batch's priority queue.

    `close=True` closes the batch when the import is done (one URL per batch, like one
    ZIP per batch); enqueueing several URLs into one batch, pass close=False and close it
    once they are all done.
    """
    outbound.check_url(url)
    intake = IntakeJob.objects.create(
        batch=batch,
        kind=IntakeJob.Kind.URL,
        url=url,
        params={"sku": sku, "user_id": getattr(user, "pk", None), "role": role, "close": close},
    )
    jobs.queue_url_import(intake)
    return intake.rq_job_id


def import_url_job(intake_id: str) -> str:
    """Fetch one recorded URL import into its batch (RQ job, an id in): "imported", "refused"
    (the reason is on the batch) or "missing". The fetch happens outside any transaction;
    taking the photo in, counting it on the batch and ending the import commit together, so
    a run killed anywhere is either finished or fetched again by the next run, never taken
    in twice. A refusal is final and not retried."""
    intake = IntakeJob.objects.select_related("batch").filter(pk=intake_id).first()
    if intake is None:
        return "missing"
    token = intake.claim()
    if token is None:
        return f"nothing to do ({intake.status})"
    batch, params, url = intake.batch, intake.params, intake.url
    user_id = params.get("user_id")
    get_user_model().objects.filter(pk=user_id).first() if user_id else None
    fetched = refusal = None
    try:
        product = product_for(str(params.get("sku") or ""))
        fetched = outbound.fetch_image(url)
    except IMPORT_ERRORS as exc:
        refusal = str(exc)
    with transaction.atomic():
        if not intake.finish(token):
            return "taken over"
        if fetched is not None:
            try:
                version = take_in_fetched(batch, product, fetched, role=params.get("role") or SourceRole.MAIN)
            except UploadRefused as exc:
                refusal = str(exc)
            else:
                logger.info(
                    "import_url_job %s: %s -> %s v%s", batch.pk, _for_log(url), product.sku, version.number
                )
        if refusal is not None:
            batch.record_refusal(redacted(url), refusal)
            logger.info("import_url_job %s: %s refused: %s", batch.pk, _for_log(url), refusal)
        if params.get("close", True):
            batch.close()
    return "refused" if refusal is not None else "imported"
