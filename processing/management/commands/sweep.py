from __future__ import annotations

from django.core.management.base import BaseCommand

from processing.sweep_loop import MAX_BACKOFF_SECONDS, run_forever, sweep_once


class Command(BaseCommand):
    help = (
        "Re-enqueue image versions whose jobs were lost or whose worker died, and fail those "
        "out of attempts. With --every it keeps running through database and Redis outages."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=int, default=0, help="Keep running, sweeping every N seconds (0: once)."
        )
        parser.add_argument(
            "--max-backoff",
            type=int,
            default=MAX_BACKOFF_SECONDS,
            help="While sweeps fail, the wait doubles up to this many seconds.",
        )

    def handle(self, *args, every: int, max_backoff: int, **options):
        def line(text: str) -> None:
            self.stdout.write(text)
            self.stdout.flush()

        if not every:
            sweep_once(line)
            return
        run_forever(every, line, max_backoff=max_backoff)
