"""`{% export_buttons %}`: the same export buttons on the product list, batch and product pages."""

from __future__ import annotations

from typing import Any

from django import template

from catalog.exports.services import PERMISSION, shopify_push_available

register = template.Library()


@register.inclusion_tag("exports/_export_buttons.html", takes_context=True)
def export_buttons(context: template.Context, scope: str, value: Any = "", count: int = 0) -> dict[str, Any]:
    """Buttons that POST an export of `scope` ("list", "batch" or "product") to the export view.

    "list" offers the products ticked in the table (checkboxes with form="export-form")
    or everything matching the list's current filters (`count` of them).
    """
    request = context["request"]
    allowed = request.user.has_perm(PERMISSION)
    return {
        "allowed": allowed,
        "scope": scope,
        "value": value,
        "count": count,
        "filters": request.GET.urlencode(),
        "next": request.get_full_path(),
        "push": allowed and shopify_push_available(),
        "csrf_token": context.get("csrf_token"),
    }
