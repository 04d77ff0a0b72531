"""An export moves queued → running → succeeded/failed once, and tells listeners once."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from catalog.exports.models import Export
from catalog.signals import export_completed

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(merchandiser):
    return Export.objects.create(
        kind=Export.Kind.AMAZON_ZIP, created_by=merchandiser, scope={"products": [1]}, scope_label="1 product"
    )


@pytest.fixture
def completed():
    seen = []
    export_completed.connect(
        lambda sender, export, **kw: seen.append(export.status), dispatch_uid="t-exp", weak=False
    )
    yield seen
    export_completed.disconnect(dispatch_uid="t-exp")


def test_progress_moves_within_its_total_and_success_fills_it(export, completed):
    assert export.start(total=3) is True
    assert export.start(total=3) is False  # a second runner backs off
    export.advance()
    export.advance(5)  # never past the total
    export.refresh_from_db()
    assert (export.progress_done, export.progress_total, export.percent) == (3, 3, 100)
    assert export.succeed({"products": 3}, [{"sku": "A", "image": "", "reason": "not published yet"}])
    assert (export.status, export.summary, export.done) == ("succeeded", {"products": 3}, True)
    assert export.finished_at is not None
    assert export.fail("late") is False
    assert completed == ["succeeded"]


def test_a_failure_keeps_its_reason_and_is_announced_once(export, completed):
    export.start(total=10)
    export.advance(4)
    assert export.fail("the storage is full") is True
    export.refresh_from_db()
    assert (export.status, export.error, export.progress_done) == ("failed", "the storage is full", 4)
    assert export.succeed({}, []) is False
    assert completed == ["failed"]


def test_the_database_refuses_a_finished_export_without_a_finish_time(export):
    with pytest.raises(IntegrityError), transaction.atomic():
        Export.objects.filter(pk=export.pk).update(status=Export.Status.SUCCEEDED)
