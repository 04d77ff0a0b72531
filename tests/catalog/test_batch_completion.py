"""A batch completes once: when it is closed and none of its versions is still being processed."""

from __future__ import annotations

import pytest

from catalog.batch_completion import finish_settled_batches
from catalog.models import ImageVersion, UploadBatch
from catalog.signals import batch_completed, version_status_changed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def completions():
    seen: list[str] = []

    def record(sender, batch, **kwargs):
        seen.append(str(batch.pk))

    batch_completed.connect(record, dispatch_uid="test-completions")
    yield seen
    batch_completed.disconnect(dispatch_uid="test-completions")


@pytest.fixture
def batch_of_two(product, make_version, merchandiser):
    batch = UploadBatch.objects.create(created_by=merchandiser)
    versions = [make_version(product), make_version(product)]
    for version in versions:
        version.source.batch = batch
        version.source.save(update_fields=["batch"])
    return batch, versions


def _process(version: ImageVersion, *, flag: bool = False) -> None:
    version.claim_for_processing("worker-1")
    if flag:
        version.flag(40, [{"code": "low_contrast"}])
    else:
        version.pass_quality_gate(90, [])
        version.publish()


def test_the_last_version_to_settle_completes_a_closed_batch_once(batch_of_two, completions):
    batch, (first, second) = batch_of_two
    batch.close()
    _process(first)
    assert completions == []
    _process(second, flag=True)  # flagged waits for a person, but processing is over
    assert completions == [str(batch.pk)]
    batch.refresh_from_db()
    assert batch.finished_at is not None
    assert batch.finish_if_settled() is False
    assert completions == [str(batch.pk)]


def test_an_open_batch_does_not_complete_until_it_is_closed(batch_of_two, completions):
    batch, versions = batch_of_two
    for version in versions:
        _process(version)
    assert completions == []
    batch.close()
    assert completions == [str(batch.pk)]


def test_closing_a_batch_with_nothing_accepted_completes_it(merchandiser, completions):
    batch = UploadBatch.objects.create(created_by=merchandiser)
    batch.record_refusal("broken.jpg", "not an image")
    batch.close()
    assert completions == [str(batch.pk)]


def test_the_sweeper_backstop_finishes_batches_a_lost_commit_hook_missed(batch_of_two, completions):
    batch, versions = batch_of_two
    for version in versions:
        _process(version)
    # Closed behind the model's back, as if the process died before its on-commit hook ran.
    UploadBatch.objects.filter(pk=batch.pk).update(closed_at=versions[0].queued_at)
    assert completions == []
    assert finish_settled_batches() == 1
    assert finish_settled_batches() == 0
    assert completions == [str(batch.pk)]


def test_a_transition_tells_listeners_inside_its_transaction(product, make_version):
    version = make_version(product)
    heard = []

    def listen(sender, version, status, verb, **kwargs):
        from django.db import connection

        heard.append((status, verb, connection.in_atomic_block))

    version_status_changed.connect(listen, dispatch_uid="test-listen")
    try:
        version.claim_for_processing("w")
        version.claim_for_processing("w")  # a re-run changes nothing and says nothing
    finally:
        version_status_changed.disconnect(dispatch_uid="test-listen")
    assert heard == [("processing", "start processing", True)]
