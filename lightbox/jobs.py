"""Every background job Lightbox runs, and the one way each is queued.

Each job function is registered here once, with its queue, its timeout and whether a
failed run is retried (with backoff, up to LIGHTBOX_MAX_ATTEMPTS runs in all). Callers ask
for the work ("process this version", "run this export") through the `queue_*` functions
below and never name a dotted path; the path a worker imports lives only in `JOBS`, and a
test checks that each one resolves to its function.

Queueing happens once the surrounding transaction commits (django-rq's `on_db_commit`
mode: inside `transaction.atomic()` the enqueue waits for the commit, outside it runs at
once), so a worker never looks for a row that is not there yet, and a rollback queues
nothing. Only ids and plain values are sent (the queues use RQ's JSON serializer).

This module imports no app at import time: catalog, processing and the webhooks all queue
through it without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from collections.abc import Callable

    from rq import Retry
    from rq.job import Job as RQJob

# Seconds between tries of a retried job: 10 s, a minute, then five minutes between the rest.
RETRY_INTERVALS = (10, 60, 300)
# Work someone is waiting for (README, "What runs where"); bulk processing goes to the
# batch priority's queue (high, default, low).
INTERACTIVE = "interactive"


@dataclass(frozen=True)
class Job:
    """One registered job: the function a worker runs, where it queues, how it retries.

    `queue` is a queue name, or None when the work's priority picks the queue (a launch
    batch's photos go to `high`). `timeout` None means RQ_JOB_TIMEOUT, which the
    sweeper's stale timeout is derived from.
    """

    path: str
    queue: str | None = "default"
    timeout: int | None = None
    retried: bool = False

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[1]

    def function(self) -> Callable[..., Any]:
        function: Callable[..., Any] = import_string(self.path)
        return function

    def retry(self) -> Retry | None:
        """RQ's retry policy: the runs after the first, up to LIGHTBOX_MAX_ATTEMPTS in all."""
        from rq import Retry

        extra_runs = settings.LIGHTBOX_MAX_ATTEMPTS - 1
        if not self.retried or extra_runs < 1:
            return None
        return Retry(max=extra_runs, interval=list(RETRY_INTERVALS))

    def enqueue(
        self,
        *args: Any,
        job_id: str | None = None,
        priority: int | None = None,
        description: str | None = None,
        at: datetime | None = None,
        after_commit: bool = True,
        queue: str | None = None,
    ) -> RQJob | None:
        """Queue a run with `args` (`priority`: a catalog.models.Priority, for jobs whose queue
        the work's priority picks; `queue` overrides both). The job is returned when it was
        queued at once, None when it waits for the surrounding transaction to commit.
        `after_commit=False` is for callers already running after the commit (an on_commit
        callback)."""
        import django_rq

        queue_name = queue or self.queue or _priority_queue(priority)
        rq_queue = django_rq.get_queue(queue_name, commit_mode="on_db_commit" if after_commit else "auto")
        options: dict[str, Any] = {
            "job_id": job_id,
            "job_timeout": self.timeout or settings.RQ_JOB_TIMEOUT,
            "retry": self.retry(),
            "description": (description or f"{self.name} {job_id or ''}".rstrip())[:200],
        }
        job: RQJob | None = (
            rq_queue.enqueue(self.path, *args, **options)
            if at is None
            else rq_queue.enqueue_at(at, self.path, *args, **options)
        )
        return job


def _priority_queue(priority: int | None) -> str:
    from catalog.models import Priority

    return Priority(Priority.NORMAL if priority is None else priority).queue_name


PROCESS_VERSION = Job("processing.jobs.process_version", queue=None, retried=True)
RENDER_VERSION = Job("processing.publishing.render_version", queue=None, retried=True)
# Not retried by RQ: the import's row (catalog.intake.models.IntakeJob) says how far it got,
# and the sweeper puts a stopped import back from there, up to LIGHTBOX_MAX_ATTEMPTS times.
IMPORT_ARCHIVE = Job("catalog.intake.service.import_archive", queue=None)
IMPORT_URL = Job("catalog.intake.url_import.import_url_job", queue=None)
# Someone is usually watching the progress bar, so exports never wait behind bulk processing
# (the interactive queue); a failed export is failed with its reason and run again by the person.
RUN_EXPORT = Job("catalog.exports.jobs.run_export", queue=INTERACTIVE)
# Webhooks keep their own schedule (catalog.webhooks.delivery.RETRY_DELAYS) in the database;
# a receiver waits for them, so they do not queue behind a back catalog either.
DELIVER_WEBHOOK = Job("catalog.webhooks.delivery.deliver_webhook", queue=INTERACTIVE)
RERENDER_CHUNK = Job("processing.rerender.rerender_chunk", queue="low")
# One product's images of a Shopify push; the push items (catalog.shopify.models) keep the
# state, and the sweeper resumes a product whose job was lost or whose worker died.
PUSH_PRODUCT = Job("catalog.shopify.jobs.push_product", queue=INTERACTIVE)

JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        PROCESS_VERSION,
        RENDER_VERSION,
        IMPORT_ARCHIVE,
        IMPORT_URL,
        RUN_EXPORT,
        DELIVER_WEBHOOK,
        RERENDER_CHUNK,
        PUSH_PRODUCT,
    )
}


# --- what callers ask for --------------------------------------------------------------


def queue_processing(version: Any, *, at: datetime | None = None) -> None:
    """Process an ImageVersion (QUEUED) on its priority's queue, now or at `at` (a wait
    for an outage to pass: RQ's scheduler moves it to the queue then)."""
    PROCESS_VERSION.enqueue(
        str(version.pk),
        job_id=version.job_id,
        priority=version.priority,
        description=f"process {version.source.product.sku} v{version.number}",
        at=at,
    )


def render_job_id(version_id: Any) -> str:
    return f"render-{version_id}"


def queue_rendering(
    version: Any, *, priority: int | None = None, interactive: bool = False, at: datetime | None = None
) -> None:
    """Render an ImageVersion's missing renditions and publish it (RENDERING or PUBLISHED).
    `interactive`: a reviewer's decision is waiting on it, so it skips the bulk queues."""
    RENDER_VERSION.enqueue(
        str(version.pk),
        job_id=render_job_id(version.pk),
        priority=version.priority if priority is None else priority,
        queue=INTERACTIVE if interactive else None,
        at=at,
    )


def queue_archive_import(intake: Any) -> None:
    """Read (the rest of) an archive IntakeJob into its batch."""
    IMPORT_ARCHIVE.enqueue(
        str(intake.pk), job_id=intake.rq_job_id, priority=intake.batch.priority, description="import a ZIP"
    )


def queue_url_import(intake: Any) -> None:
    """Fetch a URL IntakeJob into its batch."""
    from lightbox.outbound import redacted

    IMPORT_URL.enqueue(
        str(intake.pk),
        job_id=intake.rq_job_id,
        priority=intake.batch.priority,
        # Job descriptions are logged and shown on the RQ dashboard: no signed query strings.
        description=f"import {intake.params.get('sku', '')} from {redacted(intake.url)[:200]}",
    )


def export_job_id(export_id: Any) -> str:
    return f"export-{export_id}"


def queue_export(export: Any) -> None:
    """Run an Export (QUEUED)."""
    RUN_EXPORT.enqueue(
        str(export.pk),
        job_id=export_job_id(export.pk),
        description=f"{export.get_kind_display()}: {export.scope_label}",
    )


def queue_webhook_delivery(delivery_id: str, *, attempt: int, at: datetime | None = None) -> None:
    """Attempt number `attempt` of a webhook Delivery, now or at `at`. Called after the
    commit already (from on_commit callbacks), so it is queued at once."""
    job_id = f"webhook-{delivery_id}-{attempt}"
    DELIVER_WEBHOOK.enqueue(
        delivery_id, job_id=job_id, description=f"webhook {job_id}", at=at, after_commit=False
    )


def rerender_job_id(run: Any) -> str:
    """The RQ job of a RerenderRun's next chunk: new after each chunk and each stop."""
    return f"rerender-{run.pk}-{run.cursor or 'start'}-{run.attempts}"


def queue_rerender_chunk(run: Any) -> None:
    """The next chunk of a RerenderRun, after its cursor."""
    RERENDER_CHUNK.enqueue(run.pk, job_id=rerender_job_id(run))


def push_product_job_id(export_id: str, product_id: int) -> str:
    return f"push-{export_id}-{product_id}"


def queue_push_product(export_id: str, product_id: int, *, at: datetime | None = None) -> None:
    """Push one product's pending images of a Shopify push export (after commit), now or at `at`."""
    PUSH_PRODUCT.enqueue(export_id, product_id, job_id=push_product_job_id(export_id, product_id), at=at)
