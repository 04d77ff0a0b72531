"""Delivery against a real receiver: signatures, the retry schedule on a driven clock, 410,
disabling after a long run of failures, rotation, resends. Time moves by passing `now`."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from catalog.webhooks import services
from catalog.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS, deliver_due, send_again, send_test_event
from catalog.webhooks.events import subscribers
from catalog.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, EventType

pytestmark = pytest.mark.django_db


def _refresh(delivery: Delivery) -> Delivery:
    delivery.refresh_from_db()
    return delivery


def _walk(delivery: Delivery, attempts: int) -> list:
    """Run `attempts` attempts, each exactly when it falls due; the times they ran."""
    times = []
    for _ in range(attempts):
        due = _refresh(delivery).next_attempt_at
        assert deliver_due(now=due - timedelta(seconds=1)) == 0, "sent before it was due"
        assert deliver_due(now=due) == 1
        times.append(due)
    return times


def test_a_delivery_is_signed_so_the_receiver_verifies_it(make_endpoint, owe, receiver):
    endpoint = make_endpoint()
    delivery = owe(endpoint, data={"version_id": "v-9", "sku": "MUG-001"})

    assert deliver_due() == 1

    (request,) = receiver.received
    assert request.verified
    assert request.webhook_id == delivery.event_id
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Lightbox-Webhooks/")
    body = json.loads(request.body)
    assert body["type"] == "version.published"
    assert body["data"] == {"version_id": "v-9", "sku": "MUG-001"}
    assert body["timestamp"].endswith("Z")
    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.last_status_code == 200
    (attempt,) = delivery.attempts.all()
    assert attempt.status_code == 200
    assert attempt.error == ""
    assert '"ok"' in attempt.response_excerpt


def test_a_receiver_down_nine_times_gets_the_tenth_attempt_on_the_standard_schedule(
    make_endpoint, owe, receiver
):
    receiver.answer(*[500] * 9, then=200)
    endpoint = make_endpoint()
    delivery = owe(endpoint)

    times = _walk(delivery, MAX_ATTEMPTS)

    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    for gap, planned in zip(gaps, RETRY_DELAYS, strict=True):
        assert planned <= gap <= planned * 1.1  # the schedule plus at most 10 % jitter
    assert times[-1] - times[0] > timedelta(hours=24)
    assert [r.status for r in receiver.received] == [500] * 9 + [200]
    assert all(r.verified for r in receiver.received)
    assert {r.webhook_id for r in receiver.received} == {delivery.event_id}
    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert list(delivery.attempts.values_list("status_code", flat=True)) == [500] * 9 + [200]
    assert list(delivery.attempts.values_list("attempted_at", flat=True)) == times
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
    assert endpoint.enabled


def test_a_delivery_fails_for_good_after_the_last_attempt(make_endpoint, owe, receiver):
    receiver.answer(then=503)
    delivery = owe(make_endpoint())

    times = _walk(delivery, MAX_ATTEMPTS)

    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    assert delivery.attempt_count == MAX_ATTEMPTS
    assert "503" in delivery.last_error
    assert deliver_due(now=times[-1] + timedelta(days=30)) == 0
    assert len(receiver.received) == MAX_ATTEMPTS


def test_410_gone_stops_for_good_and_disables_the_endpoint(
    make_endpoint, owe, receiver, admin_user, django_capture_on_commit_callbacks
):
    admin_user.email = "ada@example.com"
    admin_user.save()
    receiver.answer(410)
    endpoint = make_endpoint()
    delivery = owe(endpoint)

    with django_capture_on_commit_callbacks(execute=True):
        deliver_due()

    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "410" in endpoint.disabled_reason
    assert endpoint.disabled_by_lightbox
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert deliver_due(now=timezone.now() + timedelta(days=4)) == 0
    assert subscribers(EventType.VERSION_PUBLISHED) == []
    assert len(receiver.received) == 1


def test_a_long_run_of_failures_disables_the_endpoint_and_emails_its_creator_and_the_admins(
    make_endpoint, owe, receiver, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.LIGHTBOX_WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.ADMINS = [("Ops", "ops@example.com")]
    admin_user.email = "ada@example.com"
    admin_user.save()
    receiver.answer(then=500)
    endpoint = make_endpoint()
    for n in range(3):
        owe(endpoint, data={"n": n})

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_due() == 3

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.consecutive_failures == 3
    assert "3 deliveries in a row failed" in endpoint.disabled_reason
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "ops@example.com"]
    assert all(endpoint.url in m.body for m in mail.outbox)
    # Owed deliveries wait while it is off, and go out once an admin enables it again.
    later = timezone.now() + timedelta(hours=1)
    assert deliver_due(now=later) == 0
    receiver.answer(then=200)
    assert services.enable_endpoint(endpoint)
    assert deliver_due(now=later) == 3
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 3


def test_an_endpoint_failing_every_attempt_for_five_days_is_disabled(
    make_endpoint, owe, receiver, django_capture_on_commit_callbacks
):
    receiver.answer(then=500)
    endpoint = make_endpoint()
    first = owe(endpoint)
    start = first.next_attempt_at
    deliver_due(now=start)
    owe(endpoint)

    with django_capture_on_commit_callbacks(execute=True):
        deliver_due(now=start + timedelta(days=5, minutes=1))

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "failed for 5 days" in endpoint.disabled_reason
    assert len(mail.outbox) == 0  # nobody to tell: the creator has no email, no ADMINS


def test_a_redirect_is_a_failure_and_is_not_followed(make_endpoint, owe, receiver):
    receiver.answer((302, {"Location": f"{receiver.url}/elsewhere"}))
    delivery = owe(make_endpoint())

    deliver_due()

    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.last_error
    assert len(receiver.received) == 1


def test_retry_after_on_503_is_honoured_when_later_than_the_schedule(make_endpoint, owe, receiver):
    receiver.answer((503, {"Retry-After": "3600"}))
    delivery = owe(make_endpoint())
    now = timezone.now()

    deliver_due(now=now)

    assert _refresh(delivery).next_attempt_at - now >= timedelta(hours=1)


def test_an_address_that_turned_private_is_refused_at_send_time_and_retried(make_endpoint, owe):
    endpoint = make_endpoint()
    delivery = owe(endpoint)
    Endpoint.objects.filter(pk=endpoint.pk).update(url="http://10.0.0.1/hooks")
    now = timezone.now()

    deliver_due(now=now)

    (attempt,) = Attempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None
    assert "private network" in attempt.error
    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at >= now + RETRY_DELAYS[0]


def test_a_refused_connection_is_recorded_and_retried(make_endpoint, owe):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    delivery = owe(make_endpoint(url=f"http://127.0.0.1:{closed_port}/hooks"))

    deliver_due()

    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert "connect" in delivery.last_error.lower()


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(make_endpoint, owe, receiver):
    endpoint = make_endpoint()
    (old_secret,) = receiver.secrets
    now = timezone.now()
    new_secret = services.rotate_secret(endpoint, overlap=timedelta(hours=24), now=now)
    receiver.secrets = [old_secret, new_secret]

    owe(endpoint)
    deliver_due(now=now + timedelta(minutes=1))
    owe(endpoint)
    deliver_due(now=now + timedelta(hours=25))

    during, after = receiver.received
    assert during.headers["webhook-signature"].count("v1,") == 2
    assert during.verified_by == [old_secret, new_secret]  # a receiver with either one accepts it
    assert after.headers["webhook-signature"].count("v1,") == 1
    assert after.verified_by == [new_secret]


def test_a_rotation_for_a_leaked_secret_stops_the_old_one_at_once(make_endpoint, owe, receiver):
    endpoint = make_endpoint()
    (old_secret,) = receiver.secrets
    new_secret = services.rotate_secret(endpoint, overlap=timedelta(0))
    receiver.secrets = [old_secret, new_secret]
    owe(endpoint)

    deliver_due()

    (request,) = receiver.received
    assert request.verified_by == [new_secret]


def test_send_again_repeats_a_delivered_event_with_the_same_webhook_id(make_endpoint, owe, receiver):
    delivery = owe(make_endpoint())
    deliver_due()

    outcome = send_again(delivery)

    assert outcome.ok
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id == delivery.event_id
    assert first.body == second.body
    assert list(delivery.attempts.values_list("manual", flat=True)) == [False, True]


def test_send_again_delivers_one_that_failed_for_good(make_endpoint, owe, receiver):
    receiver.answer(then=500)
    delivery = owe(make_endpoint())
    _walk(delivery, MAX_ATTEMPTS)
    assert _refresh(delivery).status == DeliveryStatus.FAILED
    receiver.answer(then=200)

    assert send_again(delivery).ok

    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts.count() == MAX_ATTEMPTS + 1


def test_a_failed_send_again_leaves_the_schedule_and_the_failure_count_alone(make_endpoint, owe, receiver):
    receiver.answer(then=500)
    endpoint = make_endpoint()
    delivery = owe(endpoint)
    deliver_due()
    before = _refresh(delivery).next_attempt_at

    assert not send_again(delivery).ok

    delivery = _refresh(delivery)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at == before
    assert delivery.attempt_count == 1
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


def test_a_test_event_goes_to_one_endpoint_now_and_is_not_retried(make_endpoint, receiver):
    endpoint = make_endpoint()
    other = make_endpoint()
    receiver.answer(500)

    delivery, outcome = send_test_event(endpoint)

    assert not outcome.ok
    assert delivery.status == DeliveryStatus.FAILED
    (request,) = receiver.received
    assert request.verified
    assert json.loads(request.body)["type"] == "webhook.test"
    assert deliver_due(now=timezone.now() + timedelta(days=1)) == 0
    assert not other.deliveries.exists()
