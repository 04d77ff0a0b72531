"""Renditions as a browser sees them: every format decodes, downloads carry the channel's name."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_every_rendition_format_decodes_in_chromium(log_in, merchandiser, rendering_version, small_profiles):
    from processing.publishing import render_version

    assert render_version(str(rendering_version.pk)) == "published"
    page = log_in(merchandiser.username, PASSWORD)

    page.goto(page.url.replace("/products/", f"/products/{rendering_version.source.product.sku}/"))
    images = page.locator("[data-testid=rendition] img")
    assert images.count() == rendering_version.renditions.count()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=rendition] img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    formats = set(images.evaluate_all("imgs => imgs.map(i => i.dataset.format)"))
    assert {"jpeg", "webp", "avif"} <= formats

    with page.expect_download() as download:
        page.locator("[data-profile=amazon-main] a", has_text="Download").click()
    assert download.value.suggested_filename == "B000TEST01.MAIN.jpg"
