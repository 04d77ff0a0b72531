"""Time and bytes per rendition at the seeded marketplace profiles, on a 12-megapixel master.

For each enabled seeded profile: Lightbox's render (placement + tuned encoder + ICC +
metadata + best quality under the byte limit) against a baseline in the same run
that places the product the same way and saves at the profile's quality with
Pillow's default encoder settings otherwise (`img.save(buf, format, quality=q)`:
no optimize, baseline JPEG with Pillow's default subsampling, WebP method 4,
AVIF speed 6, no ICC, no metadata). Placement is the same, so the difference is
the encoding and the metadata we add.

    .venv/bin/python bench/renditions.py [--repeat 3] [--megapixels 12]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from _setup import django_setup, table


def make_master(megapixels: float):
    """A product cut-out at the requested size: the demo espresso cup, masked by the
    pipeline, scaled up so the master is as large as a camera photo's."""
    from PIL import Image

    from catalog.demo import photo_dir
    from processing.jobs import StageClock, run_pipeline
    from processing.pipeline.quality import Thresholds

    result = run_pipeline(
        (photo_dir() / "coffee.png").read_bytes(), thresholds=Thresholds(), options={}, clock=StageClock()
    )
    master = result.master.image
    scale = (megapixels * 1e6 / (master.width * master.height)) ** 0.5
    size = (round(master.width * scale), round(master.height * scale))
    return master.resize(size, Image.Resampling.LANCZOS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--megapixels", type=float, default=12.0)
    args = parser.parse_args()
    django_setup()
    from catalog.models import MarketplaceProfile
    from processing.pipeline.compose import place_on_canvas
    from processing.pipeline.render import RenditionMetadata, render
    from processing.profiles import spec_for

    master = make_master(args.megapixels)
    metadata = RenditionMetadata(
        sku="BENCH-1", title="Espresso cup", alt_text="Red espresso cup", copyright="©"
    )
    print(
        f"master {master.width}x{master.height} RGBA ({master.width * master.height / 1e6:.1f} MP), "
        f"median of {args.repeat}"
    )
    rows = []
    for profile in MarketplaceProfile.objects.filter(enabled=True).order_by("slug"):
        spec = spec_for(profile)
        ours_t, base_t = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            ours = render(master, spec, metadata)
            ours_t.append(time.perf_counter() - started)
            started = time.perf_counter()
            canvas = place_on_canvas(
                master,
                spec.size,
                fill_ratio=spec.fill_ratio,
                background=spec.background_rgb,
                shadow=spec.shadow,
            )
            buffer = io.BytesIO()
            canvas.save(buffer, format=spec.format.upper(), quality=spec.quality)
            base_t.append(time.perf_counter() - started)
        base_bytes = buffer.tell()
        ours_s, base_s = statistics.median(ours_t), statistics.median(base_t)
        rows.append(
            (
                profile.slug,
                spec.format,
                f"{spec.width}x{spec.height}",
                f"{ours_s * 1000:.0f}",
                f"{base_s * 1000:.0f}",
                f"{ours_s / base_s:.2f}x",
                f"{ours.byte_size / 1024:.0f}",
                f"{base_bytes / 1024:.0f}",
                f"{ours.byte_size / base_bytes:.2f}x",
                ours.quality_used,
            )
        )
    print(
        table(
            rows,
            (
                "profile",
                "format",
                "canvas",
                "ours ms",
                "default ms",
                "time ratio",
                "ours KiB",
                "default KiB",
                "bytes ratio",
                "quality used",
            ),
        )
    )


if __name__ == "__main__":
    main()
