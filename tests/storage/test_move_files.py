"""`manage.py move_files_to_bucket`: a single machine's files on disk moved into the shared
buckets under the same names, killed half-way and run again, and the app reading them there."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Rendition
from catalog.public_urls import public_url
from processing.publishing import render_version
from tests import s3server
from tests.storage.workers import ROOT, machine_env

pytestmark = pytest.mark.django_db(transaction=True)

# Files an older install left beside the ones rows point at (archives, say): moved as well.
EXTRA_FILES = 150


@pytest.fixture
def catalog_on_disk(settings, rendering_version, small_profiles):
    """A published version, its photo, master and renditions on the local disk, and more files."""
    assert render_version(str(rendering_version.pk)) == "published"
    media = Path(settings.MEDIA_ROOT)
    for n in range(EXTRA_FILES):
        extra = media / "archives" / f"old-{n:03}.zip"
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_bytes(os.urandom(2000 + n))
    return rendering_version


def disk_files(media: Path) -> dict[str, bytes]:
    return {p.relative_to(media).as_posix(): p.read_bytes() for p in media.rglob("*") if p.is_file()}


def bucket_files(server) -> dict[str, bytes]:
    """Both buckets as one name -> bytes map, names as the database holds them."""
    client = server.client()
    found = {}
    for key in server.keys(s3server.PRIVATE):
        found[key] = client.get_object(Bucket=s3server.PRIVATE, Key=key)["Body"].read()
    for key in server.keys(s3server.PUBLIC):
        name = key.removeprefix("public/")
        found[name] = client.get_object(Bucket=s3server.PUBLIC, Key=key)["Body"].read()
    return found


def test_the_move_survives_a_kill_skips_what_is_there_and_the_app_reads_the_bucket(
    catalog_on_disk, seaweedfs, settings, monkeypatch, capsys
):
    media = Path(settings.MEDIA_ROOT)
    on_disk = disk_files(media)
    renditions = list(Rendition.objects.filter(version=catalog_on_disk))
    assert len(on_disk) == EXTRA_FILES + 2 + len(renditions)  # + the photo and the master
    seaweedfs.empty()
    seaweedfs.use(settings, monkeypatch)

    # Killed (SIGKILL, no clean-up) while it copies.
    env = {**machine_env(media.parent / "mover"), "PYTHONUNBUFFERED": "1"}
    mover = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "move_files_to_bucket", "--from", str(media), "-v", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    copied_lines = 0
    for line in mover.stdout:
        copied_lines += " copied " in line
        if copied_lines == 20:
            mover.send_signal(signal.SIGKILL)
            break
    mover.wait(timeout=60)
    assert mover.returncode == -signal.SIGKILL, mover.stderr.read()
    half = bucket_files(seaweedfs)
    assert 20 <= len(half) < len(on_disk)
    assert all(on_disk[name] == data for name, data in half.items())

    # One object in the bucket went bad (same size, other bytes): the checksum catches it.
    bad_name = next(iter(sorted(half)))
    bucket, key = (
        (s3server.PUBLIC, f"public/{bad_name}")
        if bad_name in {r.file.name for r in renditions}
        else (s3server.PRIVATE, bad_name)
    )
    seaweedfs.client().put_object(Bucket=bucket, Key=key, Body=bytes(len(on_disk[bad_name])))

    call_command("move_files_to_bucket", "--from", str(media))
    done = capsys.readouterr().out
    assert f"Done: {len(on_disk)} files under {media}; {len(on_disk) - len(half) + 1} copied" in done
    assert f"{len(half) - 1} already in the bucket" in done
    assert bucket_files(seaweedfs) == on_disk  # every file once, byte for byte, same names

    call_command("move_files_to_bucket", "--from", str(media))
    assert f"0 copied (0.0 MB), {len(on_disk)} already in the bucket" in capsys.readouterr().out

    # The app now reads the bucket: the same rows, the files from there.
    source = catalog_on_disk.source
    with source.file.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == source.sha256
    for rendition in renditions:
        url = public_url(rendition)
        assert url.startswith(seaweedfs.endpoint)
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (a test URL)
            assert hashlib.sha256(response.read()).hexdigest() == rendition.sha256


def test_the_move_refuses_when_the_storage_is_still_the_local_disk(settings):
    with pytest.raises(CommandError, match="LIGHTBOX_STORAGE=s3"):
        call_command("move_files_to_bucket", "--from", str(settings.MEDIA_ROOT))
