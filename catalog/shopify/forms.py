from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from catalog.shopify.models import normalise_shop_domain, shop_domain_validator


class ConnectionForm(forms.Form):
    """Shop address and Admin API token. The token field never renders a value back, not
    even when the form is shown again with an error in the shop address."""

    shop_domain = forms.CharField(
        label="Shop address",
        max_length=255,
        help_text="The permanent address ending in .myshopify.com (Settings → Domains in Shopify).",
        widget=forms.TextInput(attrs={"placeholder": "kiln-goods.myshopify.com", "autocomplete": "off"}),
    )
    access_token = forms.CharField(
        label="Admin API access token",
        max_length=255,
        help_text=(
            "From the store's custom app (Settings → Apps → Develop apps), with the read_products, "
            "write_products and write_files scopes. It is stored encrypted and never shown again."
        ),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def clean_shop_domain(self) -> str:
        domain = normalise_shop_domain(self.cleaned_data["shop_domain"])
        shop_domain_validator(domain)
        return domain

    def clean_access_token(self) -> str:
        token = self.cleaned_data["access_token"]
        if len(token) < 20 or any(c.isspace() for c in token) or not token.isprintable():
            raise ValidationError(
                "This does not look like an Admin API access token (shpat_…); paste it again."
            )
        return token
