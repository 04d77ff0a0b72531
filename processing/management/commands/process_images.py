from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from processing.batch_cli import FileReport, ProfileRecipe, expand_inputs, process_files, write_report
from processing.pipelined import PipelineOptions, process_files_pipelined


def load_recipes(slugs: list[str]) -> tuple[ProfileRecipe, ...]:
    if not slugs:
        return ()
    from catalog.models import MarketplaceProfile
    from processing.profiles import spec_for

    found = {p.slug: p for p in MarketplaceProfile.objects.filter(slug__in=slugs)}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        known = ", ".join(MarketplaceProfile.objects.order_by("slug").values_list("slug", flat=True))
        raise CommandError(f"unknown profile(s) {', '.join(unknown)}; known: {known}")
    return tuple(
        ProfileRecipe(
            slug=p.slug,
            spec=str(spec_for(p)),
            rules=dict(p.checks),
            requirements=p.field_values(),
        )
        for p in (found[s] for s in slugs)
    )


class Command(BaseCommand):
    help = (
        "Run the Lightbox pipeline over image files or folders: a master PNG per input, "
        "optional full-size masks, and DIR/report.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Image files or folders (searched recursively).")
        parser.add_argument("--out", required=True, type=Path, help="Output folder.")
        parser.add_argument("--save-masks", action="store_true", help="Also write masks/<stem>.png.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes to use (default: one per core, at most 4; with --batch-size, 1).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=0,
            help="Pipelined: the model given N photos per session run, decoding and finishing "
            "in threads, in each of --workers processes (processing/pipelined.py). Built for a "
            "GPU; on a CPU plain --workers is as fast or faster (README, Throughput).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=0,
            help="With --batch-size: threads in each process that prepare photos, and as many "
            "that finish them (default: the cores shared among the processes).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--profiles",
            default="",
            help="Comma-separated marketplace profile slugs to render published images for "
            "(e.g. amazon-main,shopify,instagram-square).",
        )

    def handle(
        self,
        *args,
        paths,
        out: Path,
        save_masks: bool,
        workers: int | None,
        batch_size: int,
        threads: int,
        no_progress: bool,
        profiles: str,
        **options,
    ):
        if batch_size < 0 or threads < 0:
            raise CommandError("--batch-size and --threads must be at least 1")
        if workers is None:
            workers = 1 if batch_size else min(os.cpu_count() or 1, 4)
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        threads = threads or max(1, (os.cpu_count() or 1) // workers)
        recipes = load_recipes([s.strip() for s in profiles.split(",") if s.strip()])
        inputs = expand_inputs(paths)
        if not inputs:
            raise CommandError("no images found in the given paths")
        reports = []
        thresholds = dict(settings.LIGHTBOX_QUALITY_THRESHOLDS)
        stream: Iterable[FileReport]
        if batch_size:
            pipeline = PipelineOptions(batch_size, threads, save_masks, thresholds, recipes)
            stream = process_files_pipelined(inputs, out, pipeline, workers=workers)
        else:
            stream = process_files(
                inputs, out, save_masks=save_masks, workers=workers, thresholds=thresholds, recipes=recipes
            )
        show_bar = not no_progress and sys.stderr.isatty()
        if show_bar:
            from tqdm import tqdm

            stream = tqdm(stream, total=len(inputs), unit="img", file=sys.stderr)
        for report in stream:
            reports.append(report)
            if report.status == "failed" and not show_bar:
                self.stderr.write(f"{report.input}: {report.error}")
        path = write_report(reports, inputs, out)
        counts = Counter(r.status for r in reports)
        summary = ", ".join(f"{counts[s]} {s}" for s in ("published", "flagged", "failed"))
        self.stdout.write(self.style.SUCCESS(f"{len(reports)} image(s): {summary}. Report: {path}"))
