from __future__ import annotations

from django import forms

from catalog.intake.service import product_for
from catalog.models import MannequinColour, Priority, Product, SourceImage, sku_validator
from catalog.uploads import PriorityNotAllowed, check_priority, priority_choices


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class PriorityMixin:
    """Offers Launch only to those allowed to choose it, and refuses it with the reason
    when posted anyway."""

    user: object = None

    def _limit_priority(self, user: object) -> None:
        self.user = user
        # Only the menu is limited: a Launch posted anyway gets clean_priority's reason,
        # not "select a valid choice".
        self.fields["priority"].widget.choices = priority_choices(user)  # type: ignore[attr-defined]

    def clean_priority(self) -> int:
        priority = self.cleaned_data["priority"]  # type: ignore[attr-defined]
        try:
            check_priority(self.user, priority)
        except PriorityNotAllowed as exc:
            raise forms.ValidationError(str(exc)) from None
        return priority


class UploadForm(PriorityMixin, forms.Form):
    sku = forms.CharField(label="SKU", max_length=64, validators=[sku_validator])
    title = forms.CharField(max_length=255, required=False, help_text="Needed only when the SKU is new.")
    role = forms.ChoiceField(choices=SourceImage.Role.choices, initial=SourceImage.Role.MAIN)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
    files = MultipleFileField(label="Photos")  # type: ignore[assignment]  # a field, not Form.files

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_priority(user)

    def clean(self):
        cleaned = super().clean()
        sku = cleaned.get("sku")
        if sku and not Product.objects.filter(sku=sku).exists() and not cleaned.get("title"):
            self.add_error("title", "This SKU is new: give the product a title.")
        return cleaned

    def product(self) -> Product:
        return product_for(self.cleaned_data["sku"], title=self.cleaned_data["title"])


class BatchForm(PriorityMixin, forms.Form):
    name = forms.CharField(max_length=200, required=False)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
    mannequin_colour = forms.ChoiceField(
        label="Mannequin",
        choices=[("", "None, or the category's")] + MannequinColour.choices,
        required=False,
        help_text="Apparel shot on a mannequin of this colour also gets a ghost-mannequin master.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_priority(user)
