"""Mutated bytes into what reads untrusted uploads: the ingest stage, the upload header check,
the ZIP reader and the CSV manifest parser. Each may refuse, only with its own clear error
(BadImage, UploadRefused, ArchiveRefused; the manifest parser never raises); anything else is
a crash. Memory is checked too: the process's peak RSS may grow by at most --max-rss-mb.

The suite runs a bounded pass (tests/test_fuzz.py, under a minute); this runs it longer:

    PYTHONPATH=$PWD .venv/bin/python bench/fuzz.py --examples 5000

Inputs start from small valid seeds made here (JPEG, PNG with alpha, WebP, GIF, TIFF, a ZIP
holding photos and a manifest, a manifest) and are mutated by hypothesis: bytes replaced,
runs inserted or deleted, the file truncated, sizes in headers set to extremes.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import struct
import sys
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The suite's fuzz pass decodes at most this many pixels (the production limit, 120 MP,
# would make each mutated "huge" header cost seconds); the refusal path is the same.
FUZZ_MAX_PIXELS = 8_000_000


class Crash(AssertionError):
    """An input made a reader fail with something other than its own clear error."""


def _photo(fmt: str, mode: str = "RGB", size: tuple[int, int] = (48, 32)) -> bytes:
    image = Image.new(mode, size, (200, 40, 40, 255)[: len(mode)] if mode != "P" else 3)
    ImageDraw.Draw(image).rectangle(
        (8, 6, 30, 24), fill=(20, 120, 200, 128)[: len(mode)] if mode != "P" else 9
    )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@cache
def image_seeds() -> tuple[bytes, ...]:
    return (
        _photo("JPEG"),
        _photo("PNG", "RGBA"),
        _photo("WEBP"),
        _photo("GIF", "P"),
        _photo("TIFF"),
        _photo("BMP"),
    )


MANIFEST = b"file,sku,title,role,position\nfront.jpg,MUG-1,Mug,main,1\nside.jpg,MUG-1,,alternate,2\n"


@cache
def archive_seeds() -> tuple[bytes, ...]:
    seeds = []
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", method) as archive:
            archive.writestr("manifest.csv", MANIFEST)
            archive.writestr("front.jpg", image_seeds()[0])
            archive.writestr("MUG-1/side.png", image_seeds()[1])
        seeds.append(buffer.getvalue())
    return tuple(seeds)


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> bytes:
    """A seed with a few mutations: replaced bytes, inserted or deleted runs, a truncation,
    or a 16/32-bit field overwritten with an extreme value (sizes, counts, offsets)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(("byte", "insert", "delete", "truncate", "u16", "u32")))
        if kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "u16" and at + 2 <= len(data):
            value = draw(st.sampled_from((0, 1, 0x7FFF, 0xFFFF)))
            data[at : at + 2] = struct.pack(draw(st.sampled_from(("<H", ">H"))), value)
        elif kind == "u32" and at + 4 <= len(data):
            value = draw(st.sampled_from((0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 60_000)))
            data[at : at + 4] = struct.pack(draw(st.sampled_from(("<I", ">I"))), value)
    return bytes(data)


# --- the readers, each with the errors that are its own ----------------------------------


def check_ingest(data: bytes) -> str:
    from processing.pipeline.ingest import BadImage, IngestLimits, ingest

    try:
        ingest(data, IngestLimits(max_pixels=FUZZ_MAX_PIXELS, working_long_side=3000))
    except BadImage as exc:
        return f"refused:{exc.code}"
    except Exception as exc:  # noqa: BLE001 - anything else is what the fuzz looks for
        raise Crash(f"ingest raised {type(exc).__name__}: {exc}") from exc
    return "decoded"


def check_header(data: bytes) -> str:
    from catalog.uploads import UploadRefused, read_header

    # As in the web process: Pillow's bomb *warning* is a warning there (the suite's pytest
    # configuration makes it an error). Above twice the limit Pillow raises, and read_header
    # refuses; between, ingest refuses the photo later (too_many_pixels).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            read_header(data)
        except UploadRefused:
            return "refused"
        except Exception as exc:  # noqa: BLE001
            raise Crash(f"read_header raised {type(exc).__name__}: {exc}") from exc
    return "read"


def check_archive(data: bytes) -> str:
    from catalog.intake.archive import (
        ArchiveLimits,
        ArchiveMember,
        ArchiveRefused,
        SkippedMember,
        iter_archive,
    )

    limits = ArchiveLimits(max_total_bytes=64 * 1024**2, max_member_bytes=16 * 1024**2)
    try:
        items = list(iter_archive(io.BytesIO(data), limits))
    except ArchiveRefused:
        return "refused"
    except Exception as exc:  # noqa: BLE001
        raise Crash(f"iter_archive raised {type(exc).__name__}: {exc}") from exc
    if not all(isinstance(item, ArchiveMember | SkippedMember) for item in items):
        raise Crash(f"iter_archive yielded {items!r}")
    return f"read {len(items)}"


def check_manifest(data: bytes) -> str:
    from catalog.intake.naming import parse_manifest

    try:
        manifest = parse_manifest(data)
    except Exception as exc:  # noqa: BLE001 - it promises never to raise
        raise Crash(f"parse_manifest raised {type(exc).__name__}: {exc}") from exc
    return "with errors" if manifest.errors else "clean"


@dataclass
class Target:
    name: str
    check: Callable[[bytes], str]
    seeds: Callable[[], tuple[bytes, ...]]


TARGETS = (
    Target("ingest", check_ingest, image_seeds),
    Target("upload header", check_header, image_seeds),
    Target("zip reader", check_archive, archive_seeds),
    Target("manifest", check_manifest, lambda: (MANIFEST, MANIFEST.replace(b",", b";"))),
    # The archive's own manifest, mutated through the ZIP: what import_archive reads first.
    Target("zip manifest", check_archive, lambda: archive_seeds()[:1]),
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fuzz(target: Target, examples: int, outcomes: Counter[str] | None = None) -> Counter[str]:
    """Run `examples` mutated inputs through one target; raises Crash on the first crash."""
    seen: Counter[str] = outcomes if outcomes is not None else Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated(target.seeds()))
    def run(data: bytes) -> None:
        seen[target.check(data).split(":")[0]] += 1

    run()
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=2000, help="mutated inputs per target")
    parser.add_argument("--max-rss-mb", type=float, default=1024.0, help="allowed growth of the peak RSS")
    args = parser.parse_args()
    for target in TARGETS:  # warm up: imports and first decodes are not the fuzz's memory
        for seed in target.seeds():
            target.check(seed)
    baseline = peak_rss_mb()
    for target in TARGETS:
        started = time.perf_counter()
        outcomes = fuzz(target, args.examples)
        print(  # noqa: T201
            f"{target.name:14} {sum(outcomes.values()):6} inputs in {time.perf_counter() - started:6.1f} s, "
            f"no crash; {dict(outcomes)}"
        )
    growth = peak_rss_mb() - baseline
    print(f"peak RSS grew {growth:.0f} MB (allowed {args.max_rss_mb:.0f} MB)")  # noqa: T201
    return 0 if growth <= args.max_rss_mb else 1


if __name__ == "__main__":
    sys.exit(main())
