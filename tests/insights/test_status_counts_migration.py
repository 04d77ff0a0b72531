"""insights 0004 counts the versions already there, and catalog 0020 copies their brand and
category onto the renditions already made. Run with Django's migration executor on a database
with rows written before them."""

from __future__ import annotations

import pytest

from catalog.models import MarketplaceProfile, Rendition
from insights import status_counts
from insights.kpis import Filters
from tests.migration_steps import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("insights", "0003_hours"), ("catalog", "0019_version_rendered_for")]


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(None)


def test_versions_and_renditions_written_before_the_migrations_are_counted_and_labelled(old_apps):
    products = old_apps.get_model("catalog", "Product").objects
    sources = old_apps.get_model("catalog", "SourceImage").objects
    versions = old_apps.get_model("catalog", "ImageVersion").objects
    made = {}
    for sku, brand, statuses in (
        ("MIG-1", "Kiln", ["queued", "queued", "rejected"]),
        ("MIG-2", "Loom", ["queued"]),
    ):
        product = products.create(sku=sku, title="Migrated", brand=brand, category="Kitchen")
        for n, status in enumerate(statuses, start=1):
            source = sources.create(
                product=product,
                file="s.jpg",
                original_filename="s.jpg",
                sha256=f"{n:x}" * 64,
                width=1,
                height=1,
                format="JPEG",
                byte_size=1,
                position=n,
            )
            made[(sku, n)] = versions.create(
                source=source, number=1, status=status, brand=brand, category="Kitchen"
            )
    old_apps.get_model("catalog", "Rendition").objects.create(
        version_id=made[("MIG-1", 1)].pk,
        profile_id=MarketplaceProfile.objects.order_by("pk").values_list("pk", flat=True)[0],
        spec="s1",
        file="r.jpg",
        width=1,
        height=1,
        byte_size=1,
        format="jpeg",
    )

    migrate(None)

    assert status_counts.versions_by_status(Filters(brand="Kiln")) == {"queued": 2, "rejected": 1}
    assert status_counts.versions_by_status(Filters(category="Kitchen")) == {"queued": 3, "rejected": 1}
    assert Rendition.objects.values_list("brand", "category").get() == ("Kiln", "Kitchen")
