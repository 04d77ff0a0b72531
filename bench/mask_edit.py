"""Mask correction on a 24 MP photo: server time to save a mask and make the new version,
and how long a brush stroke takes to redraw in Chromium at several zooms.

Server: a 6000 × 4000 studio photo is flagged; a reviewer's mask at full size (an RGBA PNG,
as the editor's canvas exports it) is POSTed to the save view over htmx (validation, the
PNG stored as grey, the guarded decision, the new version), then the new version is
processed from it (ingest at the working size, the mask scaled to it, compose, quality,
save) until it is RENDERING: "before rendering starts". Its own database
(lightbox_bench_mask) and Redis db 13, flushed.

Browser: the real editor (templates/review/_mask_editor.html, static/js/mask_editor.js)
served to Debian's Chromium by Playwright with the same 24 MP photo; mouse strokes at fit,
100 % and 400 %. Each stroke segment is timed by the editor's own `mask-stroke` entries in
the performance timeline; here the view canvas is also read back (one pixel) inside the
measure, which forces Chromium to rasterise what the segment drew, so the figure is paint
and raster, not only the JavaScript that queues them.

    .venv/bin/python bench/mask_edit.py [--repeat 5] [--strokes 12]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from _setup import ROOT, bench_urls, django_setup, table
from PIL import Image, ImageDraw, ImageFilter

SIZE = (6000, 4000)
CHROMIUM = os.environ.get("LIGHTBOX_CHROMIUM", "/usr/bin/chromium")


def environment(media: str) -> None:
    db, redis = bench_urls("lightbox_bench_mask", 13)
    env = {**os.environ, "DATABASE_URL": db, "REDIS_URL": redis, "MEDIA_ROOT": media}
    os.environ.update({"DATABASE_URL": db, "REDIS_URL": redis, "MEDIA_ROOT": media})
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "ensure_database"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    django_setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]


def studio_photo() -> bytes:
    """A textured red product with a handle on a light sweep, 24 MP, as a camera JPEG."""
    rng = np.random.default_rng(0)
    photo = Image.new("RGB", SIZE, (236, 236, 232))
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((1500, 900, 4200, 3300), 200, fill=(180, 40, 40))
    draw.rounded_rectangle((4200, 1500, 4900, 2600), 150, fill=(180, 40, 40))
    noise = rng.normal(0, 4, (SIZE[1], SIZE[0], 1)).astype(np.float32)
    pixels = np.clip(np.asarray(photo, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(1)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def full_mask(mode: str) -> bytes:
    """The corrected mask at full size: RGBA like a canvas export, or grey."""
    mask = Image.new("L", SIZE, 0)
    draw = ImageDraw.Draw(mask)
    draw.rounded_rectangle((1500, 900, 4200, 3300), 200, fill=255)
    draw.rounded_rectangle((4200, 1500, 4900, 2600), 150, fill=255)
    if mode == "RGBA":
        rgba = Image.new("RGBA", SIZE, (255, 0, 140, 0))
        rgba.putalpha(mask)
        mask = rgba
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def server(repeat: int) -> list[tuple]:
    import django_rq
    from django.core.files.base import ContentFile
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from catalog.models import ImageVersion, Product, SourceImage
    from catalog.roles import assign_role
    from processing.jobs import process_version

    django_rq.get_connection("default").flushdb()
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-reviewer")
    assign_role(user, "Reviewer")
    client = Client()
    client.force_login(user)
    photo = studio_photo()
    # What the editor uploads: an 8-bit grey PNG at full size (static/js/mask_editor.js).
    masks = {"L": full_mask("L")}
    save_ms, process_ms = [], []
    for n in range(repeat):
        product, _ = Product.objects.get_or_create(sku=f"MASK-BENCH-{n}", defaults={"title": "Bench mug"})
        ImageVersion.objects.filter(source__product=product).delete()
        SourceImage.objects.filter(product=product).delete()
        source = SourceImage(
            product=product,
            original_filename="big.jpg",
            sha256=f"{n:064x}",
            width=SIZE[0],
            height=SIZE[1],
            format="JPEG",
            byte_size=len(photo),
        )
        source.file.save("big.jpg", ContentFile(photo), save=False)
        source.save()
        version = ImageVersion.objects.create(
            source=source, status=ImageVersion.Status.FLAGGED, score=40, scored_at=timezone.now()
        )
        started = time.perf_counter()
        response = client.post(
            reverse("review:save_mask", args=[version.pk]),
            {"mask": ContentFile(masks["L"], name="mask.png"), "mask_source": "hand"},
            HTTP_HX_REQUEST="true",
        )
        save_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"save refused: {response.content[:500]!r}")
        new = ImageVersion.objects.get(source=source, number=2)
        started = time.perf_counter()
        outcome = process_version(str(new.pk))
        process_ms.append((time.perf_counter() - started) * 1000)
        if outcome != "passed":
            raise SystemExit(f"processing ended {outcome}")
    django_rq.get_connection("default").flushdb()
    totals = [a + b for a, b in zip(save_ms, process_ms, strict=True)]
    return [
        ("save view (upload parse, validate, store, decide)", *_stats(save_ms)),
        ("process_version until RENDERING", *_stats(process_ms)),
        ("total before rendering starts", *_stats(totals)),
        ("mask upload size", f"{len(masks['L']) / 1e6:.2f} MB", "", ""),
    ]


def _stats(values: list[float]) -> tuple[str, str, str]:
    return f"{statistics.median(values):.0f} ms", f"{max(values):.0f} ms", f"{min(values):.0f} ms"


def browser(strokes: int) -> list[tuple]:
    from django.template.loader import render_to_string
    from playwright.sync_api import sync_playwright

    from catalog.models import ImageVersion

    version = ImageVersion.objects.filter(source__product__sku__startswith="MASK-BENCH-", number=1).first()
    editor = render_to_string("review/_mask_editor.html", _editor_context(version))
    page_html = (
        "<!doctype html><html><head><meta charset=utf-8></head><body style='margin:0'>"
        + "<section id=review-item>"
        + editor.replace("<details ", "<details open ", 1)
        + "</section><script type=module src='/static/js/mask_editor.js'></script></body></html>"
    )
    with version.source.file.open("rb") as fh:
        photo = fh.read()
    with version.mask.open("rb") as fh:
        mask = fh.read()
    files = {
        "/": (page_html.encode(), "text/html"),
        "/static/js/mask_editor.js": ((ROOT / "static/js/mask_editor.js").read_bytes(), "text/javascript"),
        "/static/css/mask_editor.css": ((ROOT / "static/css/mask_editor.css").read_bytes(), "text/css"),
        f"/files/sources/{version.source_id}": (photo, "image/jpeg"),
        f"/files/versions/{version.pk}/mask": (mask, "image/png"),
    }
    rows = []
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        page = chromium.new_page(viewport={"width": 1600, "height": 1000})

        def serve(route):
            path = "/" + route.request.url.split("/", 3)[3].split("?")[0]
            body, kind = files.get(path, (b"", "text/plain"))
            route.fulfill(status=200 if path in files else 404, body=body, content_type=kind)

        page.route("http://bench.local/**", serve)
        page.on("pageerror", lambda e: print("pageerror:", e))
        page.goto("http://bench.local/")
        page.wait_for_selector("[data-mask-editor][data-ready='1']", timeout=60_000)
        # Read one pixel back inside each measure: Chromium then rasterises the segment's
        # drawing before the measure ends.
        page.evaluate(
            """() => {
                const ed = window.lightboxMaskEditor();
                const render = ed.render.bind(ed);
                ed.render = (rect) => { render(rect); ed.ctx.getImageData(0, 0, 1, 1); };
            }"""
        )
        cases = (
            ("fit", "ed.fit()"),
            ("100 %", "ed.actualSize()"),
            ("400 %", "ed.actualSize(); ed.zoomAt(ed.cssW / 2, ed.cssH / 2, 4)"),
            ("100 %, 150 px brush", "ed.actualSize(); ed.setBrush(150)"),
            ("100 %, cut-out on white", "ed.setBrush(24); ed.actualSize(); ed.setMode('white')"),
        )
        for label, setup in cases:
            page.evaluate("() => { const ed = window.lightboxMaskEditor(); " + setup + "; }")
            page.wait_for_timeout(500)  # the zoom's own redraw is not a stroke's
            page.evaluate(
                "() => { performance.clearMeasures(); window.frames_ = []; window.going_ = true;"
                " const tick = (t) => { window.frames_.push(t);"
                " if (window.going_) requestAnimationFrame(tick); };"
                " requestAnimationFrame(tick); }"
            )
            box = page.locator("canvas.mask-view").bounding_box()
            for i in range(strokes):
                y = box["y"] + box["height"] * (0.2 + 0.6 * i / max(1, strokes - 1))
                page.mouse.move(box["x"] + box["width"] * 0.2, y)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=20)
                page.mouse.up()
            durations = page.evaluate(
                "() => performance.getEntriesByName('mask-stroke').map(e => e.duration)"
            )
            frames = page.evaluate("() => { window.going_ = false; return window.frames_; }")
            gaps = np.diff(frames)
            ends = page.evaluate("() => performance.getEntriesByName('mask-stroke-end').map(e => e.duration)")
            zoom = page.evaluate("() => document.querySelector('[data-mask-editor]').dataset.zoom")
            rows.append(
                (
                    f"{label} ({1 / float(zoom):.2f} photo px per screen px)",
                    len(durations),
                    f"{statistics.median(durations):.1f} ms",
                    f"{np.percentile(durations, 95):.1f} ms",
                    f"{max(durations):.1f} ms",
                    f"{np.median(gaps):.1f} / {gaps.max():.1f} ms",
                    f"{int((gaps > 25).sum())} of {len(gaps)}",
                    f"{statistics.median(ends):.1f} / {max(ends):.1f} ms",
                )
            )
        save_ms = page.evaluate(
            """async () => {
                const ed = window.lightboxMaskEditor();
                const t0 = performance.now();
                await ed.fullSizePng();
                return performance.now() - t0;
            }"""
        )
        saving = ("save: the mask at 24 MP as a grey PNG (once)", 1, f"{save_ms:.0f} ms")
        rows.append((*saving, "", "", "", "", ""))
        chromium.close()
    return rows


def _editor_context(version) -> dict:
    from review.mask_edit import editor_context

    data = editor_context(version)
    return {
        "version": version,
        "csrf_token": "bench",
        "full": data["full_size"],
        "work": data["work_size"],
        "mask_box": ",".join(str(v) for v in data["mask_box"]),
        "profile_bg": "#ffffff",
        "save_url": "/save",
        "fix_url": "/fix",
        "fixes": [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--strokes", type=int, default=12)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as media:
        environment(media)
        print(f"24 MP ({SIZE[0]}×{SIZE[1]}) mask save, {options.repeat} runs, server time")
        print(table(server(options.repeat), ("step", "median", "max", "min")))
        # The bench's flagged photo keeps a model mask for the editor to start from.
        from django.core.files.base import ContentFile

        from catalog.models import ImageVersion

        version = ImageVersion.objects.filter(
            source__product__sku__startswith="MASK-BENCH-", number=1
        ).first()
        small = Image.open(io.BytesIO(full_mask("L"))).resize((3000, 2000))
        buffer = io.BytesIO()
        small.save(buffer, format="PNG")
        version.mask.save("bench.png", ContentFile(buffer.getvalue()), save=True)
        print()
        print("Brush stroke redraw in Chromium (software raster), per segment")
        print(
            table(
                browser(options.strokes),
                (
                    "zoom",
                    "segments",
                    "median",
                    "p95",
                    "max",
                    "frame interval median / max",
                    "frames > 25 ms",
                    "stroke end (undo copy) median / max",
                ),
            )
        )


if __name__ == "__main__":
    main()
