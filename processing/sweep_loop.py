"""The sweeper's loop: it must outlive the outages it exists to clean up after.

A sweep that raises (PostgreSQL or Redis down, a bug in one step) is logged and the
loop goes on, waiting longer after each failure in a row (doubling from `every`, at
most MAX_BACKOFF_SECONDS) and back to `every` after the first clean sweep. Nothing
here ends the process but a signal, so `bin/run` never stops the web server and the
worker because the database restarted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import close_old_connections

from processing.sweeper import SweepReport, sweep

logger = logging.getLogger("lightbox.sweeper")
MAX_BACKOFF_SECONDS = 300


def next_wait(every: int, failures_in_a_row: int, max_backoff: int = MAX_BACKOFF_SECONDS) -> int:
    """Seconds to sleep after a sweep: `every`, doubled per failure in a row, capped."""
    if not failures_in_a_row:
        return every
    return min(every * 2 ** min(failures_in_a_row, 30), max(every, max_backoff))


def sweep_once(report_line: Callable[[str], None]) -> bool:
    """One sweep that never raises; True when every step ran cleanly."""
    try:
        close_old_connections()  # a connection broken by a database restart is dropped here
        report: SweepReport = sweep()
    except Exception as exc:  # noqa: BLE001 - the loop must survive anything one sweep does
        logger.exception("sweeper: the sweep failed")
        report_line(f"sweep failed: {type(exc).__name__}: {exc}"[:500])
        return False
    report_line(
        f"requeued {report.requeued_lost} lost, rescued {report.rescued_stale} stale, "
        f"resumed {report.rendering_resumed} rendering, gave up on {report.gave_up}; "
        f"imports {report.imports_resumed}, idle batches closed {report.batches_closed_idle}, "
        f"re-render runs {report.rerenders_resumed}, exports {report.exports_rescued}, "
        f"Shopify pushes {report.pushes_resumed}"
        + (f"; failed: {', '.join(report.failed_steps)}" if report.failed_steps else "")
    )
    return not report.failed_steps


def run_forever(
    every: int,
    report_line: Callable[[str], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
    rounds: int | None = None,
    max_backoff: int = MAX_BACKOFF_SECONDS,
) -> None:
    """Sweep every `every` seconds, backing off while sweeps fail. `rounds` stops after so
    many sweeps (None: never)."""
    failures = 0
    done = 0
    while rounds is None or done < rounds:
        failures = 0 if sweep_once(report_line) else failures + 1
        done += 1
        if rounds is not None and done >= rounds:
            return
        wait = next_wait(every, failures, max_backoff)
        if failures:
            report_line(f"backing off: next sweep in {wait} s")
        sleep(wait)
