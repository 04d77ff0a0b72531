"""Tokens and roles on every operation, taken from the served schema so none can be skipped."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from catalog.api.api import api
from catalog.api.models import ApiToken
from tests.catalog.api.conftest import ApiClient, assert_error

# As clients see it: JSON, with string status codes.
SCHEMA = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1"), cls=DjangoJSONEncoder))
OPERATIONS = [
    (method.upper(), path, spec)
    for path, methods in SCHEMA["paths"].items()
    for method, spec in methods.items()
]
IDS = [spec["operationId"] for _, _, spec in OPERATIONS]
ROLES = ["outsider", "merchandiser", "reviewer", "admin_user"]


def concrete(path: str) -> str:
    """The path with its parameters filled in with well-formed values."""
    return (
        path.replace("{sku}", "MUG-001")
        .replace("{version_id}", str(uuid.uuid4()))
        .replace("{batch_id}", str(uuid.uuid4()))
        .replace("{export_id}", str(uuid.uuid4()))
    )


def test_the_schema_lists_the_operations_the_issue_asks_for():
    assert sorted(IDS) == [
        "create_export",
        "create_product",
        "download_export",
        "get_batch",
        "get_export",
        "get_product",
        "get_version",
        "import_image",
        "list_batches",
        "list_products",
        "list_versions",
        "retry_failed_version",  # issue 16: FAILED is not a dead end
        "update_product",
        "upload_image",
    ]


@pytest.mark.parametrize(("method", "path", "spec"), OPERATIONS, ids=IDS)
def test_every_operation_needs_a_token_and_names_its_permissions(method, path, spec):
    assert spec["security"] == [{"TokenAuth": []}]
    assert spec["x-permissions"], "every operation names the permissions it needs"
    for status in ("401", "403", "422"):
        assert spec["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "spec"), OPERATIONS, ids=IDS)
def test_every_operation_refuses_a_call_without_a_token(product, method, path, spec):
    response = ApiClient(None).request(method, concrete(path))
    error = assert_error(response, 401, "unauthenticated")
    assert "Authorization: Bearer" in error["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "spec"), OPERATIONS, ids=IDS)
def test_every_operation_refuses_an_unknown_token(product, method, path, spec):
    for token in ("lbx_" + "x" * 43, "not-even-our-format", "lbx_"):
        response = ApiClient(token).request(method, concrete(path))
        assert_error(response, 401, "unauthenticated")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "spec"), OPERATIONS, ids=IDS)
def test_every_operation_refuses_a_revoked_token(product, admin_user, method, path, spec):
    token, raw = ApiToken.issue(admin_user, "old")
    assert token.revoke()
    error = assert_error(ApiClient(raw).request(method, concrete(path)), 401, "unauthenticated")
    assert "revoked" in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "spec"), OPERATIONS, ids=IDS)
def test_every_operation_refuses_the_token_of_a_deactivated_account(product, admin_user, method, path, spec):
    _, raw = ApiToken.issue(admin_user, "leaver")
    admin_user.is_active = False
    admin_user.save()
    error = assert_error(ApiClient(raw).request(method, concrete(path)), 401, "unauthenticated")
    assert "deactivated" in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "spec"), OPERATIONS, ids=IDS)
def test_every_operation_applies_its_permissions_to_each_role(request, product, role, method, path, spec):
    user = request.getfixturevalue(role)
    _, raw = ApiToken.issue(user, "role check")
    response = ApiClient(raw).request(method, concrete(path))
    if user.has_perms(spec["x-permissions"]):
        assert response.status_code not in (401, 403), response.content
    else:
        error = assert_error(response, 403, "forbidden")
        assert spec["x-permissions"][0] in error["message"]


def _allowed(user) -> set[str]:
    return {spec["operationId"] for _, _, spec in OPERATIONS if user.has_perms(spec["x-permissions"])}


@pytest.mark.django_db
def test_each_role_may_call_exactly_what_its_pages_allow(outsider, merchandiser, reviewer, admin_user):
    reads = {"list_products", "get_product", "list_versions", "get_version", "list_batches", "get_batch"}
    assert _allowed(outsider) == set()
    assert _allowed(reviewer) == reads
    assert _allowed(merchandiser) == set(IDS)
    assert _allowed(admin_user) == set(IDS)


def test_operations_ask_for_the_same_permissions_as_the_matching_pages():
    perms = {spec["operationId"]: spec["x-permissions"] for _, _, spec in OPERATIONS}
    assert perms["upload_image"] == perms["import_image"] == ["catalog.upload_images"]  # the upload page
    assert perms["create_export"] == perms["get_export"] == ["catalog.export_catalog"]  # the exports page
    assert perms["list_products"] == ["catalog.view_product"]  # the product list
    assert perms["get_batch"] == ["catalog.view_uploadbatch"]  # the batch page
    assert perms["create_product"] == ["catalog.add_product"]
    assert perms["update_product"] == ["catalog.change_product"]


@pytest.mark.django_db
def test_a_reviewer_cannot_create_products_upload_or_start_exports(api_as, reviewer, product):
    client = api_as(reviewer)
    assert_error(client.post("/api/v1/products", {"sku": "NEW-1", "title": "New"}), 403, "forbidden")
    assert_error(client.patch("/api/v1/products/MUG-001", {"title": "Renamed"}), 403, "forbidden")
    assert_error(
        client.post("/api/v1/exports", {"kind": "shopify_csv", "scope": {"products": ["MUG-001"]}}),
        403,
        "forbidden",
    )
    assert_error(
        client.post("/api/v1/products/MUG-001/images/import", {"url": "https://example.com/a.jpg"}), 403
    )
    product.refresh_from_db()
    assert product.title == "Stoneware mug"
    from catalog.exports.models import Export
    from catalog.models import Product

    assert not Product.objects.filter(sku="NEW-1").exists()
    assert not Export.objects.exists()


@pytest.mark.django_db
def test_a_call_with_a_token_records_when_it_was_last_used(api_as, merchandiser):
    token, raw = ApiToken.issue(merchandiser, "sync")
    assert token.last_used_at is None
    before = timezone.now()
    assert ApiClient(raw).get("/api/v1/products").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at >= before


@pytest.mark.django_db
def test_tokens_are_stored_only_as_a_hash(merchandiser):
    token, raw = ApiToken.issue(merchandiser, "sync")
    assert raw.startswith("lbx_")
    assert len(raw) > 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in str(stored)
    assert stored["prefix"] == raw[:12]
    assert ApiToken.objects.find_active(raw) == token
