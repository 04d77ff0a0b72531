"""One-line authorisation for views: anonymous → login page, wrong role → 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required, user_passes_test
from django.core.exceptions import PermissionDenied

# The role group (catalog.roles.ADMIN); named here so this module imports no app.
ADMIN_ROLE = "Admin"


def require_permission(*perms: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        return login_required(permission_required(perms, raise_exception=True)(view))

    return decorator


def is_admin(user: Any) -> bool:
    """An active user in the Admin role, or a superuser (`ensure_admin`'s first admin).
    `is_staff` alone is not enough: it only lets a user reach the admin site's login."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_lightbox_is_admin", None)
    if cached is None:
        cached = user.groups.filter(name=ADMIN_ROLE).exists()
        user._lightbox_is_admin = cached
    return bool(cached)


def _admin_or_403(user: Any) -> bool:
    if not is_admin(user):
        raise PermissionDenied
    return True


def require_admin(view: Callable[..., Any]) -> Callable[..., Any]:
    """Admin role only: the admins' own pages and third-party ones such as the RQ dashboard."""
    return login_required(user_passes_test(_admin_or_403)(view))


def admin_context(request: Any) -> dict[str, Any]:
    """Template context: `user_is_admin`, asked only when a template reads it."""
    return {"user_is_admin": lambda: is_admin(getattr(request, "user", None))}
