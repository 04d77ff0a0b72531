"""A reviewer's reprocess options reach the pipeline: the pass score gates that version,
the shadow choice shapes its renditions (and their spec, the rendition's key)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from catalog.models import ImageVersion, MarketplaceProfile, VersionStatus
from processing.jobs import process_version
from processing.publishing import render_version

pytestmark = pytest.mark.django_db


def small_cut_out(mark: int = 0) -> bytes:
    """A 600 px studio cut-out with real transparency: the pipeline keeps its alpha (no
    model run), and the only thing wrong with it is low_resolution, which is not blocking."""
    image = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((100, 80, 500, 370), 40, fill=(190, 40, 40, 255))
    image.putpixel((300, 200), (190, 40, 40 + mark % 200, 255))  # distinct bytes per photo
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def queue_photo(product, make_version):
    marks = iter(range(1, 1000))

    def queue(options: dict) -> ImageVersion:
        return make_version(product, photo=small_cut_out(next(marks)), options=options)

    return queue


def test_a_reprocess_with_a_pass_score_of_zero_passes_what_the_default_gate_flags(queue_photo, redis_conn):
    default = queue_photo({})
    lenient = queue_photo({"refine_edges": True, "shadow": False, "pass_score": 0})

    assert process_version(str(default.pk)) == "flagged"
    assert process_version(str(lenient.pk)) == "passed"

    default.refresh_from_db()
    lenient.refresh_from_db()
    assert default.score == lenient.score < 70, "the score is the same; only the bar moved"
    assert [r["code"] for r in lenient.reasons] == ["low_resolution"]
    assert lenient.status == VersionStatus.RENDERING
    assert lenient.options["pass_score"] == 0, "the options used stay on the version"


def test_a_reprocess_with_a_shadow_renders_it_where_the_background_allows_one(
    rendering_version, small_profiles
):
    rendering_version.options = {"shadow": True}
    rendering_version.save(update_fields=["options"])
    assert not MarketplaceProfile.objects.get(slug="ebay").shadow

    assert render_version(str(rendering_version.pk)) == "published"

    specs = dict(rendering_version.renditions.values_list("profile__slug", "spec"))
    assert "|shadow-1|" in specs["ebay"]
    assert "|shadow-0|" in specs["amazon-main"], "pure white takes no shadow (Amazon's rule)"
    assert "|shadow-0|" in specs["storefront-avif"], "nor does a transparent background"
    assert render_version(str(rendering_version.pk)) == "re-rendered"
    assert rendering_version.renditions.count() == len(specs), "the shadowed spec is the one kept"


def test_without_a_shadow_option_the_profile_decides(rendering_version, small_profiles):
    ebay = MarketplaceProfile.objects.get(slug="ebay")
    ebay.shadow = True
    ebay.save()

    render_version(str(rendering_version.pk))

    assert "|shadow-1|" in rendering_version.renditions.get(profile=ebay).spec
