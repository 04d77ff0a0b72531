"""Outbound webhooks: endpoints admins register, the events Lightbox owes them, and every try.

Event and Delivery rows are the outbox: they are written in the transaction that made the
change, so a delivery is never lost between the commit and the send. PostgreSQL is the
record of what is still owed; Redis only makes the first attempt fast (see delivery.py).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EventType(models.TextChoices):
    VERSION_PUBLISHED = "version.published", "Version published"
    VERSION_FLAGGED = "version.flagged", "Version flagged for review"
    VERSION_FAILED = "version.failed", "Version failed"
    BATCH_COMPLETED = "batch.completed", "Batch completed"
    EXPORT_COMPLETED = "export.completed", "Export completed"
    # Operations alerts (operations.alerts): backlog, failure rate, a category's pass rate drifting.
    ALERT_RAISED = "alert.raised", "Alert raised"
    ALERT_CLEARED = "alert.cleared", "Alert cleared"
    TEST = "webhook.test", "Test event"


# What an endpoint can subscribe to; test events go to one endpoint on request only.
SUBSCRIBABLE_EVENTS: tuple[str, ...] = tuple(t for t in EventType.values if t != EventType.TEST)


def new_event_id() -> str:
    """The webhook-id: stable across retries and resends, the receiver's dedup key."""
    return f"msg_{uuid.uuid4().hex}"


class Endpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField("URL", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = ArrayField(models.CharField(max_length=40), help_text="Event types it receives.")
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    # Null with a disabled_at: Lightbox switched it off (410 or a long run of failures),
    # which is what the admin banner reports.
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failed attempt of the current run of failures."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(event_types__len__gt=0),
                name="webhooks_endpoint_has_events",
                violation_error_message="Choose at least one event.",
            ),
            models.CheckConstraint(
                condition=Q(event_types__contained_by=list(SUBSCRIBABLE_EVENTS)),
                name="webhooks_endpoint_known_events",
                violation_error_message="Unknown event type.",
            ),
            models.CheckConstraint(
                condition=Q(enabled=True, disabled_at__isnull=True)
                | Q(enabled=False, disabled_at__isnull=False),
                name="webhooks_endpoint_disabled_stamped",
                violation_error_message="A disabled endpoint records when it was disabled.",
            ),
        ]
        # No index: a handful of endpoints, read whole by events.record_event.

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def disabled_by_lightbox(self) -> bool:
        return not self.enabled and self.disabled_by_id is None

    def event_labels(self) -> list[str]:
        return [EventType(t).label for t in self.event_types if t in EventType.values]


class EndpointSecret(models.Model):
    """A signing secret, encrypted at rest. After a rotation the old one keeps signing until
    expires_at, so receivers can switch over without dropping deliveries."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="secrets")
    secret_encrypted = models.TextField(help_text="whsec_… encrypted with lightbox.crypto.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the current secret.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # delivery: the secrets signing for an endpoint, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_secret_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"secret of {self.endpoint_id} from {self.created_at:%Y-%m-%d %H:%M}"


class Event(models.Model):
    """Something that happened, once, whatever the number of endpoints told about it."""

    Type = EventType

    id = models.CharField(primary_key=True, max_length=40, default=new_event_id, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField(help_text="The body's `data`: ids, states, times and links only.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=EventType.values),
                name="webhooks_event_type_valid",
                violation_error_message="Unknown event type.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed for good"


class Delivery(models.Model):
    """One event owed to one endpoint, and where its retries stand."""

    Status = DeliveryStatus
    DONE_STATES: ClassVar[tuple[str, ...]] = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0, help_text="Scheduled attempts claimed.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"],
                name="webhooks_delivery_once_per_endpoint",
                violation_error_message="This event is already owed to this endpoint.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values),
                name="webhooks_delivery_status_valid",
                violation_error_message="Unknown delivery status.",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="webhooks_delivery_pending_scheduled",
                violation_error_message="A pending delivery has a next attempt time.",
            ),
        ]
        indexes = [
            # delivery.deliver_due: pending rows whose next attempt is due, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                name="webhooks_delivery_due_idx",
                condition=Q(status="pending"),
            ),
            # Endpoint page: its deliveries, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} [{self.status}]"


class Attempt(models.Model):
    """One HTTP request to an endpoint and what came back: the record admins read."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(default=timezone.now)
    manual = models.BooleanField(default=False, help_text="Sent by an admin (send again, test event).")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="None: no response.")
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["attempted_at", "pk"]
        indexes = [
            # Endpoint page: the attempts of the deliveries shown, in order.
            models.Index(fields=["delivery", "attempted_at"], name="webhooks_attempt_delivery_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S} → {self.status_code}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
