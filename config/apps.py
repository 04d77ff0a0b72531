from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class LightboxAdminConfig(AdminConfig):
    """django.contrib.admin with Lightbox's site: Admin role only, throttled login."""

    default_site = "config.admin_site.LightboxAdminSite"
