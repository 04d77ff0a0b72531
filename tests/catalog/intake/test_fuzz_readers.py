"""A bounded fuzz of what reads untrusted bytes: the ZIP reader, the manifest read out of a
ZIP, the manifest parser and the ingest stage. Mutated bytes give our own clear errors
(ArchiveRefused, BadImage, a manifest's sentences) and nothing else, in bounded memory.
Each property runs a fixed number of examples, so the whole file stays under a minute."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.intake.archive import ArchiveLimits, ArchiveRefused, iter_archive, read_manifest
from catalog.intake.naming import parse_manifest
from processing.pipeline.ingest import BadImage, IngestLimits, ingest
from tests.conftest import photo_bytes

MANIFEST = b"file,sku,title\nmug.jpg,MUG-1,Mug\nshots/cup.png,CUP-1,Cup\n"
MEMORY_BOUND = 64 * 1024 * 1024


def seed_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.csv", MANIFEST)
        zf.writestr("mug.jpg", photo_bytes())
        zf.writestr("shots/cup.png", photo_bytes(fmt="PNG"))
    return buffer.getvalue()


SEED_ZIP = seed_zip()
SEED_JPEG = photo_bytes(size=(96, 64))
SEED_PNG = photo_bytes(size=(96, 64), fmt="PNG")


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """`seed` with a few bytes overwritten, a slice cut out or repeated, or cut short."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "repeat", "truncate"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "repeat":
            chunk = data[at : at + draw(st.integers(1, 64))]
            data[at:at] = chunk * draw(st.integers(1, 16))
        else:
            del data[at:]
    return bytes(data)


def peak_memory(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
LIMITS = ArchiveLimits(max_total_bytes=32 * 1024 * 1024, max_member_bytes=8 * 1024 * 1024)


@FUZZ
@given(mutated(SEED_ZIP))
def test_a_mutated_zip_gives_members_skips_or_a_refusal_and_nothing_else(data):
    refusals: list[str] = []

    def read_all() -> None:
        try:
            for item in iter_archive(io.BytesIO(data), LIMITS):
                assert isinstance(item.name, str)
        except ArchiveRefused as exc:
            refusals.append(str(exc))

    assert peak_memory(read_all) < MEMORY_BOUND
    assert all(refusals)


@FUZZ
@given(mutated(SEED_ZIP))
def test_the_manifest_of_a_mutated_zip_is_read_within_its_bound_or_not_at_all(data):
    found: list[object] = []
    refusals: list[str] = []

    def read() -> None:
        try:
            found.append(read_manifest(io.BytesIO(data), 4096, LIMITS))
        except ArchiveRefused as exc:
            refusals.append(str(exc))

    assert peak_memory(read) < MEMORY_BOUND
    assert all(refusals)
    if found and found[0] is not None:
        name, manifest = found[0]  # type: ignore[misc]
        assert name.endswith(".csv")
        assert len(manifest) <= 4096
        parse_manifest(manifest)  # never raises, whatever the bytes


@FUZZ
@given(st.one_of(mutated(MANIFEST), st.binary(max_size=2048)))
def test_a_mutated_manifest_gives_rows_and_sentences_never_an_exception(data):
    manifest = parse_manifest(data)

    assert all(isinstance(error, str) and error for error in manifest.errors)
    assert all(row.sku for row in manifest.rows.values())


@pytest.mark.parametrize("seed", [SEED_JPEG, SEED_PNG], ids=["jpeg", "png"])
def test_ingest_of_mutated_photos_decodes_or_says_why(seed):
    @FUZZ
    @given(mutated(seed))
    def check(data):
        refusals: list[BadImage] = []

        def decode() -> None:
            try:
                ingested = ingest(data, IngestLimits(working_long_side=512))
                assert ingested.image.size[0] > 0
            except BadImage as exc:
                refusals.append(exc)

        assert peak_memory(decode) < MEMORY_BOUND
        assert all(exc.code and str(exc) for exc in refusals)

    check()
