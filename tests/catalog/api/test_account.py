"""The account page: a person makes an API token (shown once), sees their tokens, revokes one."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from catalog.api.models import ApiToken
from tests.catalog.api.conftest import ApiClient, assert_error

pytestmark = pytest.mark.django_db


def make_token(client: Client, name: str) -> str:
    response = client.post(reverse("account:token_create"), {"name": name})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    match = re.search(r"<code>(lbx_[A-Za-z0-9_-]+)</code>", response.content.decode())
    assert match, "the new token is shown on the page"
    return match.group(1)


def test_the_account_page_shows_who_you_are_and_your_roles(client, reviewer):
    client.force_login(reviewer)
    html = client.get(reverse("account:detail")).content.decode()
    assert 'data-testid="username">rita-reviewer<' in html
    assert "<strong>Reviewer</strong>" in html
    assert "No tokens yet." in html
    assert reverse("api:openapi-view") in html


def test_a_token_is_shown_once_listed_by_prefix_and_works_until_revoked(client, merchandiser):
    client.force_login(merchandiser)
    raw = make_token(client, "PIM sync")

    token = ApiToken.objects.get(user=merchandiser)
    assert (token.name, token.prefix) == ("PIM sync", raw[:12])
    html = client.get(reverse("account:detail")).content.decode()
    assert raw not in html  # never shown again
    assert f"<code>{raw[:12]}…</code>" in html
    assert "never" in html  # not used yet

    assert ApiClient(raw).get("/api/v1/products").status_code == 200
    assert "never" not in client.get(reverse("account:detail")).content.decode()

    response = client.post(reverse("account:token_revoke", args=[token.pk]), follow=True)
    assert "Token “PIM sync” revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    error = assert_error(ApiClient(raw).get("/api/v1/products"), 401, "unauthenticated")
    assert "revoked" in error["message"]


def test_nobody_can_revoke_someone_elses_token(client, merchandiser, reviewer):
    token, raw = ApiToken.issue(merchandiser, "mine")
    client.force_login(reviewer)
    assert client.post(reverse("account:token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiClient(raw).get("/api/v1/products").status_code == 200


def test_a_token_needs_a_name(client, merchandiser):
    client.force_login(merchandiser)
    response = client.post(reverse("account:token_create"), {"name": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_each_person_sees_only_their_own_tokens(client, merchandiser, reviewer):
    ApiToken.issue(merchandiser, "merch token")
    ApiToken.issue(reviewer, "review token")
    client.force_login(reviewer)
    html = client.get(reverse("account:detail")).content.decode()
    assert "review token" in html
    assert "merch token" not in html


def test_token_forms_need_a_login_and_a_csrf_token(merchandiser):
    anonymous = Client()
    assert anonymous.post(reverse("account:token_create"), {"name": "x"})["Location"].startswith(
        reverse("login")
    )
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(merchandiser)
    assert strict.post(reverse("account:token_create"), {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_every_logged_in_person_has_the_account_link(client, outsider):
    client.force_login(outsider)
    assert f'href="{reverse("account:detail")}"' in client.get(reverse("account:detail")).content.decode()


def test_the_admin_site_shows_tokens_without_their_hash_and_revokes_them(
    client, django_user_model, merchandiser
):
    token, raw = ApiToken.issue(merchandiser, "PIM sync")
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    page = client.get(reverse("admin:api_apitoken_change", args=[token.pk])).content.decode()
    assert "PIM sync" in page
    assert token.token_hash not in page
    assert raw not in page

    response = client.post(
        reverse("admin:api_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_error(ApiClient(raw).get("/api/v1/products"), 401)
