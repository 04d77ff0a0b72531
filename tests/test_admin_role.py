"""Admin-only pages ask for the Admin role: a staff flag alone opens nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["webhooks:endpoint_list", "shopify:connection", "django_rq:home"]


@pytest.fixture
def staff_only(django_user_model):
    return django_user_model.objects.create_user("sam-staff", password="x" * 20, is_staff=True)


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_a_staff_user_without_the_admin_role_gets_403(client, staff_only, name):
    client.force_login(staff_only)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_the_admin_role_and_a_superuser_get_in(client, admin_user, django_user_model, name):
    client.force_login(admin_user)
    assert client.get(reverse(name)).status_code == 200
    root = django_user_model.objects.create_superuser("root", password="x" * 20)
    client.force_login(root)
    assert client.get(reverse(name)).status_code == 200


def test_the_django_admin_site_is_for_the_admin_role(client, staff_only, admin_user):
    client.force_login(staff_only)
    assert client.get(reverse("admin:index")).status_code == 302  # back to the admin login

    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_navigation_shows_admin_links_to_admins_only(client, staff_only, admin_user):
    client.force_login(staff_only)
    assert reverse("webhooks:endpoint_list") not in client.get(reverse("account:detail")).content.decode()

    client.force_login(admin_user)
    assert reverse("webhooks:endpoint_list") in client.get(reverse("account:detail")).content.decode()
