"""Who reaches which page: anonymous → login, wrong role → 403, right role → 200."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

ROLES = ["outsider", "merchandiser", "reviewer", "admin_user"]

# url name, kwargs builder, the roles that may see it
PAGES = [
    ("catalog:product_list", {}, {"merchandiser", "reviewer", "admin_user"}),
    ("catalog:product_detail", {"sku": "MUG-001"}, {"merchandiser", "reviewer", "admin_user"}),
    ("catalog:upload", {}, {"merchandiser", "admin_user"}),
    ("catalog:batch_detail", {"batch_id": "batch"}, {"merchandiser", "reviewer", "admin_user"}),
    ("catalog:exports", {}, {"merchandiser", "admin_user"}),
    ("catalog:export_detail", {"export_id": "export"}, {"merchandiser", "admin_user"}),
    ("review:queue", {}, {"reviewer", "admin_user"}),
    ("review:decide", {}, {"reviewer", "admin_user"}),
    ("review:grid", {}, {"reviewer", "admin_user"}),
    ("insights:dashboard", {}, {"admin_user"}),
    ("django_rq:home", {}, {"admin_user"}),
    ("account:detail", {}, {"outsider", "merchandiser", "reviewer", "admin_user"}),
    ("shopify:connection", {}, {"admin_user"}),
    ("webhooks:endpoint_list", {}, {"admin_user"}),
    ("webhooks:endpoint_create", {}, {"admin_user"}),
    ("webhooks:endpoint_detail", {"endpoint_id": "endpoint"}, {"admin_user"}),
]


@pytest.fixture
def page_url(product, merchandiser):
    from catalog.exports.models import Export
    from catalog.models import UploadBatch
    from catalog.webhooks.models import Endpoint

    batch = UploadBatch.objects.create(created_by=merchandiser)
    endpoint = Endpoint.objects.create(url="https://hooks.example.com/", event_types=["batch.completed"])
    export = Export.objects.create(kind="shopify_csv", scope={"product": product.pk}, scope_label="mug")
    rows = {"batch": batch.pk, "endpoint": endpoint.pk, "export": export.pk}

    def build(name, kwargs):
        kwargs = {k: rows.get(v, v) for k, v in kwargs.items()}
        return reverse(name, kwargs=kwargs)

    return build


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs", "allowed"), PAGES, ids=[p[0] for p in PAGES])
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, page_url, name, kwargs, allowed):
    url = page_url(name, kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs", "allowed"), PAGES, ids=[p[0] for p in PAGES])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_its_pages(request, client, page_url, name, kwargs, allowed, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get(page_url(name, kwargs))
    assert response.status_code == (200 if role in allowed else 403)


@pytest.mark.django_db
def test_navigation_shows_each_role_only_the_links_it_can_follow(client, merchandiser, reviewer):
    client.force_login(merchandiser)
    html = client.get(reverse("catalog:product_list")).content.decode()
    assert reverse("catalog:upload") in html
    assert reverse("catalog:exports") in html
    assert reverse("review:queue") not in html
    client.force_login(reviewer)
    html = client.get(reverse("catalog:product_list")).content.decode()
    assert reverse("review:queue") in html
    assert reverse("catalog:upload") not in html


@pytest.mark.django_db
def test_login_with_the_right_password_lands_on_the_products(client, merchandiser):
    response = client.post(
        reverse("login"), {"username": merchandiser.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("catalog:product_list")
    assert "Log out mia-merchandiser" in response.content.decode()


@pytest.mark.django_db
def test_login_with_a_wrong_password_says_so(client, merchandiser):
    response = client.post(reverse("login"), {"username": merchandiser.username, "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(client, merchandiser):
    client.force_login(merchandiser)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("catalog:product_list")).status_code == 302


@pytest.mark.django_db
def test_a_post_without_csrf_token_is_refused(merchandiser):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(merchandiser)
    response = client.post(reverse("catalog:upload"), {"sku": "X1", "title": "X"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_admin_role_holds_the_permissions_of_apps_installed_after_catalog(admin_user):
    for permission in ("exports.view_export", "api.view_apitoken", "webhooks.view_endpoint"):
        assert admin_user.has_perm(permission), permission
