"""The demo catalog that `make run` loads: accounts, products with identifiers, photos
queued once, and a quality gate that publishes most of them and flags two on purpose."""

from __future__ import annotations

from dataclasses import replace

import django_rq
import pytest
from django.contrib.auth import get_user_model

from catalog.demo import DEMO_PRODUCTS, load_demo
from catalog.demo_photos import jpeg_bytes
from catalog.models import ImageVersion, Product, SourceImage, UploadBatch
from processing.jobs import StageClock, run_pipeline
from processing.thresholds import thresholds_for


@pytest.mark.django_db
def test_loading_the_demo_creates_its_accounts_products_and_one_queued_photo_each(
    django_capture_on_commit_callbacks, redis_conn
):
    with django_capture_on_commit_callbacks(execute=True):
        users, queued = load_demo("demo-password-1")

    assert [u.username for u in users] == ["admin", "merch", "reviewer"]
    assert get_user_model().objects.get(username="merch").check_password("demo-password-1")
    assert queued == len(DEMO_PRODUCTS)
    for item in DEMO_PRODUCTS:
        product = Product.objects.get(sku=item.sku)
        assert (product.title, product.brand, product.category, product.ean) == (
            item.title,
            item.brand,
            item.category,
            item.ean,
        )
        source = SourceImage.objects.get(product=product)
        assert (source.width, source.height, source.format) == (1600, 1600, "JPEG")
        assert source.original_filename == f"{item.sku}.jpg"
    assert ImageVersion.objects.filter(status=ImageVersion.Status.QUEUED).count() == len(DEMO_PRODUCTS)
    assert django_rq.get_queue("default").count == len(DEMO_PRODUCTS)
    batch = UploadBatch.objects.get()
    assert (batch.source, batch.file_count) == (UploadBatch.Source.DEMO, len(DEMO_PRODUCTS))
    assert batch.closed_at is not None  # it finishes once its photos are processed


@pytest.mark.django_db
def test_loading_the_demo_again_queues_nothing_and_keeps_passwords(
    django_capture_on_commit_callbacks, redis_conn
):
    with django_capture_on_commit_callbacks(execute=True):
        load_demo("demo-password-1")
        _, queued = load_demo("another-password")

    assert queued == 0
    assert SourceImage.objects.count() == len(DEMO_PRODUCTS)
    assert UploadBatch.objects.count() == 1
    assert get_user_model().objects.get(username="admin").check_password("demo-password-1")


def verdict(data: bytes, category: str) -> tuple[bool, set[str]]:
    report = run_pipeline(data, thresholds=thresholds_for(category), options={}, clock=StageClock()).report
    return report.passed, {reason.code for reason in report.reasons}


@pytest.mark.django_db
def test_the_gate_publishes_the_clean_demo_photos_and_flags_the_two_defects_for_what_is_wrong(model_dir):
    """The real pipeline and model on every demo photo, as the worker runs them."""
    for item in DEMO_PRODUCTS:
        passed, codes = verdict(item.photo(), item.category)
        if item.shot.defect:
            # Flagged for its defect alone: a reviewer reads one plain reason.
            assert (passed, codes) == (False, {item.shot.defect}), item.sku
        else:
            assert (passed, codes) == (True, set()), item.sku


@pytest.mark.django_db
def test_the_two_flagged_demo_products_would_pass_without_their_defect(model_dir):
    for item in DEMO_PRODUCTS:
        if item.shot.defect:
            in_order = jpeg_bytes(replace(item.shot, defect=""))
            assert verdict(in_order, item.category) == (True, set()), item.sku
