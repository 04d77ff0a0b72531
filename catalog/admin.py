from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from catalog.models import (
    ImageVersion,
    MarketplaceProfile,
    Product,
    Rendition,
    SourceImage,
    UploadBatch,
)
from processing.profiles import MarketplaceProfileForm, spec_for
from processing.rerender import failed_versions_count, start_rerender


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "brand", "category", "updated_at"]
    list_filter = ["brand", "category"]
    search_fields = ["sku", "title", "asin", "ean", "upc"]


@admin.register(UploadBatch)
class UploadBatchAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "source",
        "priority",
        "file_count",
        "rejected_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["source", "priority"]
    readonly_fields = ["created_at"]


@admin.register(SourceImage)
class SourceImageAdmin(admin.ModelAdmin):
    list_display = ["product", "role", "position", "format", "width", "height", "uploaded_at"]
    list_filter = ["role", "format"]
    search_fields = ["product__sku", "original_filename", "sha256"]
    raw_id_fields = ["product", "batch"]
    readonly_fields = ["sha256", "file", "byte_size", "width", "height", "format", "uploaded_at"]


@admin.register(ImageVersion)
class ImageVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "score", "priority", "queued_at", "published_at"]
    list_filter = ["status", "priority", "compute_device"]
    search_fields = ["source__product__sku"]
    raw_id_fields = ["source", "parent", "reviewed_by"]
    # State changes go through the transition methods, never through a form.
    readonly_fields = [
        "status",
        "queued_at",
        "started_at",
        "scored_at",
        "reviewed_at",
        "published_at",
        "failed_at",
        "attempts",
        "timings_ms",
        "compute_seconds",
    ]


@admin.register(Rendition)
class RenditionAdmin(admin.ModelAdmin):
    list_display = ["version", "profile", "format", "width", "height", "byte_size", "compliance_passed"]
    list_filter = ["profile", "compliance_passed", "format"]
    raw_id_fields = ["version"]


def _minimum(profile: MarketplaceProfile) -> tuple[int, int, str]:
    return profile.min_long_side, profile.min_short_side, (profile.checks or {}).get("min_size", "error")


@admin.register(MarketplaceProfile)
class MarketplaceProfileAdmin(admin.ModelAdmin):
    form = MarketplaceProfileForm
    list_display = [
        "name",
        "channel",
        "role",
        "canvas_width",
        "canvas_height",
        "output_format",
        "enabled",
        "required",
        "revision",
    ]
    list_filter = ["channel", "enabled", "required", "output_format"]
    search_fields = ["name", "slug"]
    readonly_fields = ["revision", "updated_at", "current_spec"]

    @admin.display(description="Spec")
    def current_spec(self, obj: MarketplaceProfile) -> str:
        return str(spec_for(obj)) if obj.pk else "—"

    def save_model(self, request, obj, form, change):
        before = MarketplaceProfile.objects.filter(pk=obj.pk).first() if change else None
        changed_output = (
            before is None
            or str(spec_for(before)) != str(spec_for(obj))
            or (obj.enabled and not before.enabled)
            # Which photos the profile blocks (processing.publishing.forecast).
            or _minimum(before) != _minimum(obj)
        )
        if before is not None and changed_output:
            obj.revision = before.revision + 1
        super().save_model(request, obj, form, change)
        if before is not None and changed_output and obj.enabled:
            run = start_rerender(obj, request.user)
            messages.info(
                request, f"Re-rendering {run.total} published image(s) for {obj.name} in the background."
            )
            if failed := failed_versions_count():
                # A re-render only covers published images: say what it leaves out.
                messages.warning(
                    request,
                    format_html(
                        '{} failed image(s) are not re-rendered. <a href="{}?status=failed">Find them</a> '
                        "and retry them from their product or batch page to process them again.",
                        failed,
                        reverse("catalog:product_list"),
                    ),
                )
