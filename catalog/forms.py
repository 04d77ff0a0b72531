from __future__ import annotations

from django import forms

from catalog.intake.service import product_for
from catalog.models import Priority, Product, SourceImage, sku_validator


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    sku = forms.CharField(label="SKU", max_length=64, validators=[sku_validator])
    title = forms.CharField(max_length=255, required=False, help_text="Needed only when the SKU is new.")
    role = forms.ChoiceField(choices=SourceImage.Role.choices, initial=SourceImage.Role.MAIN)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
    files = MultipleFileField(label="Photos")  # type: ignore[assignment]  # a field, not Form.files

    def clean(self):
        cleaned = super().clean()
        sku = cleaned.get("sku")
        if sku and not Product.objects.filter(sku=sku).exists() and not cleaned.get("title"):
            self.add_error("title", "This SKU is new: give the product a title.")
        return cleaned

    def product(self) -> Product:
        return product_for(self.cleaned_data["sku"], title=self.cleaned_data["title"])


class BatchForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
