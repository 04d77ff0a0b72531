"""Login throttling against password guessing: failed sign-ins counted in Redis.

After LIGHTBOX_LOGIN_MAX_FAILURES failed sign-ins for one username, or
LIGHTBOX_LOGIN_MAX_FAILURES_PER_IP from one address, within LIGHTBOX_LOGIN_LOCKOUT_SECONDS,
further tries are refused, even with the right password, until the window has passed
(counted from the first failure). A successful sign-in clears the username's count.
Redis is shared by every web process, so the count holds across the fleet. If Redis is
down the login is not throttled (logged): an outage must not lock everyone out.

The per-address count sees REMOTE_ADDR, which behind a reverse proxy is the proxy's
address: keep LIGHTBOX_LOGIN_MAX_FAILURES_PER_IP high there, the per-user limit still holds.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from redis.exceptions import RedisError

logger = logging.getLogger("lightbox.login")

_PREFIX = "lightbox:login-failures"


def _connection() -> Any:
    import django_rq

    return django_rq.get_connection("default")


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    """(Redis key, limit) pairs; usernames hashed so keys hold no personal data."""
    user_digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    keys = [(f"{_PREFIX}:user:{user_digest}", settings.LIGHTBOX_LOGIN_MAX_FAILURES)]
    if address:
        keys.append((f"{_PREFIX}:ip:{address}", settings.LIGHTBOX_LOGIN_MAX_FAILURES_PER_IP))
    return keys


def locked_for(username: str, address: str) -> int:
    """Seconds until this username and address may try again; 0 when they may now."""
    try:
        connection = _connection()
        wait = 0
        for key, limit in _keys(username, address):
            count = connection.get(key)
            if count is not None and int(count) >= limit:
                wait = max(wait, int(connection.ttl(key)), 1)
    except RedisError:
        logger.warning("login throttle: Redis unavailable, not throttling")
        return 0
    return wait


def record_failure(username: str, address: str) -> None:
    try:
        connection = _connection()
        for key, _ in _keys(username, address):
            pipe = connection.pipeline()
            pipe.incr(key)
            # The window starts at the first failure: NX keeps the expiry set then.
            pipe.expire(key, settings.LIGHTBOX_LOGIN_LOCKOUT_SECONDS, nx=True)
            pipe.execute()
    except RedisError:
        logger.warning("login throttle: Redis unavailable, failure not counted")


def clear(username: str) -> None:
    try:
        _connection().delete(_keys(username, "")[0][0])
    except RedisError:
        logger.warning("login throttle: Redis unavailable, count not cleared")


def lockout_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return (
        "Too many failed sign-ins. For your account's safety, signing in is paused for "
        f"{minutes} minute{'s' if minutes != 1 else ''}; try again then, "
        "or ask an admin to reset your password."
    )


class ThrottledLoginMixin:
    """For an AuthenticationForm: refuse while locked out, count each wrong password."""

    request: Any
    cleaned_data: dict[str, Any]
    # The lockout message when refused for it (the login page shows it instead of "didn't match").
    locked_out: str = ""

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        address = str(self.request.META.get("REMOTE_ADDR", "")) if self.request is not None else ""
        if wait := locked_for(username, address):
            logger.warning("login refused: locked out (%s)", address or "no address")
            self.locked_out = lockout_message(wait)
            raise ValidationError(self.locked_out, code="locked_out")
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                record_failure(username, address)
            raise
        clear(username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
