"""Telling an outage from a bad photo, and how long to wait before trying again.

A job that fails because PostgreSQL, Redis or the disk is unavailable (refused
connections, a full disk, an I/O error) has nothing wrong with its photo: failing
the version for good would turn a five-minute outage into lost work. Such failures
are retried on their own with a long, growing wait (LIGHTBOX_OUTAGE_RETRY_SECONDS,
doubling up to LIGHTBOX_OUTAGE_RETRY_MAX_SECONDS) and do not use up the photo's
attempts; only after LIGHTBOX_OUTAGE_MAX_RETRIES of them is the version failed.
"""

from __future__ import annotations

import errno
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

# errno values that say the machine, not the input, is in trouble.
_DISK_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EIO: "the disk reported an I/O error",
    errno.EROFS: "the disk is read-only",
    errno.ENFILE: "the system ran out of open files",
    errno.EMFILE: "the worker ran out of open files",
}


def outage_of(exc: BaseException) -> str | None:
    """What is unavailable, in words ("the database is unavailable"), or None when `exc`
    is not an outage. Follows the chain of causes: Django wraps psycopg's errors."""
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError):
            return "the database is unavailable"
        if isinstance(current, RedisConnectionError | RedisTimeoutError):
            return "Redis is unavailable"
        if isinstance(current, OSError) and current.errno in _DISK_ERRNOS:
            return _DISK_ERRNOS[current.errno]
        if isinstance(current, ConnectionError | TimeoutError):
            return "a connection failed"
        current = current.__cause__ or current.__context__
    return None


def next_try(outages_so_far: int, *, now: datetime | None = None) -> datetime:
    """When to try again after the (outages_so_far + 1)-th outage: the base wait, doubled
    each time, capped."""
    base = settings.LIGHTBOX_OUTAGE_RETRY_SECONDS
    wait = min(base * 2 ** min(outages_so_far, 20), settings.LIGHTBOX_OUTAGE_RETRY_MAX_SECONDS)
    return (now or timezone.now()) + timedelta(seconds=wait)


def exhausted(outages_so_far: int) -> bool:
    return outages_so_far >= settings.LIGHTBOX_OUTAGE_MAX_RETRIES
