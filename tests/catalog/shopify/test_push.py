"""Pushing products' images to a (fake) Shopify through the Admin GraphQL API."""

from __future__ import annotations

import pytest

from catalog.shopify.client import ShopifyAuthError
from catalog.shopify.models import MediaStatus, ShopifyMedia
from tests.catalog.shopify.conftest import Recorder, push, rerender
from tests.fakes.shopify import RETRY_AFTER, THROTTLED_WAIT

pytestmark = pytest.mark.django_db

OPERATIONS = {
    "LightboxProductByHandle",
    "LightboxStageUploads",
    "LightboxAttachMedia",
    "LightboxMediaStatus",
    "LightboxDeleteFiles",
}


def test_three_images_become_three_ready_media_with_alt_text_in_position_order(shopify, connected, mug):
    shopify.add_product("mug-001", "Stoneware mug")
    advance = Recorder()

    summary, skipped = push(mug, advance=advance)

    assert skipped == []
    assert summary == {"products": 1, "images": 3, "replaced": 0, "unchanged": 0, "failed": 0, "skipped": 0}
    media = shopify.media_of("mug-001")
    assert [m.status for m in media] == ["READY"] * 3
    assert [m.alt for m in media] == ["Red stoneware mug, front view"] * 3
    assert [m.filename for m in media] == ["MUG-001-1.webp", "MUG-001-2.webp", "MUG-001-3.webp"]
    assert advance.calls == [1, 1, 1]
    assert shopify.violations == []
    # Each staged upload arrived as a real image of the announced type.
    uploads = shopify.uploads()
    assert [u.status for u in uploads] == [201, 201, 201]
    assert {s.image_format for s in shopify.staged.values()} == {"WEBP"}
    # Lightbox remembers what it created, photo by photo.
    records = list(ShopifyMedia.objects.filter(product=mug).order_by("position"))
    assert [r.media_gid for r in records] == [m.id for m in media]
    assert [r.status for r in records] == [MediaStatus.READY] * 3
    assert [r.source_image.position for r in records] == [1, 2, 3]
    assert {r.product_gid for r in records} == {shopify.products[media[0].product_id].id}


def test_only_current_operations_are_used(shopify, connected, mug):
    shopify.add_product("mug-001")

    push(mug)
    rerender(mug)
    push(mug)

    assert {r.operation for r in shopify.graphql()} == OPERATIONS
    attach = shopify.graphql("LightboxAttachMedia")[0]
    assert attach.root_fields == ("productUpdate",)
    assert {m["mediaContentType"] for m in attach.variables["media"]} == {"IMAGE"}
    assert {m["originalSource"] for m in attach.variables["media"]} <= set(shopify.staged)
    stage = shopify.graphql("LightboxStageUploads")[0]
    assert {(i["resource"], i["httpMethod"]) for i in stage.variables["input"]} == {("IMAGE", "POST")}
    assert shopify.violations == []


def test_pushing_the_same_bytes_again_uploads_nothing(shopify, connected, mug):
    shopify.add_product("mug-001")
    push(mug)
    first = [m.id for m in shopify.media_of("mug-001")]
    uploads = len(shopify.uploads())

    summary, skipped = push(mug)

    assert (summary["images"], summary["unchanged"], skipped) == (0, 3, [])
    assert len(shopify.uploads()) == uploads
    assert len([r for r in shopify.graphql("LightboxAttachMedia") if not r.throttled]) == 1
    assert [m.id for m in shopify.media_of("mug-001")] == first
    assert shopify.violations == []


def test_pushing_again_replaces_the_media_instead_of_adding_copies(shopify, connected, mug):
    shopify.add_product("mug-001")
    push(mug)
    first = [m.id for m in shopify.media_of("mug-001")]
    rerender(mug)

    summary, skipped = push(mug)

    second = shopify.media_of("mug-001")
    assert len(second) == 3
    assert [m.status for m in second] == ["READY"] * 3
    assert not {m.id for m in second} & set(first)
    assert sorted(shopify.deleted) == sorted(first)
    assert [m.filename for m in second] == ["MUG-001-1.webp", "MUG-001-2.webp", "MUG-001-3.webp"]
    assert summary["replaced"] == 3
    assert skipped == []
    assert ShopifyMedia.objects.filter(product=mug).count() == 3
    assert set(ShopifyMedia.objects.values_list("media_gid", flat=True)) == {m.id for m in second}


