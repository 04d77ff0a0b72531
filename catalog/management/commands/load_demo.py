from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from catalog.demo import DEMO_USERS, load_demo
from catalog.scenes.procedural import install as install_scene_templates


class Command(BaseCommand):
    help = "Load the demo catalog and demo accounts (admin, merch, reviewer). Not for production."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=os.environ.get("LIGHTBOX_DEMO_PASSWORD", "lightbox-demo"),
            help="Password for newly created demo accounts ($LIGHTBOX_DEMO_PASSWORD, else lightbox-demo).",
        )

    def handle(self, *args, password: str, **options):
        users, queued = load_demo(password)
        scenes = install_scene_templates()
        if scenes:
            self.stdout.write(f"Scene templates drawn: {', '.join(t.name for t in scenes)}.")
        self.stdout.write(self.style.SUCCESS(f"Demo catalog ready; {queued} photo(s) queued for processing."))
        for (username, role), _ in zip(DEMO_USERS, users, strict=True):
            self.stdout.write(f"  {role:<13} log in as {username!r} (password set when first created)")
