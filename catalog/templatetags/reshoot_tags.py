"""{% reshoot_notice %}: how many products wait for a new photo, linking to that list."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from catalog.reshoot import reshoot_count

register = template.Library()


@register.simple_tag
def reshoot_notice() -> str:
    count = reshoot_count()
    if not count:
        return ""
    url = reverse("catalog:product_list") + "?reshoot=on"
    noun = "product needs" if count == 1 else "products need"
    return format_html(
        '<p class="message" data-testid="reshoot-count"><a href="{}">{} {} a new photo</a>: '
        "a reviewer sent the photo back for a reshoot.</p>",
        url,
        count,
        noun,
    )
