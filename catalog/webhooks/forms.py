from __future__ import annotations

from django import forms
from django.core.validators import URLValidator

from catalog.webhooks.models import SUBSCRIBABLE_EVENTS, EventType
from lightbox import outbound


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Lightbox POSTs each event here. Redirects are not followed.",
    )
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(value, EventType(value).label) for value in SUBSCRIBABLE_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            outbound.check_url(url)
        except (outbound.UnsafeURL, outbound.FetchFailed) as exc:
            raise forms.ValidationError(str(exc)) from None
        return url


class RotateForm(forms.Form):
    expire_now = forms.BooleanField(
        required=False,
        label="Stop signing with the old secret at once (it leaked)",
        help_text="Otherwise both sign for an overlap, so the receiver can switch without losing events.",
    )
