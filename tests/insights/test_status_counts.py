"""The dashboard's status counts now, read from the deltas a trigger keeps (insights.status_counts):
always what counting the versions gives, whatever wrote them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from catalog.models import ImageVersion, Product
from insights import status_counts
from insights.kpis import Filters
from insights.models import StatusCount

pytestmark = pytest.mark.django_db

FILTERS = [
    Filters(),
    Filters(brand="Kiln"),
    Filters(brand="Loom"),
    Filters(category="Kitchen"),
    Filters(brand="Kiln", category="Kitchen"),
    Filters(brand="Nobody"),
]


def counted(filters: Filters) -> dict[str, int]:
    rows = ImageVersion.objects.filter(filters.catalog_q()).values_list("status").annotate(n=Count("*"))
    return dict(rows.order_by())


def assert_counts_match() -> None:
    for filters in FILTERS:
        assert status_counts.versions_by_status(filters) == counted(filters), filters


@pytest.fixture
def catalog(product, make_version):
    other = Product.objects.create(sku="RUG-001", title="Wool rug", brand="Loom", category="Home")
    versions = [make_version(product) for _ in range(3)] + [make_version(other) for _ in range(2)]
    return product, other, versions


def test_new_versions_are_counted_by_brand_category_and_status(catalog):
    assert status_counts.versions_by_status(Filters(brand="Kiln")) == {"queued": 3}
    assert status_counts.versions_by_status(Filters()) == {"queued": 5}
    assert_counts_match()


def test_transitions_move_versions_between_statuses(catalog):
    _, _, versions = catalog
    versions[0].claim_for_processing("w1")
    versions[1].claim_for_processing("w1")
    versions[1].flag(40, [{"code": "blurry", "message": "soft"}])
    versions[3].fail("The model crashed.")

    assert status_counts.versions_by_status(Filters(brand="Kiln")) == {
        "queued": 1,
        "processing": 1,
        "flagged": 1,
    }
    assert_counts_match()


def test_a_product_moved_to_another_brand_takes_its_versions_along(catalog):
    product, _, _ = catalog
    product.brand, product.category = "Loom", "Home"
    product.save()

    assert status_counts.versions_by_status(Filters(brand="Kiln")) == {}
    assert status_counts.versions_by_status(Filters(brand="Loom")) == {"queued": 5}
    assert_counts_match()


def test_bulk_updates_raw_sql_and_deletes_are_counted(catalog):
    _, _, versions = catalog
    ImageVersion.objects.filter(brand="Loom").update(status="published", published_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_imageversion SET status = 'failed', error = 'Lost.' WHERE id = %s",
            [versions[0].pk],
        )
    versions[1].delete()

    assert status_counts.versions_by_status(Filters(brand="Kiln")) == {"queued": 1, "failed": 1}
    assert_counts_match()


def test_compacting_folds_each_group_into_one_row_and_keeps_the_counts(catalog):
    _, _, versions = catalog
    for version in versions:
        version.claim_for_processing("w1")
    versions[0].fail("The model crashed.")
    before = {filters: status_counts.versions_by_status(filters) for filters in FILTERS}
    assert StatusCount.objects.count() > 4

    removed = status_counts.compact()

    groups = {
        ("Kiln", "Kitchen", "processing"),
        ("Kiln", "Kitchen", "failed"),
        ("Loom", "Home", "processing"),
    }
    assert set(StatusCount.objects.values_list("brand", "category", "status")) == groups
    assert StatusCount.objects.count() == len(groups)
    assert removed > 0
    assert {filters: status_counts.versions_by_status(filters) for filters in FILTERS} == before
    assert status_counts.compact() == 0


def test_an_upload_batch_is_counted_from_its_versions(catalog, make_version):
    from catalog.models import UploadBatch

    product, _, versions = catalog
    batch = UploadBatch.objects.create(name="Spring")
    versions[0].source.batch = batch
    versions[0].source.save()

    assert status_counts.versions_by_status(Filters(batch=batch.pk)) == {"queued": 1}
