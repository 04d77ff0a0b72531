"""Published versions with real rendition files, shared with the export tests."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from catalog.derived import derive_version
from catalog.models import MarketplaceProfile, VersionKind, VersionStatus
from catalog.scenes import procedural
from tests.catalog.exports.conftest import amazon_product, make_photo, make_rendition  # noqa: F401
from tests.conftest import master_png, photo_bytes

# --- scenes (catalog.derived, catalog.scenes) ------------------------------------------------


@pytest.fixture
def templates():
    return {t.slug: t for t in procedural.install(size=(800, 600))}


@pytest.fixture
def published_cutout(product, make_version, small_profiles):
    """MUG-001 (12 × 9 cm) with its cut-out published through the real renderer."""
    from processing.publishing import render_version

    product.asin = "B000TEST01"
    product.width_cm, product.height_cm = 12.0, 9.0
    product.save()
    version = make_version(product, status=VersionStatus.RENDERING, photo=photo_bytes((2000, 1500)))
    version.master.save("m.png", ContentFile(master_png((480, 360))))
    assert render_version(str(version.pk)) == "published"
    version.refresh_from_db()
    return version


def profiles(*slugs):
    return MarketplaceProfile.objects.filter(slug__in=slugs)


def derive_scene(cutout, template, *slugs, position=2):
    return derive_version(
        cutout,
        VersionKind.SCENE,
        lineage=template.lineage,
        targets=profiles(*slugs),
        export_position=position,
        scene_template=template,
    )
