"""The review tax: hand fixes apart from approvals, and the time spent per item."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from review.effort import review_effort
from review.models import ReviewDecision

pytestmark = pytest.mark.django_db


def decide(version, reviewer, action, seconds, **fields):
    return ReviewDecision.objects.create(
        version=version, reviewer=reviewer, action=action, seconds_open=seconds, **fields
    )


def test_hand_fixes_are_counted_apart_from_approvals_with_the_time_per_item(reviewer, make_flagged):
    decide(make_flagged(), reviewer, "approve", 4)
    decide(make_flagged(), reviewer, "approve", 8)
    decide(make_flagged(), reviewer, "correct", 30, options={"mask_source": "hand"})
    decide(make_flagged(), reviewer, "correct", 10, options={"mask_source": "model_fix"})
    decide(make_flagged(), reviewer, "reject", None, reason="reshoot")
    now = timezone.now()

    effort = review_effort(now - timedelta(hours=1), now + timedelta(minutes=1))

    by_action = {a.action: a for a in effort.actions}
    assert (by_action["approve"].decisions, by_action["approve"].median_seconds) == (2, 6)
    assert (by_action["correct"].decisions, by_action["correct"].median_seconds) == (2, 20)
    assert (effort.hand_fixes, effort.model_fixes) == (1, 1)
    assert by_action["reject"].median_seconds is None
    assert effort.total_hours == pytest.approx(52 / 3600)


def test_the_dashboard_shows_the_review_tax(client, admin_user, reviewer, make_flagged):
    decide(make_flagged(), reviewer, "correct", 30, options={"mask_source": "hand"})
    client.force_login(admin_user)

    page = client.get(reverse("insights:dashboard")).content.decode()

    assert 'data-testid="review-effort"' in page
    assert 'data-testid="hand-fixes">1<' in page
