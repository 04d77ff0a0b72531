"""Send back for a reshoot: the product goes on the merchandisers' list until a new photo comes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product, SourceImage
from review.services import do_reject

pytestmark = pytest.mark.django_db


def listed(client, **params) -> list[str]:
    response = client.get(reverse("catalog:product_list"), params)
    return [p.sku for p in response.context["page"]]


def test_a_reshoot_rejection_puts_the_product_on_the_reshoot_list_and_the_upload_page_counts_it(
    client, merchandiser, reviewer, make_flagged
):
    sent_back, rejected_otherwise, _untouched = make_flagged(), make_flagged(), make_flagged()
    do_reject(sent_back.pk, reviewer, "reshoot", "Glare over the label")
    do_reject(rejected_otherwise.pk, reviewer, "duplicate")
    client.force_login(merchandiser)

    assert listed(client, reshoot="on") == [sent_back.source.product.sku]
    assert len(listed(client)) == 3
    upload = client.get(reverse("catalog:upload")).content.decode()
    assert "1 product needs a new photo" in upload
    assert "?reshoot=on" in upload


def test_a_new_upload_takes_the_product_off_the_reshoot_list(
    client, merchandiser, reviewer, make_flagged, make_version
):
    version = make_flagged()
    do_reject(version.pk, reviewer, "reshoot")
    product = Product.objects.get(pk=version.source.product_id)
    client.force_login(merchandiser)
    assert listed(client, reshoot="on") == [product.sku]

    new = make_version(product)
    SourceImage.objects.filter(pk=new.source_id).update(uploaded_at=timezone.now() + timedelta(seconds=1))

    assert listed(client, reshoot="on") == []
    assert 'data-testid="reshoot-count"' not in client.get(reverse("catalog:upload")).content.decode()
