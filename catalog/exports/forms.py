"""The export buttons' POST, turned into (kind, scope) for services.start_export."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from catalog.exports.models import ExportKind
from catalog.filters import ProductFilter

SCOPES = (("products", "Ticked products"), ("filters", "Everything matching the filters"),
          ("batch", "A batch"), ("product", "One product"))  # fmt: skip


class IdListField(forms.Field):
    """Product ids from ticked checkboxes (one `products` value each)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value or []
        if not all(str(v).isdigit() for v in values):
            raise forms.ValidationError("A ticked product is not a valid product id.")
        return [int(v) for v in values]


class ExportForm(forms.Form):
    kind = forms.ChoiceField(choices=ExportKind.choices)
    scope = forms.ChoiceField(choices=SCOPES)
    products = IdListField(required=False)
    filters = forms.CharField(required=False, max_length=2000)
    batch = forms.UUIDField(required=False)
    product = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        scope = data.get("scope")
        if scope == "products" and not data.get("products"):
            raise forms.ValidationError("Tick at least one product to export, or export everything matching.")
        if scope in ("batch", "product") and not data.get(scope):
            raise forms.ValidationError(f"Which {scope} to export is missing.")
        return data

    def export_scope(self) -> dict[str, Any]:
        """The scope in the shape Export.scope stores (see catalog.exports.selection.products_in_scope)."""
        data = self.cleaned_data
        scope = data["scope"]
        if scope == "products":
            return {"products": sorted(set(data["products"]))}
        if scope == "filters":
            query = QueryDict(data["filters"])
            return {"filters": {name: query[name] for name in ProductFilter.base_fields if query.get(name)}}
        if scope == "batch":
            return {"batch": str(data["batch"])}
        return {"product": data["product"]}
