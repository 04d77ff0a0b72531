from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from catalog.webhooks.delivery import deliver_due


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due (the sweeper does this too, every run)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="Keep running, every N seconds (0: once).")

    def handle(self, *args, every: int, **options):
        while True:
            self.stdout.write(f"sent {deliver_due()} webhook deliveries")
            if not every:
                return
            time.sleep(every)
