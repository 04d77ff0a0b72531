"""The OpenAPI schema the app serves is valid OpenAPI, and its docs page loads nothing from elsewhere."""

from __future__ import annotations

import copy
import re

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.test import Client

from catalog.api.api import api


@pytest.fixture(scope="module")
def served() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_served_schema_is_valid_openapi(served):
    assert served["openapi"].startswith("3.1")
    assert served["info"]["title"] == "Lightbox API"
    schemathesis.openapi.from_dict(served).validate()  # against the OpenAPI meta-schema


def test_the_validation_would_catch_a_broken_schema(served):
    broken = copy.deepcopy(served)
    broken["paths"]["/api/v1/products"]["get"]["responses"] = "none"
    with pytest.raises(Exception, match="responses"):
        schemathesis.openapi.from_dict(broken).validate()


def test_the_schema_documents_pagination_and_the_error_body(served):
    components = served["components"]["schemas"]
    assert set(components["ProductPage"]["required"]) == {"items", "total", "limit", "offset", "next"}
    assert components["ErrorBody"]["required"] == ["error"]
    assert set(components["ErrorDetail"]["properties"]) == {"code", "message", "details"}
    params = {p["name"] for p in served["paths"]["/api/v1/versions"]["get"]["parameters"]}
    assert params == {"status", "updated_since", "sku", "batch", "limit", "offset"}
    assert served["components"]["securitySchemes"] == {"TokenAuth": {"type": "http", "scheme": "bearer"}}


def test_the_served_schema_is_the_one_the_app_builds(served):
    assert set(served["paths"]) == set(api.get_openapi_schema(path_prefix="/api/v1")["paths"])


def test_the_docs_page_renders_the_schema_from_local_files_only():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert '"url": "/api/v1/openapi.json"' in html
    assert '"validatorUrl": null' in html  # no badge fetched from swagger.io
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), "no external URL"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui.css"} <= set(assets)
    for asset in assets:
        assert asset.startswith("/static/")
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is served from our static files"
