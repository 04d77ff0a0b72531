"""The review queue's writes: claims on flagged versions and the reviewers' decisions.

A claim is a reviewer's timed hold on one FLAGGED version (LIGHTBOX_REVIEW_CLAIM_SECONDS),
taken with one UPDATE over a `FOR UPDATE SKIP LOCKED` subquery, so two reviewers
asking at the same moment get different items. A reviewer holds at most one claim.

Each decision runs in one transaction: lock the row, refuse it (StaleDecision) when
the version is no longer FLAGGED or another reviewer's claim is still live, move it
with its guarded transition, record the ReviewDecision, and queue follow-up work
only once the transaction has committed.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from catalog.derived import current_cutout, derive_version
from catalog.models import ImageVersion, InvalidTransition
from catalog.reshoot import RESHOOT_REASON, request_reshoot
from lightbox import jobs
from processing.publishing import forecast
from processing.thresholds import model_choice_error
from review.models import ReviewDecision

REJECT_REASONS: tuple[tuple[str, str], ...] = (
    ("wrong_product", "Wrong product in the photo"),
    ("bad_cutout", "Bad cut-out"),
    ("poor_photo", "Poor photo (blur, exposure, framing)"),
    ("duplicate", "Duplicate of another photo"),
    ("other", "Other (say why in the note)"),
    # Puts the product on the merchandisers' reshoot list (catalog.reshoot).
    ("reshoot", "Reshoot: the photo itself is unusable"),
)
REJECT_REASON_CODES = frozenset(code for code, _ in REJECT_REASONS)


class StaleDecision(Exception):
    """The decision no longer applies: the item moved on or another reviewer holds it."""


class InvalidDecision(ValueError):
    """The decision itself is malformed (unknown reason, crop outside the photo…)."""


def claim_ttl() -> timedelta:
    return timedelta(seconds=settings.LIGHTBOX_REVIEW_CLAIM_SECONDS)


def reviewable() -> QuerySet[ImageVersion]:
    """FLAGGED versions in queue order: batch priority, then how long they have waited."""
    return ImageVersion.objects.filter(status__in=ImageVersion.REVIEWABLE_STATES).order_by(
        "priority", "scored_at", "pk"
    )


def claimable_by(reviewer: Any, now: Any = None) -> Q:
    """Unclaimed, claimed by `reviewer`, or held by someone whose claim has expired."""
    now = now or timezone.now()
    return Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now) | Q(claimed_by=reviewer)


def _beyond(cursor: ImageVersion, *, backwards: bool) -> Q:
    """Rows strictly after (or before) `cursor` in queue order (priority, scored_at, pk)."""
    gt = "lt" if backwards else "gt"
    same_priority = Q(priority=cursor.priority)
    if cursor.scored_at is None:  # NULLs sort last: only later NULLs follow it
        later_in_priority = Q(scored_at__isnull=True, **{f"pk__{gt}": cursor.pk})
        if backwards:
            later_in_priority |= Q(scored_at__isnull=False)
    else:
        later_in_priority = Q(**{f"scored_at__{gt}": cursor.scored_at}) | Q(
            scored_at=cursor.scored_at, **{f"pk__{gt}": cursor.pk}
        )
        if not backwards:
            later_in_priority |= Q(scored_at__isnull=True)
    return Q(**{f"priority__{gt}": cursor.priority}) | (same_priority & later_in_priority)


def claim_next(
    reviewer: Any,
    filters: Q | None = None,
    *,
    after: ImageVersion | None = None,
    before: ImageVersion | None = None,
) -> ImageVersion | None:
    """Claim the first claimable FLAGGED version matching `filters`, or None.

    `after` / `before` step from the item a reviewer is looking at (skip forward,
    go back). The reviewer's other claims are released, so each holds one item.
    """
    now = timezone.now()
    candidates = reviewable().filter(claimable_by(reviewer, now))
    if filters is not None:
        candidates = candidates.filter(filters)
    if after is not None:
        candidates = candidates.filter(_beyond(after, backwards=False))
    elif before is not None:
        candidates = candidates.filter(_beyond(before, backwards=True)).reverse()
    with transaction.atomic():
        # SKIP LOCKED: a row another reviewer is claiming right now is passed over, not
        # waited on; the lock then makes the UPDATE below ours alone until commit.
        pk = candidates.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True).first()
        if pk is None:
            return None
        ImageVersion.objects.filter(pk=pk, status=ImageVersion.Status.FLAGGED).update(
            claimed_by=reviewer, claim_expires_at=now + claim_ttl()
        )
        version = ImageVersion.objects.select_related("source__product", "source__batch").get(pk=pk)
        release_all(reviewer, keep=version)
    return version


def release(version: ImageVersion, reviewer: Any) -> bool:
    """Give the version back to the queue if `reviewer` holds it. True when released."""
    return bool(
        ImageVersion.objects.filter(pk=version.pk, claimed_by=reviewer).update(
            claimed_by=None, claim_expires_at=None
        )
    )


def release_all(reviewer: Any, *, keep: ImageVersion | None = None) -> int:
    held = ImageVersion.objects.filter(claimed_by=reviewer)
    if keep is not None:
        held = held.exclude(pk=keep.pk)
    return held.update(claimed_by=None, claim_expires_at=None)


def _lock_for_decision(version_id: Any, reviewer: Any) -> ImageVersion:
    version = (
        ImageVersion.objects.select_for_update(of=("self",))
        .select_related("source__product", "claimed_by")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise StaleDecision("This item no longer exists.")
    if version.status not in ImageVersion.REVIEWABLE_STATES:
        raise StaleDecision(
            f"This item was already decided: it is now {version.get_status_display().lower()}."
        )
    held_by_other = version.claimed_by_id not in (None, reviewer.pk)
    if held_by_other and version.claim_expires_at and version.claim_expires_at > timezone.now():
        holder = version.claimed_by.get_username() if version.claimed_by else "Another reviewer"
        raise StaleDecision(f"{holder} is reviewing this item right now.")
    return version


def _seconds_since_claim(version: ImageVersion, reviewer: Any) -> float | None:
    """Page open to decision: the reviewer's claim is taken when the item is shown."""
    if version.claimed_by_id != reviewer.pk or version.claim_expires_at is None:
        return None
    opened = version.claim_expires_at - claim_ttl()
    return round(max(0.0, (timezone.now() - opened).total_seconds()), 1)


