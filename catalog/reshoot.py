"""The merchandisers' reshoot list: products a reviewer sent back because the photo itself
is unusable (reject reason "reshoot"), until a new photo is uploaded.

The review app tells the catalog through `request_reshoot` when a reviewer sends a photo
back; a product stays on the list while that request is newer than its newest upload: the
bad photo comes back as a new upload, not as a retouch.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest

from catalog.models import Product, SourceImage

RESHOOT_REASON = "reshoot"


def request_reshoot(product_id: int, at: datetime) -> None:
    """Put the product on the list as of `at` (the newest request counts)."""
    Product.objects.filter(pk=product_id).update(
        reshoot_requested_at=Greatest(Coalesce(F("reshoot_requested_at"), at), at)
    )


def awaiting_reshoot() -> Q:
    """A condition on Product: sent back for a reshoot, and nothing uploaded since."""
    uploaded_since = SourceImage.objects.filter(
        product_id=OuterRef("pk"), uploaded_at__gt=OuterRef("reshoot_requested_at")
    )
    return Q(reshoot_requested_at__isnull=False) & ~Q(Exists(uploaded_since))


def reshoot_count() -> int:
    return Product.objects.filter(awaiting_reshoot()).count()
