"""Per-user rate limits, counted in Redis: uploads (files) and API requests.

A fixed one-minute window per user and kind: INCR a key named for the window, expiring
with it. Simple and cheap (one round trip), and a burst can reach twice the limit across
a window's edge, which is acceptable for a limit meant to stop one user's script from
starving everyone's queues, not to meter. When Redis cannot be reached the request goes
through (logged): an outage of the counter must not stop uploads.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

logger = logging.getLogger("lightbox.ratelimit")
WINDOW_SECONDS = 60

UPLOADS = "uploads"
API = "api"
_WHAT = {UPLOADS: "uploads", API: "API requests"}


@dataclass(frozen=True)
class Limited:
    """Over the limit: how long to wait, and a sentence saying so."""

    retry_after: int  # seconds
    message: str


def limit_for(kind: str) -> int:
    return {
        UPLOADS: settings.LIGHTBOX_UPLOAD_RATE_PER_MINUTE,
        API: settings.LIGHTBOX_API_RATE_PER_MINUTE,
    }[kind]


def hit(kind: str, user_id: int | None, *, count: int = 1, now: float | None = None) -> Limited | None:
    """Count `count` more of `kind` for the user; a Limited when that goes past the limit
    (the refused ones are counted too, so hammering does not shorten the wait). No user,
    no limit: anonymous requests never get this far."""
    if user_id is None:
        return None
    import django_rq
    from redis.exceptions import RedisError

    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"lightbox:rate:{kind}:{user_id}:{window}"
    try:
        connection = django_rq.get_connection("default")
        pipe = connection.pipeline()
        pipe.incrby(key, count)
        pipe.expire(key, WINDOW_SECONDS * 2)
        used = int(pipe.execute()[0])
    except (RedisError, OSError):
        logger.warning("rate limit for %s not checked: Redis is unavailable", kind, exc_info=True)
        return None
    limit = limit_for(kind)
    if used <= limit:
        return None
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    at = datetime.fromtimestamp(now, UTC) + timedelta(seconds=retry_after)
    return Limited(
        retry_after,
        f"Too many {_WHAT[kind]}: the limit is {limit} a minute per user. "
        f"Try again in {retry_after} s (after {at:%H:%M:%S} UTC).",
    )