def _decide(
    version_id: Any,
    reviewer: Any,
    action: str,
    transition: str,
    *,
    reason: str = "",
    note: str = "",
    options: dict[str, Any] | None = None,
    then: Any = None,
    check: Any = None,
) -> ImageVersion:
    """Lock, check, transition, record; `check(version)` may refuse the decision (InvalidDecision)
    once the row is locked, `then(version)` runs inside the transaction."""
    try:
        with transaction.atomic():
            version = _lock_for_decision(version_id, reviewer)
            if check is not None:
                check(version)
            try:
                changed = getattr(version, transition)(reviewer)
            except InvalidTransition as exc:
                raise StaleDecision(str(exc).capitalize() + ".") from None
            if not changed:
                raise StaleDecision("This item was already decided.")
            seconds_open = _seconds_since_claim(version, reviewer)
            ImageVersion.objects.filter(pk=version.pk).update(claimed_by=None, claim_expires_at=None)
            version.claimed_by, version.claim_expires_at = None, None
            ReviewDecision.objects.create(  # type: ignore[misc]  # reviewed_at was just stamped
                version=version,
                reviewer=reviewer,
                action=action,
                reason=reason,
                note=note,
                options=options or {},
                decided_at=version.reviewed_at,
                seconds_open=seconds_open,
            )
            if then is not None:
                then(version)
    except IntegrityError:  # the one-decision-per-version constraint: a race lost
        raise StaleDecision("This item was already decided.") from None
    return version


def do_approve(version_id: Any, reviewer: Any) -> ImageVersion:
    """Approve a flagged version: it goes to RENDERING and its renditions are queued.

    Refused (InvalidDecision, with the reason) when its photo is below a required profile's
    minimum, or below every profile's: approving would only end in FAILED. The reviewer
    rejects it or asks for a reshoot instead.
    """
    return _decide(
        version_id,
        reviewer,
        ReviewDecision.Action.APPROVE,
        "approve",
        check=_publishable,
        then=lambda v: transaction.on_commit(partial(jobs.queue_rendering, v, interactive=True)),
    )


def _publishable(version: ImageVersion) -> None:
    if refusal := forecast(version).refusal:
        raise InvalidDecision(refusal)


def do_reject(version_id: Any, reviewer: Any, reason: str, note: str = "") -> ImageVersion:
    """Reject a flagged version for one of REJECT_REASONS; "other" needs a note."""
    note = (note or "").strip()
    if reason not in REJECT_REASON_CODES:
        raise InvalidDecision("Choose a reason for the rejection.")
    if reason == "other" and not note:
        raise InvalidDecision("Say in the note why this is rejected.")
    return _decide(
        version_id,
        reviewer,
        ReviewDecision.Action.REJECT,
        "reject",
        reason=reason,
        note=note[:2000],
        then=_tell_the_catalog if reason == RESHOOT_REASON else None,
    )


