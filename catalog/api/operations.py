"""How every API operation is declared: its permissions, its success body and its errors.

Routers use `operation(...)` instead of ninja's `router.get/post` so that no operation
can forget the permission check or leave its error responses out of the schema. The
permissions are also published in the schema as `x-permissions`; the role tests read
them from there, so a new endpoint is covered without anyone editing the tests.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Annotated, Any

from ninja import Router
from ninja.params.models import Query
from pydantic import BaseModel

from catalog.api.auth import TokenAuth
from catalog.api.errors import ErrorBody

# Answers any operation can give: unreadable request, no or bad token, wrong role,
# invalid parameters, over the rate limit, and our own failure.
COMMON_ERRORS = (400, 401, 403, 422, 429, 500)


def operation(
    router: Router,
    method: str,
    path: str,
    *,
    perms: tuple[str, ...],
    response: Any,
    status: int = 200,
    errors: tuple[int, ...] = (),
    summary: str | None = None,
    openapi_extra: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare `method path` needing all of `perms`, answering `status` with `response`."""
    if not perms:
        raise ValueError(f"{method} {path}: every API operation names the permissions it needs")
    responses: dict[int, Any] = {status: response}
    responses.update(dict.fromkeys(sorted({*COMMON_ERRORS, *errors}), ErrorBody))
    extra = {"x-permissions": list(perms), **(openapi_extra or {})}

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        return router.api_operation(
            [method],
            path,
            auth=TokenAuth(*perms, query_names=query_names(view)),
            response=responses,
            operation_id=view.__name__,
            summary=summary,
            openapi_extra=extra,
            **kwargs,
        )(view)

    return decorator


def query_names(view: Callable[..., Any]) -> frozenset[str]:
    """The query parameters `view` declares (`Query[Schema]` fields and plain `Query[...]` ones)."""
    names: set[str] = set()
    for name, hint in typing.get_type_hints(view, include_extras=True).items():
        if typing.get_origin(hint) is not Annotated:
            continue
        base, *metadata = typing.get_args(hint)
        if not any(isinstance(item, Query) for item in metadata):
            continue
        if isinstance(base, type) and issubclass(base, BaseModel):
            names.update(field.alias or field_name for field_name, field in base.model_fields.items())
        else:
            names.add(name)
    return frozenset(names)
