"""Sending deliveries: claim a due row, POST the signed event, record the attempt, plan the next.

PostgreSQL decides what is due (Delivery.next_attempt_at). Two paths send:
- the RQ job `deliver_webhook`, queued after the outbox commit (and at each retry time when
  Redis has a scheduler): the fast path;
- `deliver_due`, called by the sweeper every minute: it sends whatever is due, so retries
  and first attempts survive a flushed Redis or a process killed after the commit.
Both claim a row in a short transaction (FOR UPDATE SKIP LOCKED) by moving its
next_attempt_at a lease into the future, then send outside any transaction: two runners
never send the same attempt, and a runner that dies mid-send frees the row when the lease
ends. The result is written by an UPDATE guarded on the attempt number it claimed.

Outcomes, per Standard Webhooks: 2xx delivered; 410 Gone stops for good and disables the
endpoint; anything else (3xx included, redirects are not followed; timeouts; refused
addresses) is retried on RETRY_DELAYS with jitter, a later Retry-After on 429/503 honoured.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.webhooks import services
from catalog.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, Event, EventType
from catalog.webhooks.signing import signature_header
from lightbox import crypto, outbound

logger = logging.getLogger("lightbox.webhooks")

USER_AGENT = "Lightbox-Webhooks/1.0"
# Standard Webhooks' example schedule: the wait after attempt 1, 2, … (10 attempts over ~75 h).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1  # up to 10 % later, so endpoints that failed together do not retry in lockstep
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_RESPONSE_BYTES = 64 * 1024
EXCERPT_CHARS = 1000
SEND_THREADS = 8


def claim_lease() -> timedelta:
    """How long a claimed row is hidden from other runners: longer than any send."""
    return timedelta(seconds=settings.LIGHTBOX_WEBHOOK_TIMEOUT_SECONDS + 45)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str = ""
    duration_ms: int = 0
    excerpt: str = ""
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


@dataclass
class Claim:
    """A delivery taken for one attempt: everything the send needs, read before it."""

    delivery_id: Any
    endpoint_id: Any
    attempt: int
    url: str
    event_id: str
    body: str
    signing_secrets: list[str] = field(repr=False)
    error: str = ""  # set when it cannot be signed: recorded as a failed attempt, nothing sent


# --- building and sending -------------------------------------------------------------------


def event_body(event: Event) -> str:
    """The JSON body: the same text on every attempt (the signature covers it byte for byte)."""
    timestamp = event.created_at.isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": event.type, "timestamp": timestamp, "data": event.payload}, separators=(",", ":")
    )


def _claim_for(delivery: Delivery, attempt: int, now: datetime) -> Claim:
    claim = Claim(
        delivery_id=delivery.pk,
        endpoint_id=delivery.endpoint_id,
        attempt=attempt,
        url=delivery.endpoint.url,
        event_id=delivery.event_id,
        body=event_body(delivery.event),
        signing_secrets=[],
    )
    try:
        claim.signing_secrets = services.live_secrets(delivery.endpoint_id, now)
    except crypto.SecretUnreadable as exc:
        claim.error = f"cannot sign: {exc}"
    if not claim.signing_secrets and not claim.error:
        claim.error = "cannot sign: the endpoint has no signing secret; rotate its secret"
    return claim


def send(claim: Claim) -> Outcome:
    """POST the event to the endpoint. No database access: runs in sender threads."""
    if claim.error:
        return Outcome(status_code=None, error=claim.error)
    # The webhook-timestamp is the real send time (receivers reject one over ~5 min old),
    # whatever clock the scheduling runs on.
    timestamp = int(time.time())
    headers = {
        # Capitalised like the outbound module's own defaults, so ours replace them instead of doubling.
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": claim.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(claim.signing_secrets, claim.event_id, timestamp, claim.body),
    }
    started = time.perf_counter()
    try:
        response = outbound.request(
            "POST",
            claim.url,
            body=claim.body.encode(),
            headers=headers,
            timeout=settings.LIGHTBOX_WEBHOOK_TIMEOUT_SECONDS,
            max_response_bytes=MAX_RESPONSE_BYTES,
            follow_redirects=0,
        )
    except (outbound.UnsafeURL, outbound.FetchFailed) as exc:
        return Outcome(status_code=getattr(exc, "status", None), error=str(exc), duration_ms=_since(started))
    duration = _since(started)
    excerpt = response.body[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
    return Outcome(
        status_code=response.status,
        error=_status_error(response.status, response.headers),
        duration_ms=duration,
        excerpt=excerpt,
        retry_after=outbound.retry_after(response.headers.get("retry-after"), now=timezone.now())
        if response.status in RETRY_AFTER_STATUSES
        else None,
    )


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _status_error(status: int, headers: dict[str, str]) -> str:
    if 200 <= status < 300:
        return ""
    if 300 <= status < 400:
        where = headers.get("location", "")
        return (
            f"the receiver answered HTTP {status}, a redirect{f' to {where}' if where else ''}; "
            "redirects are not followed: register the final URL"
        )
    if status == 410:
        return "the receiver answered HTTP 410 Gone: it wants no more deliveries"
    return f"the receiver answered HTTP {status}"


def next_delay(attempt: int, retry_after: timedelta | None = None) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based): the schedule plus jitter,
    or the receiver's Retry-After when that is later (capped at the longest step)."""
    base = RETRY_DELAYS[attempt - 1]
    delay = base + base * JITTER * secrets.randbelow(1001) / 1000
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_DELAYS[-1]))
    return delay


