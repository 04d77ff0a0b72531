"""{% review_effort effort %}: the dashboard's review-tax panel (review.effort.ReviewEffort)."""

from __future__ import annotations

from typing import Any

from django import template

from review.effort import ReviewEffort

register = template.Library()


@register.inclusion_tag("review/_review_effort.html")
def review_effort(effort: ReviewEffort) -> dict[str, Any]:
    return {"effort": effort}
