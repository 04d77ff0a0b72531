"""What admins do to endpoints, and what Lightbox does to an endpoint that keeps failing.

Secrets leave this module in plain text exactly once, as the return value of
register_endpoint / rotate_secret, for the page that shows them; they are stored encrypted.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from catalog.webhooks.models import Endpoint, EndpointSecret
from catalog.webhooks.signing import new_secret
from lightbox import crypto

logger = logging.getLogger("lightbox.webhooks")


def register_endpoint(
    *, url: str, event_types: list[str], description: str = "", user: Any
) -> tuple[Endpoint, str]:
    """Create an endpoint with its first secret; the secret in plain text, to show once.
    The URL must already have passed outbound.check_url (forms.EndpointForm does that)."""
    with transaction.atomic():
        endpoint = Endpoint.objects.create(
            url=url, event_types=event_types, description=description, created_by=user
        )
        secret = new_secret()
        EndpointSecret.objects.create(endpoint=endpoint, secret_encrypted=crypto.encrypt(secret))
    return endpoint, secret


def rotate_secret(
    endpoint: Endpoint, *, overlap: timedelta | None = None, now: datetime | None = None
) -> str:
    """A new current secret. The previous one keeps signing for `overlap` (default: the
    LIGHTBOX_WEBHOOK_SECRET_OVERLAP_HOURS setting; zero stops it at once, for a leaked secret)."""
    now = now or timezone.now()
    if overlap is None:
        overlap = timedelta(hours=settings.LIGHTBOX_WEBHOOK_SECRET_OVERLAP_HOURS)
    secret = new_secret()
    with transaction.atomic():
        Endpoint.objects.select_for_update().filter(pk=endpoint.pk).first()  # one rotation at a time
        endpoint.secrets.filter(expires_at__lte=now).delete()
        endpoint.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now + overlap)).update(
            expires_at=now + overlap
        )
        EndpointSecret.objects.create(
            endpoint=endpoint, secret_encrypted=crypto.encrypt(secret), created_at=now
        )
    return secret


def live_secrets(endpoint_id: Any, now: datetime) -> list[str]:
    """The secrets that sign a delivery made at `now`, newest first."""
    rows = EndpointSecret.objects.filter(endpoint_id=endpoint_id).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    return [crypto.decrypt(row.secret_encrypted) for row in rows.order_by("-created_at", "-pk")]


def enable_endpoint(endpoint: Endpoint) -> bool:
    """Back on, with a clean failure record; deliveries still pending go out when due."""
    return bool(
        Endpoint.objects.filter(pk=endpoint.pk, enabled=False).update(
            enabled=True,
            disabled_at=None,
            disabled_reason="",
            disabled_by=None,
            consecutive_failures=0,
            failing_since=None,
        )
    )


def disable_endpoint(
    endpoint: Endpoint, *, reason: str, user: Any = None, now: datetime | None = None
) -> bool:
    """Off: no new deliveries are created and pending ones wait. True when this call did it.
    Without a user, Lightbox did it (410, failures): the creator and ADMINS are told."""
    disabled = bool(
        Endpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
            enabled=False, disabled_at=now or timezone.now(), disabled_reason=reason[:500], disabled_by=user
        )
    )
    if disabled and user is None:
        transaction.on_commit(lambda: tell_admins_endpoint_disabled(endpoint.pk), robust=True)
    return disabled


def tell_admins_endpoint_disabled(endpoint_id: Any) -> None:
    endpoint = Endpoint.objects.select_related("created_by").get(pk=endpoint_id)
    link = settings.LIGHTBOX_APP_BASE_URL.rstrip("/") + reverse(
        "webhooks:endpoint_detail", args=[endpoint.pk]
    )
    subject = f"Lightbox stopped sending webhooks to {endpoint.url}"
    message = (
        f"Lightbox disabled the webhook endpoint {endpoint.url}.\n\n"
        f"Reason: {endpoint.disabled_reason}\n\n"
        "Events are no longer sent to it; deliveries already owed wait until it is enabled again.\n"
        f"Fix the receiver, then enable the endpoint here: {link}\n"
    )
    try:
        email = getattr(endpoint.created_by, "email", "")
        if email:
            send_mail(subject, message, None, [email])
        mail_admins(subject, message)
    except (OSError, smtplib.SMTPException):
        logger.exception("webhooks: could not email about disabled endpoint %s", endpoint.pk)
