"""The admins' banner for endpoints Lightbox switched off (410 Gone or a long run of failures)."""

from __future__ import annotations

from typing import Any

from django import template

from catalog.webhooks.models import Endpoint
from lightbox.access import is_admin

register = template.Library()


@register.inclusion_tag("webhooks/_disabled_banner.html", takes_context=True)
def webhook_alert(context: Any) -> dict[str, Any]:
    user = context.get("user")
    if not is_admin(user):
        return {"endpoints": []}
    return {
        "endpoints": list(Endpoint.objects.filter(enabled=False, disabled_by__isnull=True).only("pk", "url"))
    }
