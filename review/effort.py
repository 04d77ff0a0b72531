"""The review tax, measured: per decision kind, how many and how long a reviewer spent on
each item (page open to decision, ReviewDecision.seconds_open), with hand fixes counted
apart from approvals (a mask correction is its own decision, review.mask_edit).

Over decisions made in the range (decided_at), all products: the time is the reviewer's,
spent when they decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Aggregate, Count, FloatField, Q, Sum

from catalog.models import ImageVersion
from review.models import ReviewAction, ReviewDecision


class _Percentile(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float) -> None:
        super().__init__(expression, fraction=repr(float(fraction)))


@dataclass(frozen=True)
class ActionEffort:
    action: str
    label: str
    decisions: int
    median_seconds: float | None
    p90_seconds: float | None
    total_seconds: float


@dataclass(frozen=True)
class ReviewEffort:
    actions: list[ActionEffort]
    hand_fixes: int  # masks touched up with the brush
    model_fixes: int  # masks saved after one-click fixes only

    @property
    def total_hours(self) -> float:
        return sum(a.total_seconds for a in self.actions) / 3600


def review_effort(start: datetime, end: datetime) -> ReviewEffort:
    """Decisions made in [start, end): counts and time per item, per action (one query)."""
    rows = (
        ReviewDecision.objects.filter(decided_at__gte=start, decided_at__lt=end)
        .values("action")
        .annotate(
            n=Count("*"),
            median=_Percentile("seconds_open", 0.5),
            p90=_Percentile("seconds_open", 0.9),
            total=Sum("seconds_open", default=0.0),
            hand=Count("pk", filter=Q(options__mask_source=ImageVersion.MaskSource.HAND)),
            fix=Count("pk", filter=Q(options__mask_source=ImageVersion.MaskSource.MODEL_FIX)),
        )
        .order_by()
    )
    by_action = {row["action"]: row for row in rows}
    actions = []
    for action in ReviewAction:
        row = by_action.get(action.value)
        if row is None:
            actions.append(ActionEffort(action.value, action.label, 0, None, None, 0.0))
            continue
        actions.append(
            ActionEffort(action.value, action.label, row["n"], row["median"], row["p90"], row["total"] or 0.0)
        )
    correct = by_action.get(ReviewAction.CORRECT, {})
    return ReviewEffort(actions, hand_fixes=correct.get("hand", 0), model_fixes=correct.get("fix", 0))
