"""The product list's search and filters, as one small form that builds the queryset."""

from __future__ import annotations

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.channels import blocked_on, channel_choices
from catalog.models import ImageVersion, Product, SourceImage, UploadBatch
from catalog.reshoot import awaiting_reshoot


class ProductFilter(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ImageVersion.Status.choices])
    brand = forms.CharField(required=False, max_length=120)
    category = forms.CharField(required=False, max_length=120)
    batch = forms.UUIDField(required=False)
    blocked = forms.CharField(required=False, max_length=40, label="Blocked on channel")
    reshoot = forms.BooleanField(required=False, label="To reshoot")

    def apply(self, products: QuerySet[Product]) -> QuerySet[Product]:
        data = self.cleaned_data
        if data["q"]:
            products = products.filter(Q(sku__icontains=data["q"]) | Q(title__icontains=data["q"]))
        if data["brand"]:
            products = products.filter(brand=data["brand"])
        if data["category"]:
            products = products.filter(category=data["category"])
        if data["status"]:
            # EXISTS rather than a join: no duplicate rows, no DISTINCT over the catalog.
            products = products.filter(
                Exists(ImageVersion.objects.filter(source__product=OuterRef("pk"), status=data["status"]))
            )
        if data["batch"]:
            products = products.filter(
                Exists(SourceImage.objects.filter(product=OuterRef("pk"), batch_id=data["batch"]))
            )
        if data["blocked"]:
            products = products.filter(blocked_on(data["blocked"]))
        if data["reshoot"]:
            products = products.filter(awaiting_reshoot())
        return products

    def choices(self) -> dict:
        """Values for the filter drop-downs (distinct brands and categories use their indexes)."""
        return {
            "brands": Product.objects.exclude(brand="")
            .order_by("brand")
            .values_list("brand", flat=True)
            .distinct()[:200],
            "categories": Product.objects.exclude(category="")
            .order_by("category")
            .values_list("category", flat=True)
            .distinct()[:200],
            "recent_batches": UploadBatch.objects.order_by("-created_at")[:30],
            "channels": channel_choices(),
        }
