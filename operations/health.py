"""What a load balancer asks: can this process reach the database, Redis and storage?

Each check is cheap (one query, one PING, one tiny file written, read back and deleted
through Django's default storage, whichever backend that is) and bounded by a short
timeout, so a dead dependency fails the check instead of hanging it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger("lightbox.health")

PROBE_DIR = "healthz"
REDIS_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    error: str = ""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis() -> None:
    from redis import Redis

    client = Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    try:
        if not client.ping():
            raise RuntimeError("Redis did not answer PING")
    finally:
        client.close()


def check_storage() -> None:
    payload = uuid.uuid4().hex.encode()
    name = default_storage.save(f"{PROBE_DIR}/probe-{uuid.uuid4().hex}.txt", ContentFile(payload))
    try:
        with default_storage.open(name, "rb") as fh:
            if fh.read() != payload:
                raise RuntimeError("storage returned other bytes than were written")
    finally:
        default_storage.delete(name)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "redis": check_redis,
    "storage": check_storage,
}


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy", and says why
            logger.warning("healthz: %s failed: %s", name, exc)
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"[:300]))
        else:
            results.append(CheckResult(name, True))
    return results
