"""ReviewDecision moved from catalog to review (catalog 0016, review 0003): a database with
decisions in it keeps every row, the permissions granted on them, and the reshoot list.
Run with Django's migration executor: back to before the move, rows made with the old
models, then forward to the newest state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from catalog.models import Product
from catalog.reshoot import awaiting_reshoot
from review.models import ReviewDecision
from tests.migration_steps import migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0015_durable_intake_jobs"), ("review", "0002_dashboardday_to_insights")]
DECIDED_AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(None)


def decided(apps, sku, reviewer, action, reason=""):
    Product = apps.get_model("catalog", "Product")
    SourceImage = apps.get_model("catalog", "SourceImage")
    ImageVersion = apps.get_model("catalog", "ImageVersion")
    product = Product.objects.create(sku=sku, title=sku)
    source = SourceImage.objects.create(
        product=product,
        file=f"sources/{sku}.jpg",
        original_filename=f"{sku}.jpg",
        sha256=f"{len(sku):064x}",
        width=1200,
        height=1200,
        format="JPEG",
        byte_size=1000,
        uploaded_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    )
    status = {"approve": "rendering", "reject": "rejected"}[action]
    version = ImageVersion.objects.create(
        source=source, status=status, queued_at=DECIDED_AT, reviewed_at=DECIDED_AT, score=40
    )
    return apps.get_model("catalog", "ReviewDecision").objects.create(
        version=version, reviewer_id=reviewer.pk, action=action, reason=reason, decided_at=DECIDED_AT
    )


def test_decisions_survive_the_move_to_review_with_their_permissions_and_the_reshoot_list(
    old_apps, django_user_model
):
    reviewer = django_user_model.objects.create(username="old-reviewer")
    before = [
        decided(old_apps, "MOVE-1", reviewer, "approve"),
        decided(old_apps, "MOVE-2", reviewer, "reject", "reshoot"),
        decided(old_apps, "MOVE-3", reviewer, "reject", "cut_off"),
    ]
    old_type = ContentType.objects.get_or_create(app_label="catalog", model="reviewdecision")[0]
    granted = Permission.objects.get_or_create(
        content_type=old_type, codename="view_reviewdecision", defaults={"name": "Can view review decision"}
    )[0]
    reviewer.user_permissions.add(granted)

    migrate(None)

    moved = list(ReviewDecision.objects.order_by("version__source__product__sku"))
    assert [(d.pk, d.version_id, d.action, d.reason, d.decided_at) for d in moved] == [
        (d.pk, d.version_id, d.action, d.reason, d.decided_at) for d in before
    ]
    assert ReviewDecision._meta.db_table == "catalog_reviewdecision"
    reviewer = django_user_model.objects.get(pk=reviewer.pk)
    assert reviewer.has_perm("review.view_reviewdecision"), "the grant followed the model"
    # The reshoot rejection put its product on the list; the other rejection did not.
    assert list(Product.objects.filter(awaiting_reshoot()).values_list("sku", flat=True)) == ["MOVE-2"]
    assert Product.objects.get(sku="MOVE-2").reshoot_requested_at == DECIDED_AT
    # New decisions go in the same table, its identity carried on.
    third = moved[2].version
    ReviewDecision.objects.filter(pk=moved[2].pk).delete()
    again = ReviewDecision.objects.create(version=third, reviewer=reviewer, action="reject", reason="blurry")
    assert again.pk > max(d.pk for d in before)


def test_the_move_can_be_reversed_with_the_rows(old_apps, django_user_model):
    reviewer = django_user_model.objects.create(username="old-reviewer")
    decision = decided(old_apps, "BACK-1", reviewer, "approve")
    migrate(None)

    apps = migrate(BEFORE)

    old = apps.get_model("catalog", "ReviewDecision")
    assert list(old.objects.values_list("pk", "action")) == [(decision.pk, "approve")]
