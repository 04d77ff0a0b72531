"""Django's admin site, for the Admin role only (not every `is_staff` user), with the
throttled login form."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from lightbox.access import is_admin
from lightbox.login_throttle import ThrottledAdminAuthenticationForm


class LightboxAdminSite(admin.AdminSite):
    login_form = ThrottledAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(user.is_staff) and is_admin(user)
