"""Claims and decisions: who gets which item, and what each decision leaves behind."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import ImageVersion, Priority, VersionStatus
from review.models import ReviewDecision
from review.services import (
    InvalidDecision,
    StaleDecision,
    claim_next,
    do_approve,
    do_reject,
    do_reprocess,
    release,
)


def queued_job_ids(redis_conn, queue: str = "default") -> list[str]:
    import django_rq

    return django_rq.get_queue(queue).job_ids


@pytest.mark.django_db
def test_the_queue_hands_out_launch_items_first_then_the_longest_waiting(reviewer, make_flagged):
    old_normal = make_flagged(minutes_ago=60)
    new_launch = make_flagged(minutes_ago=1, priority=Priority.HIGH)
    old_launch = make_flagged(minutes_ago=30, priority=Priority.HIGH)

    assert claim_next(reviewer) == old_launch
    assert claim_next(reviewer, after=old_launch) == new_launch
    assert claim_next(reviewer, after=new_launch) == old_normal
    assert claim_next(reviewer, after=old_normal) is None
    assert claim_next(reviewer, before=old_normal) == new_launch


@pytest.mark.django_db
def test_a_claim_is_held_for_the_configured_time_and_one_at_a_time(reviewer, make_flagged, settings):
    settings.LIGHTBOX_REVIEW_CLAIM_SECONDS = 120
    first, second = make_flagged(minutes_ago=20), make_flagged(minutes_ago=10)

    claimed = claim_next(reviewer)
    assert claimed == first
    assert claimed.claimed_by == reviewer
    assert timedelta(seconds=110) < claimed.claim_expires_at - timezone.now() <= timedelta(seconds=120)

    assert claim_next(reviewer, after=first) == second
    first.refresh_from_db()
    assert first.claimed_by is None, "skipping an item gives it back"


@pytest.mark.django_db
def test_a_reviewer_never_gets_an_item_another_reviewer_holds(reviewer, other_reviewer, make_flagged):
    first, second = make_flagged(minutes_ago=20), make_flagged(minutes_ago=10)

    assert claim_next(reviewer) == first
    assert claim_next(other_reviewer) == second
    assert claim_next(other_reviewer, after=second) is None
    assert claim_next(reviewer) == first, "a reviewer's own claim is still theirs"


@pytest.mark.django_db
def test_an_expired_claim_can_be_taken_over(reviewer, other_reviewer, make_flagged):
    version = make_flagged()
    claim_next(reviewer)
    ImageVersion.objects.filter(pk=version.pk).update(claim_expires_at=timezone.now() - timedelta(seconds=1))

    taken = claim_next(other_reviewer)

    assert taken == version
    assert taken.claimed_by == other_reviewer


@pytest.mark.django_db
def test_releasing_gives_the_item_back_to_the_queue(reviewer, other_reviewer, make_flagged):
    version = make_flagged()
    claim_next(reviewer)

    assert release(version, other_reviewer) is False
    assert release(version, reviewer) is True
    assert claim_next(other_reviewer) == version


@pytest.mark.django_db
def test_filters_narrow_what_is_claimed(reviewer, make_flagged):
    from django.db.models import Q

    make_flagged(minutes_ago=30, reasons=[{"code": "blurry", "message": "Blurry"}])
    cut_off = make_flagged(minutes_ago=10)

    assert claim_next(reviewer, Q(reasons__contains=[{"code": "cut_off"}])) == cut_off


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_claiming_at_the_same_moment_get_different_items(
    reviewer, other_reviewer, make_flagged
):
    make_flagged(minutes_ago=20)
    make_flagged(minutes_ago=10)
    first_claimed, second_may_claim, first_may_commit = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )
    results: dict[str, object] = {}

    def first():
        from django.db import transaction

        try:
            # The first claim stays uncommitted (row locked) while the second one runs.
            with transaction.atomic():
                results["first"] = claim_next(reviewer)
                first_claimed.set()
                # Set by the second claim once done: it must not wait for this commit.
                results["second_was_not_blocked"] = first_may_commit.wait(5)
        finally:
            connection.close()

    def second():
        try:
            second_may_claim.wait(10)
            results["second"] = claim_next(other_reviewer)
        finally:
            first_may_commit.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_claimed.wait(10)
    second_may_claim.set()
    for thread in threads:
        thread.join(20)

    assert results["second_was_not_blocked"]
    assert results["first"] is not None
    assert results["second"] is not None
    assert results["first"] != results["second"]


@pytest.mark.django_db
def test_approving_records_the_decision_and_queues_rendering(
    reviewer, make_flagged, redis_conn, django_capture_on_commit_callbacks
):
    version = make_flagged()
    claim_next(reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        do_approve(version.pk, reviewer)

    version.refresh_from_db()
    assert version.status == VersionStatus.RENDERING
    assert version.reviewed_by == reviewer
    assert version.claimed_by is None
    decision = ReviewDecision.objects.get(version=version)
    assert (decision.reviewer, decision.action) == (reviewer, ReviewDecision.Action.APPROVE)
    assert decision.decided_at == version.reviewed_at
    # The reviewer is waiting on it: the interactive queue, ahead of bulk processing.
    assert queued_job_ids(redis_conn, "interactive") == [f"render-{version.pk}"]
    assert queued_job_ids(redis_conn) == []


@pytest.mark.django_db
def test_approving_twice_is_refused_the_second_time(reviewer, make_flagged, redis_conn):
    version = make_flagged()
    do_approve(version.pk, reviewer)

    with pytest.raises(StaleDecision, match="already decided"):
        do_approve(version.pk, reviewer)
    assert ReviewDecision.objects.filter(version=version).count() == 1


@pytest.mark.django_db
def test_a_decision_on_an_item_another_reviewer_holds_is_refused(reviewer, other_reviewer, make_flagged):
    version = make_flagged()
    claim_next(other_reviewer)

    with pytest.raises(StaleDecision, match="rob-reviewer is reviewing"):
        do_approve(version.pk, reviewer)
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED


@pytest.mark.django_db
def test_a_decision_on_an_item_whose_claim_expired_goes_through(reviewer, other_reviewer, make_flagged):
    version = make_flagged()
    claim_next(other_reviewer)
    ImageVersion.objects.filter(pk=version.pk).update(claim_expires_at=timezone.now() - timedelta(seconds=1))

    do_reject(version.pk, reviewer, "bad_cutout")

    version.refresh_from_db()
    assert version.status == VersionStatus.REJECTED


@pytest.mark.django_db
def test_rejecting_records_the_listed_reason_and_note(reviewer, make_flagged):
    version = make_flagged()

    do_reject(version.pk, reviewer, "wrong_product", "This is the blue mug")

    version.refresh_from_db()
    assert version.status == VersionStatus.REJECTED
    decision = version.decisions.get()
    assert (decision.action, decision.reason, decision.note) == (
        "reject",
        "wrong_product",
        "This is the blue mug",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("reason", "note"), [("", ""), ("ugly", ""), ("other", "  ")])
def test_rejecting_needs_a_listed_reason_and_other_needs_a_note(reviewer, make_flagged, reason, note):
    version = make_flagged()

    with pytest.raises(InvalidDecision):
        do_reject(version.pk, reviewer, reason, note)
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED


@pytest.mark.django_db
def test_reprocessing_supersedes_the_version_with_a_queued_successor(
    reviewer, make_flagged, redis_conn, django_capture_on_commit_callbacks
):
    old = make_flagged(priority=Priority.HIGH)
    options = {"refine_edges": False, "crop": [4, 2, 60, 40], "shadow": True, "pass_score": 60}

    with django_capture_on_commit_callbacks(execute=True):
        new = do_reprocess(old.pk, reviewer, options)

    old.refresh_from_db()
    assert old.status == VersionStatus.SUPERSEDED
    assert (new.number, new.parent, new.source_id) == (old.number + 1, old, old.source_id)
    assert new.status == VersionStatus.QUEUED
    assert new.priority == Priority.HIGH
    assert new.options == options
    assert old.decisions.get().options == options
    assert queued_job_ids(redis_conn, "high") == [new.job_id]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "crop", [[0, 0, 65, 48], [-1, 0, 10, 10], [10, 10, 5, 20], [0, 0, 64], ["a", 0, 1, 1]]
)
def test_a_crop_outside_the_photo_is_refused(reviewer, make_flagged, crop):
    version = make_flagged()  # the source photo is 64×48

    with pytest.raises(InvalidDecision):
        do_reprocess(version.pk, reviewer, {"crop": crop})
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED
    assert not ImageVersion.objects.filter(parent=version).exists()


@pytest.mark.django_db
def test_a_decision_on_a_version_that_is_not_flagged_is_refused(reviewer, product, make_version):
    version = make_version(product, status=VersionStatus.PUBLISHED, published_at=timezone.now())

    with pytest.raises(StaleDecision, match="now published"):
        do_reprocess(version.pk, reviewer, {})
