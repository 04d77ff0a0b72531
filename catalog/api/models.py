"""Personal API tokens: a bearer secret per integration, made and revoked on the account page.

Only a SHA-256 digest of the token is stored. The tokens are 256-bit random strings, so
a plain, unsalted digest is enough: nobody can brute-force it back, and the digest can be
looked up by index on every request (a slow password hash would cost each API call).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

TOKEN_PREFIX = "lbx_"  # noqa: S105 (a marker, not a secret)
# Shown in lists so people can tell their tokens apart: "lbx_" and 8 random characters.
SHOWN_PREFIX_CHARS = len(TOKEN_PREFIX) + 8
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode("utf-8", "surrogatepass")).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)

    def find_active(self, raw_token: str) -> ApiToken | None:
        """The live token matching `raw_token`, with its user, or None."""
        if not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > 200:
            return None
        return self.active().select_related("user").filter(token_hash=digest(raw_token)).first()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the PIM sync.")
    prefix = models.CharField(max_length=SHOWN_PREFIX_CHARS, help_text="The token's first characters.")
    token_hash = models.CharField(max_length=64, help_text="SHA-256 of the token; the token is never kept.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"],
                name="api_apitoken_hash_unique",
                violation_error_message="This token already exists.",
            ),
            models.CheckConstraint(
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106
                name="api_apitoken_hash_hex",
                violation_error_message="The token hash must be 64 lowercase hex digits.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="api_apitoken_name_not_empty",
                violation_error_message="Give the token a name.",
            ),
        ]
        indexes = [
            # The account page: one person's tokens, newest first.
            models.Index(fields=["user", "-created_at"], name="api_apitoken_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user: Any, name: str) -> tuple[ApiToken, str]:
        """Make a token for `user`; returns the row and the raw token, which is shown once."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name.strip()[:100], prefix=raw[:SHOWN_PREFIX_CHARS], token_hash=digest(raw)
        )
        return token, raw

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> bool:
        """True when this call revoked it; revoking twice changes nothing."""
        now = timezone.now()
        revoked = ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=now)
        if revoked:
            self.revoked_at = now
        return bool(revoked)

    def touch(self) -> None:
        """Record a use, at most once a minute (a busy integration would otherwise write on
        every call)."""
        now = timezone.now()
        ApiToken.objects.filter(pk=self.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
