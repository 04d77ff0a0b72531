"""API test helpers: tokens for the named actors and a client that sends them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client


class ApiClient:
    """Django's test client with a bearer token on every call and JSON bodies by default."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict[str, Any] | None = None):
        return self.client.get(path, params or {}, headers=self._headers())

    def post(self, path: str, body: Any = None):
        return self.client.post(
            path, json.dumps(body or {}), content_type="application/json", headers=self._headers()
        )

    def patch(self, path: str, body: Any = None):
        return self.client.patch(
            path, json.dumps(body or {}), content_type="application/json", headers=self._headers()
        )

    def upload(self, path: str, data: dict[str, Any]):
        return self.client.post(path, data, headers=self._headers())

    def request(self, method: str, path: str):
        return self.client.generic(method, path, headers=self._headers())


@pytest.fixture
def token_for(db):
    """token_for(user) -> a fresh raw API token for that user."""
    from catalog.api.models import ApiToken

    def make(user, name: str = "tests") -> str:
        return ApiToken.issue(user, name)[1]

    return make


@pytest.fixture
def api_as(token_for):
    """api_as(user) -> an ApiClient calling as that user; api_as(None) sends no token."""

    def make(user) -> ApiClient:
        return ApiClient(token_for(user) if user is not None else None)

    return make


def assert_error(response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the API's error body with this status (and code); returns the error."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# Published versions with real rendition files, shared with the export tests.
from tests.catalog.exports.conftest import make_photo, make_rendition  # noqa: E402, F401
