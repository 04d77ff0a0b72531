"""Marketplace profiles as the pipeline sees them: a spec that shapes the bytes and the
requirements that judge them. A profile that cannot be rendered or checked is a form
error when it is saved, never a failed job later."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from catalog.models import MarketplaceProfile
from processing.naming import NamingError, validate_template
from processing.pipeline.compliance import Requirements, validate_rules
from processing.pipeline.spec import RenditionSpec, SpecError


def spec_for(profile: MarketplaceProfile) -> RenditionSpec:
    return RenditionSpec.from_profile_fields(**profile.field_values())


def requirements_for(profile: MarketplaceProfile) -> Requirements:
    return Requirements.from_profile_fields(**profile.field_values())


def profile_errors(profile: MarketplaceProfile) -> dict[str, str]:
    """Field name → message for everything that would make the profile unusable."""
    errors: dict[str, str] = {}
    try:
        spec_for(profile)
    except SpecError as exc:
        errors[exc.field or NON_FIELD_ERRORS] = str(exc)
    if not isinstance(profile.checks, dict):
        errors["checks"] = "Checks must be an object mapping a rule to error or warn."
    else:
        try:
            validate_rules(profile.checks)
        except ValueError as exc:
            errors["checks"] = str(exc)
    try:
        validate_template(profile.naming_template)
    except NamingError as exc:
        errors["naming_template"] = str(exc)
    if profile.fill_min is not None and profile.fill_max is not None and profile.fill_min > profile.fill_max:
        errors["fill_min"] = "The lowest allowed fill is above the highest."
    return errors


class MarketplaceProfileForm(forms.ModelForm):
    source_url = forms.URLField(assume_scheme="https", required=False, max_length=500)

    class Meta:
        model = MarketplaceProfile
        fields = [
            "slug",
            "name",
            "channel",
            "role",
            "enabled",
            "required",
            "canvas_width",
            "canvas_height",
            "min_long_side",
            "min_short_side",
            "max_side",
            "max_megapixels",
            "background",
            "background_color",
            "fill_ratio",
            "fill_min",
            "fill_max",
            "shadow",
            "output_format",
            "allowed_formats",
            "quality",
            "max_bytes",
            "color_space",
            "metadata_fields",
            "naming_template",
            "checks",
            "source_url",
            "source_checked_on",
        ]

    def clean(self):
        cleaned = super().clean()
        candidate = self.instance
        for name, value in cleaned.items():
            setattr(candidate, name, value)
        for field, message in profile_errors(candidate).items():
            self.add_error(None if field == NON_FIELD_ERRORS or field not in self.fields else field, message)
        return cleaned