def _tell_the_catalog(version: ImageVersion) -> None:
    """A photo sent back for a reshoot puts its product on the merchandisers' list (catalog.reshoot)."""
    request_reshoot(version.source.product_id, version.reviewed_at or timezone.now())


def clean_reprocess_options(options: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    """Validated pipeline options for a reprocess. `crop` is [left, top, right, bottom] in
    the source photo's pixels and must lie inside its `width` × `height`."""
    cleaned: dict[str, Any] = {
        "refine_edges": bool(options.get("refine_edges", True)),
        "shadow": bool(options.get("shadow", False)),
    }
    crop = options.get("crop")
    if crop:
        try:
            left, top, right, bottom = (int(v) for v in crop)
        except (TypeError, ValueError):
            raise InvalidDecision("A crop is four whole numbers: left, top, right, bottom.") from None
        if not (0 <= left < right <= width and 0 <= top < bottom <= height):
            raise InvalidDecision(f"The crop must lie inside the photo (0, 0, {width}, {height}).")
        cleaned["crop"] = [left, top, right, bottom]
    pass_score = options.get("pass_score")
    if pass_score not in (None, ""):
        try:
            pass_score = int(pass_score)  # type: ignore[arg-type]  # not None: checked above
        except (TypeError, ValueError):
            raise InvalidDecision("The pass score is a whole number from 0 to 100.") from None
        if not 0 <= pass_score <= 100:
            raise InvalidDecision("The pass score is a whole number from 0 to 100.")
        cleaned["pass_score"] = pass_score
    model = options.get("model")
    if model:
        if error := model_choice_error(str(model)):
            raise InvalidDecision(error)
        cleaned["model"] = str(model)
    if options.get("use_model"):  # a hand-fixed version: cut out by the model again
        cleaned["use_model"] = True
    return cleaned


def _kept_hand_mask(old: ImageVersion, cleaned: dict[str, Any]) -> dict[str, Any]:
    """A reprocess of a hand-fixed version keeps the reviewer's mask, unless asked for the model
    (or a crop: the full-size hand mask does not fit a cropped photo)."""
    if not old.hand_mask or cleaned.get("use_model") or cleaned.get("crop"):
        return {}
    return {"hand_mask": old.hand_mask.name, "mask_source": old.mask_source, "mask_by_id": old.mask_by_id}


def _derive_again(old: ImageVersion) -> ImageVersion:
    """A derived version's successor: made again, in its lineage, from the photo's current
    published cut-out (or the one it came from), with the same recipe."""
    base = current_cutout(old.source_id) or old.derived_from
    if base is None:
        raise InvalidDecision("The cut-out this version was made from is gone; reject it instead.")
    new = derive_version(
        base,
        old.kind,
        lineage=old.lineage,
        targets=old.targets.all(),
        export_position=old.export_position,
        options={"recipe": (old.options or {}).get("recipe", {})},
        parent=old,
        force=True,
        scene_template=old.scene_template,
        scene_rule=old.scene_rule,
    )
    if new is None:  # force: never None
        raise StaleDecision("This item was already decided.")
    return new


def do_reprocess(version_id: Any, reviewer: Any, options: dict[str, Any]) -> ImageVersion:
    """Supersede a flagged version with a new one (number + 1) processed with `options`.

    Returns the new, QUEUED version; its processing is queued once the decision commits.
    """
    source = ImageVersion.objects.filter(pk=version_id).values_list("source__width", "source__height").first()
    if source is None:
        raise StaleDecision("This item no longer exists.")
    cleaned = clean_reprocess_options(options, *source)
    created: list[ImageVersion] = []

    def make_successor(old: ImageVersion) -> None:
        if old.is_derived:
            created.append(_derive_again(old))
            return
        cutouts = ImageVersion.objects.filter(source_id=old.source_id, lineage="")
        latest = cutouts.aggregate(n=Max("number"))["n"]
        new = ImageVersion.objects.create(
            source=old.source,
            parent=old,
            number=(latest or old.number) + 1,
            priority=old.priority,
            options=cleaned,
            **_kept_hand_mask(old, cleaned),
        )
        created.append(new)
        transaction.on_commit(partial(jobs.queue_processing, new))

    _decide(
        version_id,
        reviewer,
        ReviewDecision.Action.REPROCESS,
        "supersede",
        options=cleaned,
        then=make_successor,
    )
    return created[0]
