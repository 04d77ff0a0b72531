"""The merchandisers' reshoot list: products a reviewer sent back because the photo itself
is unusable (reject reason "reshoot", review.services), until a new photo is uploaded.

A product stays on the list while some reshoot rejection of it is newer than its newest
upload: the bad photo comes back as a new upload, not as a retouch.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from catalog.models import Product, ReviewDecision, SourceImage

RESHOOT_REASON = "reshoot"


def awaiting_reshoot() -> Exists:
    """A condition on Product: sent back for a reshoot, and nothing uploaded since."""
    uploaded_since = SourceImage.objects.filter(
        product_id=OuterRef("version__source__product_id"), uploaded_at__gt=OuterRef("decided_at")
    )
    return Exists(
        ReviewDecision.objects.filter(
            version__source__product_id=OuterRef("pk"),
            action=ReviewDecision.Action.REJECT,
            reason=RESHOOT_REASON,
        ).exclude(Exists(uploaded_since))
    )


def reshoot_count() -> int:
    return Product.objects.filter(awaiting_reshoot()).count()
