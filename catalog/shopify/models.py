"""The Shopify store Lightbox pushes to, and the media it has created there.

The access token is kept only encrypted (lightbox.crypto) and is read back in one place,
`ShopifyStore.access_token()`, by the code that builds the API client. Nothing renders it:
the connection page says when and by whom a token was entered, never any part of it.

ShopifyMedia is Lightbox's memory of what it put on Shopify: one row per (store, product,
photo) holding the Shopify media id it created, so pushing again replaces that media
instead of adding a second copy.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from lightbox import crypto

SHOP_DOMAIN_PATTERN = r"\A[a-z0-9][a-z0-9-]{0,59}\.myshopify\.com\Z"
shop_domain_validator = RegexValidator(
    SHOP_DOMAIN_PATTERN,
    "Enter the shop's myshopify.com address, e.g. kiln-goods.myshopify.com (not a custom domain).",
)


def normalise_shop_domain(value: str) -> str:
    """What people paste (https://Kiln-Goods.myshopify.com/admin) reduced to kiln-goods.myshopify.com."""
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    return text.split("/", 1)[0]


def default_api_version() -> str:
    return settings.LIGHTBOX_SHOPIFY_API_VERSION


class ShopifyStoreQuerySet(models.QuerySet):
    def connected(self) -> ShopifyStore | None:
        """The store pushes go to: the active one with a token, or None."""
        return self.filter(is_active=True).exclude(access_token_encrypted="").first()


class ShopifyStore(models.Model):
    """A Shopify shop and the Admin API token (a custom app's) Lightbox uses for it.

    A removed connection keeps its row with the token wiped and `is_active` off, so the
    media ids Lightbox created there survive a reconnect and a later push still replaces
    them.
    """

    shop_domain = models.CharField(
        max_length=80,
        validators=[shop_domain_validator],
        help_text="The shop's permanent address, <name>.myshopify.com.",
    )
    access_token_encrypted = models.TextField(blank=True, editable=False)
    api_version = models.CharField(max_length=16, default=default_api_version)
    is_active = models.BooleanField(default=True)
    shop_name = models.CharField(max_length=255, blank=True, help_text="As Shopify reported it when tested.")
    token_entered_at = models.DateTimeField(null=True, blank=True)
    token_entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True, help_text="Last connection test.")
    check_ok = models.BooleanField(null=True, blank=True)
    check_message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShopifyStoreQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_domain"],
                name="shopify_shopifystore_domain_unique",
                violation_error_message="This shop is already connected.",
            ),
            # One store receives pushes; connecting another deactivates the first.
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="shopify_shopifystore_one_active",
                violation_error_message="Only one Shopify store can be connected at a time.",
            ),
            models.CheckConstraint(
                condition=Q(shop_domain__regex=SHOP_DOMAIN_PATTERN),
                name="shopify_shopifystore_domain_format",
                violation_error_message=shop_domain_validator.message,
            ),
        ]

    def __str__(self) -> str:
        return self.shop_domain

    @property
    def has_token(self) -> bool:
        return bool(self.access_token_encrypted)

    def set_access_token(self, token: str, user: Any) -> None:
        """Encrypt and keep `token`; the caller saves."""
        self.access_token_encrypted = crypto.encrypt(token)
        self.token_entered_at = timezone.now()
        self.token_entered_by = user
        self.check_ok = None
        self.checked_at = None
        self.check_message = ""

    def access_token(self) -> str:
        """The token in clear, for the API client only. Raises crypto.SecretUnreadable."""
        return crypto.decrypt(self.access_token_encrypted)

    # A template that reaches {{ store.access_token }} gets the method's name, never the token.
    access_token.do_not_call_in_templates = True  # type: ignore[attr-defined]

    def forget_token(self, user: Any) -> None:
        """Wipe the token and stop pushing here; the media memory stays. The caller saves."""
        self.access_token_encrypted = ""
        self.is_active = False
        self.token_entered_at = None
        self.token_entered_by = None
        self.updated_by = user

    def record_check(self, ok: bool, message: str, shop_name: str = "") -> None:
        ShopifyStore.objects.filter(pk=self.pk).update(
            check_ok=ok,
            check_message=message[:500],
            checked_at=timezone.now(),
            **({"shop_name": shop_name[:255]} if shop_name else {}),
        )
        self.refresh_from_db(fields=["check_ok", "check_message", "checked_at", "shop_name"])


