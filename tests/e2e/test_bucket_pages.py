"""Pages in Chromium with every file in an S3 bucket (SeaweedFS): the review page's photo,
mask and cut-out come from short-lived signed URLs to the bucket, and the mask editor, which
reads the photo and mask back from a canvas, works on them and saves a fix into the bucket."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile

from catalog.models import ImageVersion
from tests import s3server
from tests.conftest import PASSWORD, master_png
from tests.e2e.test_mask_editor import mask_at, model_mask, open_editor, studio_photo

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_review_images_and_the_mask_editor_work_from_signed_bucket_urls(
    s3_storage, log_in, live_server, reviewer, make_flagged, redis_conn
):
    version = make_flagged(
        photo=studio_photo(), reasons=[{"code": "holes", "message": "Holes in the cut-out."}]
    )
    version.mask.save("m.png", ContentFile(model_mask(hole=(300, 250, 380, 330))), save=False)
    version.master.save("c.png", ContentFile(master_png()), save=True)
    assert set(s3_storage.keys(s3server.PRIVATE)) == {
        version.source.file.name,
        version.mask.name,
        version.master.name,
    }
    page = log_in(reviewer.username, PASSWORD)
    image_hosts = set()
    page.on(
        "response",
        lambda response: (
            image_hosts.add(urlsplit(response.url).netloc)
            if response.request.resource_type == "image" and response.status == 200
            else None
        ),
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(error))

    open_editor(page, live_server, version)

    bucket = urlsplit(s3_storage.endpoint).netloc
    assert bucket in image_hosts
    assert urlsplit(live_server.url).netloc not in image_hosts  # no image bytes from the app
    item_images = page.locator("[data-testid=review-item] img")
    assert item_images.count() >= 3
    for index in range(item_images.count()):
        assert item_images.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
    # The canvas read the bucket's mask back: the hole is there to fill.
    assert mask_at(page, 340, 290) == 0
    assert mask_at(page, 200, 200) == 255

    page.get_by_test_id("fix-fill_holes").click()
    page.get_by_text("Holes filled.").wait_for()
    page.get_by_test_id("mask-save").click()
    page.get_by_test_id("done").wait_for()

    new = ImageVersion.objects.get(source=version.source, number=2)
    assert new.hand_mask.name in s3_storage.keys(s3server.PRIVATE)
    assert not errors