# --- claiming and recording -----------------------------------------------------------------


def _claim_rows(rows: list[Delivery], now: datetime) -> list[Claim]:
    """Inside the claiming transaction: push each row a lease ahead and count the attempt."""
    claims = []
    for delivery in rows:
        attempt = delivery.attempt_count + 1
        Delivery.objects.filter(pk=delivery.pk).update(
            attempt_count=attempt, next_attempt_at=now + claim_lease()
        )
        claims.append(_claim_for(delivery, attempt, now))
    return claims


def _due(now: datetime):
    return (
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("event", "endpoint")
        .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__enabled=True)
    )


def record(claim: Claim, outcome: Outcome, now: datetime, *, manual: bool = False) -> None:
    """Write the attempt and move the delivery and endpoint on. A scheduled attempt changes
    the delivery only if it is still pending at the attempt number it claimed."""
    with transaction.atomic():
        Attempt.objects.create(
            delivery_id=claim.delivery_id,
            attempted_at=now,
            manual=manual,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error[:2000],
            response_excerpt=outcome.excerpt,
        )
        rows = Delivery.objects.filter(pk=claim.delivery_id)
        if not manual:
            rows = rows.filter(status=DeliveryStatus.PENDING, attempt_count=claim.attempt)
        last = {
            "last_attempt_at": now,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error[:2000],
        }
        endpoint = Endpoint(pk=claim.endpoint_id)
        if outcome.ok:
            rows.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None, **last)
            Endpoint.objects.filter(pk=claim.endpoint_id).update(consecutive_failures=0, failing_since=None)
            return
        if outcome.gone:
            rows.update(status=DeliveryStatus.FAILED, next_attempt_at=None, **last)
            services.disable_endpoint(
                endpoint, reason=f"{outcome.error} (410 on {now:%Y-%m-%d %H:%M} UTC)", now=now
            )
            return
        if manual:
            rows.update(**last)  # an admin's extra try leaves the schedule and the failure count alone
            return
        if claim.attempt >= MAX_ATTEMPTS:
            changed = rows.update(status=DeliveryStatus.FAILED, next_attempt_at=None, **last)
        else:
            next_at = now + next_delay(claim.attempt, outcome.retry_after)
            changed = rows.update(next_attempt_at=next_at, **last)
            if changed:
                transaction.on_commit(
                    lambda: _schedule_retry(claim.delivery_id, claim.attempt + 1, next_at), robust=True
                )
        if changed:
            _count_failure(endpoint, now)


