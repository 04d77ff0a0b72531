"""/versions for derived masters: a scene says what it is and which cut-out it came from."""

from __future__ import annotations

import pytest

from processing.jobs import process_version
from processing.publishing import render_version
from tests.catalog.conftest import derive_scene

pytestmark = pytest.mark.django_db


def test_the_api_tells_a_scene_from_the_cutout_it_is_made_from(published_cutout, templates, api_as, reviewer):
    scene = derive_scene(published_cutout, templates["table-top"], "shopify")
    process_version(str(scene.pk))
    render_version(str(scene.pk))

    body = api_as(reviewer).get(f"/api/v1/versions/{scene.pk}").json()
    cutout = api_as(reviewer).get(f"/api/v1/versions/{published_cutout.pk}").json()

    assert (body["kind"], body["derived_from_id"], body["status"]) == (
        "scene",
        str(published_cutout.pk),
        "published",
    )
    assert [c["profile"] for c in body["channels"]] == ["shopify"]
    assert (cutout["kind"], cutout["derived_from_id"]) == ("cutout", None)
