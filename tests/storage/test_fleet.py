"""The fleet: one web process (this test) and two worker processes, each started from its own
working directory with its own MEDIA_ROOT and var/ and no disk in common, sharing only
PostgreSQL, Redis and the SeaweedFS buckets. A batch goes through, with a stray second copy
of every processing job queued (as a sweeper racing a slow first run would leave), and every
version ends exactly once: one terminal state, one claim, one mask and one master in the
bucket, each rendition made once."""

from __future__ import annotations

import io
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from django.urls import reverse

from catalog.demo import DEMO_PRODUCTS
from catalog.models import ImageVersion, Rendition, VersionStatus
from lightbox.jobs import PROCESS_VERSION
from tests import s3server
from tests.storage.workers import files_under, machine_env, worker_command

pytestmark = pytest.mark.django_db(transaction=True)

TERMINAL = {VersionStatus.PUBLISHED, VersionStatus.FLAGGED, VersionStatus.FAILED}


def queues_idle() -> bool:
    import django_rq
    from rq.registry import StartedJobRegistry

    for name in ("interactive", "high", "default", "low"):
        queue = django_rq.get_queue(name)
        if queue.count or StartedJobRegistry(queue=queue).count:
            return False
    return True


def failed_jobs() -> int:
    import django_rq
    from rq.registry import FailedJobRegistry

    queues = [django_rq.get_queue(name) for name in ("interactive", "high", "default", "low")]
    return sum(FailedJobRegistry(queue=queue).count for queue in queues)


@pytest.fixture
def fleet(tmp_path, s3_storage, redis_conn):
    """Two workers, machines of their own; stopped (warm shutdown) at the end."""
    machines = {}
    for name in ("worker-a", "worker-b"):
        home = tmp_path / name
        home.mkdir()
        process = subprocess.Popen(  # noqa: S603
            worker_command("--with-scheduler", "--name", f"fleet-{name}"),
            cwd=home,
            env=machine_env(home),
            stdout=subprocess.DEVNULL,
            stderr=(home / "worker.log").open("wb"),
        )
        machines[name] = (home, process)
    yield machines
    for _, process in machines.values():
        process.terminate()
    for _, process in machines.values():
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def test_two_workers_without_a_shared_disk_finish_every_version_exactly_once(
    client, merchandiser, small_profiles, model_dir, s3_storage, fleet, settings
):
    client.force_login(merchandiser)
    batch_id = client.post(reverse("catalog:batch_create"), {"priority": 1}).json()["id"]
    for product in DEMO_PRODUCTS:
        upload = io.BytesIO(product.photo())
        upload.name = product.file_name
        response = client.post(reverse("catalog:batch_files", args=[batch_id]), {"file": upload})
        assert response.status_code in (200, 201), response.content
    versions = list(ImageVersion.objects.filter(source__batch_id=batch_id))
    assert len(versions) == len(DEMO_PRODUCTS)
    for version in versions:
        PROCESS_VERSION.enqueue(
            str(version.pk), job_id=f"{version.job_id}-again", priority=version.priority, after_commit=False
        )

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        settled = ImageVersion.objects.filter(source__batch_id=batch_id, status__in=TERMINAL).count()
        if settled == len(versions) and queues_idle():
            break
        for name, (home, process) in fleet.items():
            assert process.poll() is None, f"{name} died:\n{(home / 'worker.log').read_text()[-3000:]}"
        time.sleep(1)
    else:
        pytest.fail("the batch did not settle in 10 minutes")

    versions = list(ImageVersion.objects.filter(source__batch_id=batch_id))
    assert {v.status for v in versions} <= {VersionStatus.PUBLISHED, VersionStatus.FLAGGED}, [
        (v.source.product.sku, v.status, v.error) for v in versions
    ]
    assert any(v.status == VersionStatus.PUBLISHED for v in versions)
    assert failed_jobs() == 0
    # Claimed once each, by the two workers between them (both took part).
    assert all(v.attempts == 1 for v in versions)
    pids = {name: str(process.pid) for name, (_, process) in fleet.items()}
    by_worker = Counter(v.processed_by.rsplit(":", 1)[1] for v in versions)
    assert set(by_worker) == set(pids.values()), by_worker

    # One mask and one master per version in the bucket: a second run would have left a
    # suffixed copy beside it (names are never overwritten).
    private = set(s3_storage.keys(s3server.PRIVATE))
    for kind in ("masks", "masters"):
        stored = sorted(key for key in private if key.startswith(f"{kind}/"))
        assert stored == sorted(getattr(v, kind[:-1]).name for v in versions)
    # Each rendition once: one row per version and profile, one object per row.
    renditions = Rendition.objects.filter(version__in=versions)
    per_profile = Counter((r.version_id, r.profile_id) for r in renditions)
    assert per_profile
    assert set(per_profile.values()) == {1}
    assert set(s3_storage.keys(s3server.PUBLIC)) == {f"public/{r.file.name}" for r in renditions}
    for version in versions:
        if version.status == VersionStatus.FLAGGED:
            assert not version.renditions.exists()

    # No machine kept a file of its own.
    assert files_under(Path(settings.MEDIA_ROOT)) == []
    for name, (home, _) in fleet.items():
        assert files_under(home / "media") == [], name
