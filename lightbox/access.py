"""One-line authorisation for views: anonymous → login page, wrong role → 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required, user_passes_test
from django.core.exceptions import PermissionDenied


def require_permission(*perms: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        return login_required(permission_required(perms, raise_exception=True)(view))

    return decorator


def _is_admin(user: Any) -> bool:
    if not user.is_active or not user.is_staff:
        raise PermissionDenied
    return True


def require_admin(view: Callable[..., Any]) -> Callable[..., Any]:
    """Staff admins only; used to fence off third-party admin pages such as the RQ dashboard."""
    return login_required(user_passes_test(_is_admin)(view))
