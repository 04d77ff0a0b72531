"""Shared request and response shapes: safe text, pagination."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints

from catalog.sku import SKU_JSON_PATTERN

# PostgreSQL text cannot hold NUL, and UTF-8 cannot hold lone surrogates; both would
# otherwise surface as a database error. The pattern documents the rule in the schema.
_NO_NUL = r"^[^\x00]*$"


def _storable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode (no lone surrogates).") from None
    return value


def text(max_length: int, *, min_length: int = 0, pattern: str = _NO_NUL) -> Any:
    """A str type with limits PostgreSQL can store."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length, pattern=pattern),
        AfterValidator(_storable),
    ]


def _json_storable(value: Any) -> Any:
    """A JSON value PostgreSQL's jsonb accepts: no NUL in strings, finite numbers."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Text may not contain NUL characters.")
        return _storable(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Numbers must be finite.")
    if isinstance(value, dict):
        for key, item in value.items():
            _json_storable(key)
            _json_storable(item)
    elif isinstance(value, list):
        for item in value:
            _json_storable(item)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_json_storable)]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: Any) -> Any:
    """Only what OpenAPI's date-time format means (pydantic alone would also take Unix
    timestamps such as "0.5" and dates without a time or zone)."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("Give a date and time with a time zone, e.g. 2025-01-31T09:00:00Z.")
    return value


def _in_utc(value: datetime) -> datetime:
    # PostgreSQL takes offsets up to ±15:59 only; RFC 3339 allows up to ±23:59.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("This date and time is out of range.") from None


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_in_utc)]

Sku = text(64, min_length=1, pattern=SKU_JSON_PATTERN)

MAX_PAGE = 200
# Far beyond any catalog, and inside PostgreSQL's OFFSET range.
MAX_OFFSET = 2**31 - 1


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_PAGE, description=f"Items per page, at most {MAX_PAGE}.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class Page(Schema):
    """Fields every list answers with, besides its `items`."""

    total: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int
    next: str | None = Field(description="The next page's URL; null on the last page.")


def paginate(request: HttpRequest, queryset: QuerySet, params: PageParams) -> dict[str, Any]:
    """One page of `queryset` (already filtered and ordered) with its total and next link."""
    total = queryset.count()
    items = list(queryset[params.offset : params.offset + params.limit])
    next_url = None
    if params.offset + len(items) < total:
        query = request.GET.copy()
        query["offset"] = str(params.offset + len(items))
        query["limit"] = str(params.limit)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset, "next": next_url}
