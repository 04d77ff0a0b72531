"""Finding blocked channels: the product list's filter and column, the product page's states."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.channels import BLOCKED, PUBLISHED, UNPUBLISHED, channel_states
from catalog.models import BlockedChannel, MarketplaceProfile, Product, VersionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked_on_amazon(make_photo):
    """A published photo with a Shopify rendition, blocked on Amazon for its size."""
    item = Product.objects.create(sku="CUP-600", title="Small cup")
    version = make_photo(item, 1, profiles=("shopify",))
    BlockedChannel.objects.create(
        version=version,
        profile=MarketplaceProfile.objects.get(slug="amazon-main"),
        cause=BlockedChannel.Cause.SIZE,
        reason="600 px, needs 1000 px",
        shortfall_data={"side": "long", "have": 600, "need": 1000},
    )
    return version


@pytest.fixture
def browsing(client, merchandiser):
    client.force_login(merchandiser)
    return client


def test_the_product_list_filters_by_the_channel_a_product_is_blocked_on(
    browsing, blocked_on_amazon, amazon_product
):
    amazon = browsing.get(reverse("catalog:product_list"), {"blocked": "amazon"})
    shopify = browsing.get(reverse("catalog:product_list"), {"blocked": "shopify"})
    everything = browsing.get(reverse("catalog:product_list"))

    assert [p.sku for p in amazon.context["page"]] == ["CUP-600"]
    assert list(shopify.context["page"]) == []
    assert [p.sku for p in everything.context["page"]] == ["CUP-600", "LAMP01"]
    html = everything.content.decode()
    assert '<option value="amazon" >Blocked on Amazon</option>' in html
    assert '<td data-testid="blocked-on">Amazon</td>' in html


def test_a_blocked_channel_of_a_version_that_moved_on_is_not_a_blocked_product(browsing, blocked_on_amazon):
    type(blocked_on_amazon).objects.filter(pk=blocked_on_amazon.pk).update(status=VersionStatus.SUPERSEDED)

    response = browsing.get(reverse("catalog:product_list"), {"blocked": "amazon"})

    assert list(response.context["page"]) == []


def test_the_product_page_shows_each_channels_state(browsing, blocked_on_amazon):
    html = browsing.get(reverse("catalog:product_detail", args=["CUP-600"])).content.decode()

    assert 'data-profile="amazon-main" data-state="blocked"' in html
    assert "on Amazon main image: 600 px, needs 1000 px" in html
    assert 'data-profile="shopify" data-state="published"' in html
    assert 'data-profile="ebay" data-state="unpublished"' in html, "applies, but no rendition yet"


def test_channel_states_cover_every_profile_that_applies_to_the_photo(blocked_on_amazon):
    states = {s.profile.slug: (s.state, s.reason) for s in channel_states(blocked_on_amazon)}

    assert states["amazon-main"] == (BLOCKED, "600 px, needs 1000 px")
    assert states["shopify"] == (PUBLISHED, "")
    assert states["walmart"] == (UNPUBLISHED, "")
    assert "amazon-additional" not in states, "a main photo does not use Amazon's additional slot"
