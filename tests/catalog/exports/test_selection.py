"""Which images an export takes, and the reason for every one it leaves out."""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.exports.selection import ScopeError, products_in_scope, select
from catalog.models import BlockedChannel, MarketplaceProfile, Product, SourceRole, UploadBatch, VersionStatus

pytestmark = pytest.mark.django_db

AMAZON = {"main_profile": "amazon-main", "additional_profile": "amazon-additional"}
SHOPIFY = {"main_profile": "shopify", "additional_profile": None}


def reasons(selection) -> list[tuple[str, str, str]]:
    return [(s["sku"], s["image"], s["reason"]) for s in selection.skipped]


def test_published_passing_images_come_in_position_order_with_main_first(amazon_product):
    selection = select([amazon_product], **AMAZON)

    assert selection.skipped == []
    (item,) = selection.products
    assert [(i.position, i.role) for i in item.images] == [(1, "main"), (2, "additional"), (3, "additional")]
    assert [i.rendition.version.source.position for i in item.images] == [1, 2, 3]
    assert [i.rendition.profile.slug for i in item.images] == [
        "amazon-main",
        "amazon-additional",
        "amazon-additional",
    ]
    assert all(i.url.endswith(i.rendition.file.name.rsplit("/", 1)[-1]) for i in item.images)
    assert {i.alt_text for i in item.images} == {"Desk lamp"}


def test_a_main_photo_placed_after_an_alternate_still_leads(make_photo):
    item = Product.objects.create(sku="CUP1", title="Cup")
    make_photo(item, 1, role=SourceRole.ALTERNATE, profiles=("amazon-additional",))
    make_photo(item, 2, role=SourceRole.MAIN, profiles=("amazon-main",))

    (exported,) = select([item], **AMAZON).products

    assert [(i.role, i.rendition.version.source.position) for i in exported.images] == [
        ("main", 2),
        ("additional", 1),
    ]


def test_a_product_without_photos_is_left_out_saying_so(db):
    item = Product.objects.create(sku="BARE1", title="Nothing yet")

    selection = select([item], **AMAZON)

    assert selection.products == []
    assert reasons(selection) == [("BARE1", "", "no photos")]


def test_a_flagged_photo_is_left_out_as_not_published_yet(make_photo, amazon_product):
    flagged = make_photo(
        amazon_product, 4, role=SourceRole.ALTERNATE, status=VersionStatus.FLAGGED, profiles=()
    )

    selection = select([amazon_product], **AMAZON)

    assert len(selection.products[0].images) == 3
    assert reasons(selection) == [
        ("LAMP01", f"photo 4 ({flagged.source.original_filename})", "not published yet (flagged for review)")
    ]


def test_a_newer_version_in_review_does_not_hide_the_published_one(make_photo, make_version):
    from catalog.models import ImageVersion

    item = Product.objects.create(sku="VASE1", title="Vase")
    published = make_photo(item, 1)
    ImageVersion.objects.create(
        source=published.source, number=2, status=VersionStatus.FLAGGED, parent=published
    )

    (exported,) = select([item], **AMAZON).products

    assert exported.images[0].rendition.version.pk == published.pk


def test_the_newest_published_version_wins(make_photo, make_rendition):
    from catalog.models import ImageVersion

    item = Product.objects.create(sku="VASE2", title="Vase")
    old = make_photo(item, 1)
    new = ImageVersion.objects.create(
        source=old.source, number=2, status=VersionStatus.PUBLISHED, published_at=timezone.now()
    )
    rendition = make_rendition(new, "amazon-main")

    (exported,) = select([item], **AMAZON).products

    assert exported.images[0].rendition.pk == rendition.pk


def test_a_rendition_that_failed_its_checks_stays_out_and_names_the_checks(make_photo):
    item = Product.objects.create(sku="BOWL1", title="Bowl")
    version = make_photo(item, 1, passed=False, profiles=("amazon-main",))

    selection = select([item], **AMAZON)

    assert selection.products == []
    assert reasons(selection) == [
        ("BOWL1", f"photo 1 ({version.source.original_filename})", "rendition failed its checks: background")
    ]


def test_only_the_newest_rendition_counts_even_if_an_older_one_passed(make_photo, make_rendition):
    item = Product.objects.create(sku="BOWL2", title="Bowl")
    version = make_photo(item, 1, profiles=("amazon-main",))
    make_rendition(version, "amazon-main", passed=False, failed=("fill", "min_size"))

    selection = select([item], **AMAZON)

    assert selection.products == []
    assert reasons(selection)[0][2] == "rendition failed its checks: fill, min_size"


def test_a_photo_without_a_rendition_for_the_profile_says_which_profile(make_photo):
    item = Product.objects.create(sku="JUG1", title="Jug")
    version = make_photo(item, 1, profiles=("amazon-main",))

    selection = select([item], **SHOPIFY)

    assert reasons(selection) == [
        ("JUG1", f"photo 1 ({version.source.original_filename})", "no rendition for shopify")
    ]


