"""What workers count for /metrics: job and stage durations with their outcomes, and the
quality gate's decisions by reason.

The counts live in PostgreSQL, not in the process: workers are separate processes, on
several machines in a fleet, and restart at will, so in-process counters (or
prometheus_client's multiprocess files, which only one machine's web server can read)
would lose or hide them. Each finished job adds to its rows with one upsert; the web
process reads the totals at scrape time (operations.metrics). Recording never fails a
job: a database error is logged and the observation dropped.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import DatabaseError, connection, transaction

from processing.models import DurationTally, GateTally

logger = logging.getLogger("lightbox.metrics")

# Upper bounds in seconds: a stage takes milliseconds to seconds, a job up to its timeout.
BUCKETS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, math.inf)
OUTCOME_MAX_LENGTH = 40


def bucket_for(seconds: float) -> float:
    return BUCKETS[min(bisect.bisect_left(BUCKETS, seconds), len(BUCKETS) - 1)]


def outcome_label(value: object) -> str:
    """A job's return value as a bounded label: its words ("published", "flagged") when it
    returns a short string, "ok" otherwise; "nothing to do (published)" → "nothing to do"."""
    if not isinstance(value, str) or not value:
        return "ok"
    return value.split(" (", 1)[0][:OUTCOME_MAX_LENGTH]


def record_durations(kind: str, observations: Iterable[tuple[str, str, float]]) -> None:
    """Add (name, outcome, seconds) observations of `kind` ("job" or "stage")."""
    rows = [
        (kind, name, outcome, bucket_for(seconds), max(seconds, 0.0))
        for name, outcome, seconds in observations
    ]
    if not rows:
        return
    table = DurationTally._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, 1, %s)"] * len(rows))
    # One statement per job; rows of one job never repeat a key (stages are distinct).
    sql = (
        f"INSERT INTO {table} AS t (kind, name, outcome, le, count, sum_seconds) VALUES {values} "  # noqa: S608 (our table name, values bound)
        "ON CONFLICT (kind, name, outcome, le) DO UPDATE "
        "SET count = t.count + 1, sum_seconds = t.sum_seconds + EXCLUDED.sum_seconds"
    )
    _execute(sql, [value for row in rows for value in row])


def record_stage_timings(timings_ms: Mapping[str, int]) -> None:
    record_durations("stage", ((stage, "", ms / 1000) for stage, ms in timings_ms.items()))


def record_gate_decision(decision: str, reason_codes: Iterable[str]) -> None:
    """One version through the gate: `decision` once, and each of its reason codes once."""
    keys = [(decision, ""), *((decision, code[:64]) for code in sorted(set(reason_codes)))]
    table = GateTally._meta.db_table
    values = ", ".join(["(%s, %s, 1)"] * len(keys))
    sql = (
        f"INSERT INTO {table} AS t (decision, reason, count) VALUES {values} "  # noqa: S608 (our table name, values bound)
        "ON CONFLICT (decision, reason) DO UPDATE SET count = t.count + 1"
    )
    _execute(sql, [value for key in keys for value in key])


def _execute(sql: str, params: list[Any]) -> None:
    try:
        # A savepoint: a failed write must not break a surrounding transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        logger.warning("metrics: could not record an observation", exc_info=True)
