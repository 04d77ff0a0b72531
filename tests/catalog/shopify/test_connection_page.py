"""The Shopify connection page: admins only; the token is stored encrypted and never shown again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from catalog.shopify.models import ShopifyMedia, ShopifyStore
from lightbox import crypto

pytestmark = pytest.mark.django_db

URL = "/settings/shopify/"


def assert_secret_absent(html: str, token: str) -> None:
    assert token not in html
    assert token[-8:] not in html  # no "ending …" hint either


def test_the_page_is_at_its_url_and_linked_for_admins_only(client, admin_user, merchandiser):
    assert reverse("shopify:connection") == URL
    client.force_login(admin_user)
    assert URL in client.get(reverse("catalog:product_list")).content.decode()
    client.force_login(merchandiser)
    assert URL not in client.get(reverse("catalog:product_list")).content.decode()


def test_an_admin_connects_a_store_and_the_token_is_stored_encrypted(client, admin_user, shopify):
    client.force_login(admin_user)

    response = client.post(
        URL,
        {"shop_domain": "https://Kiln-Goods.myshopify.com/admin", "access_token": shopify.token},
        follow=True,
    )

    html = response.content.decode()
    assert "Connected to Kiln Goods" in html
    assert "A token is stored" in html
    assert admin_user.username in html
    assert_secret_absent(html, shopify.token)
    store = ShopifyStore.objects.get()
    assert store.shop_domain == "kiln-goods.myshopify.com"
    assert (store.is_active, store.check_ok, store.shop_name) == (True, True, "Kiln Goods")
    assert store.access_token() == shopify.token
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM shopify_shopifystore")
        row = cursor.fetchone()
    assert all(shopify.token not in str(value) for value in row)
    assert crypto.decrypt(store.access_token_encrypted) == shopify.token


def test_a_form_with_an_error_does_not_send_the_token_back(client, admin_user, shopify):
    client.force_login(admin_user)

    response = client.post(URL, {"shop_domain": "kiln-goods.com", "access_token": shopify.token})

    assert response.status_code == 200
    html = response.content.decode()
    assert "myshopify.com address" in html
    assert_secret_absent(html, shopify.token)
    assert not ShopifyStore.objects.exists()


def test_a_token_shopify_refuses_is_reported_without_being_shown(client, admin_user, shopify, caplog):
    caplog.set_level("DEBUG")
    client.force_login(admin_user)
    wrong = "shpat_thisisnottherighttoken0000000000"

    response = client.post(URL, {"shop_domain": shopify.shop, "access_token": wrong}, follow=True)

    html = response.content.decode()
    assert "The connection test failed" in html
    assert "HTTP 401" in html
    assert_secret_absent(html, wrong)
    assert wrong not in caplog.text
    assert ShopifyStore.objects.get().check_ok is False


def test_the_test_button_asks_shopify_again(client, admin_user, shopify, connected):
    client.force_login(admin_user)

    html = client.post(reverse("shopify:check"), follow=True).content.decode()

    assert "Connected to Kiln Goods" in html
    assert [r.operation for r in shopify.graphql()] == ["LightboxShop"]
    assert_secret_absent(html, shopify.token)


def test_removing_the_connection_deletes_the_token_and_keeps_the_media_memory(
    client, admin_user, shopify, connected, mug
):
    from catalog.models import SourceImage

    ShopifyMedia.objects.create(
        store=connected,
        product=mug,
        source_image=SourceImage.objects.filter(product=mug).first(),
        position=1,
        product_gid="gid://shopify/Product/1",
        media_gid="gid://shopify/MediaImage/2",
        status="READY",
    )
    client.force_login(admin_user)

    html = client.post(reverse("shopify:disconnect"), follow=True).content.decode()

    assert "No store is connected" in html
    store = ShopifyStore.objects.get()
    assert (store.is_active, store.access_token_encrypted, store.has_token) == (False, "", False)
    assert ShopifyStore.objects.connected() is None
    assert ShopifyMedia.objects.count() == 1
    # Connecting the same shop again finds its row, and so what Lightbox put there.
    client.post(URL, {"shop_domain": shopify.shop, "access_token": shopify.token})
    assert ShopifyStore.objects.get().pk == store.pk
    assert ShopifyStore.objects.connected().media.count() == 1


def test_connecting_another_shop_makes_it_the_one_pushes_go_to(client, admin_user, shopify, connected):
    client.force_login(admin_user)

    client.post(URL, {"shop_domain": "second-shop.myshopify.com", "access_token": "shpat_" + "1" * 32})

    assert ShopifyStore.objects.connected().shop_domain == "second-shop.myshopify.com"
    assert ShopifyStore.objects.filter(is_active=True).count() == 1


@pytest.mark.parametrize("view", ["shopify:connection", "shopify:check", "shopify:disconnect"])
def test_only_admins_may_change_the_connection(client, merchandiser, shopify, connected, view):
    client.force_login(merchandiser)

    response = client.post(
        reverse(view), {"shop_domain": "x.myshopify.com", "access_token": "shpat_" + "2" * 32}
    )

    assert response.status_code == 403
    assert ShopifyStore.objects.get().shop_domain == shopify.shop
    assert shopify.requests == []


def test_a_template_that_reaches_for_the_token_does_not_get_it(shopify, connected):
    from django.template import Context, Template

    html = Template("{{ store.access_token }} {{ store }} {{ store.access_token_encrypted }}").render(
        Context({"store": connected})
    )

    assert_secret_absent(html, shopify.token)
    assert shopify.token not in repr(connected)