def test_failed_rejected_and_queued_photos_each_give_their_reason(make_photo):
    item = Product.objects.create(sku="MIX1", title="Mixed")
    make_photo(item, 1)
    make_photo(item, 2, status=VersionStatus.FAILED, profiles=())
    make_photo(item, 3, status=VersionStatus.REJECTED, profiles=())
    make_photo(item, 4, status=VersionStatus.QUEUED, profiles=())

    selection = select([item], **SHOPIFY)

    assert [r[2] for r in reasons(selection)] == [
        "not published (processing failed: This JPEG file is incomplete.)",
        "not published (rejected in review)",
        "not published yet (waiting to be processed)",
    ]
    assert len(selection.products[0].images) == 1


def test_a_swatch_uses_the_swatch_profile_and_comes_last(make_photo):
    from catalog.models import MarketplaceProfile

    swatch_profile = MarketplaceProfile.objects.get(slug="amazon-main")
    swatch_profile.pk, swatch_profile.slug, swatch_profile.role = None, "amazon-swatch", "swatch"
    swatch_profile.save()
    item = Product.objects.create(sku="SOCK1", title="Sock")
    make_photo(item, 1, role=SourceRole.SWATCH, profiles=("amazon-swatch",))
    make_photo(item, 2)

    (exported,) = select([item], **AMAZON, swatch_profile="amazon-swatch").products

    assert [(i.role, i.rendition.profile.slug) for i in exported.images] == [
        ("main", "amazon-main"),
        ("swatch", "amazon-swatch"),
    ]


def test_the_query_count_does_not_grow_with_the_number_of_products(
    make_photo, django_assert_max_num_queries, django_assert_num_queries
):
    items = []
    for n in range(12):
        item = Product.objects.create(sku=f"Q{n}", title=f"Q {n}")
        make_photo(item, 1)
        make_photo(item, 2, role=SourceRole.ALTERNATE, profiles=("amazon-additional",))
        items.append(item)
    products = list(Product.objects.filter(sku__startswith="Q"))

    with django_assert_num_queries(4):  # sources, versions, renditions, blocked channels
        one = select(products[:1], **AMAZON)
    with django_assert_num_queries(4):
        selection = select(products, **AMAZON)
        urls = [image.url for p in selection.products for image in p.images]
        [image.rendition.version.source.product.sku for p in selection.products for image in p.images]

    assert len(one.products) == 1
    assert len(urls) == 24


# --- scope ---------------------------------------------------------------------------


def test_a_scope_names_products_by_id_filters_batch_or_one_product(make_photo):
    batch = UploadBatch.objects.create(name="Spring")
    a = Product.objects.create(sku="A1", title="Alpha", brand="Kiln")
    b = Product.objects.create(sku="B1", title="Beta", brand="Glow")
    version = make_photo(b, 1)
    version.source.batch = batch
    version.source.save(update_fields=["batch"])

    def skus(scope):
        return list(products_in_scope(scope).values_list("sku", flat=True))

    assert skus({"products": [b.pk, str(a.pk)]}) == ["A1", "B1"]
    assert skus({"filters": {"brand": "Kiln"}}) == ["A1"]
    assert skus({"filters": {}}) == ["A1", "B1"]
    assert skus({"batch": str(batch.pk)}) == ["B1"]
    assert skus({"product": a.pk}) == ["A1"]


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({}, "exactly one of"),
        ({"products": []}, "at least one product"),
        ({"products": ["x"]}, "at least one product"),
        ({"batch": "nope"}, "not a valid batch id"),
        ({"filters": {"status": "sleeping"}}, "filters are not valid"),
        ({"everything": True}, "Unknown export scope"),
    ],
)
def test_a_scope_that_does_not_say_which_products_is_refused_in_words(scope, message):
    with pytest.raises(ScopeError, match=message):
        products_in_scope(scope)


def test_a_swatch_without_a_swatch_profile_is_left_out_saying_why(make_photo):
    item = Product.objects.create(sku="SOCK2", title="Sock")
    make_photo(item, 1)
    swatch = make_photo(item, 2, role=SourceRole.SWATCH, profiles=())

    selection = select([item], **SHOPIFY)

    assert [i.role for i in selection.products[0].images] == ["main"]
    assert reasons(selection) == [
        (
            "SOCK2",
            f"photo 2 ({swatch.source.original_filename})",
            "swatch photos are not exported here (the channel has no swatch profile)",
        )
    ]


def test_a_blocked_channel_leaves_the_image_out_with_its_reason_even_beside_an_old_passing_rendition(
    amazon_product,
):
    # Re-rendered under a raised minimum: the old rendition passed, the channel is now blocked.
    main = amazon_product.source_images.get(position=1).versions.get()
    BlockedChannel.objects.create(
        version=main,
        profile=MarketplaceProfile.objects.get(slug="amazon-main"),
        cause=BlockedChannel.Cause.SIZE,
        reason="600 px, needs 1000 px",
        shortfall_data={"side": "long", "have": 600, "need": 1000},
    )

    amazon = select([amazon_product], **AMAZON)
    shopify = select([amazon_product], **SHOPIFY)

    assert [reason for _, _, reason in reasons(amazon)] == ["below Amazon's 1000 px (the photo has 600 px)"]
    assert [i.role for i in amazon.products[0].images] == ["additional", "additional"]
    assert shopify.skipped == [], "blocked on Amazon only"
