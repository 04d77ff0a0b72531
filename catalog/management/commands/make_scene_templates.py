"""Draw the three scene templates Lightbox ships (catalog.scenes.procedural) where missing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from catalog.scenes.procedural import install


class Command(BaseCommand):
    help = "Draw the shipped scene templates (wall and floor, table top, shelf) where they are missing."

    def handle(self, *args: Any, **options: Any) -> None:
        made = install()
        self.stdout.write(f"scene templates: {len(made)} made" + "".join(f"\n  {t.name}" for t in made))