def _schedule_retry(delivery_id: Any, attempt: int, at: datetime) -> None:
    from catalog.webhooks.events import queue_deliveries

    queue_deliveries([str(delivery_id)], attempt=attempt, at=at)


def _count_failure(endpoint: Endpoint, now: datetime) -> None:
    """One more failure in a row; past the limit (count or days) the endpoint is disabled."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1, failing_since=Coalesce(F("failing_since"), now)
    )
    failures, since = Endpoint.objects.filter(pk=endpoint.pk).values_list(
        "consecutive_failures", "failing_since"
    )[0]
    limit = settings.LIGHTBOX_WEBHOOK_DISABLE_AFTER_FAILURES
    days = settings.LIGHTBOX_WEBHOOK_DISABLE_AFTER_DAYS
    if failures >= limit:
        reason = f"{failures} deliveries in a row failed"
    elif since is not None and failures > 1 and now - since >= timedelta(days=days):
        reason = f"every delivery failed for {days} days"
    else:
        return
    services.disable_endpoint(endpoint, reason=f"Lightbox disabled it: {reason}.", now=now)


# --- entry points ---------------------------------------------------------------------------


def deliver_due(now: datetime | None = None, *, limit: int = 200) -> int:
    """Send up to `limit` deliveries due at `now` (default: the current time), in parallel
    threads for the HTTP part only. The number of attempts made. Called by the sweeper;
    tests pass `now` to walk through the retry schedule without waiting."""
    now = now or timezone.now()
    with transaction.atomic():
        claims = _claim_rows(list(_due(now).order_by("next_attempt_at")[:limit]), now)
    if not claims:
        return 0
    if len(claims) == 1:
        outcomes = [send(claims[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(claims))) as pool:
            outcomes = list(pool.map(send, claims))
    for claim, outcome in zip(claims, outcomes, strict=True):
        record(claim, outcome, now)
    return len(claims)


def deliver_webhook(delivery_id: str) -> str:
    """RQ job: one attempt at one delivery, if it is (still) due. Returns a word for the log."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(_due(now).filter(pk=delivery_id))
        claims = _claim_rows(rows, now)
    if not claims:
        return "not due"
    outcome = send(claims[0])
    record(claims[0], outcome, now)
    logger.info(
        "webhook %s attempt %d → %s in %dms",
        delivery_id,
        claims[0].attempt,
        outcome.status_code or outcome.error,
        outcome.duration_ms,
    )
    return "delivered" if outcome.ok else "failed"


def send_again(delivery: Delivery, *, now: datetime | None = None) -> Outcome:
    """An admin's "Send again": one attempt now, whatever the delivery's state or the
    endpoint's, with the same webhook-id. Success marks it delivered; a failure is recorded
    and changes nothing else (except 410, which still disables the endpoint)."""
    now = now or timezone.now()
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery.pk)
    claim = _claim_for(delivery, delivery.attempt_count, now)
    outcome = send(claim)
    record(claim, outcome, now, manual=True)
    return outcome


def send_test_event(endpoint: Endpoint, *, user: Any = None) -> tuple[Delivery, Outcome]:
    """A webhook.test event to this endpoint only, sent now and not retried. The row is
    created already claimed (a lease ahead), so the sweeper does not send it a second time."""
    now = timezone.now()
    data = {
        "endpoint_id": str(endpoint.pk),
        "message": "A test event from Lightbox. Answer with a 2xx status to acknowledge it.",
        "sent_by": getattr(user, "username", None),
    }
    with transaction.atomic():
        event = Event.objects.create(type=EventType.TEST, payload=data, created_at=now)
        delivery = Delivery.objects.create(
            event=event,
            endpoint=endpoint,
            attempt_count=1,
            next_attempt_at=now + claim_lease(),
            created_at=now,
        )
    outcome = send_again(delivery, now=now)
    if not outcome.ok:
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None
        )
    delivery.refresh_from_db()
    return delivery, outcome
