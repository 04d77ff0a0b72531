"""A reviewer reprocesses with the standard or the stronger, slower model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from catalog.models import ImageVersion, Product
from processing.models import CategoryThresholds

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def reviewing(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def models_in_place(tmp_path, settings):
    """Both models' files present: the form offers what is provisioned (checksums are `check`'s job)."""
    for name in ("u2netp", "u2net"):
        (tmp_path / f"{name}.onnx").write_bytes(b"weights")
    settings.LIGHTBOX_MODEL_DIR = tmp_path
    return tmp_path


def checked_model(html: str) -> str | None:
    match = re.search(r'<input type="radio" name="model" value="([^"]+)"[^>]*checked', html)
    return match.group(1) if match else None


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_the_reprocess_form_offers_both_models_with_the_categorys_one_chosen(
    reviewing, make_flagged, models_in_place, headers
):
    plain = make_flagged(minutes_ago=20)
    CategoryThresholds.objects.create(category="Rings", model_name="u2net")
    ring = make_flagged(minutes_ago=10)
    Product.objects.filter(pk=ring.source.product_id).update(category="Rings")
    ImageVersion.objects.filter(pk=ring.pk).update(category="Rings")

    first = reviewing.get(reverse("review:decide"), **headers)
    second = reviewing.get(reverse("review:decide"), {"after": plain.pk}, **headers)

    assert (first.context["version"], second.context["version"]) == (plain, ring)
    html = first.content.decode()
    assert "Standard (u2netp)" in html
    assert "Stronger, slower (u2net)" in html
    assert checked_model(html) == "u2netp"
    assert checked_model(second.content.decode()) == "u2net"


def test_a_reprocess_with_the_stronger_model_stores_it_in_the_options(
    reviewing, make_flagged, models_in_place, redis_conn
):
    version = make_flagged()

    response = reviewing.post(
        reverse("review:reprocess", args=[version.pk]), {"refine_edges": "on", "model": "u2net"}, **HX
    )

    assert response.status_code == 200
    assert ImageVersion.objects.get(parent=version).options == {
        "refine_edges": True,
        "shadow": False,
        "model": "u2net",
    }


def test_a_model_that_is_not_provisioned_is_refused(reviewing, make_flagged, models_in_place):
    Path(models_in_place, "u2net.onnx").unlink()
    version = make_flagged()

    response = reviewing.post(reverse("review:reprocess", args=[version.pk]), {"model": "u2net"}, **HX)

    assert response.status_code == 422
    assert not ImageVersion.objects.filter(parent=version).exists()