def test_a_product_shopify_does_not_have_is_skipped_with_its_handle(shopify, connected, mug):
    summary, skipped = push(mug)

    assert [s["reason"] for s in skipped] == ["no Shopify product with handle mug-001"] * 3
    assert [s["image"] for s in skipped] == [
        f"photo {n} ({s.original_filename})" for n, s in enumerate(mug.source_images.order_by("position"), 1)
    ]
    assert summary["images"] == 0
    assert shopify.uploads() == []
    assert not ShopifyMedia.objects.exists()


def test_the_handle_can_be_set_per_product(shopify, connected, mug):
    mug.attributes = {**mug.attributes, "shopify_handle": "Classic Mug"}
    mug.save()
    shopify.add_product("classic-mug")

    summary, skipped = push(mug)

    assert (summary["images"], skipped) == (3, []), skipped
    assert len(shopify.media_of("classic-mug")) == 3


def test_failed_processing_reports_shopifys_media_errors_and_leaves_no_broken_media(shopify, connected, mug):
    shopify.add_product("mug-001")
    shopify.fail_processing["MUG-001-2.webp"] = (
        "IMAGE_PROCESSING_FAILURE",
        "Media failed to process because the image could not be processed.",
    )

    summary, skipped = push(mug)

    assert summary == {"products": 1, "images": 2, "replaced": 0, "unchanged": 0, "failed": 1, "skipped": 1}
    (entry,) = skipped
    assert entry["sku"] == "MUG-001"
    assert entry["image"].startswith("photo 2 ")
    assert "could not be processed" in entry["reason"]
    assert "IMAGE_PROCESSING_FAILURE" in entry["reason"]
    assert [m.filename for m in shopify.media_of("mug-001")] == ["MUG-001-1.webp", "MUG-001-3.webp"]
    record = ShopifyMedia.objects.get(product=mug, source_image__position=2)
    assert record.status == MediaStatus.FAILED
    assert "IMAGE_PROCESSING_FAILURE" in record.last_error
    assert record.media_gid == ""


def test_a_failed_replacement_keeps_the_working_image(shopify, connected, mug):
    shopify.add_product("mug-001")
    push(mug)
    working = {m.filename: m.id for m in shopify.media_of("mug-001")}
    rerender(mug)
    shopify.fail_processing["MUG-001-2.webp"] = (
        "IMAGE_PROCESSING_FAILURE",
        "The image could not be processed.",
    )

    summary, skipped = push(mug)

    assert len(skipped) == 1
    assert "could not be processed" in skipped[0]["reason"]
    media = shopify.media_of("mug-001")
    assert len(media) == 3
    assert working["MUG-001-2.webp"] in {m.id for m in media}
    record = ShopifyMedia.objects.get(product=mug, source_image__position=2)
    assert record.media_gid == working["MUG-001-2.webp"]
    assert record.status == MediaStatus.READY
    assert "IMAGE_PROCESSING_FAILURE" in record.last_error


def test_throttled_answers_slow_the_push_down_and_it_still_succeeds(shopify, connected, mug):
    shopify.add_product("mug-001")
    sleep = Recorder()

    summary, skipped = push(mug, sleep=sleep)

    assert (summary["images"], skipped) == (3, []), skipped
    throttled = [(i, r) for i, r in enumerate(shopify.requests) if r.throttled]
    assert [r.throttled for _, r in throttled] == ["HTTP 429", "THROTTLED"]
    assert throttled[0][1].status == 429
    for index, request in throttled:
        retry = shopify.requests[index + 1]
        assert (retry.operation, retry.variables) == (request.operation, request.variables)
        assert retry.status == 200
        assert not retry.throttled
    # It waited what Shopify asked: Retry-After, then (requested − available) / restoreRate.
    assert float(RETRY_AFTER) in sleep.calls
    assert pytest.approx(THROTTLED_WAIT) in sleep.calls


def test_media_shopify_is_slow_with_stay_until_the_next_push_removes_them(shopify, connected, mug, settings):
    shopify.add_product("mug-001")
    settings.LIGHTBOX_SHOPIFY_MEDIA_WAIT_SECONDS = 1  # one poll, then give up waiting

    summary, skipped = push(mug)

    assert summary["images"] == 0
    assert summary["failed"] == 3
    assert all("still processing" in s["reason"] for s in skipped)
    slow = [m.id for m in shopify.media_of("mug-001")]
    assert ShopifyMedia.objects.filter(status=MediaStatus.PROCESSING).count() == 3

    shopify.finish_processing()
    settings.LIGHTBOX_SHOPIFY_MEDIA_WAIT_SECONDS = 120
    summary, skipped = push(mug)

    assert (summary["images"], skipped) == (3, []), skipped
    media = shopify.media_of("mug-001")
    assert len(media) == 3
    assert not {m.id for m in media} & set(slow)
    assert sorted(shopify.deleted) == sorted(slow)


