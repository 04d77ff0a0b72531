"""Changing a profile re-renders every published version, as a tracked run."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from catalog.models import MarketplaceProfile, VersionStatus
from processing.models import RerenderRun
from processing.publishing import render_version
from processing.rerender import rerender_chunk

pytestmark = pytest.mark.django_db


def admin_form_data(profile: MarketplaceProfile, **changes) -> dict:
    data = {}
    for name, value in profile.field_values().items():
        if name in ("id", "revision"):
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "on" if value else ""
        data[name] = "" if value is None else value
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_an_admin_changing_a_profile_starts_a_run_that_renders_the_new_spec(
    client, admin_user, rendering_version, small_profiles, redis_conn, django_capture_on_commit_callbacks
):
    render_version(str(rendering_version.pk))
    assert rendering_version.__class__.objects.get(pk=rendering_version.pk).status == VersionStatus.PUBLISHED
    ebay = MarketplaceProfile.objects.get(slug="ebay")
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:catalog_marketplaceprofile_change", args=[ebay.pk]),
            admin_form_data(ebay, quality=75),
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    ebay.refresh_from_db()
    assert ebay.quality == 75
    assert ebay.revision == 2
    run = RerenderRun.objects.get(profile=ebay)
    assert (run.total, run.done) == (1, 0)
    import django_rq

    (job_id,) = django_rq.get_queue("low").job_ids
    assert job_id

    assert rerender_chunk(run.pk) == "finished"

    run.refresh_from_db()
    assert (run.done, run.failed, run.percent) == (1, 0, 100)
    assert run.finished_at is not None
    qualities = set(rendering_version.renditions.filter(profile=ebay).values_list("spec", flat=True))
    assert any("quality-75" in spec for spec in qualities)
    assert len(qualities) == 2


def test_an_admin_cannot_save_a_profile_that_cannot_render(client, admin_user):
    amazon = MarketplaceProfile.objects.get(slug="amazon-main")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:catalog_marketplaceprofile_change", args=[amazon.pk]),
        admin_form_data(amazon, background="transparent"),
    )

    assert response.status_code == 200
    assert "transparent" in response.content.decode().lower()
    amazon.refresh_from_db()
    assert amazon.background == "pure_white"
    assert not RerenderRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_next_chunk_redis_lost_goes_on_after_its_cursor_and_counts_each_version_once(
    admin_user, product, make_version, small_profiles, redis_conn, monkeypatch
):
    import django_rq
    from django.core.files.base import ContentFile

    from processing import rerender
    from processing.sweeper import sweep
    from tests.conftest import master_png, photo_bytes

    versions = []
    for n in range(3):
        version = make_version(
            product, status=VersionStatus.RENDERING, photo=photo_bytes((2000, 1500), (40 + 80 * n, 9, 9))
        )
        version.master.save("m.png", ContentFile(master_png()))
        render_version(str(version.pk))
        versions.append(version)
    monkeypatch.setattr(rerender, "CHUNK", 1)
    ebay = MarketplaceProfile.objects.get(slug="ebay")
    run = rerender.start_rerender(ebay, admin_user)
    queue = django_rq.get_queue("low")

    assert rerender_chunk(run.pk) == "continued"
    redis_conn.flushdb()  # the next chunk's job is gone

    assert sweep(grace_seconds=0).rerenders_resumed == 1
    while queue.job_ids:
        job = queue.fetch_job(queue.job_ids[0])
        job.delete()
        job.func(*job.args)

    run.refresh_from_db()
    assert (run.done, run.failed, run.total, run.attempts) == (3, 0, 3, 0)
    assert run.finished_at is not None
    assert run.cursor == str(max(v.pk for v in versions))
    assert sweep(grace_seconds=0).rerenders_resumed == 0
