"""{% review_effort start end %}: the dashboard's review-tax panel (review.effort)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from review.effort import review_effort as measure

register = template.Library()


@register.inclusion_tag("review/_review_effort.html")
def review_effort(start: datetime, end: datetime) -> dict[str, Any]:
    return {"effort": measure(start, end)}
