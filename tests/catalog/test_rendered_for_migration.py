"""catalog 0019 fills ImageVersion.rendered_for from the renditions already there. Run with
Django's migration executor on a database with rendered versions."""

from __future__ import annotations

import pytest

from catalog.models import ImageVersion, MarketplaceProfile
from tests.migration_steps import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0018_ghost_mannequin")]


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(None)


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

    migrate(None)

    assert ImageVersion.objects.get(pk=rendered.pk).rendered_for == [first.pk, second.pk]
    assert ImageVersion.objects.get(pk=plain.pk).rendered_for == []
