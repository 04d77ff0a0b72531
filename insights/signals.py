"""Invalidation of the dashboard's stored days and hours (insights.daycache), in the transaction
of the change.

Each receiver deletes the stored days and hours, for every set of filters, whose figures the
change can move. What bypasses these signals (QuerySet.update, raw SQL) is bounded by daycache.MAX_AGE.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from catalog.models import BlockedChannel, ImageVersion, Product, Rendition
from catalog.signals import version_status_changed
from insights.models import DashboardDay
from review.models import ReviewDecision

# The timestamps a version's figures are counted by (scored_at: quality and decisions;
# published_at: publication; COALESCE(scored_at, failed_at): cost; queued_at for good measure).
VERSION_TIMES = ("queued_at", "scored_at", "reviewed_at", "published_at", "failed_at")


def forget_days(moments: Iterable[datetime | None]) -> None:
    """Delete the stored days (current time zone) of these moments, and the stored hours they
    fall in, for every set of filters. Other hours of those days stay: a version processed now
    drops nothing of today's past hours."""
    wanted = Q()
    for moment in moments:
        if isinstance(moment, datetime):
            day = timezone.localdate(moment)
            midnight = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
            hour = int((moment - midnight).total_seconds() // 3600)
            wanted |= Q(day=day) & (Q(hour__isnull=True) | Q(hour=hour))
    if wanted:
        DashboardDay.objects.filter(wanted).delete()


def forget_everything() -> None:
    DashboardDay.objects.all().delete()


def _times_of(version: ImageVersion) -> list[datetime | None]:
    return [getattr(version, name) for name in VERSION_TIMES]


@receiver(version_status_changed, dispatch_uid="insights.daycache.status_changed")
def on_status_changed(sender: Any, version: ImageVersion, status: str, verb: str, **kwargs: Any) -> None:
    if verb in ("requeue", "retry"):
        # Requeueing or retrying clears failed_at, and the version (refreshed) no longer says which day it
        # failed on: that day's cost changes. It failed after it was queued, so every day since.
        since: date = timezone.localdate(version.queued_at)
        DashboardDay.objects.filter(day__gte=since).delete()
        return
    forget_days(_times_of(version))


@receiver(post_save, sender=ImageVersion, dispatch_uid="insights.daycache.version_saved")
def on_version_saved(sender: Any, instance: ImageVersion, **kwargs: Any) -> None:
    # A new version is normally queued now (today, never cached); an import or a fix-up saved
    # with past times is not. Transitions use update() and come through on_status_changed.
    # Read back: the instance may hold its times as the strings it was given.
    saved = ImageVersion.objects.filter(pk=instance.pk).values(*VERSION_TIMES).first()
    forget_days(saved.values() if saved else ())


@receiver(post_delete, sender=ImageVersion, dispatch_uid="insights.daycache.version_deleted")
def on_version_deleted(sender: Any, instance: ImageVersion, **kwargs: Any) -> None:
    forget_days(_times_of(instance))


@receiver(post_save, sender=ReviewDecision, dispatch_uid="insights.daycache.decision_saved")
@receiver(post_delete, sender=ReviewDecision, dispatch_uid="insights.daycache.decision_deleted")
def on_decision_changed(sender: Any, instance: ReviewDecision, **kwargs: Any) -> None:
    # Decisions count on the day their version was scored, and their effort when they were made.
    scored = ImageVersion.objects.filter(pk=instance.version_id).values_list("scored_at", flat=True)
    forget_days([*scored, instance.decided_at])


@receiver(post_save, sender=Rendition, dispatch_uid="insights.daycache.rendition_saved")
@receiver(post_delete, sender=Rendition, dispatch_uid="insights.daycache.rendition_deleted")
def on_rendition_changed(sender: Any, instance: Rendition, **kwargs: Any) -> None:
    # Compliance counts by created_at. A profile-filtered day also counts the version's other
    # figures once it has a rendition for that profile, so the version's days go too.
    version = ImageVersion.objects.filter(pk=instance.version_id).values(*VERSION_TIMES).first()
    forget_days([instance.created_at, *(version.values() if version else ())])


@receiver(post_save, sender=BlockedChannel, dispatch_uid="insights.daycache.blocked_saved")
@receiver(post_delete, sender=BlockedChannel, dispatch_uid="insights.daycache.blocked_deleted")
def on_blocked_channel_changed(sender: Any, instance: BlockedChannel, **kwargs: Any) -> None:
    # Blocked channels count by created_at. processing.publishing creates them with
    # bulk_create (no signal), always now: today is never cached.
    forget_days([instance.created_at])


@receiver(post_save, sender=Product, dispatch_uid="insights.daycache.product_saved")
def on_product_saved(sender: Any, instance: Product, created: bool, **kwargs: Any) -> None:
    # Product.save copies a changed brand or category to its versions right after this signal:
    # they move between filtered figures on every day they count, so all days go (rare).
    if created:
        return
    stale = ImageVersion.objects.filter(source__product=instance).exclude(
        brand=instance.brand, category=instance.category
    )
    if stale.exists():
        forget_everything()
