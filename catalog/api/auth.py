"""Bearer-token authentication with the page's permission check, in one step.

Each operation names the Django permissions it needs (the same ones its page asks for);
authentication and authorisation both run before the request is parsed, so a caller
without the right gets 401/403 whatever the body holds, never a validation error.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from catalog.api.errors import ApiError, throttled
from catalog.api.models import ApiToken
from lightbox import ratelimit


class TokenAuth(HttpBearer):
    """`Authorization: Bearer lbx_…`; the token's user must be active and hold `perms`."""

    def __init__(self, *perms: str, query_names: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.perms = perms
        self.query_names = query_names

    def __call__(self, request: HttpRequest) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                message="Send your API token in the header 'Authorization: Bearer <token>'."
            )
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = ApiToken.objects.find_active(token)
        if api_token is None:
            raise AuthenticationError(message="This API token is unknown or has been revoked.")
        user = api_token.user
        if not user.is_active:
            raise AuthenticationError(message="The account this token belongs to is deactivated.")
        api_token.touch()
        request.user = user
        if limited := ratelimit.hit(ratelimit.API, user.pk):
            raise throttled(limited)
        if not user.has_perms(self.perms):
            raise AuthorizationError(
                message=f"Your role does not allow this (it needs {', '.join(self.perms)})."
            )
        self._refuse_unknown_query(request)
        return user

    def _refuse_unknown_query(self, request: HttpRequest) -> None:
        """A misspelt filter (`?stauts=flagged`) is an error, not a silently unfiltered list.
        Checked here, with the other preconditions, because ninja ignores unknown parameters."""
        unknown = sorted(set(request.GET) - self.query_names)
        if unknown:
            allowed = ", ".join(sorted(self.query_names)) or "none"
            shown = ", ".join(map(repr, unknown))
            raise ApiError(
                422,
                f"Unknown query parameter(s): {shown}. This operation takes: {allowed}.",
                details=[
                    {"loc": ["query", name], "message": "Unknown parameter.", "type": "extra_forbidden"}
                    for name in unknown
                ],
            )
