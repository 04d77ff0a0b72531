"""ImageVersion.rendered_for follows the version's renditions (catalog.rendered)."""

from __future__ import annotations

import pytest

from catalog import rendered
from catalog.models import ImageVersion, MarketplaceProfile, Product, Rendition, VersionStatus


@pytest.fixture
def version(make_version):
    product = Product.objects.create(sku="REND-1", title="Rendered")
    return make_version(product, status=VersionStatus.RENDERING)


@pytest.fixture
def profiles(db):
    return list(MarketplaceProfile.objects.order_by("pk")[:3])


def render(version, profile, spec="s1"):
    return Rendition.objects.create(
        version=version,
        profile=profile,
        spec=spec,
        file="renditions/x.jpg",
        width=10,
        height=10,
        byte_size=100,
        format="jpeg",
    )


def rendered_for(version):
    return sorted(ImageVersion.objects.get(pk=version.pk).rendered_for)


def test_a_version_without_renditions_is_rendered_for_no_profile(version):
    assert rendered_for(version) == []


def test_each_profile_rendered_is_listed_once(version, profiles):
    first, second, _ = profiles
    render(version, first)
    render(version, first, spec="s2")  # a re-render for the same profile
    render(version, second)
    assert rendered_for(version) == sorted([first.pk, second.pk])


def test_a_profile_stays_while_one_of_its_renditions_does(version, profiles):
    first, second, _ = profiles
    kept, dropped = render(version, first), render(version, first, spec="s2")
    render(version, second)

    dropped.delete()
    assert rendered_for(version) == sorted([first.pk, second.pk])

    kept.delete()
    assert rendered_for(version) == [second.pk]


def test_a_bulk_delete_of_renditions_is_followed(version, profiles):
    for profile in profiles:
        render(version, profile)
    Rendition.objects.filter(version=version, profile__in=profiles[1:]).delete()
    assert rendered_for(version) == [profiles[0].pk]


def test_other_versions_are_left_alone(version, profiles, make_version):
    other = make_version(Product.objects.create(sku="REND-2", title="Other"), status=VersionStatus.RENDERING)
    render(other, profiles[0])
    render(version, profiles[1])
    assert rendered_for(other) == [profiles[0].pk]
    assert rendered_for(version) == [profiles[1].pk]


def test_sync_sets_it_from_the_renditions_written_around_the_orm(version, profiles, make_version):
    empty = make_version(Product.objects.create(sku="REND-3", title="Empty"), status=VersionStatus.RENDERING)
    Rendition.objects.bulk_create(
        Rendition(
            version=version, profile=p, spec="s1", file="r.jpg", width=1, height=1, byte_size=1, format="jpeg"
        )
        for p in profiles[:2]
    )
    ImageVersion.objects.filter(pk=empty.pk).update(rendered_for=[profiles[2].pk])  # stale
    assert rendered_for(version) == []  # bulk_create sends no signal

    assert rendered.sync([version.pk, empty.pk]) == 2
    assert rendered_for(version) == sorted(p.pk for p in profiles[:2])
    assert rendered_for(empty) == []
