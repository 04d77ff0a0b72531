"""The scene pages (admins only) and a flagged scene on the reviewer's decision page."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.models import MarketplaceProfile, Product, VersionKind
from catalog.scenes.models import SceneRule, SceneTemplate
from processing.jobs import process_version
from tests.catalog.conftest import derive_scene
from tests.conftest import photo_bytes

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_scene_pages_are_for_admins_only(client, merchandiser):
    client.force_login(merchandiser)

    assert client.get(reverse("scenes:index")).status_code == 403
    assert client.get(reverse("scenes:rule_create")).status_code == 403
    assert client.get(reverse("scenes:rule_edit", args=[1])).status_code == 403


def test_an_uploaded_photo_becomes_a_template_to_mark(client, admin_user):
    client.force_login(admin_user)
    photo = SimpleUploadedFile(
        "room.jpg", photo_bytes((640, 480), (120, 110, 100)), content_type="image/jpeg"
    )

    response = client.post(reverse("scenes:template_create"), {"name": "Living room", "photo": photo})

    template = SceneTemplate.objects.get(name="Living room")
    assert response.status_code == 302
    assert response["Location"] == reverse("scenes:template_mark", args=[template.pk])
    assert (template.width, template.height, template.slug) == (640, 480, "living-room")
    with template.image.open("rb") as fh, Image.open(io.BytesIO(fh.read())) as stored:
        assert stored.format == "PNG"
        assert stored.size == (640, 480)


def test_a_file_that_is_not_a_photo_is_refused_with_a_reason(client, admin_user):
    client.force_login(admin_user)
    text = SimpleUploadedFile("room.jpg", b"not an image at all", content_type="image/jpeg")

    response = client.post(reverse("scenes:template_create"), {"name": "Nope", "photo": text})

    assert response.status_code == 200
    assert not SceneTemplate.objects.exists()
    assert "errorlist" in response.content.decode()


def test_markings_outside_the_photo_are_refused(client, admin_user, templates):
    client.force_login(admin_user)
    shelf = templates["shelf"]
    data = {
        "name": "Shelf",
        "area_left": 100,
        "area_top": 100,
        "area_right": 900,  # the photo is 800 wide
        "area_bottom": 400,
        "surface_y": 380,
        "light_side": "left",
        "area_width_cm": 80,
        "default_share": 0.6,
    }

    refused = client.post(reverse("scenes:template_mark", args=[shelf.pk]), data)
    saved = client.post(reverse("scenes:template_mark", args=[shelf.pk]), {**data, "area_right": 700})

    assert refused.status_code == 200
    assert "inside the photo" in refused.content.decode()
    assert saved.status_code == 302
    shelf.refresh_from_db()
    assert (shelf.area_right, shelf.revision) == (700, 2)


def test_a_rule_needs_a_category_or_products_and_applies_when_saved(
    client, admin_user, templates, published_cutout
):
    client.force_login(admin_user)
    additional = MarketplaceProfile.objects.get(slug="amazon-additional")
    base = {
        "template": templates["table-top"].pk,
        "profiles": [additional.pk],
        "export_position": 2,
        "enabled": "on",
    }

    refused = client.post(reverse("scenes:rule_create"), base)
    made = client.post(reverse("scenes:rule_create"), {**base, "skus": "MUG-001"}, follow=True)

    assert "Choose a category or list the products" in refused.content.decode()
    assert "1 scene versions queued" in made.content.decode()
    rule = SceneRule.objects.get()
    assert list(rule.products.values_list("sku", flat=True)) == ["MUG-001"]
    assert rule.versions.get().kind == VersionKind.SCENE


def test_a_rule_switched_off_makes_no_scene_and_switched_on_again_makes_the_missing_one(
    client, admin_user, templates, published_cutout
):
    client.force_login(admin_user)
    additional = MarketplaceProfile.objects.get(slug="amazon-additional")
    rule = SceneRule.objects.create(template=templates["table-top"], enabled=False, export_position=2)
    rule.profiles.set([additional])
    rule.products.set(Product.objects.filter(sku="MUG-001"))
    form = {"template": templates["table-top"].pk, "profiles": [additional.pk], "export_position": 3}

    page = client.get(reverse("scenes:rule_edit", args=[rule.pk]))
    kept_off = client.post(
        reverse("scenes:rule_edit", args=[rule.pk]), {**form, "skus": "MUG-001"}, follow=True
    )

    assert 'value="MUG-001"' in page.content.decode()
    assert "Scene rule saved (off): 0 scene versions queued" in kept_off.content.decode()
    assert not rule.versions.exists()

    switched_on = client.post(
        reverse("scenes:rule_edit", args=[rule.pk]), {**form, "skus": "MUG-001", "enabled": "on"}, follow=True
    )

    assert "Scene rule saved (on): 1 scene versions queued" in switched_on.content.decode()
    rule.refresh_from_db()
    assert rule.export_position == 3
    assert rule.versions.get().export_position == 3


def test_a_flagged_scene_shows_on_the_decision_page_without_the_mask_tools(
    client, reviewer, templates, published_cutout, redis_conn
):
    Product.objects.filter(pk=published_cutout.source.product_id).update(width_cm=300.0)
    scene = derive_scene(published_cutout, templates["table-top"], "amazon-additional")
    assert process_version(str(scene.pk)) == "flagged"
    client.force_login(reviewer)

    for headers in ({}, HX):
        html = client.get(reverse("review:decide"), **headers).content.decode()
        assert f'data-version="{scene.pk}"' in html
        assert "Lifestyle scene “Table top”" in html
        assert 'data-testid="derived-master"' in html
        assert "Made from cut-out version 1" in html
        assert "mask-editor" not in html
        assert "Makes the lifestyle scene again" in html


def test_the_review_queue_lists_a_flagged_scene_with_its_kind_and_reasons_in_words(
    client, reviewer, templates, published_cutout, redis_conn
):
    Product.objects.filter(pk=published_cutout.source.product_id).update(width_cm=300.0)
    scene = derive_scene(published_cutout, templates["shelf"], "amazon-additional")
    process_version(str(scene.pk))
    client.force_login(reviewer)

    html = client.get(reverse("review:queue")).content.decode()

    assert '<span data-testid="queue-kind">lifestyle scene</span>' in html
    assert "Scene: product outside the placement area" in html


def test_the_product_list_counts_published_photos_not_their_scenes(
    client, merchandiser, templates, published_cutout
):
    scene = derive_scene(published_cutout, templates["table-top"], "amazon-additional")
    process_version(str(scene.pk))
    from processing.publishing import render_version

    assert render_version(str(scene.pk)) == "published"
    client.force_login(merchandiser)

    response = client.get(reverse("catalog:product_list"))

    (row,) = [p for p in response.context["page"] if p.sku == "MUG-001"]
    assert row.stats["published"] == 1
