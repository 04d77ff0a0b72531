"""Ghost-mannequin masters (catalog.ghost, processing.ghost): asked for by a category or a
batch, derived when a main photo's cut-out publishes, made by a real RQ worker in burst
mode, rendered, exported in the main image's place when the category says so, and shown
on the product page beside the cut-out."""

from __future__ import annotations

import io

import django_rq
import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from bench.ghost_photos import LABEL, MANNEQUINS, front_photo, inner_photo
from catalog.exports.selection import select
from catalog.ghost import on_cutout_published
from catalog.models import ImageVersion, MannequinColour, Product, SourceRole, UploadBatch, VersionKind
from catalog.models import VersionStatus as S
from processing.models import CategoryThresholds
from processing.pipeline.compose import compose_master
from processing.pipeline.ghost import REASONS
from processing.publishing import render_version
from processing.worker import LightboxWorker
from review.services import do_approve

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = 1000  # the ghost master (about 560 px) meets every quarter-size profile's minimum


def run_burst_worker() -> None:
    queues = [django_rq.get_queue(name) for name in settings.QUEUE_NAMES]
    LightboxWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=False)


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def tee(db):
    return Product.objects.create(sku="TEE-NAVY-M", title="Crew-neck T-shirt", brand="Loom", category="Tops")


def tops(colour: str = "grey", *, replaces_main: bool = False) -> CategoryThresholds:
    return CategoryThresholds.objects.create(
        category="Tops", mannequin_colour=colour, ghost_replaces_main=replaces_main
    )


def publish_cutout(make_version, product, image, alpha, *, role=SourceRole.MAIN, batch=None) -> ImageVersion:
    """A photo whose cut-out publishes through the real renderer: its master is what compose
    makes from the photo and its true cut-out mask (the model would find shirt and mannequin)."""
    version = make_version(product, status=S.RENDERING, photo=jpeg(image))
    source = version.source
    source.role, source.batch = role, batch
    source.save()
    master = compose_master(image, Image.fromarray(alpha)).image
    version.master.save("m.png", ContentFile(png(master)))
    assert render_version(str(version.pk)) == "published"
    version.refresh_from_db()
    return version


def front(make_version, product, mannequin="grey", **kwargs) -> ImageVersion:
    photo = front_photo(SIZE, mannequin, "navy")
    return publish_cutout(make_version, product, photo.image, photo.alpha, **kwargs)


