"""The catalog's domain: products, their photos, processed versions and renditions.

An ImageVersion moves through the lifecycle in DESIGN.md only through its
transition methods. Each one is a single conditional UPDATE, so a job that runs
twice or a reviewer who double-clicks changes the row once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.db.models.lookups import Exact
from django.utils import timezone

from catalog.signals import batch_completed, version_status_changed
from catalog.sku import SKU_PATTERN
from lightbox.storage import get_public_storage

sku_validator = RegexValidator(
    SKU_PATTERN,
    "A SKU is 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
)


class Priority(models.IntegerChoices):
    """Batch priority. The value orders the review queue; `queue_name` picks the RQ queue."""

    HIGH = 0, "Launch"
    NORMAL = 1, "Normal"
    LOW = 2, "Back-catalog"

    @property
    def queue_name(self) -> str:
        return {Priority.HIGH: "high", Priority.NORMAL: "default", Priority.LOW: "low"}[self]


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, validators=[sku_validator])
    title = models.CharField(max_length=255)
    brand = models.CharField(max_length=120, blank=True)
    category = models.CharField(max_length=120, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # Marketplace identifiers used by exports (Amazon names files by one of them).
    asin = models.CharField("ASIN", max_length=10, blank=True)
    ean = models.CharField("EAN", max_length=14, blank=True)
    upc = models.CharField("UPC", max_length=12, blank=True)
    # Real size, optional: scenes (catalog.scenes) scale the product truthfully from it.
    width_cm = models.FloatField("width (cm)", null=True, blank=True, validators=[MinValueValidator(0.1)])
    height_cm = models.FloatField("height (cm)", null=True, blank=True, validators=[MinValueValidator(0.1)])
    # Set by the review app when a reviewer sends a photo back (catalog.reshoot).
    reshoot_requested_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="The newest reshoot a reviewer asked for."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        permissions = [
            ("upload_images", "Can upload product photos"),
            ("export_catalog", "Can run and download exports"),
            ("launch_priority", "Can give a batch Launch priority"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sku"],
                name="catalog_product_sku_unique",
                violation_error_message="A product with this SKU already exists.",
            ),
            models.CheckConstraint(
                condition=Q(sku__regex=SKU_PATTERN),
                name="catalog_product_sku_format",
                violation_error_message=sku_validator.message,
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="catalog_product_title_not_empty",
                violation_error_message="A product needs a title.",
            ),
            models.CheckConstraint(
                condition=Exact(
                    Func(F("attributes"), function="jsonb_typeof", output_field=models.CharField()),
                    Value("object"),
                ),
                name="catalog_product_attributes_object",
                violation_error_message="Attributes must be an object, not a list.",
            ),
        ]
        indexes = [
            # Product list filters: brand and category facets.
            models.Index(fields=["brand", "sku"], name="catalog_product_brand_idx"),
            models.Index(fields=["category", "sku"], name="catalog_product_category_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} — {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # Versions carry a copy of brand and category for the review queue's filters, and their
        # renditions one for the dashboard's.
        ImageVersion.objects.filter(source__product=self).exclude(
            brand=self.brand, category=self.category
        ).update(brand=self.brand, category=self.category)
        Rendition.objects.filter(version__source__product=self).exclude(
            brand=self.brand, category=self.category
        ).update(brand=self.brand, category=self.category)


class MannequinColour(models.TextChoices):
    """The colour of the mannequin apparel is shot on (processing.pipeline.mannequin.PRESETS):
    set on a batch or a category, it asks for a ghost-mannequin master (catalog.ghost)."""

    GREY = "grey", "Grey"
    SKIN = "skin", "Skin-coloured"
    GREEN = "green", "Chroma green"


class UploadBatch(models.Model):
    class Source(models.TextChoices):
        BROWSER = "browser", "Browser upload"
        ZIP = "zip", "ZIP archive"
        API = "api", "API"
        DEMO = "demo", "Demo catalog"
        CLI = "cli", "Command line"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="upload_batches",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.BROWSER)
    mannequin_colour = models.CharField(
        max_length=8,
        choices=MannequinColour.choices,
        blank=True,
        help_text="Apparel shot on a mannequin of this colour gets a ghost-mannequin master "
        "(blank: the category's setting).",
    )
    file_count = models.PositiveIntegerField(default=0, help_text="Files received in the upload.")
    rejected_count = models.PositiveIntegerField(
        default=0, help_text="Files refused at upload (not images, duplicates, unreadable)."
    )
    errors = models.JSONField(default=list, blank=True, help_text="Per-file upload errors: [{file, reason}].")
    manifest = models.JSONField(
        default=dict, blank=True, help_text="Manifest rows by file name, when a CSV came with the upload."
    )
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last file arrived; no more will be added."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    last_file_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last file was taken in or refused."
    )
    close_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the batch was closed for the uploader, when it was."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "upload batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(rejected_count__lte=F("file_count")),
                name="catalog_uploadbatch_rejected_within_files",
                violation_error_message="A batch cannot reject more files than it received.",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values),
                name="catalog_uploadbatch_priority_valid",
                violation_error_message="Unknown priority.",
            ),
        ]
        indexes = [
            # Batch list, newest first.
            models.Index(fields=["-created_at"], name="catalog_batch_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name or f"Batch {str(self.id)[:8]}"

    def close(self, reason: str = "") -> bool:
        """No more files will arrive. True when this call closed it; the batch finishes
        (finish_if_settled) after commit if nothing is left to process. `reason` says why
        when it was not the uploader who closed it."""
        closed = bool(
            UploadBatch.objects.filter(pk=self.pk, closed_at__isnull=True).update(
                closed_at=timezone.now(), close_reason=reason[:300]
            )
        )
        if closed:
            transaction.on_commit(self.finish_if_settled)
        return closed

    def finish_if_settled(self) -> bool:
        """Stamp finished_at once the batch is closed and none of its versions awaits
        processing (queued, processing, rendering); send batch_completed. True when this
        call finished it. Safe to call often and concurrently: the UPDATE is guarded."""
        unsettled = ImageVersion.objects.filter(
            source__batch_id=self.pk,
            status__in=ImageVersion.ACTIVE_STATES,
            # The uploads' own cut-outs: scenes made from them later do not hold the batch open.
            kind=VersionKind.CUTOUT,
        )
        with transaction.atomic():
            finished = (
                UploadBatch.objects.filter(pk=self.pk, closed_at__isnull=False, finished_at__isnull=True)
                .exclude(models.Exists(unsettled))
                .update(finished_at=timezone.now())
            )
            if finished:
                self.refresh_from_db(fields=["finished_at", "closed_at"])
                batch_completed.send(sender=UploadBatch, batch=self)
        return bool(finished)

    def record_refusal(self, filename: str, reason: str) -> None:
        """Count a refused file and keep its reason, atomically (uploads arrive in parallel)."""
        self.record_refusals([(filename, reason)])

    def record_refusals(self, refusals: list[tuple[str, str]]) -> None:
        """Count refused files and keep their reasons in one UPDATE (a manifest of bad rows)."""
        if not refusals:
            return
        entries = [{"file": filename[:255], "reason": reason[:500]} for filename, reason in refusals]
        entry = Value(entries, output_field=models.JSONField())
        UploadBatch.objects.filter(pk=self.pk).update(
            last_file_at=timezone.now(),
            file_count=F("file_count") + len(entries),
            rejected_count=F("rejected_count") + len(entries),
            errors=Func(
                Coalesce(F("errors"), Value([], output_field=models.JSONField())),
                entry,
                function="",
                arg_joiner=" || ",
                output_field=models.JSONField(),
            ),
        )

    def record_accepted(self, count: int = 1) -> None:
        UploadBatch.objects.filter(pk=self.pk).update(
            file_count=F("file_count") + count, last_file_at=timezone.now()
        )


def source_upload_to(instance: SourceImage, filename: str) -> str:
    # Named by content hash, never by the uploader's file name.
    extension = {
        "JPEG": "jpg",
        "PNG": "png",
        "WEBP": "webp",
        "GIF": "gif",
        "TIFF": "tif",
        "HEIF": "heic",
        "AVIF": "avif",
        "BMP": "bmp",
    }.get(instance.format, "bin")
    return f"sources/{instance.sha256[:2]}/{instance.sha256}.{extension}"


class SourceRole(models.TextChoices):
    MAIN = "main", "Main"
    ALTERNATE = "alternate", "Alternate"
    SWATCH = "swatch", "Swatch"
    # The inside back of a garment (with its label), placed into a ghost mannequin's neck
    # opening (catalog.ghost); never rendered or exported itself.
    INNER = "inner", "Inner shot"


class SourceImage(models.Model):
    """An uploaded original. The file is kept byte for byte and never modified."""

    Role = SourceRole

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="source_images")
    batch = models.ForeignKey(
        UploadBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_images"
    )
    file = models.FileField(upload_to=source_upload_to, max_length=255)
    original_filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    perceptual_hash = models.CharField(max_length=16, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=16)
    byte_size = models.PositiveBigIntegerField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MAIN)
    position = models.PositiveSmallIntegerField(default=1)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["product", "position", "uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "sha256"],
                name="catalog_sourceimage_unique_bytes_per_product",
                violation_error_message="This exact photo is already attached to the product.",
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="catalog_sourceimage_sha256_hex",
                violation_error_message="sha256 must be 64 lowercase hex digits.",
            ),
            models.CheckConstraint(
                condition=Q(width__gt=0, height__gt=0, byte_size__gt=0),
                name="catalog_sourceimage_dimensions_positive",
                violation_error_message="A source image has positive dimensions and size.",
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1),
                name="catalog_sourceimage_position_from_one",
                violation_error_message="Image positions start at 1.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=SourceRole.values),
                name="catalog_sourceimage_role_valid",
                violation_error_message="Unknown image role.",
            ),
        ]
        indexes = [
            # Duplicate detection across products: same bytes anywhere in the catalog.
            models.Index(fields=["sha256"], name="catalog_source_sha256_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} #{self.position} ({self.role})"


class InvalidTransition(Exception):
    """A lifecycle transition that is not allowed from the version's current state."""


class VersionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    FLAGGED = "flagged", "Flagged for review"
    RENDERING = "rendering", "Rendering"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"
    FAILED = "failed", "Failed"


class VersionKind(models.TextChoices):
    """What a version's master is. A cut-out is made from the photo; the other kinds are
    derived from a published cut-out of it (catalog.derived) and live beside it."""

    CUTOUT = "cutout", "Cut-out"
    SCENE = "scene", "Lifestyle scene"
    GHOST = "ghost", "Ghost mannequin"


class MaskSource(models.TextChoices):
    MODEL = "model", "Model"
    MODEL_FIX = "model_fix", "Model + one-click fix"
    HAND = "hand", "Touched up by hand"


class ImageVersion(models.Model):
    """One run of the pipeline over a source image, with its decision and timings."""

    Status = VersionStatus
    MaskSource = MaskSource
    Kind = VersionKind

    # Named groups of states, reused by guards, the sweeper and the dashboard.
    ACTIVE_STATES: ClassVar[tuple[str, ...]] = (Status.QUEUED, Status.PROCESSING, Status.RENDERING)
    REVIEWABLE_STATES: ClassVar[tuple[str, ...]] = (Status.FLAGGED,)
    TERMINAL_STATES: ClassVar[tuple[str, ...]] = (
        Status.PUBLISHED,
        Status.REJECTED,
        Status.SUPERSEDED,
        Status.FAILED,
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(SourceImage, on_delete=models.CASCADE, related_name="versions")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text="The version this one reprocesses.",
    )
    number = models.PositiveIntegerField(default=1)
    # Derived masters (README, "Derived masters"): a scene or ghost version is made from a
    # published cut-out (`derived_from`) and numbered within its `lineage`, so it never
    # supersedes the cut-out nor the cut-out it: "" for the cut-out, "scene:<template pk>",
    # "ghost". `targets` are the profiles it renders for (a cut-out's come from its photo's
    # role) and `export_position` where exports place it among the product's images.
    kind = models.CharField(max_length=8, choices=VersionKind.choices, default=VersionKind.CUTOUT)
    lineage = models.CharField(max_length=64, blank=True, default="")
    derived_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="derived",
        help_text="The published cut-out a scene or ghost version is made from.",
    )
    scene_template = models.ForeignKey(
        "catalog.SceneTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    scene_rule = models.ForeignKey(
        "catalog.SceneRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    targets = models.ManyToManyField(
        "catalog.MarketplaceProfile",
        blank=True,
        related_name="+",
        help_text="The profiles a derived version renders for.",
    )
    export_position = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    # Copied from the product so the review queue and dashboard filter without joining
    # version → photo → product (measured: the join cost ~40 ms a query at 100k items).
    # Kept in step by Product.save().
    brand = models.CharField(max_length=120, blank=True)
    category = models.CharField(max_length=120, blank=True)
    # Likewise the profiles it has a rendition for, so the dashboard's profile filter reads the
    # version's row instead of probing the renditions (a semi-join that hashed every rendition
    # of the profile: 3× the time of a brand filter at a million versions). Kept in step with
    # the renditions by catalog.rendered.
    rendered_for = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        help_text="Ids of the marketplace profiles this version has a rendition for.",
    )

    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    processed_by = models.CharField(max_length=200, blank=True, help_text="Worker that ran it.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Bounded attempts (README, "Nothing lost"): processing runs are counted in `attempts`
    # when a job claims the row, the sweeper's rescues of a PROCESSING row whose worker
    # died in `worker_deaths`, rendering runs in `render_attempts`. An outage (database,
    # Redis, disk) does not count against the photo: it waits until `retry_at`, the wait
    # growing with `outage_retries`.
    worker_deaths = models.PositiveSmallIntegerField(default=0)
    render_attempts = models.PositiveSmallIntegerField(default=0)
    render_started_at = models.DateTimeField(null=True, blank=True)
    outage_retries = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    # A reviewer's hold on a FLAGGED version, so two reviewers never work the same item.
    # Taken and released by review.services; an expired hold is free for anyone.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)

    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    reasons = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="Pipeline settings used.")
    model_name = models.CharField(max_length=64, blank=True)
    model_sha256 = models.CharField(max_length=64, blank=True)
    timings_ms = models.JSONField(default=dict, blank=True)
    compute_seconds = models.FloatField(null=True, blank=True)
    compute_device = models.CharField(max_length=8, blank=True, help_text="cpu or gpu")
    error = models.TextField(blank=True)

    mask = models.FileField(upload_to="masks/", blank=True, max_length=255)
    master = models.FileField(upload_to="masters/", blank=True, max_length=255)
    # A reviewer's correction (review.mask_edit): the mask at the photo's full upright size,
    # which processing uses instead of segmenting (processing.jobs.run_pipeline).
    mask_source = models.CharField(max_length=16, choices=MaskSource.choices, default=MaskSource.MODEL)
    hand_mask = models.FileField(upload_to="hand_masks/", blank=True, max_length=255)
    mask_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who corrected the mask by hand or with a fix.",
    )

    class Meta:
        ordering = ["-queued_at"]
        permissions = [
            ("review_images", "Can work the review queue"),
            ("view_dashboard", "Can see the KPI dashboard"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "lineage", "number"],
                name="catalog_imageversion_unique_number",
                violation_error_message="This source already has a version with that number.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=VersionKind.values),
                name="catalog_imageversion_kind_valid",
                violation_error_message="Unknown version kind.",
            ),
            models.CheckConstraint(
                condition=(Q(kind="cutout") & Q(lineage=""))
                | (~Q(kind="cutout") & ~Q(lineage="") & Q(derived_from__isnull=False)),
                name="catalog_imageversion_derived_lineage",
                violation_error_message="A derived version names its lineage and the cut-out it came from.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VersionStatus.values),
                name="catalog_imageversion_status_valid",
                violation_error_message="Unknown status.",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="catalog_imageversion_score_range",
                violation_error_message="A quality score is between 0 and 100.",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="catalog_imageversion_published_stamped",
                violation_error_message="A published version records when it was published.",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""),
                name="catalog_imageversion_failure_explained",
                violation_error_message="A failed version says why it failed.",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values),
                name="catalog_imageversion_priority_valid",
                violation_error_message="Unknown priority.",
            ),
            models.CheckConstraint(
                condition=Q(mask_source__in=MaskSource.values),
                name="catalog_imageversion_mask_source_valid",
                violation_error_message="Unknown mask source.",
            ),
        ]
        indexes = [
            # Review queue and review.services.claim_next: FLAGGED ordered by batch
            # priority, then age; the claim columns are checked on the few rows read.
            models.Index(
                fields=["priority", "scored_at"],
                name="catalog_version_review_idx",
                condition=Q(status="flagged"),
            ),
            # Review queue filtered by a reason (review.forms.QueueFilterForm): the count and
            # list's `reasons @> [{"code": …}]` over FLAGGED rows, instead of a scan of them all.
            GinIndex(
                fields=["reasons"],
                opclasses=["jsonb_path_ops"],
                name="catalog_version_reasons_idx",
                condition=Q(status="flagged"),
            ),
            # Review queue filtered by brand or category: FLAGGED, in queue order.
            models.Index(
                fields=["brand", "priority", "scored_at"],
                name="catalog_version_brand_idx",
                condition=Q(status="flagged"),
            ),
            models.Index(
                fields=["category", "priority", "scored_at"],
                name="catalog_version_category_idx",
                condition=Q(status="flagged"),
            ),
            # Sweeper: unfinished work older than the stale timeout.
            models.Index(
                fields=["status", "queued_at"],
                name="catalog_version_active_idx",
                condition=Q(status__in=["queued", "processing", "rendering"]),
            ),
            # Dashboard: time ranges over upload and publication times. queued_at rides along
            # so time to publication (median, p90, p95, per day) and throughput read only the
            # index. (id was for a profile filter's semi-join on renditions; that filter now
            # reads rendered_for from the row, like brand and category.)
            models.Index(fields=["queued_at"], name="catalog_version_queued_idx"),
            models.Index(
                fields=["published_at"],
                name="catalog_version_published_idx",
                include=["queued_at", "id"],
                condition=Q(published_at__isnull=False),
            ),
            # Dashboard: versions by status now, counted from the index alone.
            models.Index(fields=["status"], name="catalog_version_status_idx"),
            # Dashboard over scored_at, in one pass: manual intervention (went to review:
            # status, reviewed_at) and the score distribution; id for the decisions' join.
            models.Index(
                fields=["scored_at"],
                name="catalog_version_scored_idx",
                include=["status", "reviewed_at", "score", "id"],
                condition=Q(scored_at__isnull=False),
            ),
            # Dashboard flag reasons: the reasons of versions that went to review (the
            # condition is insights.kpis.WENT_TO_REVIEW), a sixth of them, without the table.
            models.Index(
                fields=["scored_at"],
                name="catalog_version_to_review_idx",
                include=["id", "reasons"],
                condition=Q(status__in=["flagged", "rejected", "superseded"]) | Q(reviewed_at__isnull=False),
            ),
            # Dashboard compute cost (per day, per volume tier) ranges over when compute was
            # spent, COALESCE(scored_at, failed_at) as insights.kpis writes it; in (time, id) order
            # so a volume tier's first version of a month is an OFFSET walk away. PostgreSQL
            # reads an expression index alone only if it also holds the expression's columns.
            models.Index(
                Coalesce("scored_at", "failed_at"),
                F("id"),
                name="catalog_version_finished_idx",
                include=["compute_seconds", "compute_device", "scored_at", "failed_at"],
                condition=Q(compute_seconds__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} v{self.number} [{self.status}]"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not (self.brand or self.category):
            product = self.source.product
            self.brand, self.category = product.brand, product.category
        super().save(*args, **kwargs)

    # --- transitions ------------------------------------------------------
    def _transition(self, verb: str, sources: tuple[str, ...], target: str, **fields: Any) -> bool:
        """Move to `target` if the row is in one of `sources`; True when this call did it.

        When the row is already in `target` (a re-run, a double click, a race
        lost to an identical call) nothing changes and False comes back. Any
        other state means the transition is not allowed: InvalidTransition.
        """
        with transaction.atomic():
            rows = type(self).objects.filter(pk=self.pk, status__in=sources)
            changed = rows.update(status=target, **fields)
            if changed:
                self.refresh_from_db()
                version_status_changed.send(sender=type(self), version=self, status=target, verb=verb)
                return True
        current = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if current is None:
            raise type(self).DoesNotExist(f"version {self.pk} no longer exists")
        self.status = current
        if current == target:
            return False
        raise InvalidTransition(f"cannot {verb} a version that is {self.get_status_display().lower()}")

    def claim_for_processing(self, worker: str = "") -> bool:
        return self._transition(
            "start processing",
            (self.Status.QUEUED,),
            self.Status.PROCESSING,
            started_at=timezone.now(),
            processed_by=worker[:200],
            attempts=F("attempts") + 1,
        )

    def pass_quality_gate(self, score: int, reasons: list[dict[str, Any]]) -> bool:
        return self._transition(
            "pass",
            (self.Status.PROCESSING,),
            self.Status.RENDERING,
            score=score,
            reasons=reasons,
            scored_at=timezone.now(),
        )

    def flag(self, score: int, reasons: list[dict[str, Any]]) -> bool:
        return self._transition(
            "flag",
            (self.Status.PROCESSING,),
            self.Status.FLAGGED,
            score=score,
            reasons=reasons,
            scored_at=timezone.now(),
        )

    def approve(self, reviewer: Any) -> bool:
        return self._transition(
            "approve",
            (self.Status.FLAGGED,),
            self.Status.RENDERING,
            reviewed_at=timezone.now(),
            reviewed_by=reviewer,
        )

    def reject(self, reviewer: Any) -> bool:
        return self._transition(
            "reject",
            (self.Status.FLAGGED,),
            self.Status.REJECTED,
            reviewed_at=timezone.now(),
            reviewed_by=reviewer,
        )

    def supersede(self, reviewer: Any) -> bool:
        return self._transition(
            "reprocess",
            (self.Status.FLAGGED,),
            self.Status.SUPERSEDED,
            reviewed_at=timezone.now(),
            reviewed_by=reviewer,
        )

    def publish(self) -> bool:
        return self._transition(
            "publish", (self.Status.RENDERING,), self.Status.PUBLISHED, published_at=timezone.now()
        )

    def fail(self, error: str) -> bool:
        return self._transition(
            "fail",
            self.ACTIVE_STATES,
            self.Status.FAILED,
            error=error or "unknown error",
            failed_at=timezone.now(),
        )

    def requeue(self, error: str = "") -> bool:
        """Back to QUEUED after a transient error, for RQ's next try (a FAILED version comes
        back only through `retry`, with fresh attempts).

        `error` keeps the last transient failure visible while the version waits.
        """
        return self._transition(
            "requeue",
            (self.Status.PROCESSING,),
            self.Status.QUEUED,
            error=error,
            failed_at=None,
            started_at=None,
        )

    def wait_for_outage(self, error: str, retry_at: Any) -> bool:
        """Back to QUEUED after a database, Redis or disk failure, to run again at
        `retry_at`. The attempt is given back: the photo was not at fault."""
        return self._transition(
            "wait for an outage",
            (self.Status.PROCESSING,),
            self.Status.QUEUED,
            error=error,
            started_at=None,
            attempts=Greatest(F("attempts") - 1, 0),
            outage_retries=F("outage_retries") + 1,
            retry_at=retry_at,
        )

    def rescue_from_dead_worker(self, max_attempts: int) -> bool:
        """The sweeper found this PROCESSING version stale: its worker died (a native crash,
        out of memory, a kill). Back to QUEUED while attempts remain, else FAILED with the
        count. True when it was queued again."""
        deaths = self.worker_deaths + 1
        if self.attempts >= max_attempts:
            self._transition(
                "fail",
                (self.Status.PROCESSING,),
                self.Status.FAILED,
                error=(
                    f"worker died {deaths} times processing this photo (attempt {self.attempts} of "
                    f"{max_attempts}); it may be too large for the worker's memory or crash the decoder"
                ),
                failed_at=timezone.now(),
                worker_deaths=F("worker_deaths") + 1,
            )
            return False
        return self._transition(
            "requeue",
            (self.Status.PROCESSING,),
            self.Status.QUEUED,
            error=f"the worker stopped before finishing (attempt {self.attempts}); processing again",
            started_at=None,
            worker_deaths=F("worker_deaths") + 1,
            retry_at=None,
        )

    def start_rendering_attempt(self) -> int | None:
        """Count a rendering run of a RENDERING version; the run's number, or None when the
        version is not RENDERING (a published one is re-rendered without counting)."""
        with transaction.atomic():
            counted = (
                type(self)
                .objects.filter(pk=self.pk, status=self.Status.RENDERING)
                .update(render_attempts=F("render_attempts") + 1, render_started_at=timezone.now())
            )
            if not counted:
                return None
            self.refresh_from_db(fields=["render_attempts", "render_started_at"])
        return self.render_attempts

    def wait_to_render(self, error: str, retry_at: Any) -> bool:
        """A rendering run hit an outage: stay RENDERING, run again at `retry_at`, the run
        given back."""
        return bool(
            type(self)
            .objects.filter(pk=self.pk, status=self.Status.RENDERING)
            .update(
                error=error,
                render_attempts=Greatest(F("render_attempts") - 1, 0),
                render_started_at=None,
                outage_retries=F("outage_retries") + 1,
                retry_at=retry_at,
            )
        )

    def newer_version_exists(self) -> bool:
        return (
            type(self)
            .objects.filter(source_id=self.source_id, lineage=self.lineage, number__gt=self.number)
            .exists()
        )

    @property
    def is_derived(self) -> bool:
        return self.kind != VersionKind.CUTOUT

    def retry(self) -> bool:
        """FAILED back to QUEUED with fresh attempts, to be processed from the start (the
        caller queues it: catalog.retries). Refused for any other state, and for a failed
        version a reviewer has since reprocessed into a newer one."""
        if self.status == self.Status.FAILED and self.newer_version_exists():
            raise InvalidTransition("cannot retry a version that has a newer version; work on that one")
        return self._transition(
            "retry",
            (self.Status.FAILED,),
            self.Status.QUEUED,
            error="",
            failed_at=None,
            started_at=None,
            scored_at=None,
            attempts=0,
            worker_deaths=0,
            render_attempts=0,
            render_started_at=None,
            outage_retries=0,
            retry_at=None,
        )

    @property
    def photo_size(self) -> tuple[int, int]:
        """The photo's pixels this version is made from: the source's size, or the reviewer's
        crop of it. Profiles' minimums are held against this, never against the rendition
        (which is always the profile's canvas, enlarged as needed)."""
        size = (self.options or {}).get("size")
        if self.is_derived and isinstance(size, list) and len(size) == 2:
            # A derived master is a picture of its own (a scene is the template's size).
            return (int(size[0]), int(size[1]))
        crop = (self.options or {}).get("crop")
        if isinstance(crop, list) and len(crop) == 4 and all(isinstance(v, int) for v in crop):
            left, top, right, bottom = crop
            return (max(0, right - left), max(0, bottom - top))
        return (self.source.width, self.source.height)

    @property
    def job_id(self) -> str:
        """The RQ job id of this version's processing; the sweeper looks it up in Redis."""
        return f"process-{self.pk}"


def rendition_upload_to(instance: Rendition, filename: str) -> str:
    return f"renditions/{instance.version_id}/{filename}"


class OutputFormat(models.TextChoices):
    JPEG = "jpeg", "JPEG"
    WEBP = "webp", "WebP"
    AVIF = "avif", "AVIF"
    PNG = "png", "PNG"


# How merchants write the seeded channels; others are capitalised.
CHANNEL_NAMES = {
    "amazon": "Amazon",
    "ebay": "eBay",
    "etsy": "Etsy",
    "google": "Google Shopping",
    "instagram": "Instagram",
    "pinterest": "Pinterest",
    "shopify": "Shopify",
    "walmart": "Walmart",
    "web": "Own storefront",
    "zalando": "Zalando",
}


def channel_name(channel: str) -> str:
    """The channel as merchants write it: "Amazon", "eBay"."""
    return CHANNEL_NAMES.get(channel, channel.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Shortfall:
    """A photo below a profile's minimum: which side, how many pixels it has, how many it needs."""

    LONG: ClassVar[str] = "long"
    SHORT: ClassVar[str] = "short"

    side: str
    have: int
    need: int

    @property
    def reason(self) -> str:
        """ "600 px, needs 1000 px"; the short side is named when it is the one short."""
        side = " on the short side" if self.side == self.SHORT else ""
        return f"{self.have} px{side}, needs {self.need} px"

    def below(self, channel_name: str) -> str:
        """ "below Amazon's 1000 px (the photo has 600 px)", for lists of what was left out."""
        side = " on the short side" if self.side == self.SHORT else ""
        return f"below {channel_name}'s {self.need} px{side} (the photo has {self.have} px)"

    def as_json(self) -> dict[str, Any]:
        return {"side": self.side, "have": self.have, "need": self.need}

    @classmethod
    def from_json(cls, data: Any) -> Shortfall | None:
        try:
            return cls(str(data["side"]), int(data["have"]), int(data["need"]))
        except (KeyError, TypeError, ValueError):
            return None


class MarketplaceProfile(models.Model):
    """A channel's image rules. Seeded from shared/marketplaces.md, editable by admins."""

    class Role(models.TextChoices):
        MAIN = "main", "Main image"
        ADDITIONAL = "additional", "Additional image"
        SWATCH = "swatch", "Swatch"
        FEED_SQUARE = "feed_square", "Feed, square"
        FEED_PORTRAIT = "feed_portrait", "Feed, portrait"
        STORY = "story", "Story"

    class Background(models.TextChoices):
        PURE_WHITE = "pure_white", "Pure white (255,255,255)"
        WHITE = "white", "White"
        COLOUR = "colour", "Solid colour"
        TRANSPARENT = "transparent", "Transparent"
        ANY = "any", "Any"

    Format = OutputFormat

    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=40)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MAIN)
    enabled = models.BooleanField(default=True)
    required = models.BooleanField(
        default=False,
        help_text="A version is published only when this profile passes. With no required profile, "
        "one passing profile is enough.",
    )
    canvas_width = models.PositiveIntegerField(help_text="Output width in pixels.")
    canvas_height = models.PositiveIntegerField(help_text="Output height in pixels.")
    min_long_side = models.PositiveIntegerField(default=0)
    min_short_side = models.PositiveIntegerField(default=0)
    max_side = models.PositiveIntegerField(null=True, blank=True)
    max_megapixels = models.FloatField(null=True, blank=True)
    background = models.CharField(max_length=16, choices=Background.choices, default=Background.WHITE)
    background_color = models.CharField(
        max_length=7, default="#ffffff", validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$")]
    )
    fill_ratio = models.FloatField(
        default=0.85, help_text="Share of the canvas's long axis the product spans."
    )
    fill_min = models.FloatField(null=True, blank=True)
    fill_max = models.FloatField(null=True, blank=True)
    shadow = models.BooleanField(default=False)
    output_format = models.CharField(max_length=8, choices=Format.choices, default=Format.JPEG)
    allowed_formats = models.JSONField(default=list, blank=True)
    quality = models.PositiveSmallIntegerField(default=85)
    max_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    color_space = models.CharField(max_length=16, default="sRGB")
    metadata_fields = models.JSONField(default=list, blank=True)
    naming_template = models.CharField(max_length=200, default="{sku}_{position}.{ext}")
    checks = models.JSONField(
        default=dict, blank=True, help_text='Rule → strictness, e.g. {"background": "error"}.'
    )
    source_url = models.URLField(max_length=500, blank=True)
    source_checked_on = models.DateField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1, help_text="Bumped on every change.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "slug"]
        permissions = [("manage_thresholds", "Can change quality thresholds")]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="catalog_marketplaceprofile_slug_unique",
                violation_error_message="A profile with this slug already exists.",
            ),
            models.CheckConstraint(
                condition=Q(quality__gte=1, quality__lte=100),
                name="catalog_marketplaceprofile_quality_range",
                violation_error_message="Quality is between 1 and 100.",
            ),
            models.CheckConstraint(
                condition=Q(fill_ratio__gt=0, fill_ratio__lte=1),
                name="catalog_marketplaceprofile_fill_range",
                violation_error_message="Fill ratio is a share between 0 and 1.",
            ),
            models.CheckConstraint(
                condition=Q(canvas_width__gt=0, canvas_height__gt=0),
                name="catalog_marketplaceprofile_canvas_positive",
                violation_error_message="The canvas needs a positive width and height.",
            ),
            models.CheckConstraint(
                condition=Q(output_format__in=OutputFormat.values),
                name="catalog_marketplaceprofile_format_valid",
                violation_error_message="Unknown output format.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def channel_name(self) -> str:
        return channel_name(self.channel)

    def shortfall(self, width: int, height: int) -> Shortfall | None:
        """How a photo of `width` × `height` px falls short of this profile's minimum, or None
        when it does not (or the profile only warns about its minimum).

        Held against the photo, not the rendition: renditions are enlarged to the canvas, and
        a 600 px photo blown up to 2000 px does not have the detail a channel asks 1000 px for.
        """
        if (self.checks or {}).get("min_size", "error") != "error":
            return None
        long_side, short_side = max(width, height), min(width, height)
        if long_side < self.min_long_side:
            return Shortfall(Shortfall.LONG, long_side, self.min_long_side)
        if short_side < self.min_short_side:
            return Shortfall(Shortfall.SHORT, short_side, self.min_short_side)
        return None

    def field_values(self) -> dict[str, Any]:
        from django.forms.models import model_to_dict

        return model_to_dict(self)

    def applies_to(self, source_role: str, channel_has_additional: bool) -> bool:
        """Whether photos in `source_role` get a rendition for this profile.

        Channels with a separate profile for extra views (Amazon) keep the main
        profile for main photos; elsewhere every photo uses the main profile.
        """
        if self.role == MarketplaceProfile.Role.ADDITIONAL:
            return source_role == SourceRole.ALTERNATE
        if self.role == MarketplaceProfile.Role.SWATCH:
            return source_role == SourceRole.SWATCH
        if self.role != MarketplaceProfile.Role.MAIN:
            return source_role == SourceRole.MAIN  # social feed and story crops: hero shot only
        return source_role == SourceRole.MAIN or (
            source_role == SourceRole.ALTERNATE and not channel_has_additional
        )


class Rendition(models.Model):
    """One marketplace output of a version. Unique per (version, profile, spec)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(ImageVersion, on_delete=models.CASCADE, related_name="renditions")
    profile = models.ForeignKey(MarketplaceProfile, on_delete=models.PROTECT, related_name="renditions")
    spec = models.CharField(max_length=255, help_text="The compiled profile spec it was made with.")
    # Renditions are public (marketplaces fetch them); see lightbox.storage.
    file = models.FileField(upload_to=rendition_upload_to, storage=get_public_storage, max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=8)
    compliance_passed = models.BooleanField(null=True, help_text="None until checked.")
    compliance = models.JSONField(default=dict, blank=True)
    first_attempt = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the file's bytes.")
    public_key = models.CharField(
        max_length=32,
        blank=True,
        help_text="Keyed digest of the bytes: the unguessable part of the public URL (catalog.public_urls).",
    )
    # Copies of the version's (Product.save keeps them in step): the dashboard's compliance over a
    # brand or category reads them from its index instead of joining every version.
    brand = models.CharField(max_length=120, blank=True)
    category = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["profile__channel", "profile__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "profile", "spec"],
                name="catalog_rendition_unique_spec_per_version",
                violation_error_message="This version already has a rendition for that spec.",
            ),
            models.CheckConstraint(
                condition=Q(width__gt=0, height__gt=0, byte_size__gt=0),
                name="catalog_rendition_dimensions_positive",
                violation_error_message="A rendition has positive dimensions and size.",
            ),
        ]
        indexes = [
            # Dashboard: first-pass compliance per profile over time, and the versions rendered
            # for a profile when the dashboard is filtered by one.
            models.Index(
                fields=["profile", "created_at"], name="catalog_rendition_profile_idx", include=["version"]
            ),
            # …and over all profiles: the range's checked first attempts from the index alone.
            models.Index(
                fields=["created_at"],
                name="catalog_rendition_checked_idx",
                include=["profile", "compliance_passed", "brand", "category"],
                condition=Q(first_attempt=True, compliance_passed__isnull=False),
            ),
            # Public URL lookups (catalog.public_urls.public_rendition).
            models.Index(
                fields=["public_key"], name="catalog_rendition_public_idx", condition=~Q(public_key="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} → {self.profile.slug}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not (self.brand or self.category):
            self.brand, self.category = self.version.brand, self.version.category
        super().save(*args, **kwargs)


class BlockCause(models.TextChoices):
    SIZE = "size", "Photo below the profile's minimum"
    CHECKS = "checks", "Rendition failed its checks"


class BlockedChannel(models.Model):
    """A marketplace profile a version cannot meet: that channel gets no image from it, and why.

    Written by processing.publishing once a version's renditions are settled (published,
    failed or re-rendered), replacing the version's earlier ones. Every other applicable
    profile of a published version is published (catalog.channels tells the states).
    """

    Cause = BlockCause

    version = models.ForeignKey(ImageVersion, on_delete=models.CASCADE, related_name="blocked_channels")
    profile = models.ForeignKey(MarketplaceProfile, on_delete=models.CASCADE, related_name="blocked_channels")
    cause = models.CharField(max_length=8, choices=BlockCause.choices)
    reason = models.CharField(max_length=500, help_text='Without the channel: "600 px, needs 1000 px".')
    shortfall_data = models.JSONField(
        default=dict, blank=True, help_text="For a size cause: {side, have, need} in pixels."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["profile__channel", "profile__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "profile"],
                name="catalog_blockedchannel_one_per_profile",
                violation_error_message="This version is already blocked on that profile.",
            ),
            models.CheckConstraint(
                condition=Q(cause__in=BlockCause.values),
                name="catalog_blockedchannel_cause_valid",
                violation_error_message="Unknown cause.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="catalog_blockedchannel_reason_given",
                violation_error_message="A blocked channel says why.",
            ),
        ]
        indexes = [
            # Dashboard: blocked channels per profile over a time range, from the index alone.
            # (The product list's "blocked on channel X" goes through the profile's own index.)
            models.Index(fields=["created_at"], name="catalog_blocked_created_idx", include=["profile"]),
        ]

    def __str__(self) -> str:
        return f"{self.version_id} blocked on {self.profile_id}: {self.reason}"

    @property
    def shortfall(self) -> Shortfall | None:
        return Shortfall.from_json(self.shortfall_data) if self.cause == self.Cause.SIZE else None

    @property
    def label(self) -> str:
        """ "Amazon: 600 px, needs 1000 px"."""
        return f"{self.profile.channel_name}: {self.reason}"

    def left_out_reason(self) -> str:
        """Why an export leaves the image out: "below Amazon's 1000 px (the photo has 600 px)"."""
        shortfall = self.shortfall
        if shortfall is not None:
            return shortfall.below(self.profile.channel_name)
        return f"blocked on {self.profile.channel_name}: {self.reason}"


# Defined in its own module (the intake's record), registered with the catalog's models.
from catalog.intake.models import IntakeJob  # noqa: E402, F401
from catalog.scenes.models import SceneRule, SceneTemplate  # noqa: E402, F401
