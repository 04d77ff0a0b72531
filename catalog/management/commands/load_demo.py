from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from catalog.demo import DEMO_USERS, ensure_scene_rule, load_demo
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
        # Templates and the demo's scene rule first: the rule follows the cut-outs as they publish.
        scenes = install_scene_templates()
        if scenes:
            self.stdout.write(f"Scene templates drawn: {', '.join(t.name for t in scenes)}.")
        rule = ensure_scene_rule()
        if rule is not None:
            self.stdout.write(f"Scene rule: {rule}.")
        users, queued = load_demo(password)
        self.stdout.write(self.style.SUCCESS(f"Demo catalog ready; {queued} photo(s) queued for processing."))
        for (username, role), _ in zip(DEMO_USERS, users, strict=True):
            self.stdout.write(f"  {role:<13} log in as {username!r} (password set when first created)")
