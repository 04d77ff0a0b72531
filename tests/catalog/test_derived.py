"""Derived masters (catalog.derived) with scenes as the kind: their own lineage, the usual
lifecycle (gate, review, renditions per target profile, exports), beside the cut-out."""

from __future__ import annotations

import io

import pytest
from django.db.models import F
from django.urls import reverse
from PIL import Image

from catalog.derived import derive_version
from catalog.exports.amazon import slots_for
from catalog.exports.selection import select
from catalog.models import ImageVersion, VersionKind, VersionStatus
from catalog.scenes.models import SceneRule, SceneTemplate
from catalog.scenes.rules import apply_rule
from processing.jobs import process_version
from processing.publishing import render_version
from review.services import do_approve, do_reprocess
from tests.catalog.conftest import derive_scene, profiles

pytestmark = pytest.mark.django_db


def test_a_scene_is_numbered_in_its_own_lineage_and_never_supersedes_the_cutout(published_cutout, templates):
    first = derive_scene(published_cutout, templates["table-top"], "amazon-additional")
    other = derive_scene(published_cutout, templates["shelf"], "amazon-additional")

    assert (first.number, other.number) == (1, 1)
    assert first.kind == VersionKind.SCENE
    assert first.derived_from == published_cutout
    assert not published_cutout.newer_version_exists()
    assert not first.newer_version_exists()
    # The same scene of the same cut-out is not made twice while the first one stands.
    assert derive_scene(published_cutout, templates["table-top"], "amazon-additional") is None


def test_a_derived_version_needs_a_cutout_and_a_lineage(published_cutout, templates):
    scene = derive_scene(published_cutout, templates["table-top"], "amazon-additional")
    with pytest.raises(ValueError, match="from a cut-out"):
        derive_version(scene, VersionKind.SCENE, lineage="scene:x", targets=[])
    with pytest.raises(ValueError, match="lineage"):
        derive_version(published_cutout, VersionKind.GHOST, lineage="", targets=[])


def test_a_scene_is_composited_gated_and_published_on_its_target_profiles_only(published_cutout, templates):
    scene = derive_scene(published_cutout, templates["table-top"], "amazon-additional", "instagram-square")

    assert process_version(str(scene.pk)) == "passed"
    assert render_version(str(scene.pk)) == "published"

    scene.refresh_from_db()
    assert scene.status == VersionStatus.PUBLISHED
    with scene.master.open("rb") as fh, Image.open(fh) as master:
        assert master.size == (800, 600)
    assert scene.options["scene"]["scaled_by"] == "dimensions"
    renditions = {r.profile.slug: r for r in scene.renditions.select_related("profile")}
    assert set(renditions) == {"amazon-additional", "instagram-square"}
    square = renditions["instagram-square"]
    assert "fit-cover" in square.spec
    assert "bgmode-any" in square.spec
    fx, fy = scene.options["focus"]
    assert f"focus-{fx:g}x{fy:g}" in square.spec  # the square is cropped around the product
    assert square.compliance_passed, square.compliance
    assert renditions["amazon-additional"].file.name.endswith("/B000TEST01.PT01.jpg")  # export position 2
    with square.file.open("rb") as fh, Image.open(io.BytesIO(fh.read())) as decoded:
        assert decoded.size == (square.width, square.height) == (270, 270)
        corner = decoded.convert("RGB").getpixel((2, 2))
    assert corner != (255, 255, 255)  # the scene fills the square: no white margin
    # The cut-out is untouched and still the photo's published version.
    published_cutout.refresh_from_db()
    assert published_cutout.status == VersionStatus.PUBLISHED


def test_a_product_too_big_for_the_scene_is_flagged_and_a_reviewer_can_approve_it(
    published_cutout, templates, reviewer
):
    product = published_cutout.source.product
    product.width_cm, product.height_cm = 200.0, 150.0  # a sofa on a 60 cm table top
    product.save()
    scene = derive_scene(published_cutout, templates["table-top"], "amazon-additional")

    assert process_version(str(scene.pk)) == "flagged"

    scene.refresh_from_db()
    codes = {r["code"] for r in scene.reasons}
    assert {"scene_outside_area", "scene_scale"} <= codes
    do_approve(scene.pk, reviewer)
    scene.refresh_from_db()
    assert scene.status == VersionStatus.RENDERING