def test_media_removed_in_shopify_by_hand_do_not_stop_the_next_push(shopify, connected, mug):
    shopify.add_product("mug-001")
    push(mug)
    gone = shopify.media_of("mug-001")[0]
    shopify.delete_media(gone.id)

    summary, skipped = push(mug)

    assert (summary["images"], summary["unchanged"], skipped) == (1, 2, [])
    assert len(shopify.media_of("mug-001")) == 3
    assert ShopifyMedia.objects.exclude(stale_media_gids=[]).count() == 0


def test_an_avif_rendition_is_skipped_because_shopify_does_not_take_avif(
    shopify, connected, product, publish_photos
):
    shopify.add_product("mug-001")
    publish_photos(product, 1, fmt="avif")

    summary, skipped = push(product)

    assert summary["images"] == 0
    assert "does not take AVIF" in skipped[0]["reason"]
    assert shopify.uploads() == []


def test_a_refused_token_stops_the_push_with_a_readable_message(shopify, connected, mug):
    shopify.add_product("mug-001")
    shopify.token = "shpat_rotated000000000000000000000000"

    with pytest.raises(ShopifyAuthError) as raised:
        push(mug)

    assert "HTTP 401" in str(raised.value)
    assert "Shopify connection page" in str(raised.value)


def test_nothing_is_pushed_without_a_connected_store(shopify, mug):
    from catalog.shopify.connection import NotConnected

    with pytest.raises(NotConnected, match="No Shopify store is connected"):
        push(mug)
    assert shopify.requests == []


def test_a_rendition_whose_file_is_gone_is_skipped_and_the_rest_pushed(shopify, connected, mug):
    from catalog.models import Rendition

    shopify.add_product("mug-001")
    second = Rendition.objects.get(version__source__product=mug, version__source__position=2)
    second.file.storage.delete(second.file.name)

    summary, skipped = push(mug)

    assert summary["images"] == 2
    assert [(s["image"].split(" (")[0], s["reason"]) for s in skipped] == [
        ("photo 2", "the rendition's file is missing from storage (render it again)")
    ]
    assert [m.filename for m in shopify.media_of("mug-001")] == ["MUG-001-1.webp", "MUG-001-3.webp"]


def test_an_attach_whose_answer_is_lost_is_not_sent_again_and_the_media_are_adopted(shopify, connected, mug):
    shopify.add_product("mug-001")
    shopify.throttle_graphql_on = None
    shopify.lose_answer_to.append("LightboxAttachMedia")

    summary, skipped = push(mug)

    assert (summary["images"], skipped) == (3, []), skipped
    attaches = [r for r in shopify.graphql("LightboxAttachMedia") if not r.throttled]
    assert len(attaches) == 1  # done once, its answer lost, and never sent again
    media = shopify.media_of("mug-001")
    assert [m.status for m in media] == ["READY"] * 3
    assert set(ShopifyMedia.objects.values_list("media_gid", flat=True)) == {m.id for m in media}
    assert shopify.duplicates == []
    assert shopify.violations == []


def test_the_fake_shop_catches_the_same_bytes_attached_twice(shopify, connected, mug):
    """The duplicate check the push tests rely on can fail: forgetting what Lightbox made
    (as a push that recorded nothing would) and pushing again puts a second copy up."""
    shopify.add_product("mug-001")
    push(mug)
    ShopifyMedia.objects.all().delete()

    push(mug)

    assert len(shopify.duplicates) == 3
    assert any("duplicate image" in v for v in shopify.violations)


def test_an_attach_shopify_throttled_and_whose_answer_was_lost_is_sent_once_more(shopify, connected, mug):
    """A THROTTLED answer means Shopify did nothing; when that answer is lost too, the
    product's media show nothing new, and the attach is sent again (once)."""
    shopify.add_product("mug-001")
    shopify.throttle_graphql_on = 4  # the first attach
    shopify.lose_answer_to.append("LightboxAttachMedia")

    summary, skipped = push(mug)

    assert (summary["images"], skipped) == (3, []), skipped
    assert len(shopify.media_of("mug-001")) == 3
    assert shopify.duplicates == []
