from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from processing.sweeper import sweep


class Command(BaseCommand):
    help = "Re-enqueue image versions whose jobs were lost or whose worker died."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=int, default=0, help="Keep running, sweeping every N seconds (0: once)."
        )

    def handle(self, *args, every: int, **options):
        while True:
            report = sweep()
            self.stdout.write(
                f"requeued {report.requeued_lost} lost, rescued {report.rescued_stale} stale, "
                f"resumed {report.rendering_resumed} rendering; imports {report.imports_resumed}, "
                f"idle batches closed {report.batches_closed_idle}, "
                f"re-render runs {report.rerenders_resumed}, "
                f"exports {report.exports_rescued}, Shopify pushes {report.pushes_resumed}"
            )
            if not every:
                return
            time.sleep(every)
