from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.file_move import MoveError, MoveReport, move_files


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


class Command(BaseCommand):
    help = (
        "Copy the files kept on this machine's disk (MEDIA_ROOT, or --from) into the buckets "
        "that LIGHTBOX_STORAGE=s3 and LIGHTBOX_S3_* name, under the same names. Files already "
        "there with the same size and checksum are skipped, so it is safe to stop and run again. "
        "The disk copy is left in place."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", help="the folder to copy (default MEDIA_ROOT)")
        parser.add_argument("--every", type=int, default=100, help="progress every N files (default 100)")

    def handle(self, *args, source: str | None, every: int, **options):
        root = Path(source) if source else Path(settings.MEDIA_ROOT)
        verbose = options["verbosity"] >= 2

        def progress(index: int, report: MoveReport, name: str, copied: bool) -> None:
            if verbose:
                done = "copied" if copied else "already there"
                self.stdout.write(f"[{index}/{report.total}] {done} {name}")
            elif index % max(every, 1) == 0 or index == report.total:
                self.stdout.write(
                    f"{index}/{report.total} files: {report.copied} copied "
                    f"({_megabytes(report.bytes_copied)}), {report.skipped} already there"
                )

        try:
            report = move_files(root, progress)
        except MoveError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {report.total} files under {root}; {report.copied} copied "
                f"({_megabytes(report.bytes_copied)}), {report.skipped} already in the bucket."
            )
        )
