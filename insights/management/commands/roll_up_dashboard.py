from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from insights import status_counts
from insights.daycache import ROLL_UP_DAYS, roll_up

# Between roll-ups the status counts' deltas are folded this often (insights.status_counts).
COMPACT_EVERY_SECONDS = 300


class Command(BaseCommand):
    help = (
        "Store the dashboard's past days, with no filter and for every single brand, category, "
        "upload batch and profile, so that first loads read them, and fold the status counts' "
        "deltas (run hourly from cron, or --every)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=ROLL_UP_DAYS, help="How many past days to keep stored."
        )
        parser.add_argument(
            "--every", type=int, default=0, help="Keep running, rolling up every N seconds (0: once)."
        )

    def handle(self, *args: Any, days: int, every: int, **options: Any) -> None:
        while True:
            started = time.perf_counter()
            folded = status_counts.compact()
            done = roll_up(days=days)
            self.stdout.write(
                f"rolled up {done.days} past days: {done.rows} rows written, "
                f"{folded} status count rows folded, in {time.perf_counter() - started:.1f} s"
            )
            if not every:
                return
            next_roll_up = time.monotonic() + every
            while (left := next_roll_up - time.monotonic()) > 0:
                time.sleep(min(left, COMPACT_EVERY_SECONDS))
                if time.monotonic() < next_roll_up:
                    status_counts.compact()
