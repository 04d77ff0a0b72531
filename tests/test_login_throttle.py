"""Password guessing is throttled: after LIGHTBOX_LOGIN_MAX_FAILURES wrong passwords for one
account (or many from one address) sign-in is paused, even with the right password, on the
site's login and the admin's. Counts live in the real Redis."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings, redis_conn):
    settings.LIGHTBOX_LOGIN_MAX_FAILURES = 3
    settings.LIGHTBOX_LOGIN_MAX_FAILURES_PER_IP = 5
    settings.LIGHTBOX_LOGIN_LOCKOUT_SECONDS = 600


def _log_in(client, username, password, url=None, **extra):
    return client.post(url or reverse("login"), {"username": username, "password": password}, **extra)


def test_after_too_many_wrong_passwords_even_the_right_one_is_refused(client, merchandiser, redis_conn):
    for _ in range(3):
        assert "didn't match" in _log_in(client, merchandiser.username, "guess").content.decode()

    response = _log_in(client, merchandiser.username, PASSWORD)

    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "paused for 10 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked by this one's count.
    assert _log_in(client, "rita-reviewer-missing", "x").status_code == 200


def test_the_lockout_ends_when_its_window_passes(client, merchandiser, redis_conn):
    for _ in range(3):
        _log_in(client, merchandiser.username, "guess")
    for key in redis_conn.scan_iter("lightbox:login-failures:*"):
        redis_conn.delete(key)  # the window passing, without waiting ten minutes

    assert _log_in(client, merchandiser.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_accounts_count(client, merchandiser):
    for _ in range(2):
        _log_in(client, merchandiser.username, "guess")
    assert _log_in(client, merchandiser.username, PASSWORD).status_code == 302
    client.logout()

    for _ in range(2):
        _log_in(client, merchandiser.username, "guess")
    assert _log_in(client, merchandiser.username, PASSWORD).status_code == 302


def test_one_address_guessing_many_accounts_is_throttled(client, merchandiser):
    for n in range(5):
        _log_in(client, f"someone-{n}", "guess", REMOTE_ADDR="203.0.113.9")

    refused = _log_in(client, merchandiser.username, PASSWORD, REMOTE_ADDR="203.0.113.9")
    allowed = _log_in(client, merchandiser.username, PASSWORD, REMOTE_ADDR="198.51.100.1")

    assert "Too many failed sign-ins" in refused.content.decode()
    assert allowed.status_code == 302


def test_the_admin_login_is_throttled_too(client, admin_user):
    url = reverse("admin:login")
    for _ in range(3):
        _log_in(client, admin_user.username, "guess", url=url)

    response = _log_in(client, admin_user.username, PASSWORD, url=url)

    assert "Too many failed sign-ins" in response.content.decode()
