"""The version lifecycle: legal moves happen once, illegal ones raise, races land once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from catalog.models import ImageVersion, InvalidTransition, MarketplaceProfile, Rendition, VersionStatus

S = VersionStatus
REASONS = [{"code": "blurry", "message": "Blurry"}]

# (method, args, from-state, to-state, the timestamp it stamps)
LEGAL = [
    ("claim_for_processing", ("w1",), S.QUEUED, S.PROCESSING, "started_at"),
    ("pass_quality_gate", (90, []), S.PROCESSING, S.RENDERING, "scored_at"),
    ("flag", (40, REASONS), S.PROCESSING, S.FLAGGED, "scored_at"),
    ("approve", (None,), S.FLAGGED, S.RENDERING, "reviewed_at"),
    ("reject", (None,), S.FLAGGED, S.REJECTED, "reviewed_at"),
    ("supersede", (None,), S.FLAGGED, S.SUPERSEDED, "reviewed_at"),
    ("publish", (), S.RENDERING, S.PUBLISHED, "published_at"),
    ("fail", ("boom",), S.QUEUED, S.FAILED, "failed_at"),
    ("fail", ("boom",), S.PROCESSING, S.FAILED, "failed_at"),
    ("fail", ("boom",), S.RENDERING, S.FAILED, "failed_at"),
    ("requeue", (), S.PROCESSING, S.QUEUED, None),
    ("retry", (), S.FAILED, S.QUEUED, None),
]


def _prepare(make_version, product, state):
    extra = {"published_at": None}
    if state == S.FAILED:
        extra["error"] = "earlier failure"
    return make_version(product, status=state, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "args", "source", "target", "stamp"), LEGAL)
def test_a_legal_transition_happens_once_and_stamps_its_time(
    product, make_version, method, args, source, target, stamp
):
    version = _prepare(make_version, product, source)

    assert getattr(version, method)(*args) is True
    assert version.status == target
    assert ImageVersion.objects.get(pk=version.pk).status == target
    if stamp:
        assert getattr(version, stamp) is not None

    assert getattr(version, method)(*args) is False  # running it again changes nothing
    assert ImageVersion.objects.get(pk=version.pk).status == target


ALL_STATES = list(S)


def _illegal_cases():
    seen = set()
    for method, args, _, target, _ in LEGAL:
        sources = {src for m, _, src, _, _ in LEGAL if m == method}
        for state in ALL_STATES:
            case_id = f"{method}-from-{state}"
            if state not in sources and state != target and case_id not in seen:
                seen.add(case_id)
                yield pytest.param(method, args, state, id=case_id)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "args", "state"), list(_illegal_cases()))
def test_an_illegal_transition_raises_and_changes_nothing(product, make_version, method, args, state):
    extra = {"published_at": None}
    if state == S.PUBLISHED:
        extra["published_at"] = "2026-01-01T00:00:00Z"
    if state == S.FAILED:
        extra["error"] = "earlier failure"
    version = make_version(product, status=state, **extra)

    with pytest.raises(InvalidTransition):
        getattr(version, method)(*args)
    assert ImageVersion.objects.get(pk=version.pk).status == state


@pytest.mark.django_db
def test_claiming_counts_attempts_and_records_the_worker(product, make_version):
    version = make_version(product)
    version.claim_for_processing("host:42")
    version.requeue(error="attempt 1 failed, will retry: timeout")
    version.claim_for_processing("host:43")
    assert version.attempts == 2
    assert version.processed_by == "host:43"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method", ["claim_for_processing", "approve"])
def test_two_threads_racing_for_the_same_transition_land_it_once(product, make_version, method):
    start_state = S.QUEUED if method == "claim_for_processing" else S.FLAGGED
    version = make_version(product, status=start_state)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def contender():
        mine = ImageVersion.objects.get(pk=version.pk)
        barrier.wait()
        try:
            results.append(
                getattr(mine, method)(None) if method == "approve" else mine.claim_for_processing()
            )
        except InvalidTransition as exc:  # pragma: no cover - would be a bug
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=contender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results, key=str) == [False, True]
    fresh = ImageVersion.objects.get(pk=version.pk)
    if method == "claim_for_processing":
        assert fresh.attempts == 1


@pytest.mark.django_db
def test_a_version_and_its_renditions_carry_the_products_brand_and_category_even_after_a_rename(
    product, make_version
):
    version = make_version(product)
    rendition = Rendition.objects.create(
        version=version,
        profile=MarketplaceProfile.objects.get(slug="shopify"),
        spec="s",
        file="r.jpg",
        width=1,
        height=1,
        byte_size=1,
        format="jpeg",
    )
    assert (version.brand, version.category) == ("Kiln", "Kitchen")
    assert (rendition.brand, rendition.category) == ("Kiln", "Kitchen")

    product.brand, product.category = "Kiln & Co", "Tableware"
    product.save()

    version.refresh_from_db()
    rendition.refresh_from_db()
    assert (version.brand, version.category) == ("Kiln & Co", "Tableware")
    assert (rendition.brand, rendition.category) == ("Kiln & Co", "Tableware")
