"""catalog 0017 fills ImageVersion.rendered_for from the renditions already there. Run with
Django's migration executor on a database with rendered versions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.models import ImageVersion, MarketplaceProfile

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0016_reviewdecision_to_review")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_versions_rendered_before_the_migration_list_their_profiles(old_apps):
    product = old_apps.get_model("catalog", "Product").objects.create(sku="MIG-1", title="Migrated")
    source = old_apps.get_model("catalog", "SourceImage").objects.create(
        product=product,
        file="s.jpg",
        original_filename="s.jpg",
        sha256="a" * 64,
        width=1,
        height=1,
        format="JPEG",
        byte_size=1,
    )
    versions = old_apps.get_model("catalog", "ImageVersion").objects
    rendered, plain = (versions.create(source=source, number=n) for n in (1, 2))
    first, second = MarketplaceProfile.objects.order_by("pk")[:2]
    renditions = old_apps.get_model("catalog", "Rendition").objects
    for profile_id, spec in ((second.pk, "s1"), (first.pk, "s1"), (first.pk, "s2")):
        renditions.create(
            version_id=rendered.pk,
            profile_id=profile_id,
            spec=spec,
            file="r.jpg",
            width=1,
            height=1,
            byte_size=1,
            format="jpeg",
        )

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert ImageVersion.objects.get(pk=rendered.pk).rendered_for == [first.pk, second.pk]
    assert ImageVersion.objects.get(pk=plain.pk).rendered_for == []
