"""Alerts that reach people before a deadline slips: the backlog, the failure rate, and a
category whose pass rate this week dropped well below its usual (the output drifting).

Checked after every sweep (processing.sweeper's `swept` signal). Each alert has a row in
AlertState; an episode starts when its condition first holds (one email to ADMINS and one
`alert.raised` webhook event) and ends when it no longer does (`alert.cleared`, and an
email). The state changes with one conditional UPDATE, so two sweepers checking at once
announce an episode once.

Thresholds (settings): LIGHTBOX_ALERT_BACKLOG jobs waiting over all queues;
LIGHTBOX_ALERT_FAILURE_RATE, the share of versions finished in the last
LIGHTBOX_ALERT_WINDOW_MINUTES that failed (with at least LIGHTBOX_ALERT_MIN_VERSIONS
finished); LIGHTBOX_ALERT_DRIFT_DROP, how far (absolute) a category's gate pass rate over
the last 7 days may fall below its rate over the 4 weeks before (each side with at least
LIGHTBOX_ALERT_MIN_VERSIONS scored).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import mail_admins
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from catalog.models import ImageVersion
from catalog.webhooks.events import record_event, subscribers
from catalog.webhooks.models import EventType
from insights.kpis import WENT_TO_REVIEW
from operations.models import AlertState

logger = logging.getLogger("lightbox.alerts")

WEEK = timedelta(days=7)
BASELINE_WEEKS = 4
NO_CATEGORY = "(no category)"


@dataclass(frozen=True)
class Finding:
    """One measured condition: its alert key, whether it holds now, and what was seen."""

    key: str
    kind: str
    firing: bool
    message: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Announcement:
    key: str
    state: str  # "raised" or "cleared"
    message: str


def backlog_finding() -> Finding:
    import django_rq

    waiting = {name: django_rq.get_queue(name).count for name in settings.QUEUE_NAMES}
    total = sum(waiting.values())
    limit = settings.LIGHTBOX_ALERT_BACKLOG
    return Finding(
        "backlog",
        "backlog",
        total > limit,
        f"Backlog: {total} jobs waiting (limit {limit}).",
        {"waiting": total, "per_queue": waiting, "limit": limit},
    )


def failure_rate_finding(now: datetime) -> Finding:
    since = now - timedelta(minutes=settings.LIGHTBOX_ALERT_WINDOW_MINUTES)
    counts = ImageVersion.objects.filter(Q(failed_at__gte=since) | Q(scored_at__gte=since)).aggregate(
        finished=Count("pk"), failed=Count("pk", filter=Q(failed_at__gte=since))
    )
    finished, failed = counts["finished"], counts["failed"]
    limit = settings.LIGHTBOX_ALERT_FAILURE_RATE
    rate = failed / finished if finished else 0.0
    enough = finished >= settings.LIGHTBOX_ALERT_MIN_VERSIONS
    return Finding(
        "failure_rate",
        "failure_rate",
        enough and rate > limit,
        f"Failure rate: {failed} of {finished} versions finished in the last "
        f"{settings.LIGHTBOX_ALERT_WINDOW_MINUTES} minutes failed ({rate:.1%}, limit {limit:.1%}).",
        {"failed": failed, "finished": finished, "rate": round(rate, 4), "limit": limit},
    )


def drift_findings(now: datetime) -> list[Finding]:
    """Per category scored in the last five weeks: this week's gate pass rate against the
    four weeks before. Passed = scored without going to review (insights.kpis)."""
    week_start = now - WEEK
    this_week = Q(scored_at__gte=week_start)
    before = Q(scored_at__lt=week_start)
    passed = ~WENT_TO_REVIEW
    rows = (
        ImageVersion.objects.filter(scored_at__gte=now - WEEK * (BASELINE_WEEKS + 1), scored_at__lt=now)
        .order_by()
        .values("category")
        .annotate(
            week=Count("pk", filter=this_week),
            week_passed=Count("pk", filter=this_week & passed),
            base=Count("pk", filter=before),
            base_passed=Count("pk", filter=before & passed),
        )
    )
    minimum = settings.LIGHTBOX_ALERT_MIN_VERSIONS
    drop = settings.LIGHTBOX_ALERT_DRIFT_DROP
    findings = []
    for row in rows:
        if row["week"] < minimum or row["base"] < minimum:
            continue
        category = row["category"] or NO_CATEGORY
        week_rate = row["week_passed"] / row["week"]
        usual = row["base_passed"] / row["base"]
        findings.append(
            Finding(
                f"drift:{category}"[:200],
                "drift",
                week_rate < usual - drop,
                f"Pass rate in {category}: {week_rate:.0%} this week against {usual:.0%} usually "
                f"({row['week']} versions this week, {row['base']} in the {BASELINE_WEEKS} weeks before; "
                f"alert below a drop of {drop:.0%}).",
                {
                    "category": row["category"],
                    "week_pass_rate": round(week_rate, 4),
                    "usual_pass_rate": round(usual, 4),
                    "week_versions": row["week"],
                    "baseline_versions": row["base"],
                    "drop_limit": drop,
                },
            )
        )
    return findings


def measure(now: datetime | None = None) -> list[Finding]:
    now = now or timezone.now()
    return [backlog_finding(), failure_rate_finding(now), *drift_findings(now)]


def check_alerts(now: datetime | None = None) -> list[Announcement]:
    """Measure, then raise the alerts that started holding and clear those that stopped;
    each change is announced (email and webhook). Returns what was announced."""
    now = now or timezone.now()
    findings = {finding.key: finding for finding in measure(now)}
    announced = []
    for finding in findings.values():
        if not finding.firing:
            continue
        AlertState.objects.get_or_create(key=finding.key, defaults={"kind": finding.kind})
        started = AlertState.objects.filter(key=finding.key, active=False).update(
            active=True, raised_at=now, message=finding.message[:500], values=finding.values, checked_at=now
        )
        if started:
            announced.append(
                _announce("raised", finding.key, finding.kind, finding.message, finding.values, now)
            )
    for state in AlertState.objects.filter(active=True):
        current = findings.get(state.key)
        if current is not None and current.firing:
            continue
        message = current.message if current else f"{state.message} — no longer measured (too few versions)."
        values = current.values if current else {}
        ended = AlertState.objects.filter(pk=state.pk, active=True).update(
            active=False, cleared_at=now, message=message[:500], values=values, checked_at=now
        )
        if ended:
            announced.append(
                _announce("cleared", state.key, state.kind, message, values, now, state.raised_at)
            )
    return announced


def check_after_sweep(sender: Any, **kwargs: Any) -> None:
    check_alerts()


def _announce(
    state: str,
    key: str,
    kind: str,
    message: str,
    values: dict[str, Any],
    now: datetime,
    raised_at: datetime | None = None,
) -> Announcement:
    logger.warning("alert %s %s: %s", key, state, message)
    subject = f"{'Alert' if state == 'raised' else 'Cleared'}: {message}"[:180]
    dashboard = settings.LIGHTBOX_APP_BASE_URL.rstrip("/") + reverse("insights:dashboard")
    try:
        mail_admins(subject, f"{message}\n\nDashboard: {dashboard}\n")
    except Exception:  # noqa: BLE001 - a mail server down must not keep the webhook event back
        logger.exception("alert %s: the email to the admins failed", key)
    event_type = EventType.ALERT_RAISED if state == "raised" else EventType.ALERT_CLEARED
    data = {
        "alert": key,
        "kind": kind,
        "state": state,
        "message": message,
        "values": values,
        "raised_at": _time(raised_at or now) if state == "cleared" else _time(now),
        "cleared_at": _time(now) if state == "cleared" else None,
        "links": {"dashboard": dashboard},
    }
    if endpoints := subscribers(event_type):
        record_event(event_type, data, endpoints)
    return Announcement(key, state, message)


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