def test_reprocessing_a_flagged_scene_makes_it_again_in_its_lineage(published_cutout, templates, reviewer):
    product = published_cutout.source.product
    product.width_cm = 500.0
    product.save()
    scene = derive_scene(published_cutout, templates["shelf"], "amazon-additional")
    process_version(str(scene.pk))

    again = do_reprocess(scene.pk, reviewer, {})

    assert (again.kind, again.lineage, again.number, again.parent_id) == (
        VersionKind.SCENE,
        scene.lineage,
        2,
        scene.pk,
    )
    assert list(again.targets.values_list("slug", flat=True)) == ["amazon-additional"]
    scene.refresh_from_db()
    assert scene.status == VersionStatus.SUPERSEDED


def test_exports_put_the_scene_at_its_rules_position(published_cutout, templates):
    scene = derive_scene(published_cutout, templates["wall-and-floor"], "amazon-additional", "shopify")
    process_version(str(scene.pk))
    render_version(str(scene.pk))
    product = published_cutout.source.product

    amazon = select([product], main_profile="amazon-main", additional_profile="amazon-additional")
    shopify = select([product], main_profile="shopify", additional_profile=None)

    (exported,) = amazon.products
    slots = {code: image.rendition.version_id for code, image in slots_for(exported.images)[0]}
    assert slots == {"MAIN": published_cutout.pk, "PT01": scene.pk}
    assert [i.rendition.version_id for i in shopify.products[0].images] == [published_cutout.pk, scene.pk]
    assert [i.position for i in shopify.products[0].images] == [1, 2]


def test_a_rule_applies_to_published_products_of_its_category_now_and_later(
    published_cutout, templates, make_version, django_capture_on_commit_callbacks, redis_conn
):
    rule = SceneRule.objects.create(template=templates["shelf"], category="Kitchen", export_position=2)
    rule.profiles.set(profiles("amazon-additional"))

    made = apply_rule(rule)

    assert [v.derived_from_id for v in made] == [published_cutout.pk]
    assert apply_rule(rule) == []  # already there
    # A new cut-out of the photo, published later: the rule makes its scene too.
    newer = ImageVersion.objects.create(
        source=published_cutout.source,
        number=2,
        status=VersionStatus.RENDERING,
        master=published_cutout.master.name,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert render_version(str(newer.pk)) == "published"
    scenes = ImageVersion.objects.filter(kind=VersionKind.SCENE).order_by("number")
    assert [(s.number, s.derived_from_id) for s in scenes] == [(1, published_cutout.pk), (2, newer.pk)]


def test_the_product_page_shows_the_scene_beside_the_cutout(
    published_cutout, templates, client, merchandiser
):
    scene = derive_scene(published_cutout, templates["table-top"], "amazon-additional")
    process_version(str(scene.pk))
    render_version(str(scene.pk))
    client.force_login(merchandiser)

    page = client.get(reverse("catalog:product_detail", args=[published_cutout.source.product.sku]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-kind="cutout"' in html
    assert 'data-kind="scene"' in html
    assert (
        '<span data-testid="version-kind">Lifestyle scene “Table top”</span>, version 1 (from cut-out v1)'
        in html
    )
    assert "Marketplace renditions of lifestyle scene version 1" in html


def test_a_scene_is_made_again_when_its_template_is_marked_again(published_cutout, templates):
    rule = SceneRule.objects.create(template=templates["table-top"], category="Kitchen", export_position=3)
    rule.profiles.set(profiles("shopify"))
    (first,) = apply_rule(rule)
    process_version(str(first.pk))
    render_version(str(first.pk))
    assert apply_rule(rule) == []

    SceneTemplate.objects.filter(pk=rule.template_id).update(revision=F("revision") + 1)
    rule.refresh_from_db()
    (again,) = apply_rule(rule)

    assert (again.number, again.options["recipe"]["template_revision"]) == (2, 2)


def test_a_scene_still_queued_does_not_hold_its_photos_batch_open(published_cutout, templates):
    from catalog.models import SourceImage, UploadBatch
    from catalog.upload_views import batch_progress

    batch = UploadBatch.objects.create(name="Spring", closed_at=published_cutout.queued_at)
    SourceImage.objects.filter(pk=published_cutout.source_id).update(batch=batch)
    derive_scene(published_cutout, templates["shelf"], "shopify")  # QUEUED

    assert batch.finish_if_settled()
    assert batch_progress(batch)["done"]
