"""The admins' webhook pages: registration refuses internal addresses, secrets show once,
rotation, enable/disable, send again (with and without htmx), test events, the banner."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.webhooks import services
from catalog.webhooks.delivery import deliver_due
from catalog.webhooks.models import Delivery, DeliveryStatus, Endpoint, EventType
from lightbox import crypto

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _register(client, url, events=(EventType.VERSION_PUBLISHED,)):
    return client.post(reverse("webhooks:endpoint_create"), {"url": url, "event_types": list(events)})


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.1/hooks", "private network"),
        ("http://127.0.0.1:9/hooks", "loopback"),
        ("ftp://example.com/hooks", "Enter a valid URL"),
    ],
)
def test_registering_an_internal_address_is_refused_with_the_reason(admin_client, settings, url, why):
    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = []

    response = _register(admin_client, url)

    assert response.status_code == 200
    assert why in response.content.decode()
    assert not Endpoint.objects.exists()


def test_registering_without_an_event_is_refused(admin_client, receiver):
    response = _register(admin_client, receiver.url, events=())

    assert "Choose at least one event." in response.content.decode()
    assert not Endpoint.objects.exists()


def test_the_secret_is_shown_once_after_registration_and_verifies_deliveries(
    admin_client, admin_user, receiver
):
    response = _register(admin_client, receiver.url)

    html = response.content.decode()
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", html).group(0)
    endpoint = Endpoint.objects.get()
    assert endpoint.created_by == admin_user
    assert endpoint.event_types == [EventType.VERSION_PUBLISHED]
    assert crypto.decrypt(endpoint.secrets.get().secret_encrypted) == secret
    assert (
        secret
        not in admin_client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk])).content.decode()
    )
    assert secret not in admin_client.get(reverse("webhooks:endpoint_list")).content.decode()
    receiver.secrets = [secret]
    admin_client.post(reverse("webhooks:endpoint_test", args=[endpoint.pk]))
    assert receiver.received[-1].verified


def test_rotating_shows_a_new_secret_and_keeps_the_old_one_signing(admin_client, make_endpoint, receiver):
    endpoint = make_endpoint()
    (old,) = receiver.secrets

    response = admin_client.post(reverse("webhooks:endpoint_rotate", args=[endpoint.pk]))

    new = re.search(r"whsec_[A-Za-z0-9+/=]+", response.content.decode()).group(0)
    assert new != old
    assert services.live_secrets(endpoint.pk, timezone.now()) == [new, old]


def test_rotating_for_a_leak_stops_the_old_secret_now(admin_client, make_endpoint, receiver):
    endpoint = make_endpoint()

    response = admin_client.post(
        reverse("webhooks:endpoint_rotate", args=[endpoint.pk]), {"expire_now": "on"}
    )

    new = re.search(r"whsec_[A-Za-z0-9+/=]+", response.content.decode()).group(0)
    assert services.live_secrets(endpoint.pk, timezone.now()) == [new]


def test_the_endpoint_page_lists_deliveries_with_each_attempt(admin_client, make_endpoint, owe, receiver):
    receiver.answer(503)
    endpoint = make_endpoint()
    delivery = owe(endpoint)
    deliver_due()
    delivery.refresh_from_db()
    deliver_due(now=delivery.next_attempt_at)

    html = admin_client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk])).content.decode()

    assert delivery.event_id in html
    assert "2 attempts" in html
    assert "503" in html
    assert "the receiver answered HTTP 503" in html
    assert "Delivered" in html


def test_send_again_with_htmx_returns_the_delivery_row(admin_client, make_endpoint, owe, receiver):
    delivery = owe(make_endpoint())
    deliver_due()

    response = admin_client.post(
        reverse("webhooks:delivery_resend", args=[delivery.pk]), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="delivery-{delivery.pk}"')
    assert "Sent again: HTTP 200" in html
    assert "<html" not in html
    assert [r.webhook_id for r in receiver.received] == [delivery.event_id] * 2


def test_send_again_without_htmx_goes_back_to_the_endpoint_page(admin_client, make_endpoint, owe, receiver):
    receiver.answer(then=500)
    endpoint = make_endpoint()
    delivery = owe(endpoint)

    response = admin_client.post(reverse("webhooks:delivery_resend", args=[delivery.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    assert "Sent again, not delivered: the receiver answered HTTP 500" in response.content.decode()
    assert Delivery.objects.get().status == DeliveryStatus.PENDING


def test_send_test_event_reports_the_result(admin_client, make_endpoint, receiver):
    endpoint = make_endpoint()

    response = admin_client.post(reverse("webhooks:endpoint_test", args=[endpoint.pk]), follow=True)

    assert "Test event delivered: HTTP 200" in response.content.decode()
    assert receiver.received[0].verified


def test_disabling_and_enabling_by_hand(admin_client, make_endpoint, owe, receiver):
    endpoint = make_endpoint()

    html = admin_client.post(
        reverse("webhooks:endpoint_disable", args=[endpoint.pk]), follow=True
    ).content.decode()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "Disabled by ada-admin" in html
    assert 'data-testid="webhook-banner"' not in html  # a person did it: no alarm

    admin_client.post(reverse("webhooks:endpoint_enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert endpoint.disabled_at is None


def test_admins_see_a_banner_when_lightbox_disabled_an_endpoint(
    client, admin_user, reviewer, make_endpoint, owe, receiver
):
    receiver.answer(410)
    endpoint = make_endpoint()
    owe(endpoint)
    deliver_due()

    client.force_login(admin_user)
    html = client.get(reverse("catalog:product_list")).content.decode()
    assert 'data-testid="webhook-banner"' in html
    assert endpoint.url in html
    listing = client.get(reverse("webhooks:endpoint_list")).content.decode()
    assert "410 Gone" in listing
    client.force_login(reviewer)
    assert 'data-testid="webhook-banner"' not in client.get(reverse("catalog:product_list")).content.decode()


@pytest.mark.parametrize("name", ["endpoint_rotate", "endpoint_enable", "endpoint_disable", "endpoint_test"])
def test_only_admins_may_change_an_endpoint(client, merchandiser, make_endpoint, name):
    endpoint = make_endpoint()
    client.force_login(merchandiser)

    assert client.post(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 403
    assert endpoint.secrets.count() == 1


def test_only_admins_may_send_a_delivery_again(client, merchandiser, make_endpoint, owe, receiver):
    delivery = owe(make_endpoint())
    client.force_login(merchandiser)

    assert client.post(reverse("webhooks:delivery_resend", args=[delivery.pk])).status_code == 403
    assert receiver.received == []


def test_the_navigation_links_to_webhooks_for_admins_only(client, admin_user, merchandiser):
    client.force_login(admin_user)
    assert reverse("webhooks:endpoint_list") in client.get(reverse("catalog:product_list")).content.decode()
    client.force_login(merchandiser)
    assert (
        reverse("webhooks:endpoint_list") not in client.get(reverse("catalog:product_list")).content.decode()
    )