def inner(make_version, product) -> ImageVersion:
    shot = inner_photo(SIZE * 6 // 10, "navy")
    return publish_cutout(make_version, product, shot.image, shot.alpha, role=SourceRole.INNER)


def ghost_of(cutout: ImageVersion) -> ImageVersion:
    return ImageVersion.objects.filter(derived_from=cutout, kind=VersionKind.GHOST).latest("number")


def opaque_pixels(version: ImageVersion) -> np.ndarray:
    with version.master.open("rb") as fh, Image.open(fh) as master:
        rgba = np.asarray(master.convert("RGBA"))
    return rgba[rgba[..., 3] == 255][:, :3].astype(int)


def near(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int) -> int:
    return int((np.abs(pixels - colour).max(axis=1) <= tolerance).sum())


def test_a_published_cutout_of_a_tops_photo_becomes_a_ghost_mannequin_published_by_a_worker(
    tee, make_version, small_profiles, redis_conn, client, merchandiser
):
    tops("grey")
    shot = inner(make_version, tee)
    cutout = front(make_version, tee)

    run_burst_worker()

    ghost = ghost_of(cutout)
    assert ghost.status == S.PUBLISHED, (ghost.error, ghost.reasons)
    assert (ghost.lineage, ghost.export_position) == ("ghost", 2)
    assert ghost.options["recipe"] == {"mannequin": "grey", "inner": str(shot.pk)}
    assert ghost.options["ghost"]["inner"] is True
    assert {"ghost_load", "ghost", "save"} <= set(ghost.timings_ms)
    pixels = opaque_pixels(ghost)
    cutout_pixels = opaque_pixels(cutout)
    # The cut-out is full of the grey mannequin; the ghost has none of it, and the label shows.
    assert near(cutout_pixels, MANNEQUINS["grey"], 12) > 5000
    assert near(pixels, MANNEQUINS["grey"], 12) < 0.001 * len(pixels)
    assert near(pixels, LABEL, 12) > 100
    renditions = {r.profile.slug: r for r in ghost.renditions.select_related("profile")}
    assert {"amazon-main", "amazon-additional", "shopify"} <= set(renditions)
    assert all(r.compliance_passed for r in renditions.values()), {
        slug: r.compliance for slug, r in renditions.items()
    }
    # The cut-out stays the published main photo; the ghost comes second in exports.
    cutout.refresh_from_db()
    assert cutout.status == S.PUBLISHED
    (exported,) = select([tee], main_profile="amazon-main", additional_profile="amazon-additional").products
    assert [i.rendition.version_id for i in exported.images] == [cutout.pk, ghost.pk]
    # The inner shot itself is never exported nor rendered.
    assert not shot.renditions.exists()
    # The product page shows the ghost beside the cut-out.
    client.force_login(merchandiser)
    page = client.get(reverse("catalog:product_detail", args=[tee.sku])).content.decode()
    assert 'data-kind="ghost"' in page
    assert 'data-kind="cutout"' in page
    assert "Grey mannequin, inner shot placed in the neck" in page


def test_the_ghost_replaces_the_main_image_when_the_category_asks(
    tee, make_version, small_profiles, redis_conn
):
    tops("grey", replaces_main=True)
    cutout = front(make_version, tee)

    run_burst_worker()

    ghost = ghost_of(cutout)
    assert ghost.status == S.PUBLISHED, (ghost.error, ghost.reasons)
    assert ghost.export_position == 1
    amazon = select([tee], main_profile="amazon-main", additional_profile="amazon-additional")
    shopify = select([tee], main_profile="shopify", additional_profile=None)
    for selection, profile in ((amazon, "amazon-main"), (shopify, "shopify")):
        (exported,) = selection.products
        assert [(i.role, i.rendition.version_id) for i in exported.images] == [("main", ghost.pk)]
        assert exported.images[0].rendition.profile.slug == profile
    # Without a usable rendition for the main profile it falls back to second place.
    ghost.renditions.filter(profile__slug="amazon-main").delete()
    (exported,) = select([tee], main_profile="amazon-main", additional_profile="amazon-additional").products
    assert [(i.role, i.rendition.version_id) for i in exported.images] == [
        ("main", cutout.pk),
        ("additional", ghost.pk),
    ]


def test_the_batch_names_the_mannequin_and_an_inner_shot_arriving_later_remakes_the_ghost(
    tee, make_version, small_profiles, redis_conn
):
    batch = UploadBatch.objects.create(mannequin_colour=MannequinColour.SKIN)
    cutout = front(make_version, tee, "skin", batch=batch)
    run_burst_worker()
    first = ghost_of(cutout)
    assert first.status == S.PUBLISHED, (first.error, first.reasons)
    assert first.options["recipe"] == {"mannequin": "skin", "inner": None}

    shot = inner(make_version, tee)
    run_burst_worker()

    second = ghost_of(cutout)
    assert second.number == 2
    assert second.parent_id == first.pk
    assert second.options["recipe"]["inner"] == str(shot.pk)
    assert second.status == S.PUBLISHED, (second.error, second.reasons)
    assert near(opaque_pixels(second), LABEL, 12) > 100
    # Exports take the newest published ghost: the one with the inner shot.
    (exported,) = select([tee], main_profile="amazon-main", additional_profile="amazon-additional").products
    assert [i.rendition.version_id for i in exported.images] == [cutout.pk, second.pk]
    # Publishing the inner shot again asks for nothing new.
    assert on_cutout_published(shot.pk) == []


def test_a_ghost_whose_mannequin_is_not_found_is_flagged_with_its_reason_for_a_reviewer(
    tee, make_version, small_profiles, redis_conn, client, reviewer
):
    tops("green")  # the studio shot this one on the grey mannequin
    cutout = front(make_version, tee, "grey")

    run_burst_worker()

    ghost = ghost_of(cutout)
    assert ghost.status == S.FLAGGED
    codes = {r["code"]: r["message"] for r in ghost.reasons}
    assert "mannequin_not_found" in codes
    assert "check the mannequin colour" in codes["mannequin_not_found"]
    # The reviewer sees it with its reason in words, and may publish it anyway.
    client.force_login(reviewer)
    page = client.get(reverse("review:decide")).content.decode()
    assert str(ghost.pk) in page
    assert REASONS["mannequin_not_found"] in page
    do_approve(ghost.pk, reviewer)
    run_burst_worker()
    ghost.refresh_from_db()
    assert ghost.status == S.PUBLISHED


def test_without_a_mannequin_colour_no_ghost_is_made(tee, make_version, small_profiles, redis_conn):
    cutout = front(make_version, tee)

    run_burst_worker()

    assert not ImageVersion.objects.filter(kind=VersionKind.GHOST).exists()
    assert on_cutout_published(cutout.pk) == []
