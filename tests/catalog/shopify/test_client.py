"""The GraphQL client against the fake Admin API: rate limits waited out, errors in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from graphql import parse, specified_rules, validate
from graphql.validation import NoDeprecatedCustomRule

from catalog.shopify import queries
from catalog.shopify.client import (
    ShopifyAuthError,
    ShopifyClient,
    ShopifyError,
    operation_name,
    retry_after_seconds,
    throttle_wait,
)
from lightbox import outbound
from tests.catalog.shopify.conftest import Recorder
from tests.fakes.shopify import RETRY_AFTER, SCHEMA, THROTTLED_COST, THROTTLED_WAIT

DOCUMENTS = [value for name, value in vars(queries).items() if name.isupper() and isinstance(value, str)]


def client_for(fake, sleep=None, token=None):
    return ShopifyClient(
        fake.shop,
        token or fake.token,
        fake.version,
        http=outbound.request,
        url_template=fake.url_template,
        sleep=sleep or Recorder(),
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=[operation_name(d) for d in DOCUMENTS])
def test_every_document_lightbox_sends_is_valid_and_uses_nothing_deprecated(document):
    assert validate(SCHEMA, parse(document), [*specified_rules, NoDeprecatedCustomRule]) == []


def test_the_wait_for_a_throttled_query_is_what_the_bucket_needs_to_refill():
    assert throttle_wait(THROTTLED_COST) == pytest.approx(THROTTLED_WAIT)
    cost = {"requestedQueryCost": 1000, "throttleStatus": {"currentlyAvailable": 0, "restoreRate": 50.0}}
    assert throttle_wait(cost, ceiling=5.0) == 5.0
    assert (
        throttle_wait(
            {"requestedQueryCost": 10, "throttleStatus": {"currentlyAvailable": 500, "restoreRate": 50}}
        )
        == 0.1
    )
    assert throttle_wait(None, default=1.0) == 1.0


def test_retry_after_is_read_as_seconds_or_a_date_and_bounded():
    assert retry_after_seconds("2.0") == 2.0
    assert retry_after_seconds("3600", ceiling=60.0) == 60.0
    assert retry_after_seconds(None) == 2.0
    assert retry_after_seconds("soon") == 2.0
    in_ten = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    assert 5.0 < retry_after_seconds(in_ten) <= 10.0


def test_a_429_and_a_throttled_answer_are_waited_out(shopify):
    sleep = Recorder()
    client = client_for(shopify, sleep)

    names = [client.execute(queries.SHOP)["shop"]["name"] for _ in range(3)]

    assert names == ["Kiln Goods"] * 3
    assert [why for why, _ in client.waited] == ["HTTP 429", "THROTTLED"]
    assert sleep.calls == [float(RETRY_AFTER), pytest.approx(THROTTLED_WAIT)]
    assert [r.status for r in shopify.graphql()] == [200, 429, 200, 200, 200]


def test_a_deprecated_mutation_is_refused(shopify):
    shopify.throttle_http_on = shopify.throttle_graphql_on = None
    old = """
    mutation OldWay($productId: ID!, $media: [CreateMediaInput!]!) {
      productCreateMedia(productId: $productId, media: $media) { mediaUserErrors { message } }
    }"""

    with pytest.raises(ShopifyError, match="deprecated"):
        client_for(shopify).execute(old, {"productId": "gid://shopify/Product/1", "media": []})
    assert any("productCreateMedia" in v for v in shopify.violations)


def test_a_wrong_variable_is_refused_with_shopifys_message(shopify):
    shopify.throttle_http_on = shopify.throttle_graphql_on = None
    variables = {"input": [{"resource": "PICTURE", "filename": "a.jpg", "mimeType": "image/jpeg"}]}

    with pytest.raises(ShopifyError, match="refused LightboxStageUploads.*PICTURE"):
        client_for(shopify).execute(queries.STAGE_UPLOADS, variables)


def test_a_shop_that_does_not_exist_says_so(shopify):
    client = ShopifyClient(
        "other-shop.myshopify.com",
        shopify.token,
        shopify.version,
        http=outbound.request,
        url_template=shopify.url_template,
        sleep=Recorder(),
    )

    with pytest.raises(ShopifyError, match="HTTP 404"):
        client.execute(queries.SHOP)


def test_a_private_address_is_refused_unless_allowed(shopify, settings):
    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = []

    with pytest.raises(ShopifyError, match="will not connect"):
        client_for(shopify).execute(queries.SHOP)
    assert shopify.requests == []


def test_the_token_is_in_one_header_and_nowhere_else(shopify, caplog):
    caplog.set_level("DEBUG")
    client = client_for(shopify)
    for _ in range(3):
        client.execute(queries.SHOP)
    wrong = "shpat_wrongwrongwrongwrongwrong000001"

    with pytest.raises(ShopifyAuthError) as raised:
        client_for(shopify, token=wrong).execute(queries.SHOP)

    assert {r.headers["x-shopify-access-token"] for r in shopify.graphql()} == {shopify.token, wrong}
    for request in shopify.requests:
        assert shopify.token.encode() not in request.body
        assert shopify.token not in request.path
    for secret in (shopify.token, wrong):
        assert secret not in caplog.text
        assert secret not in repr(client)
        assert secret not in str(raised.value)
        assert secret not in repr(raised.value)
    assert "HTTP 401" in str(raised.value)
    assert "waiting" in caplog.text  # the throttling was logged, without the token
