"""Alerts reach the admins (email) and webhook endpoints (a real local receiver) once when an
episode starts and once when it clears: the backlog on real queues, the failure rate and a
category's pass rate drifting, measured on real rows."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import django_rq
import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Priority, Product, VersionStatus
from catalog.webhooks.models import EventType
from lightbox import jobs
from operations.alerts import check_alerts
from operations.models import AlertState
from processing.sweeper import sweep
from processing.worker import LightboxWorker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _admins(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def alert_hooks(make_endpoint, redis_conn):
    return make_endpoint(events=[EventType.ALERT_RAISED, EventType.ALERT_CLEARED])


def deliver_webhooks() -> None:
    queue = django_rq.get_queue("interactive")  # webhook deliveries do not wait behind bulk work
    LightboxWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)


def _events(receiver) -> list[dict]:
    assert all(r.verified for r in receiver.received)
    return [json.loads(r.body) for r in receiver.received]


def test_a_backlog_is_announced_once_and_again_when_it_clears(alert_hooks, receiver, settings):
    settings.LIGHTBOX_ALERT_BACKLOG = 2
    for _ in range(3):
        jobs.RENDER_VERSION.enqueue(str(uuid.uuid4()), priority=Priority.LOW)

    (raised,) = check_alerts()
    assert (raised.key, raised.state) == ("backlog", "raised")
    assert check_alerts() == []  # the same episode: nothing new
    deliver_webhooks()

    (email,) = mail.outbox
    assert email.to == ["ops@example.com"]
    assert email.subject.startswith("[Lightbox] Alert: Backlog: 3 jobs waiting (limit 2).")
    (event,) = _events(receiver)
    assert event["type"] == "alert.raised"
    assert event["data"]["alert"] == "backlog"
    assert event["data"]["values"]["waiting"] == 3
    assert event["data"]["links"]["dashboard"].endswith("/dashboard/")

    django_rq.get_queue("low").empty()
    (cleared,) = check_alerts()
    assert (cleared.key, cleared.state) == ("backlog", "cleared")
    assert check_alerts() == []
    deliver_webhooks()

    assert [m.subject.split(":")[0] for m in mail.outbox] == ["[Lightbox] Alert", "[Lightbox] Cleared"]
    assert [e["type"] for e in _events(receiver)] == ["alert.raised", "alert.cleared"]
    assert _events(receiver)[1]["data"]["cleared_at"] is not None
    state = AlertState.objects.get(key="backlog")
    assert not state.active
    assert state.raised_at <= state.cleared_at


def test_a_new_episode_after_a_cleared_one_is_announced_again(redis_conn, settings):
    settings.LIGHTBOX_ALERT_BACKLOG = 1
    low = django_rq.get_queue("low")
    for _ in range(2):
        jobs.RENDER_VERSION.enqueue(str(uuid.uuid4()), priority=Priority.LOW)
    check_alerts()
    low.empty()
    check_alerts()
    for _ in range(2):
        jobs.RENDER_VERSION.enqueue(str(uuid.uuid4()), priority=Priority.LOW)

    (again,) = check_alerts()

    assert again.state == "raised"
    assert len(mail.outbox) == 3


def test_the_failure_rate_over_the_window_raises_and_clears(product, make_version, settings, redis_conn):
    settings.LIGHTBOX_ALERT_MIN_VERSIONS = 4
    settings.LIGHTBOX_ALERT_FAILURE_RATE = 0.25
    now = timezone.now()
    for _ in range(4):
        make_version(
            product, status=VersionStatus.PUBLISHED, scored_at=now - timedelta(minutes=5), published_at=now
        )
    failed = [
        make_version(product, status=VersionStatus.FAILED, failed_at=now, error="broken") for _ in range(2)
    ]

    (raised,) = check_alerts()

    assert (raised.key, raised.state) == ("failure_rate", "raised")
    assert "2 of 6 versions" in raised.message
    for version in failed:
        version.failed_at = now - timedelta(hours=2)
        version.save(update_fields=["failed_at"])
    (cleared,) = check_alerts()
    assert (cleared.key, cleared.state) == ("failure_rate", "cleared")


def test_too_few_versions_never_raise_a_failure_rate(product, make_version, settings, redis_conn):
    settings.LIGHTBOX_ALERT_MIN_VERSIONS = 20
    make_version(product, status=VersionStatus.FAILED, failed_at=timezone.now(), error="broken")

    assert check_alerts() == []


def _scored(make_version, category: str, *, days_ago: float, passed: int, flagged: int) -> None:
    product = Product.objects.create(
        sku=f"{category}-{uuid.uuid4().hex[:6]}", title=category, category=category
    )
    scored_at = timezone.now() - timedelta(days=days_ago)
    for _ in range(passed):
        make_version(
            product, status=VersionStatus.PUBLISHED, scored_at=scored_at, published_at=scored_at, score=90
        )
    for _ in range(flagged):
        make_version(product, status=VersionStatus.FLAGGED, scored_at=scored_at, score=40)


def test_a_category_whose_pass_rate_drops_this_week_drifts(make_version, settings, alert_hooks, receiver):
    settings.LIGHTBOX_ALERT_MIN_VERSIONS = 10
    settings.LIGHTBOX_ALERT_DRIFT_DROP = 0.15
    _scored(make_version, "Kitchen", days_ago=14, passed=9, flagged=1)  # usually 90%
    _scored(make_version, "Kitchen", days_ago=1, passed=5, flagged=5)  # this week 50%
    _scored(make_version, "Garden", days_ago=14, passed=8, flagged=2)  # 80% …
    _scored(make_version, "Garden", days_ago=1, passed=7, flagged=3)  # … 70%: within the drop

    report = sweep()  # the sweeper checks the alerts after each sweep
    deliver_webhooks()

    assert report is not None
    (event,) = _events(receiver)
    assert event["type"] == "alert.raised"
    assert event["data"]["alert"] == "drift:Kitchen"
    assert event["data"]["values"]["week_pass_rate"] == 0.5
    assert event["data"]["values"]["usual_pass_rate"] == 0.9
    assert "Pass rate in Kitchen: 50% this week against 90% usually" in mail.outbox[0].subject
    assert not AlertState.objects.filter(key="drift:Garden", active=True).exists()