class MediaStatus(models.TextChoices):
    """Shopify's MediaStatus, as last seen by a push."""

    UPLOADED = "UPLOADED", "Uploaded"
    PROCESSING = "PROCESSING", "Processing"
    READY = "READY", "Ready"
    FAILED = "FAILED", "Failed"


class ShopifyMedia(models.Model):
    """The Shopify media Lightbox created for one photo of one product in one store.

    `media_gid` is the media currently on the product (blank when every attempt failed).
    `stale_media_gids` are older copies still to be removed: a copy is only deleted once
    its replacement is READY, so a replacement Shopify is slow with leaves the old one in
    place until the next push.
    """

    Status = MediaStatus
    PENDING_STATES: ClassVar[tuple[str, ...]] = (MediaStatus.UPLOADED, MediaStatus.PROCESSING)

    store = models.ForeignKey(ShopifyStore, on_delete=models.CASCADE, related_name="media")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    source_image = models.ForeignKey("catalog.SourceImage", on_delete=models.CASCADE, related_name="+")
    rendition = models.ForeignKey(
        "catalog.Rendition", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField(help_text="Place among the product's pushed images.")
    alt_text = models.CharField(max_length=512, blank=True)
    product_gid = models.CharField(max_length=100)
    media_gid = models.CharField(max_length=100, blank=True)
    stale_media_gids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=MediaStatus.choices)
    last_error = models.TextField(blank=True)
    pushed_at = models.DateTimeField(default=timezone.now)
    # sha256 of the bytes behind `media_gid` (the rendition's): the same bytes are not
    # uploaded again while that media is still on the product.
    content_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["store", "product", "position"]
        verbose_name_plural = "Shopify media"
        constraints = [
            models.UniqueConstraint(
                fields=["store", "product", "source_image"],
                name="shopify_shopifymedia_one_per_photo",
                violation_error_message="This photo already has a Shopify media record for the store.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=MediaStatus.values),
                name="shopify_shopifymedia_status_valid",
                violation_error_message="Unknown media status.",
            ),
            models.CheckConstraint(
                condition=~Q(status="FAILED") | ~Q(last_error=""),
                name="shopify_shopifymedia_failure_explained",
                violation_error_message="A failed media record says why it failed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.product_id} #{self.position} → {self.media_gid or '—'} [{self.status}]"


class PushItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Pushed"
    SKIPPED = "skipped", "Left out"
    FAILED = "failed", "Failed"


class ShopifyPushItem(models.Model):
    """One image of a "Push to Shopify" export: its own state, so a push killed anywhere
    goes on with the images not yet pushed (catalog.shopify.jobs) and never attaches one
    twice.

    The staged-upload record (`staged_url`, `media_before`, `attach_started_at`) is written
    and committed before productUpdate attaches the media; `media_gid` right after. A run
    that finds the record without a media id knows the attach may have happened: it reads
    the product's media and adopts the new one instead of attaching again.
    """

    Status = PushItemStatus
    TERMINAL_STATES: ClassVar[tuple[str, ...]] = (
        PushItemStatus.DONE,
        PushItemStatus.SKIPPED,
        PushItemStatus.FAILED,
    )

    export = models.ForeignKey("exports.Export", on_delete=models.CASCADE, related_name="push_items")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    source_image = models.ForeignKey("catalog.SourceImage", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=PushItemStatus.choices, default=PushItemStatus.PENDING)
    outcome = models.CharField(max_length=16, blank=True, help_text="uploaded, replaced or unchanged.")
    reason = models.TextField(blank=True, help_text="Why it was left out or failed.")
    staged_url = models.TextField(blank=True)
    media_before = models.JSONField(default=list, blank=True)
    attach_started_at = models.DateTimeField(null=True, blank=True)
    media_gid = models.CharField(max_length=100, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs that stopped without finishing.")

    class Meta:
        ordering = ["export", "product", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["export", "source_image"],
                name="shopify_shopifypushitem_one_per_photo",
                violation_error_message="This photo is already part of the push.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PushItemStatus.values),
                name="shopify_shopifypushitem_status_valid",
                violation_error_message="Unknown push item status.",
            ),
        ]
        indexes = [
            # The sweeper and the finishing check: a push's images not pushed yet.
            models.Index(
                fields=["export", "product"],
                name="shopify_pushitem_pending_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.export_id} {self.product_id} #{self.position} [{self.status}]"
