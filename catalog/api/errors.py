"""One error body for every failure the API answers with, and the handlers that produce it.

    {"error": {"code": "not_found", "message": "No product with SKU 'X'.", "details": null}}

`code` is stable and machine-readable, `message` is for people, `details` carries
per-field problems for validation errors. Every operation declares these responses in
the OpenAPI schema (catalog.api.operations), so clients and schemathesis can rely on them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("lightbox.api")
M = TypeVar("M", bound=Model)

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "throttled",
    500: "server_error",
}


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorBody(Schema):
    error: ErrorDetail


class ApiError(HttpError):
    """Raised by operations for a refusal with a specific code and optional details."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(status_code, message)
        self.code = code or CODES.get(status_code, "error")
        self.details = details
        self.headers = headers or {}


def throttled(limited: Any) -> ApiError:
    """A lightbox.ratelimit.Limited as the API's 429, with Retry-After."""
    return ApiError(429, limited.message, headers={"Retry-After": str(limited.retry_after)})


def get_or_404(queryset: QuerySet[M], message: str, **lookup: Any) -> M:
    """The one row matching `lookup`, or a 404 saying what was not found."""
    row = queryset.filter(**lookup).first()
    if row is None:
        raise ApiError(404, message)
    return row


def error_body(status: int, message: str, *, code: str | None = None, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code or CODES.get(status, "error"), "message": message, "details": details}}


def _respond(
    api: NinjaAPI, request: HttpRequest, status: int, message: str, *, code: str | None = None, details=None
) -> HttpResponse:
    response = api.create_response(
        request, error_body(status, message, code=code, details=details), status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="lightbox"'
    return response


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ninja's pydantic errors, trimmed to what a client needs: where, what, and the code."""
    trimmed = []
    for error in errors:
        loc = [part for part in error.get("loc", ()) if part not in ("body", "payload")]
        trimmed.append(
            {
                "loc": [str(part) for part in loc],
                "message": error.get("msg", ""),
                "type": error.get("type", ""),
            }
        )
    return trimmed


def install(api: NinjaAPI) -> None:
    """Replace ninja's default handlers (their bodies are {"detail": …}) with ours."""

    @api.exception_handler(ValidationError)
    def validation_failed(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return _respond(
            api, request, 422, "The request is not valid; see details.", details=_field_errors(exc.errors)
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = exc.message if exc.message != "Unauthorized" else "Send a valid API token."
        return _respond(api, request, 401, message)

    @api.exception_handler(AuthorizationError)
    def forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return _respond(api, request, 403, exc.message)

    @api.exception_handler(ApiError)
    def refused(request: HttpRequest, exc: ApiError) -> HttpResponse:
        response = _respond(api, request, exc.status_code, exc.message, code=exc.code, details=exc.details)
        for name, value in exc.headers.items():
            response[name] = value
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _respond(api, request, exc.status_code, exc.message)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _respond(api, request, 404, str(exc) or "Not found.")

    @api.exception_handler(PermissionDenied)
    def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _respond(api, request, 403, str(exc) or "Your role does not allow this.")

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        if isinstance(exc, RequestDataTooBig):
            return _respond(api, request, 413, "The request body is too large.")
        if isinstance(exc, SuspiciousOperation):
            return _respond(api, request, 400, "The request could not be read.")
        logger.exception("API error on %s %s", request.method, request.path)
        return _respond(api, request, 500, "Something went wrong on our side; it has been logged.")
